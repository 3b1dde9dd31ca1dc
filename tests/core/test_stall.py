"""Music whose first path stands still for seconds (core.pipeline._stall_retry): a held
chord against the same chord decaying, where chroma cannot place the match along the
hold; the pair is solved again with the chroma-change term and the shorter-run path kept."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from core import pipeline
from core.pipeline import _STALL_S, _stall_retry, longest_run_s


@dataclasses.dataclass(frozen=True)
class _Result:  # what _stall_retry reads and replaces of an Alignment
    times_s: np.ndarray
    diagnostics: dict

    def replace(self, **changes):
        return dataclasses.replace(self, **changes)


def _path(stand_s=0.0, at_s=5.0, seconds=20.0, rate=50.0):
    """A diagonal path (A and B at one rate) that stands on B's ``at_s`` while A moves
    on for ``stand_s``, then goes on diagonally."""
    steps = np.arange(int(seconds * rate)) / rate
    a = steps.copy()
    b = np.where(steps < at_s, steps, np.maximum(at_s, steps - stand_s))
    return np.column_stack([a, b])


def test_the_longest_run_is_measured_on_either_side():
    assert longest_run_s(_path()) == pytest.approx(0.0)
    assert longest_run_s(_path(5.0)) == pytest.approx(5.0, abs=0.03)
    assert longest_run_s(_path(2.0)[:, ::-1]) == pytest.approx(2.0, abs=0.03)
    assert longest_run_s(np.zeros((1, 2))) == 0.0


def test_a_long_run_is_solved_again_and_the_shorter_run_kept():
    calls = []

    def again(stand_s):
        def solve():
            calls.append(stand_s)
            return _Result(_path(stand_s), {"held_low": {"applied": True}})
        return solve

    first = _Result(_path(_STALL_S + 1.0), {"held_low": {"applied": False}})
    kept = _stall_retry(first, again(0.5))
    assert calls == [0.5]
    assert kept.diagnostics["held_low"]["applied"]
    assert kept.diagnostics["stall"]["kept"] is True
    assert kept.diagnostics["stall"]["run_s"] > _STALL_S
    assert "stall" not in first.diagnostics  # not changed in place

    worse = _stall_retry(first, again(_STALL_S + 2.0))
    assert worse.times_s is first.times_s
    assert worse.diagnostics["stall"]["kept"] is False


def test_a_short_run_is_not_solved_again():
    def solve():
        raise AssertionError("solved again")

    first = _Result(_path(_STALL_S - 1.0), {})
    assert _stall_retry(first, solve) is first


def test_only_a_stalled_music_pair_without_the_held_low_term_is_solved_again(monkeypatch):
    from tests.core.media_factory import ArrayAudio

    sr = ArrayAudio.rate_hz
    t = np.arange(int(sr * 12.0)) / sr
    # a held A major chord, then a melody: nothing stalls, no second solve
    x = sum(np.sin(2 * np.pi * f * t) for f in (220.0, 277.2, 329.6)) * (t < 6.0)
    x = x + np.sin(2 * np.pi * 440.0 * 2 ** (np.floor(t * 2) % 5 / 12) * t) * (t >= 6.0)
    x = 0.3 * x / np.abs(x).max()
    seen = []
    real = pipeline._stall_retry
    monkeypatch.setattr(pipeline, "_stall_retry",
                        lambda result, solve: seen.append(1) or real(result, solve))
    al = pipeline.align_recordings(ArrayAudio(x), ArrayAudio(x.copy()))
    assert al.diagnostics["material"] == "music"
    assert seen == [1]  # checked once (a music pair without the held-low term)
    assert "stall" not in al.diagnostics  # the identical copy never stands still
    assert "stall_change" not in al.params


def test_the_second_solve_adds_the_change_term_and_its_costs_can_be_rebuilt():
    from tests.core.media_factory import ArrayAudio

    sr = ArrayAudio.rate_hz
    t = np.arange(int(sr * 8.0)) / sr
    x = np.sin(2 * np.pi * 440.0 * 2 ** (np.floor(t * 2) % 7 / 12) * t)
    x = 0.3 * x * np.exp(-3.0 * (t % 0.5))
    a, b = ArrayAudio(x), ArrayAudio(x.copy())
    al = pipeline._align_monotone(a, b, "dtw", "auto", None, None, None, None, None,
                                  None, stall=True)
    assert al.diagnostics["material"] == "music"
    assert al.diagnostics["held_low"]["seen_in"] == "stall"
    assert al.params["stall_change"] is True
    assert "chroma_change" in [t["name"] for t in al.params["terms"]]
    source = pipeline.cost_source(a, b, al)  # the same terms, the same fingerprint
    assert source.fingerprint() == al.diagnostics["input_fingerprint"]
    plain = pipeline.align_recordings(a, b)
    assert "chroma_change" not in [t["name"] for t in plain.params["terms"]]
