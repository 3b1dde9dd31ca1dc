"""Alignment Inspector's engine: media, features, DTW, CTW, optimal transport, soft
alignments and alignment files. Qt-free: importable and testable without a display.

The public functions are imported lazily so that ``import core`` stays cheap and a
script that only reads files never compiles a numba kernel.
"""

from __future__ import annotations

import importlib

from . import _numba_cache

_numba_cache.configure()  # before any kernel module imports numba: one cache per user

from .alignment import Alignment  # noqa: E402
from .errors import (  # noqa: E402
    AlignmentError,
    Cancelled,
    ConvergenceWarning,
    FormatError,
    MediaError,
    PartialOverlapWarning,
)

__version__ = "0.1.0"

# public name -> module that defines it
_LAZY = {
    "dtw": "core.warping",
    "ctw": "core.canonical",
    "ot": "core.transport",
    "soft_dtw": "core.soft",
    "attention": "core.soft",
    "cycle_consistency": "core.soft",
    "soft_dtw_grad": "core.soft",
    "plan_to_path": "core.transport",
    "open_recording": "core.media",
    "Recording": "core.media",
    "Features": "core.features",
    "compute_features": "core.features",
    "read_alignment": "core.formats",
    "write_alignment": "core.formats",
    "align_files": "core.pipeline",
    "align_recordings": "core.pipeline",
    "PiecewiseAlignment": "core.structure",
    "align_structure": "core.structure",
}

__all__ = ["Alignment", "AlignmentError", "Cancelled", "ConvergenceWarning", "FormatError",
           "MediaError", "PartialOverlapWarning",
           "__version__", *sorted(_LAZY)]


def __getattr__(name):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'core' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
