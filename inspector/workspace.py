"""What happens when the user opens files or runs a method: requests in, results out.

The :class:`Workspace` turns user actions into :class:`~inspector.jobs.Request` objects
and puts the results into the :class:`~inspector.session.Session`. It owns no widget, so
tests drive it directly. Methods and slots run on the GUI thread.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QSettings, Signal

from core.paths import display_path, is_utf8_name

from . import compute
from .jobs import JobRunner, Request
from .session import Session

__all__ = ["Workspace", "MethodSpec", "run_spec", "engine_params", "anchor_frames"]

MAX_RECENT = 10


@dataclass(frozen=True)
class MethodSpec:
    """Everything the method panel asks for: a frozen snapshot."""

    method: str
    feature_a: str
    feature_b: str
    rate_hz: float = 50.0
    metric: str = "euclidean"
    params: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        bits = [f"anchors={len(v)}" if k == "anchors_s" else f"{k}={v}"
                for k, v in self.params.items() if v not in (None, False)]
        feats = self.feature_a if self.feature_a == self.feature_b else (
            f"{self.feature_a}/{self.feature_b}")
        return f"{self.method} {feats}@{self.rate_hz:g}Hz {self.metric} " + " ".join(bits)


def engine_params(spec: MethodSpec, rate_a_hz: float, rate_b_hz: float | None = None,
                  n_a: int | None = None, n_b: int | None = None) -> dict[str, Any]:
    """Panel parameters (seconds) to the engine's keywords (frames). Anchors are given
    only with both rates and frame counts (the estimate does without them)."""
    p = dict(spec.params)
    out: dict[str, Any] = {}
    if spec.method == "dtw":
        anchors_s = p.get("anchors_s")
        if anchors_s and None not in (rate_b_hz, n_a, n_b):
            out["anchors"] = anchor_frames(anchors_s, rate_a_hz, rate_b_hz, n_a, n_b)
        out["step_pattern"] = p.get("step_pattern", "symmetric2")
        out["metric"] = spec.metric
        window = p.get("window", "none")
        radius_s = p.get("window_radius_s")
        if window == "itakura":
            out["window"] = ("itakura",)
        elif window in ("sakoe_chiba", "slanted_band") and radius_s:
            out["window"] = (window, max(1, int(math.ceil(radius_s * float(rate_a_hz)))))
        if p.get("open_begin"):
            out["open_begin"] = True
        if p.get("open_end"):
            out["open_end"] = True
    elif spec.method == "ctw":
        for k in ("n_components", "reg", "max_iter"):
            if p.get(k) is not None:
                out[k] = p[k]
    elif spec.method == "ot":
        out["method"] = p.get("ot_method", "sinkhorn")
        out["metric"] = "sqeuclidean" if spec.metric == "euclidean" else spec.metric
        if out["method"] != "emd" and p.get("reg"):
            out["reg"] = p["reg"]
        if out["method"] == "unbalanced":
            out["reg_m"] = p.get("reg_m", 1.0)
    elif spec.method == "soft_dtw":
        out["gamma"] = p.get("gamma", 1.0)
    elif spec.method in ("attention", "cycle_consistency"):
        if p.get("temperature"):
            out["temperature"] = p["temperature"]
    return out


def anchor_frames(anchors_s, rate_a_hz: float, rate_b_hz: float, n_a: int, n_b: int):
    """Anchors in seconds to frame pairs (nearest frame, inside both sequences)."""
    pts = np.asarray(anchors_s, dtype=float).reshape(-1, 2)
    i = np.clip(np.rint(pts[:, 0] * rate_a_hz), 0, n_a - 1).astype(int)
    j = np.clip(np.rint(pts[:, 1] * rate_b_hz), 0, n_b - 1).astype(int)
    return [(int(a), int(b)) for a, b in sorted(zip(i, j, strict=True))]


def run_spec(rec_a, rec_b, cached_a, cached_b, spec: MethodSpec, *, progress=None,
             cancel=None):
    """Worker function: features (unless cached) then the method. Returns
    ``(alignment, features_a, features_b)``."""
    from core._progress import Monitor

    mon = Monitor(progress, cancel)
    fa = cached_a or compute.compute_features(rec_a, spec.feature_a, rate_hz=spec.rate_hz,
                                              progress=mon.sub(0.0, 0.2).report, cancel=cancel)
    fb = cached_b or compute.compute_features(rec_b, spec.feature_b, rate_hz=spec.rate_hz,
                                              progress=mon.sub(0.2, 0.4).report, cancel=cancel)
    params = engine_params(spec, float(fa.rate_hz), float(fb.rate_hz), len(fa.values),
                           len(fb.values))
    al = compute.run_method(spec.method, fa.values, fb.values, params, rate_a_hz=fa.rate_hz,
                            rate_b_hz=fb.rate_hz, progress=mon.sub(0.4, 1.0).report,
                            cancel=cancel)
    shown = {**dict(al.params), **{k: v for k, v in spec.params.items() if v is not None},
             "feature_a": spec.feature_a, "feature_b": spec.feature_b,
             "rate_hz": spec.rate_hz}
    # the path data the window derives, computed here on the worker
    return compute.prepare_path(al.replace(params=shown)), fa, fb


class Workspace(QObject):
    """Opens recordings, computes their views' data, the default alignment and methods.

    Signals
    -------
    message_posted(text)          a line for the status bar
    busy_changed(is_busy)
    default_alignment_finished(id)   id of the default alignment, -1 when it failed
    method_finished(id)           id of a method's result, -1 on failure or cancel
    method_progressed(fraction)
    recent_files_changed()
    """

    message_posted = Signal(str)
    busy_changed = Signal(bool)
    default_alignment_finished = Signal(int)
    method_finished = Signal(int)
    method_progressed = Signal(float)
    recent_files_changed = Signal()

    def __init__(self, session: Session, jobs: JobRunner, parent: QObject | None = None,
                 *, auto_align: bool = True, settings: QSettings | None = None):
        super().__init__(parent)
        self.session = session
        self.jobs = jobs
        self.auto_align = auto_align
        self.settings = settings
        self._method_job = -1
        self._method_spec: MethodSpec | None = None
        self._channels = {}
        jobs.job_returned.connect(self._on_job_returned)
        jobs.job_failed.connect(self._on_job_failed)
        jobs.job_cancelled.connect(self._on_job_cancelled)
        jobs.job_started.connect(lambda *_: self.busy_changed.emit(True))
        jobs.idle.connect(lambda: self.busy_changed.emit(False))
        jobs.job_progressed.connect(self._on_job_progressed)

    # ------------------------------------------------------------------ opening
    def open_file(self, slot: str, path: str) -> int:
        """Open ``path`` into ``slot`` on a worker; errors appear in the window."""
        path = str(path)
        name = display_path(Path(path).name)  # Qt drops bytes that are not UTF-8: show \xNN
        self.message_posted.emit(f"opening {name}…")
        return self.jobs.submit(Request(f"open_{slot}", compute.open_recording, (path,),
                                        label=f"opening {name}"))

    def _on_opened(self, slot: str, rec) -> None:
        self.session.set_recording(slot, rec)
        self._remember(rec.path)
        self.message_posted.emit(f"opened {display_path(Path(rec.path).name)} as "
                                 f"{slot.upper()}")
        self._ensure_stream_data(slot)
        if self.session.has_both() and self.auto_align:
            self.compute_default()

    def _ensure_stream_data(self, slot: str) -> None:
        """Start the jobs that fill a stream view: waveform envelope and feature image."""
        stream = self.session.stream(slot)
        if stream is None:
            return
        rec = stream.recording
        if rec.kind == "audio" and stream.envelope is None:
            self.jobs.submit(Request(f"envelope_{slot}", compute.compute_envelope, (rec,),
                                     label="waveform"))
        if stream.display_feature is None:
            if rec.kind == "audio":
                rate = compute.display_rate_hz(rec.duration_s)
                name = "logmel"
            else:
                # colour histograms make a readable image of a video's content over time
                rate = min(float(rec.rate_hz), compute.display_rate_hz(rec.duration_s))
                name = "histogram"
            self.jobs.submit(Request(f"display_{slot}", compute.display_features_job,
                                     (rec, name), {"rate_hz": rate}, label=f"{name} image"))

    def swap(self) -> None:
        """Exchange A and B. Jobs bound to a slot are restarted for the new order."""
        for channel in ("envelope_a", "envelope_b", "display_a", "display_b", "align",
                        "method"):
            self.jobs.cancel(channel)
        self.session.swap()
        for slot in ("a", "b"):
            self._ensure_stream_data(slot)
        if self.session.has_both() and not self.session.alignment_ids() and self.auto_align:
            self.compute_default()

    # ------------------------------------------------------------------ alignments
    def compute_default(self) -> int:
        """Align A and B with the default pipeline on a worker (channel ``align``)."""
        if not self.session.has_both():
            return -1
        self.message_posted.emit("computing the default alignment…")
        return self.jobs.submit(Request(
            "align", compute.default_alignment_prepared_job,
            (self.session.recording("a"), self.session.recording("b")),
            label="default alignment"))

    def run_method(self, spec: MethodSpec) -> int:
        """Run ``spec`` on a worker (channel ``method``; a new run replaces a running one).

        A method that has not landed in the engine gives a clear message, no job."""
        if not self.session.has_both():
            self.session.error_reported.emit("open recordings A and B before running a method")
            return -1
        ok, why = compute.method_available(spec.method)
        if not ok:
            self.session.error_reported.emit(why)
            self.method_finished.emit(-1)
            return -1
        cached = []
        for slot, name in (("a", spec.feature_a), ("b", spec.feature_b)):
            feats = self.session.stream(slot).features.get(name)
            if feats is not None and abs(float(feats.rate_hz) - spec.rate_hz) > 1e-9 and (
                    self.session.recording(slot).kind == "audio"):
                feats = None
            cached.append(feats)
        self._method_spec = spec
        self.message_posted.emit(f"running {spec.method}…")
        self._method_job = self.jobs.submit(Request(
            "method", run_spec, (self.session.recording("a"), self.session.recording("b"),
                                 cached[0], cached[1], spec), label=spec.method))
        return self._method_job

    def cancel_method(self) -> bool:
        return self.jobs.cancel("method")

    # ------------------------------------------------------------------ job results
    def _on_job_returned(self, job_id: int, channel: str, result) -> None:
        if channel.startswith("open_"):
            self._on_opened(channel[-1], result)
        elif channel.startswith("envelope_"):
            self.session.set_envelope(channel[-1], result)
        elif channel.startswith("display_"):
            self.session.add_features(channel[-1], result, display=True)
        elif channel == "align":
            al, fa, fb, metric = result
            for slot, feats in (("a", fa), ("b", fb)):
                self.session.add_features(slot, feats)
            aid = self.session.add_alignment(al, label="default " + _short(al),
                                             matrix_inputs=(fa, fb, metric))
            self.message_posted.emit(f"default alignment: {self.session.label(aid)}")
            self.default_alignment_finished.emit(aid)
        elif channel == "method":
            al, fa, fb = result
            for slot, feats in (("a", fa), ("b", fb)):
                self.session.add_features(slot, feats)
            spec = self._method_spec
            label = spec.describe() if spec is not None else ""
            aid = self.session.add_alignment(al, label=label,
                                             matrix_inputs=(fa, fb, spec.metric if spec
                                                            else "euclidean"))
            elapsed = al.diagnostics.get("elapsed_s")
            took = f" in {elapsed:.2f} s" if isinstance(elapsed, float) else ""
            self.message_posted.emit(f"{al.method} finished{took}")
            self.method_finished.emit(aid)

    def _on_job_failed(self, job_id: int, channel: str, message: str) -> None:
        self.session.error_reported.emit(message)
        if channel == "align":
            self.default_alignment_finished.emit(-1)
        elif channel == "method":
            self.method_finished.emit(-1)

    def _on_job_cancelled(self, job_id: int, channel: str) -> None:
        if channel == "method" and job_id == self._method_job:
            self.message_posted.emit("cancelled")
            self.method_finished.emit(-1)

    def _on_job_progressed(self, job_id: int, channel: str, fraction: float) -> None:
        if channel == "method":
            self.method_progressed.emit(fraction)

    # ------------------------------------------------------------------ recent files
    def recent_files(self) -> list[str]:
        if self.settings is None:
            return []
        value = self.settings.value("recent_files", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or [])]

    def _remember(self, path: str) -> None:
        if self.settings is None:
            return
        path = str(Path(path).resolve())
        if not is_utf8_name(path):  # QSettings would store another name: not remembered
            return
        files = [p for p in self.recent_files() if p != path]
        self.settings.setValue("recent_files", [path, *files][:MAX_RECENT])
        self.recent_files_changed.emit()


def _short(al) -> str:
    names = {al.params.get("feature_a"), al.params.get("feature_b")} - {None}
    feat = "/".join(sorted(str(n) for n in names))
    return f"{al.method} {feat}".strip()
