"""Warping paths from other libraries, saved as seconds, re-import as the same path."""

import numpy as np
import pytest

from core.formats import read_alignment

RATE = 22050 / 512


@pytest.fixture
def features():
    rng = np.random.default_rng(7)
    x = np.cumsum(rng.normal(size=(60, 3)), axis=0)
    y = np.repeat(x, 2, axis=0)[::3] + rng.normal(scale=0.1, size=(40, 3))
    return x, y


def test_dtw_python_path(tmp_path, features):
    dtw = pytest.importorskip("dtw")
    x, y = features
    result = dtw.dtw(x, y)
    path = np.stack([result.index1, result.index2], axis=1)
    out = tmp_path / "dtw_python.csv"
    np.savetxt(out, path / RATE, delimiter=",", header="time_a_s,time_b_s", comments="")
    b = read_alignment(out)
    np.testing.assert_array_equal(b.path, path)
    assert b.rate_a_hz == pytest.approx(RATE, rel=1e-12)


def test_librosa_path_listed_backwards(tmp_path, features):
    librosa = pytest.importorskip("librosa")
    x, y = features
    _, wp = librosa.sequence.dtw(X=x.T, Y=y.T)
    out = tmp_path / "librosa.csv"
    np.savetxt(out, wp / RATE, delimiter=",")
    b = read_alignment(out)
    np.testing.assert_array_equal(b.path, wp[::-1])
    assert b.diagnostics["import"]["reversed"] is True


def test_synctoolbox_layout_two_rows(tmp_path, features):
    x, y = features
    # synctoolbox keeps warping paths as (2, L) arrays; saved as seconds without transposing
    # (from MIN_TRANSPOSED_STEPS = 10 steps on: two short rows are refused, see
    # test_formats_malformed.test_two_short_rows_are_a_table_not_a_path)
    path = np.array([[0, 0], [1, 1], [1, 2], [2, 3], [3, 3], [4, 4], [5, 5], [6, 5],
                     [7, 6], [8, 7], [8, 8], [9, 9]])
    out = tmp_path / "sync.csv"
    np.savetxt(out, path.T / 50.0, delimiter=",")
    b = read_alignment(out)
    np.testing.assert_array_equal(b.path, path)
    assert (b.rate_a_hz, b.rate_b_hz) == (50.0, 50.0)
