"""The method panel (features, method and its parameters, estimate, Run, Cancel) and the
results list (one active alignment, one compared on the matrix).

Every field is generated from :mod:`core.registry`: the feature inputs
(:data:`~core.registry.FEATURE_INPUTS`) and, per method, one field per
:class:`~core.registry.Param` (a number box with its range and unit, a check box, a
list of the choices' labels; "auto" where the engine may choose), disabled where the
parameter does not apply. A method's anchors come from the Session (Shift+click on the
matrix).

Observes the Session (``recording_opened``, ``recordings_swapped``, ``anchors_changed``,
``alignment_added``, ``alignment_removed``, ``active_alignment_changed``,
``compared_alignment_changed``) and the Workspace (``method_progressed``,
``method_finished``). GUI thread only.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from core import registry
from core.registry import FEATURE_INPUTS, Param, Recipe

from .jobs import Request
from .results_list import ResultsList
from .views.common import ElidedLabel

__all__ = ["MethodPanel", "ParamField"]

_SUFFIX = {"seconds": " s", "hz": " Hz", "frames": " frames"}
#: the method the panel shows first
FIRST_METHOD = "dtw"
#: above this many frames on a side the estimate runs on a worker
ESTIMATE_ON_WORKER_FRAMES = 50_000
#: the panel's starting values where they differ from the registry's defaults: a band
#: that follows the diagonal of recordings of unequal lengths always admits a path
PANEL_PRESETS = {"dtw": {"window": "slanted_band"}}


def band_problem(recipe: Recipe, duration_a_s: float, duration_b_s: float, *,
                 source_rates_hz=(None, None)) -> str | None:
    """Why a DTW Sakoe-Chiba band cannot hold any path for recordings of these lengths
    (sampled at ``source_rates_hz``, see :func:`registry.estimate`), in the user's terms
    (None when it can). The band admits ``|i - j| <= r`` frames: every row of A needs a
    column of B within the radius, and without an open end the last frames of both must
    be within it too."""
    if recipe.method != "dtw" or recipe.params.get("window") != "sakoe_chiba":
        return None
    fa, fb = recipe.features_a[0], recipe.features_b[0]
    n = registry.feature_frames(duration_a_s, fa.rate_hz, source_rates_hz[0])
    m = registry.feature_frames(duration_b_s, fb.rate_hz, source_rates_hz[1])
    radius_s = float(recipe.params["radius_s"])
    r = registry.to_frames(radius_s, fa.rate_hz)
    open_end = bool(recipe.params.get("open_end"))
    if (n - 1 <= m - 1 + r) and (open_end or abs(n - m) <= r):
        return None
    diff = abs(duration_a_s - duration_b_s)
    longer = "A" if duration_a_s > duration_b_s else "B"
    return (f"A lasts {duration_a_s:.1f} s and B {duration_b_s:.1f} s: a Sakoe-Chiba band "
            f"of radius {radius_s:.2f} s cannot reach the end of {longer} (the radius must "
            f"cover the {diff:.1f} s length difference). Raise the radius above "
            f"{diff:.1f} s, or choose the slanted band, which follows the diagonal of "
            "recordings of unequal lengths.")


def _combo() -> QComboBox:
    """A combo box whose width never follows its longest label (a long choice label
    would widen the dock and with it the whole window)."""
    combo = QComboBox()
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(8)
    return combo


class _KeepEditingKeys(QObject):
    """Lets a spin box have the keys it edits with (Up, Down, Page Up, Page Down, Home,
    End, Left, Right) before the window's cursor shortcuts take them."""

    KEYS = (Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_PageUp, Qt.Key.Key_PageDown,
            Qt.Key.Key_Home, Qt.Key.Key_End, Qt.Key.Key_Left, Qt.Key.Key_Right)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.ShortcutOverride and event.key() in self.KEYS:
            event.accept()
            return True
        return False


_KEEP_KEYS = _KeepEditingKeys()


class ParamField(QObject):
    """The widget of one registry parameter and its value in the parameter's type.

    Signals
    -------
    changed()
    """

    changed = Signal()

    def __init__(self, param: Param, parent: QObject | None = None):
        super().__init__(parent)
        self.param = param
        p = param
        tip = f"{p.description} ({p.range_text()})"
        if p.kind == "bool":
            self.widget = QCheckBox(p.label)
            self.widget.setChecked(bool(p.default))
            self.widget.toggled.connect(self.changed)
        elif p.kind == "choice":
            self.widget = _combo()
            for choice in p.choices:
                self.widget.addItem(choice.label, choice.value)
            self.widget.currentIndexChanged.connect(self.changed)
        elif p.kind == "int":
            self.widget = QSpinBox()
            lo = int(p.minimum) if p.minimum is not None else -(1 << 30)
            hi = int(p.maximum) if p.maximum is not None else 1 << 30
            if p.optional:  # one below the minimum means "auto"
                lo -= 1
                self.widget.setSpecialValueText("auto")
            self.widget.setRange(lo, hi)
            self.widget.valueChanged.connect(self.changed)
        elif p.kind == "float":
            self.widget = QDoubleSpinBox()
            self.widget.setDecimals(p.decimals)
            lo = p.minimum if p.minimum is not None else -1e12
            hi = p.maximum if p.maximum is not None else 1e12
            if p.optional:  # the minimum itself (never a valid value) means "auto"
                self.widget.setSpecialValueText("auto")
            elif p.exclusive_minimum:
                lo += 10.0 ** -p.decimals
            self.widget.setRange(lo, hi)
            self.widget.setSingleStep(p.step)
            if p.unit in _SUFFIX:
                self.widget.setSuffix(_SUFFIX[p.unit])
            self.widget.valueChanged.connect(self.changed)
        else:
            raise ValueError(f"{p.name}: no field for kind {p.kind!r}")
        self.widget.setToolTip(tip)
        if isinstance(self.widget, QSpinBox | QDoubleSpinBox):
            self.widget.installEventFilter(_KEEP_KEYS)
        self.set_value(p.default)

    def value(self):
        p, w = self.param, self.widget
        if p.kind == "bool":
            return w.isChecked()
        if p.kind == "choice":
            return w.currentData()
        if p.optional and w.value() == w.minimum():
            return None
        return int(w.value()) if p.kind == "int" else float(w.value())

    def set_value(self, value) -> None:
        p, w = self.param, self.widget
        if p.kind == "bool":
            w.setChecked(bool(value))
        elif p.kind == "choice":
            index = w.findData(value)
            if index >= 0:
                w.setCurrentIndex(index)
        elif value is None:
            w.setValue(w.minimum())
        else:
            w.setValue(value)


class MethodPanel(QWidget):
    """Choose features and a method, see the estimate, run, cancel; list the results."""

    def __init__(self, session, workspace, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.workspace = workspace
        self.setMinimumWidth(300)

        # features: combos filled per recording kind, the rate from the registry
        self.feature_a = _combo()
        self.feature_b = _combo()
        for combo, p in ((self.feature_a, FEATURE_INPUTS[0]), (self.feature_b,
                                                                FEATURE_INPUTS[1])):
            combo.setToolTip(p.description)
        self.rate_field = ParamField(FEATURE_INPUTS[2], self)
        self.rate = self.rate_field.widget
        self.features_box = QGroupBox("Features")
        form = QFormLayout(self.features_box)
        for p, w in zip(FEATURE_INPUTS[:3], (self.feature_a, self.feature_b, self.rate),
                        strict=True):
            label = QLabel(p.label)
            label.setToolTip(w.toolTip())
            form.addRow(label, w)

        # method and its parameters, one page per registry entry
        self.method = _combo()
        self.pages = QStackedWidget()
        self.fields: dict[str, dict[str, ParamField]] = {}
        self.anchors_label = ElidedLabel("none")  # never widens the panel
        self.anchors_label.setToolTip("Shift+click the cost matrix to add an anchor: the "
                                      "next DTW run passes through it")
        self.clear_anchors_button = QPushButton("Clear")
        self.clear_anchors_button.setEnabled(False)
        self.clear_anchors_button.setMaximumWidth(
            self.clear_anchors_button.fontMetrics().horizontalAdvance("Clear") + 24)
        for entry in registry.METHODS.values():
            self.method.addItem(entry.title, entry.name)
            self.method.setItemData(self.method.count() - 1, entry.summary,
                                    Qt.ItemDataRole.ToolTipRole)
            self.pages.addWidget(self._page(entry))
        for method, values in PANEL_PRESETS.items():
            for name, value in values.items():
                if name in self.fields.get(method, {}):
                    self.fields[method][name].set_value(value)
        self.estimate_label = QLabel("")
        self.estimate_label.setWordWrap(True)
        # two lines whatever it says: the panel does not re-lay out at every estimate
        self.estimate_label.setFixedHeight(2 * self.estimate_label.fontMetrics().lineSpacing()
                                           + 4)
        # what is wrong with the inputs, said before anything runs
        self.problem = QLabel("")
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #d08000;")
        self.problem.hide()
        self.run_button = QPushButton("Run")
        self.method.setToolTip("the alignment method (greyed: cannot take the chosen features)")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setTextVisible(False)
        method_box = QGroupBox("Method")
        mlayout = QVBoxLayout(method_box)
        mlayout.addWidget(self.method)
        mlayout.addWidget(self.pages)
        mlayout.addWidget(self.problem)
        mlayout.addWidget(self.estimate_label)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
        mlayout.addLayout(buttons)
        mlayout.addWidget(self.progress)

        # results
        self.results = ResultsList(session, self)
        self.remove_button = self.results.remove_button
        results_box = QGroupBox("Results")
        rlayout = QVBoxLayout(results_box)
        rlayout.addWidget(self.results, 1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.features_box)
        layout.addWidget(method_box)
        layout.addWidget(results_box, 1)

        self._estimate_timer = QTimer(self)
        self._estimate_timer.setSingleShot(True)
        self._estimate_timer.setInterval(100)
        self._estimate_timer.timeout.connect(self.update_estimate)
        for w in (self.feature_a, self.feature_b, self.method):
            w.currentIndexChanged.connect(self._on_inputs_changed)
        self.rate_field.changed.connect(self._on_inputs_changed)
        for fields in self.fields.values():
            for f in fields.values():
                f.changed.connect(self._on_inputs_changed)
        self.method.currentIndexChanged.connect(self.pages.setCurrentIndex)
        self.run_button.clicked.connect(self.run)
        self.cancel_button.clicked.connect(self.workspace.cancel_method)
        self.clear_anchors_button.clicked.connect(session.clear_anchors)
        session.anchors_changed.connect(self._on_anchors_changed)

        session.recording_opened.connect(self._fill_features)
        session.recordings_swapped.connect(self._fill_features)
        session.alignment_added.connect(self._on_alignment_added)
        workspace.method_progressed.connect(self._on_progress)
        workspace.method_finished.connect(self._on_method_finished)
        self.select_method(FIRST_METHOD)
        self._fill_features()
        self._on_anchors_changed()
        self._on_inputs_changed()

    def _page(self, entry: registry.Method) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        form.setContentsMargins(0, 0, 0, 0)
        fields = self.fields.setdefault(entry.name, {})
        for p in entry.params:
            if p.kind == "anchors":
                row = QWidget()
                arow = QHBoxLayout(row)
                arow.setContentsMargins(0, 0, 0, 0)
                arow.addWidget(self.anchors_label, 1)
                arow.addWidget(self.clear_anchors_button)
                form.addRow(p.label, row)
                continue
            if not p.panel:
                continue
            field = ParamField(p, self)
            fields[p.name] = field
            label = QLabel("" if p.kind == "bool" else p.label)
            label.setToolTip(field.widget.toolTip())
            form.addRow(label, field.widget)
        return page

    # ------------------------------------------------------------------ recipe
    def select_method(self, method: str) -> None:
        self.method.setCurrentIndex(list(registry.METHODS).index(method))

    def show_recipe(self, recipe: Recipe) -> None:
        """Show the settings that made a result (e.g. read from its file, or a batch's
        output): its method, the values of that method's fields and, for a feature
        method, the features of A and B and their rate. A value the panel cannot take
        (another version's parameter, out of range) leaves its field as it is."""
        entry = registry.METHODS.get(recipe.method)
        if entry is None:
            return
        self.select_method(recipe.method)
        params = {p.name: p for p in entry.params}
        for name, field in self.fields[recipe.method].items():
            if name not in recipe.params:
                continue
            try:
                field.set_value(params[name].check(recipe.params[name]))
            except (TypeError, ValueError):
                continue
        if entry.inputs == "recordings" or not (recipe.features_a and recipe.features_b):
            return
        for combo, spec in ((self.feature_a, recipe.features_a[0]),
                            (self.feature_b, recipe.features_b[0])):
            if combo.findData(spec.name) >= 0:
                combo.setCurrentIndex(combo.findData(spec.name))
        try:
            self.rate_field.set_value(FEATURE_INPUTS[2].check(
                max(recipe.features_a[0].rate_hz, recipe.features_b[0].rate_hz)))
        except (TypeError, ValueError):
            pass

    def current_method(self) -> str:
        return self.method.currentData()

    def field(self, method: str, name: str) -> ParamField:
        """The field of parameter ``name`` of ``method``."""
        return self.fields[method][name]

    def values(self, method: str | None = None) -> dict:
        """The user's values of ``method``'s fields (anchors from the Session)."""
        method = self.current_method() if method is None else method
        entry = registry.METHODS[method]
        values = {name: f.value() for name, f in self.fields[method].items()}
        for p in entry.params:
            if p.kind == "anchors":
                values[p.name] = [list(a) for a in self.session.anchors]
        return values

    def recipe(self) -> Recipe:
        """A frozen, checked recipe of what the panel shows.

        Raises
        ------
        ValueError
            A value out of range, features that do not fit the recordings or the method.
        """
        method = self.current_method()
        kinds, fps = [], []
        for slot in ("a", "b"):
            info = self.session.recording_info(slot)
            kinds.append("audio" if info is None else info.kind)
            fps.append(None if info is None else info.rate_hz)
        return registry.recipe(method, self.values(method), kind_a=kinds[0], kind_b=kinds[1],
                               feature=self.feature_a.currentData(),
                               feature_b=self.feature_b.currentData(),
                               rate_hz=self.rate_field.value(), fps_a=fps[0], fps_b=fps[1])

    def run(self):
        """Run the panel's recipe; returns its Job, or None when nothing ran (a problem
        with the inputs is reported and ``method_finished(-1)`` emitted)."""
        try:
            recipe = self.recipe()
            problem = band_problem(recipe, self.session.duration("a"),
                                   self.session.duration("b"),
                                   source_rates_hz=self._source_rates())
            if problem and self.session.has_both():
                raise ValueError(problem)
        except ValueError as exc:
            self.session.error_reported.emit(str(exc))
            self.workspace.method_finished.emit(-1)
            return None
        job = self.workspace.run_method(recipe)
        if job is not None:
            self.progress.setValue(0)
            self.cancel_button.setEnabled(True)
        return job

    # ------------------------------------------------------------------ estimate
    def method_unavailable(self, method: str) -> str | None:
        """Why ``method`` cannot take the chosen features (None when it can)."""
        entry = registry.METHODS[method]
        if entry.inputs != "features" or not entry.same_dim:
            return None
        fa, fb = self.feature_a.currentData(), self.feature_b.currentData()
        if fa not in registry.FEATURES or fb not in registry.FEATURES:
            return None
        da, db = registry.FEATURES[fa].dim, registry.FEATURES[fb].dim
        if da == db:
            return None
        others = [m.title for m in registry.METHODS.values()
                  if m.inputs == "features" and not m.same_dim]
        return (f"{entry.title} needs features of the same dimension on A and B; {fa} "
                f"has {da}, {fb} has {db}: choose other features, or "
                f"{' or '.join(others)}, which can align them")

    def _update_method_availability(self) -> None:
        """Grey out the methods that cannot take the chosen features, saying why."""
        model = self.method.model()
        for k in range(self.method.count()):
            name = self.method.itemData(k)
            why = self.method_unavailable(name)
            item = model.item(k)
            item.setEnabled(why is None)
            summary = registry.METHODS[name].summary
            item.setToolTip(summary if why is None else f"{summary}\n\nnot available: {why}")

    def _on_inputs_changed(self, *_) -> None:
        self._update_method_availability()
        entry = registry.METHODS[self.current_method()]
        values = self.values()
        for f in self.fields[entry.name].values():
            f.widget.setEnabled(f.param.applies(values))
        self.features_box.setEnabled(entry.inputs == "features")
        self._estimate_timer.start()

    def update_estimate(self) -> None:
        """Time and memory of the current choice, before running it (and what is wrong
        with it, if anything)."""
        if not self.session.has_both():
            self._show_problem(None)
            self.estimate_label.setText("open A and B to see an estimate")
            return
        da, db = self.session.duration("a"), self.session.duration("b")
        rates = self._source_rates()
        try:
            recipe = self.recipe()
            problem = band_problem(recipe, da, db, source_rates_hz=rates)
        except ValueError as exc:
            problem = str(exc)
        self._show_problem(problem)
        if problem:
            self.estimate_label.setText("")
            return
        if recipe.features_a:
            fa, fb = recipe.features_a[0], recipe.features_b[0]
            n_a = registry.feature_frames(da, fa.rate_hz, rates[0])
            n_b = registry.feature_frames(db, fb.rate_hz, rates[1])
            size = f"{n_a}×{n_b} frames"
        else:
            n_a = n_b = 0
            size = f"{da:.0f} s + {db:.0f} s"
        if max(n_a, n_b) > ESTIMATE_ON_WORKER_FRAMES:
            # a window's estimate walks its rows (100+ ms for an hour): on a worker
            self.estimate_label.setText(f"{size}: estimating…")
            self.workspace.jobs.submit(
                Request("estimate", _estimate, (recipe, da, db, rates), label="estimate"),
                on_result=lambda est, r=recipe: self._show_estimate(r, size, est))
            return
        self._show_estimate(recipe, size, _estimate(recipe, da, db, rates))

    def _source_rates(self) -> tuple[float | None, float | None]:
        """The sample rates (audio) or frame rates (video) of A and B, None where unknown:
        the estimate counts frames from them as the features do."""
        infos = (self.session.recording_info("a"), self.session.recording_info("b"))
        return tuple(None if info is None else info.rate_hz for info in infos)

    def _show_estimate(self, recipe: Recipe, size: str, est) -> None:
        try:
            if recipe != self.recipe():
                return  # the inputs changed meanwhile; a newer estimate comes
        except ValueError:
            return
        if isinstance(est, str):
            self.estimate_label.setText(f"no estimate: {est}")
            return
        self.estimate_label.setText(f"{size}: about {_fmt_seconds(est.seconds)}, "
                                    f"{_fmt_bytes(est.bytes)}")

    def _show_problem(self, text: str | None) -> None:
        """What keeps the current choice from running, said before Run (which waits)."""
        self.problem.setText(text or "")
        self.problem.setVisible(bool(text))
        self.run_button.setEnabled(not text)
        self.run_button.setToolTip(text or "run the method with these settings "
                                   "(the result is added to the list)")

    def _on_anchors_changed(self) -> None:
        n = len(self.session.anchors)
        self.anchors_label.setText("none (Shift+click)" if n == 0 else
                                   f"{n} (the path passes through them)")
        self.clear_anchors_button.setEnabled(n > 0)

    # ------------------------------------------------------------------ features
    def _fill_features(self, *_) -> None:
        for slot, combo in (("a", self.feature_a), ("b", self.feature_b)):
            info = self.session.recording_info(slot)
            names = registry.feature_names("video" if info is not None and info.kind ==
                                           "video" else "audio")
            current = combo.currentData()
            combo.blockSignals(True)
            combo.clear()
            for name in names:
                combo.addItem(registry.FEATURES[name].label, name)  # human names
                combo.setItemData(combo.count() - 1, registry.FEATURES[name].label,
                                  Qt.ItemDataRole.ToolTipRole)
            if current in names:
                combo.setCurrentIndex(combo.findData(current))
            combo.blockSignals(False)
        self._on_inputs_changed()

    # ------------------------------------------------------------------ results
    def _on_alignment_added(self, aid: int) -> None:
        image = self.session.project.result(aid).image
        # start from what the default alignment used: the first result, whether it was
        # just computed or a reopened project lists it (and the others) at once
        if self.session.alignment_ids()[:1] == [aid] and image is not None:
            for combo, spec in ((self.feature_a, image[0]), (self.feature_b, image[1])):
                if combo.findData(spec.name) >= 0:
                    combo.setCurrentIndex(combo.findData(spec.name))
            self.rate_field.set_value(min(image[0].rate_hz, image[1].rate_hz))
            for fields in self.fields.values():
                if "metric" in fields and image[2] in fields["metric"].param.values:
                    fields["metric"].set_value(image[2])

    # ------------------------------------------------------------------ progress
    def _on_progress(self, fraction: float) -> None:
        self.progress.setValue(int(round(1000 * fraction)))

    def _on_method_finished(self, aid: int) -> None:
        # an empty bar between runs: a full one would read as "still working"
        self.cancel_button.setEnabled(False)
        self.progress.setValue(0)


def _estimate(recipe: Recipe, da: float, db: float, rates=(None, None), *, progress=None,
              cancel=None):
    """registry.estimate, or the reason there is none (an estimate never fails)."""
    try:
        return registry.estimate(recipe, da, db, source_rates_hz=rates)
    except Exception as exc:  # noqa: BLE001 - an estimate never stops the panel
        return str(exc)


def _fmt_seconds(s: float) -> str:
    if s != s:
        return "? s"
    if s < 1:
        return f"{s * 1000:.0f} ms"
    if s < 120:
        return f"{s:.1f} s"
    return f"{s / 60:.1f} min"


def _fmt_bytes(b: float) -> str:
    if b != b:
        return "? B"
    for unit in ("B", "KB", "MB", "GB"):
        if b < 1024:
            return f"{b:.0f} {unit}"
        b /= 1024
    return f"{b:.1f} TB"
