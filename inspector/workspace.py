"""What happens when the user opens files or runs a method: requests in, results out.

The :class:`Workspace` turns user actions into :class:`~inspector.jobs.Request` objects
for the task functions (:mod:`inspector.tasks`) and puts their outcomes, delivered to it
as the submitter, into the :class:`~inspector.session.Session`. It owns no widget, so
tests drive it directly. Methods and callbacks run on the GUI thread.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QSettings, Signal

from core import registry
from core.paths import display_path, is_utf8_name
from core.registry import Recipe

from .jobs import Failure, Job, JobRunner, Request
from .session import Session
from .tasks import align as align_tasks
from .tasks import features as feature_tasks
from .tasks import media as media_tasks

__all__ = ["Workspace"]

MAX_RECENT = 10


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
    action_started(what)          the user started something (an error shown for an
                                  earlier action no longer applies)
    """

    message_posted = Signal(str)
    busy_changed = Signal(bool)
    default_alignment_finished = Signal(int)
    method_finished = Signal(int)
    method_progressed = Signal(float)
    recent_files_changed = Signal()
    action_started = Signal(str)

    def __init__(self, session: Session, jobs: JobRunner, parent: QObject | None = None,
                 *, auto_align: bool = True, settings: QSettings | None = None):
        super().__init__(parent)
        self.session = session
        self.jobs = jobs
        self.auto_align = auto_align
        self.settings = settings
        self._method_job: Job | None = None
        jobs.job_started.connect(lambda *_: self.busy_changed.emit(True))
        jobs.idle.connect(lambda: self.busy_changed.emit(False))

    def _report(self, failure: Failure) -> None:
        self.session.error_reported.emit(failure.text())

    def _still(self, slot: str, key: str):
        """A callback wrapper: call only while ``slot`` still holds the recording
        ``key`` (a result for a recording that was replaced meanwhile is dropped)."""

        def wrap(fn):
            def call(*args):
                info = self.session.recording_info(slot)
                if info is not None and info.key == key:
                    fn(*args)
            return call

        return wrap

    # ------------------------------------------------------------------ opening
    def open_file(self, slot: str, path: str) -> Job:
        """Open ``path`` into ``slot`` on a worker; errors appear in the window."""
        path = str(path)
        name = display_path(Path(path).name)  # Qt drops bytes that are not UTF-8: show \xNN
        self.action_started.emit("open")
        self.message_posted.emit(f"opening {name}…")
        return self.jobs.submit(Request(f"open_{slot}", media_tasks.open_recording, (path,),
                                        label=f"opening {name}"),
                                on_result=lambda opened: self._on_opened(slot, opened),
                                on_failure=self._report)

    def _on_opened(self, slot: str, opened: media_tasks.Opened) -> None:
        rec = opened.recording
        self.session.set_recording(slot, rec, opened.info)
        self._remember(rec.path)
        self.message_posted.emit(f"opened {display_path(Path(rec.path).name)} as "
                                 f"{slot.upper()}")
        self._ensure_stream_data(slot)
        if self.session.has_both() and self.auto_align:
            self.compute_default()

    def _ensure_stream_data(self, slot: str) -> None:
        """Start the jobs that fill a stream view: waveform overview and feature image."""
        stream = self.session.stream(slot)
        if stream is None:
            return
        rec, info = stream.recording, stream.info
        still = self._still(slot, info.key)
        if info.kind == "audio" and stream.envelope is None:
            self.jobs.submit(
                Request(f"envelope_{slot}", media_tasks.wave_pyramid, (rec,),
                        label="waveform"),
                on_result=still(lambda env: self.session.set_envelope(slot, env)),
                on_failure=self._report)
        if stream.display_feature is None:
            spec = feature_tasks.stream_feature(info)
            self.jobs.submit(
                Request(f"display_{slot}", feature_tasks.stream_features_job, (rec, spec),
                        label=f"{spec.name} image"),
                on_result=still(lambda f: self.session.add_features(slot, f, display=True,
                                                                    spec=spec)),
                on_failure=self._report)

    def swap(self) -> None:
        """Exchange A and B. Jobs bound to a slot are restarted for the new order."""
        self.action_started.emit("swap")
        for channel in ("envelope_a", "envelope_b", "display_a", "display_b", "align",
                        "method"):
            self.jobs.cancel(channel)
        self.session.swap()
        for slot in ("a", "b"):
            self._ensure_stream_data(slot)
        if self.session.has_both() and not self.session.alignment_ids() and self.auto_align:
            self.compute_default()

    # ------------------------------------------------------------------ alignments
    def compute_default(self) -> Job | None:
        """Align A and B with the default pipeline on a worker (channel ``align``)."""
        if not self.session.has_both():
            return None
        self.message_posted.emit("computing the default alignment…")
        return self.jobs.submit(
            Request("align", align_tasks.align_job,
                    (registry.recipe(registry.DEFAULT_METHOD), self.session.recording("a"),
                     self.session.recording("b")), label="default alignment"),
            on_result=self._on_default_aligned,
            on_failure=lambda failure: (self._report(failure),
                                        self.default_alignment_finished.emit(-1)),
            on_cancel=lambda: self.default_alignment_finished.emit(-1))

    def _on_default_aligned(self, out: align_tasks.Aligned) -> None:
        aid = self._add_result(out)
        self.message_posted.emit(_with_warning(f"default alignment: {self.session.label(aid)}",
                                               out.alignment))
        self.default_alignment_finished.emit(aid)

    def _add_result(self, out: align_tasks.Aligned) -> int:
        if out.image is not None:
            for slot, feats, spec in (("a", out.features_a, out.image[0]),
                                      ("b", out.features_b, out.image[1])):
                self.session.add_features(slot, feats, spec=spec)
        return self.session.add_alignment(out.alignment, recipe=out.recipe, image=out.image)

    def run_method(self, recipe: Recipe) -> Job | None:
        """Run ``recipe`` on a worker (channel ``method``; a new run replaces a running
        one), with the features already computed for it."""
        if not self.session.has_both():
            self.session.error_reported.emit("open recordings A and B before running a method")
            self.method_finished.emit(-1)
            return None
        self.action_started.emit("run")
        cached = [None, None]
        if recipe.entry.inputs == "features":
            for k, (slot, spec) in enumerate((("a", recipe.features_a[0]),
                                              ("b", recipe.features_b[0]))):
                cached[k] = self.session.cache.features(
                    self.session.recording_info(slot).key, spec)
        self.message_posted.emit(f"running {recipe.method}…")
        job = self.jobs.submit(
            Request("method", align_tasks.align_job,
                    (recipe, self.session.recording("a"), self.session.recording("b"),
                     cached[0], cached[1]), label=recipe.method),
            on_result=self._on_method_done,
            on_failure=lambda failure: (self._report(failure), self.method_finished.emit(-1)),
            on_cancel=lambda: self._on_method_cancelled(job),
            on_progress=self.method_progressed.emit)
        self._method_job = job
        return job

    def _on_method_done(self, out: align_tasks.Aligned) -> None:
        aid = self._add_result(out)
        elapsed = out.alignment.diagnostics.get("elapsed_s")
        took = f" in {elapsed:.2f} s" if isinstance(elapsed, float) else ""
        self.message_posted.emit(_with_warning(f"{out.alignment.method} finished{took}",
                                               out.alignment))
        self.method_finished.emit(aid)

    def _on_method_cancelled(self, job: Job) -> None:
        if job is self._method_job:  # not a run replaced by a newer one
            self.message_posted.emit("cancelled")
            self.method_finished.emit(-1)

    def cancel_method(self) -> bool:
        return self.jobs.cancel("method")

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


def _with_warning(text: str, al) -> str:
    """A result's message with the engine's warning about it (``diagnostics["warning"]``:
    a part of one recording the other lacks, a solver that did not converge) and its
    order check's message (``diagnostics["order_check"]``: the order seems to differ),
    which the status bar would otherwise replace by this message as soon as the result
    arrives."""
    warning = al.diagnostics.get("warning")
    order = (al.diagnostics.get("order_check") or {}).get("message")
    # the warning first: a narrow status bar cuts the end of a long message
    said = " ".join(w for w in (warning and f"Warning: {warning}", order) if w)
    return f"{said} ({text})" if said else text
