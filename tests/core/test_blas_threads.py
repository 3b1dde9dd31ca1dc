"""The default pipeline's matrix products run on the calling thread alone (core._blas):
its features, and so their fingerprint, do not depend on numpy's BLAS thread count."""

import numpy as np
import pytest

from core._blas import one_blas_thread, set_local_blas_threads

threadpoolctl = pytest.importorskip("threadpoolctl")


class _Rec:
    kind = "audio"
    rate_hz = 22050

    def __init__(self, x, name):
        self.x, self.path, self.duration_s = x, name, len(x) / self.rate_hz
        self.n_frames = len(x)

    def audio(self, mono=True):
        return self.x


def _pair():
    # noise bursts five times a second (syllable-like), B a slightly slower copy
    rng = np.random.default_rng(0)
    sr = _Rec.rate_hz
    x = (rng.standard_normal(sr * 12) * np.repeat(rng.random(60), sr // 5)).astype(np.float32)
    t = np.arange(int(len(x) * 1.05)) / 1.05
    y = np.interp(t, np.arange(len(x)), x).astype(np.float32)
    y += 0.01 * rng.standard_normal(len(y)).astype(np.float32)
    return _Rec(x, "a.wav"), _Rec(y, "b.wav")


def test_a_default_alignment_is_rebuilt_whatever_the_blas_thread_count():
    """cost_source rebuilds the features an alignment was computed from (their
    fingerprint) in a process whose BLAS has another thread count (the window limits
    it to the cores but one, the command line does not): a product on two threads sums
    in another order than on one."""
    from core.pipeline import align_recordings, cost_source

    rec_a, rec_b = _pair()
    with threadpoolctl.threadpool_limits(2, user_api="blas"):
        al = align_recordings(rec_a, rec_b)
    with threadpoolctl.threadpool_limits(1, user_api="blas"):
        source = cost_source(rec_a, rec_b, al)
    assert source.fingerprint() == al.diagnostics["input_fingerprint"]
    with threadpoolctl.threadpool_limits(1, user_api="blas"):
        again = align_recordings(rec_a, rec_b)
    assert np.array_equal(again.path, al.path)
    assert again.diagnostics["input_fingerprint"] == al.diagnostics["input_fingerprint"]


def test_one_blas_thread_restores_the_calling_threads_count():
    before = set_local_blas_threads(2)
    if before is None:
        pytest.skip("numpy's BLAS has no thread-local count")
    try:
        with one_blas_thread():
            assert set_local_blas_threads(1) == 1  # (returns the count it replaces)
        assert set_local_blas_threads(2) == 2
    finally:
        set_local_blas_threads(before)
