"""``njit`` for the kernels: numba's, with ``cache=True`` dropped when no cache folder can
be written (see :mod:`core._numba_cache`), so that a kernel module always imports."""

from numba import njit as _njit

from .._numba_cache import caching


def njit(*args, **options):
    if options.get("cache") and not caching():
        options["cache"] = False
    return _njit(*args, **options)
