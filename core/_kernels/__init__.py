"""numba kernels only: typed arrays in, preallocated outputs written, no validation.

Every kernel is ``@njit(cache=True, nogil=True)``; the public wrappers in ``core``
validate their inputs, loop over tiles, report progress and check for cancellation.
"""
