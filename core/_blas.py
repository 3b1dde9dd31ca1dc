"""numpy's BLAS threads for the calling thread only (OpenBLAS's thread-local count).

numpy's bundled scipy-openblas exports ``openblas_set_num_threads_local``: a thread
count for the calling thread that leaves every other thread's as it was (unlike
threadpoolctl's process-wide limit, which :func:`core.display.limit_blas_threads` sets
for the window's processes). Where numpy uses another BLAS, these do nothing.
"""

from __future__ import annotations

import contextlib
import os

import numpy as np

__all__ = ["one_blas_thread", "set_local_blas_threads"]

_LOCAL = []


def set_local_blas_threads(n_threads):
    """Set the calling thread's OpenBLAS thread count; returns the previous count, or
    None where numpy's BLAS has no thread-local count (then nothing changes)."""
    if not _LOCAL:
        fn = None
        try:
            import ctypes
            import glob

            libs = glob.glob(os.path.join(os.path.dirname(np.__file__), os.pardir,
                                          "numpy.libs", "libscipy_openblas*.so*"))
            if libs:
                lib = ctypes.CDLL(libs[0])
                fn = getattr(lib, "openblas_set_num_threads_local", None)
                if fn is not None:
                    fn.restype = ctypes.c_int
                    fn.argtypes = [ctypes.c_int]
        except OSError:
            fn = None
        _LOCAL.append(fn)
    fn = _LOCAL[0]
    return None if fn is None else int(fn(int(n_threads)))


@contextlib.contextmanager
def one_blas_thread():
    """Run the block's matrix products on the calling thread alone (restored after).

    The default pipeline's products are small (a block of spectra times the mel
    filters, 2048 x 513 x 40; a few hundred rows of costs): OpenBLAS's helper threads
    cost more than they save there, the calling thread spinning while they are
    scheduled (harvard1's alignment took 2.4 times the CPU time with two BLAS threads
    on a loaded machine), and a product on one thread sums in the same order whatever
    the machine's core count."""
    previous = set_local_blas_threads(1)
    try:
        yield
    finally:
        if previous is not None:
            set_local_blas_threads(previous)
