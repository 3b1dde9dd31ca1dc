"""``njit`` for the kernels: numba's, with ``cache=True`` dropped when no cache folder can
be written (see :mod:`core._numba_cache`), so that a kernel module always imports.

Every kernel module imports numba through here: :func:`core._kernels.when_numba_loaded`
hooks run once it is imported."""

from numba import njit as _njit

from .._numba_cache import caching
from . import _numba_loaded


def njit(*args, **options):
    if options.get("cache") and not caching():
        options["cache"] = False
    return _njit(*args, **options)


_numba_loaded()
