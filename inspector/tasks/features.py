"""Features of a recording for the window: for a method's run and for the stream views."""

from __future__ import annotations

import numpy as np

from core.display import display_rate_hz
from core.features import Features
from core.features import compute_features as core_compute_features
from core.project import RecordingInfo
from core.registry import FeatureSpec

from .media import recording_lock
from .process import in_child

__all__ = ["compute_features", "stream_features_job", "stream_feature", "features_to_wire",
           "features_from_wire", "DISPLAY_PROCESS_MIN_S"]

#: above this duration a stream view's feature image is computed in a child process
#: (the feature STFT holds the GIL for tens of ms at a time)
DISPLAY_PROCESS_MIN_S = 300.0


def compute_features(rec, spec: FeatureSpec, *, progress=None, cancel=None) -> Features:
    """:func:`core.compute_features` of ``rec`` for ``spec``, under the recording's lock."""
    with recording_lock(rec):
        return core_compute_features(rec, spec.name, rate_hz=spec.rate_hz, progress=progress,
                                     cancel=cancel, **spec.kwargs)


def stream_feature(info: RecordingInfo) -> FeatureSpec:
    """The feature image a stream view shows: log-mel for audio, colour histograms (a
    readable picture of a video's content over time) for video, at a rate that keeps
    the image at most 16k columns."""
    rate = display_rate_hz(info.duration_s)
    if info.kind == "video":
        return FeatureSpec("histogram", min(float(info.rate_hz), rate))
    return FeatureSpec("logmel", rate)


def stream_features_job(rec, spec: FeatureSpec, *, progress=None, cancel=None) -> Features:
    """A stream view's feature image: :func:`compute_features` here for short
    recordings, in a spawned child process for long ones (so the window's GIL is free)."""
    if float(rec.duration_s) < DISPLAY_PROCESS_MIN_S:
        return compute_features(rec, spec, progress=progress, cancel=cancel)
    wire = in_child(_features_in_child, (str(rec.path), spec), progress=progress,
                    cancel=cancel)
    return features_from_wire(wire)


def _features_in_child(path: str, spec: FeatureSpec, *, progress=None):
    from core.media import open_recording

    return features_to_wire(compute_features(open_recording(path), spec, progress=progress))


def features_to_wire(f: Features | None):
    """Features as picklable plain data (their read-only mappings do not pickle)."""
    if f is None:
        return None
    return np.asarray(f.values), float(f.rate_hz), str(f.name), dict(f.params), f.labels


def features_from_wire(wire) -> Features | None:
    if wire is None:
        return None
    values, rate, name, params, labels = wire
    return Features(values, rate, name, params, labels)
