"""The method panel (features, metric, method and parameters, estimate, Run, Cancel) and
the results list (one active alignment, one compared on the matrix).

Observes the Session (``recording_opened``, ``recordings_swapped``, ``alignment_added``,
``alignment_removed``, ``active_alignment_changed``, ``compared_alignment_changed``) and
the Workspace (``method_progressed``, ``method_finished``). GUI thread only.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from . import compute
from .views.common import ElidedLabel
from .workspace import MethodSpec, engine_params

__all__ = ["MethodPanel", "METHOD_TITLES"]

METHOD_TITLES = {
    "dtw": "DTW",
    "ctw": "CTW (DTW + CCA)",
    "ot": "Optimal transport",
    "soft_dtw": "soft-DTW",
    "attention": "Attention",
    "cycle_consistency": "Cycle consistency",
}
STEP_PATTERNS = ("symmetric2", "symmetric1", "asymmetric", "symmetricP05", "symmetricP1",
                 "symmetricP2", "asymmetricP05", "asymmetricP1", "asymmetricP2")
WINDOWS = ("none", "sakoe_chiba", "slanted_band", "itakura")
METRICS = ("euclidean", "sqeuclidean", "cosine", "cityblock")


def _double(lo, hi, value, step, decimals=3, suffix=""):
    box = QDoubleSpinBox()
    box.setRange(lo, hi)
    box.setDecimals(decimals)
    box.setSingleStep(step)
    box.setValue(value)
    if suffix:
        box.setSuffix(suffix)
    return box


def _auto_double(lo, hi, value, step, decimals=3):
    """A number where 0 means "let the engine choose" (shown as auto)."""
    box = _double(lo, hi, value, step, decimals)
    box.setSpecialValueText("auto")
    return box


def _int(lo, hi, value, special=""):
    box = QSpinBox()
    box.setRange(lo, hi)
    box.setValue(value)
    if special:
        box.setSpecialValueText(special)
    return box


class MethodPanel(QWidget):
    """Choose features and a method, see the estimate, run, cancel; list the results."""

    def __init__(self, session, workspace, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.workspace = workspace
        self.setMinimumWidth(300)

        # features and metric
        self.feature_a = QComboBox()
        self.feature_b = QComboBox()
        self.rate = _double(1.0, 200.0, 25.0, 5.0, 1, " Hz")
        self.metric = QComboBox()
        self.metric.addItems(METRICS)
        feats = QGroupBox("Features")
        form = QFormLayout(feats)
        form.addRow("A", self.feature_a)
        form.addRow("B", self.feature_b)
        form.addRow("rate", self.rate)
        form.addRow("metric", self.metric)

        # method and its parameters
        self.method = QComboBox()
        for key, title in METHOD_TITLES.items():
            self.method.addItem(title, key)
        self.pages = QStackedWidget()
        self.step_pattern = QComboBox()
        self.step_pattern.addItems(STEP_PATTERNS)
        self.window = QComboBox()
        self.window.addItems(WINDOWS)
        self.radius_s = _double(0.05, 3600.0, 2.0, 0.5, 2, " s")
        self.anchors_label = ElidedLabel("none")  # never widens the panel
        self.anchors_label.setToolTip("Shift+click the cost matrix to add an anchor: the "
                                      "next DTW run passes through it")
        self.clear_anchors_button = QPushButton("Clear")
        self.clear_anchors_button.setEnabled(False)
        self.clear_anchors_button.setMaximumWidth(
            self.clear_anchors_button.fontMetrics().horizontalAdvance("Clear") + 24)
        anchors_row = QWidget()
        arow = QHBoxLayout(anchors_row)
        arow.setContentsMargins(0, 0, 0, 0)
        arow.addWidget(self.anchors_label, 1)
        arow.addWidget(self.clear_anchors_button)
        self.open_begin = QCheckBox("open begin")
        self.open_end = QCheckBox("open end")
        self.ctw_components = _int(0, 256, 0, "auto")
        self.ctw_reg = _double(0.0, 10.0, 0.01, 0.01, 4)
        self.ctw_iter = _int(1, 500, 20)
        self.ot_method = QComboBox()
        self.ot_method.addItems(("sinkhorn", "emd", "unbalanced"))
        self.ot_reg = _auto_double(0.0, 100.0, 0.0, 0.01, 4)
        self.ot_reg_m = _double(1e-3, 1000.0, 1.0, 0.5, 3)
        self.gamma = _double(1e-4, 100.0, 1.0, 0.1, 4)
        self.temperature = _auto_double(0.0, 100.0, 0.0, 0.05, 4)
        self.cycle_temperature = _auto_double(0.0, 100.0, 0.0, 0.05, 4)
        pages = {
            "dtw": [("step pattern", self.step_pattern), ("window", self.window),
                    ("radius", self.radius_s), ("", self.open_begin), ("", self.open_end),
                    ("anchors", anchors_row)],
            "ctw": [("components", self.ctw_components), ("regularization", self.ctw_reg),
                    ("max iterations", self.ctw_iter)],
            "ot": [("method", self.ot_method), ("reg (entropy)", self.ot_reg),
                   ("reg_m (unbalanced)", self.ot_reg_m)],
            "soft_dtw": [("gamma", self.gamma)],
            "attention": [("temperature", self.temperature)],
            "cycle_consistency": [("temperature", self.cycle_temperature)],
        }
        for key in METHOD_TITLES:
            page = QWidget()
            pform = QFormLayout(page)
            pform.setContentsMargins(0, 0, 0, 0)
            for label, widget in pages[key]:
                pform.addRow(label, widget)
            self.pages.addWidget(page)
        self.estimate_label = QLabel("")
        self.estimate_label.setWordWrap(True)
        # two lines whatever it says: the panel does not re-lay out at every estimate
        self.estimate_label.setFixedHeight(2 * self.estimate_label.fontMetrics().lineSpacing()
                                           + 4)
        self.availability = QLabel("")
        self.availability.setWordWrap(True)
        self.availability.setStyleSheet("color: #d08000;")
        self.run_button = QPushButton("Run")
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
        mlayout.addWidget(self.availability)
        mlayout.addWidget(self.estimate_label)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
        mlayout.addLayout(buttons)
        mlayout.addWidget(self.progress)

        # results
        self.results = QListWidget()
        self.results.setToolTip("click: make active; tick: compare on the matrix")
        self.remove_button = QPushButton("Remove")
        results_box = QGroupBox("Results (click: active, tick: compare)")
        rlayout = QVBoxLayout(results_box)
        rlayout.addWidget(self.results, 1)
        rlayout.addWidget(self.remove_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(feats)
        layout.addWidget(method_box)
        layout.addWidget(results_box, 1)

        self._estimate_timer = QTimer(self)
        self._estimate_timer.setSingleShot(True)
        self._estimate_timer.setInterval(100)
        self._estimate_timer.timeout.connect(self.update_estimate)
        for w in (self.feature_a, self.feature_b, self.metric, self.method, self.step_pattern,
                  self.window, self.ot_method):
            w.currentIndexChanged.connect(self._on_inputs_changed)
        for w in (self.rate, self.radius_s, self.ctw_iter, self.ctw_components):
            w.valueChanged.connect(self._on_inputs_changed)
        self.method.currentIndexChanged.connect(self.pages.setCurrentIndex)
        self.run_button.clicked.connect(self.run)
        self.cancel_button.clicked.connect(self.workspace.cancel_method)
        self.remove_button.clicked.connect(self._remove_selected)
        self.clear_anchors_button.clicked.connect(session.clear_anchors)
        session.anchors_changed.connect(self._on_anchors_changed)
        self.results.itemClicked.connect(self._on_item_clicked)
        self.results.itemChanged.connect(self._on_item_changed)

        session.recording_opened.connect(self._fill_features)
        session.recordings_swapped.connect(self._fill_features)
        session.alignment_added.connect(self._on_alignment_added)
        session.alignment_removed.connect(self._on_alignment_removed)
        session.active_alignment_changed.connect(self._on_active_changed)
        session.compared_alignment_changed.connect(self._on_compared_changed)
        workspace.method_progressed.connect(self._on_progress)
        workspace.method_finished.connect(self._on_method_finished)
        self._fill_features()
        self._on_anchors_changed()
        self._on_inputs_changed()

    # ------------------------------------------------------------------ spec
    def select_method(self, method: str) -> None:
        self.method.setCurrentIndex(list(METHOD_TITLES).index(method))

    def current_method(self) -> str:
        return self.method.currentData()

    def spec(self) -> MethodSpec:
        """A frozen snapshot of what the panel shows."""
        method = self.current_method()
        params: dict = {}
        if method == "dtw":
            params = {"step_pattern": self.step_pattern.currentText(),
                      "window": self.window.currentText()}
            if params["window"] in ("sakoe_chiba", "slanted_band"):
                params["window_radius_s"] = self.radius_s.value()
            params["open_begin"] = self.open_begin.isChecked()
            params["open_end"] = self.open_end.isChecked()
            if self.session.anchors:
                params["anchors_s"] = [list(p) for p in self.session.anchors]
        elif method == "ctw":
            params = {"n_components": self.ctw_components.value() or None,
                      "reg": self.ctw_reg.value(), "max_iter": self.ctw_iter.value()}
        elif method == "ot":
            params = {"ot_method": self.ot_method.currentText(),
                      "reg": self.ot_reg.value() or None}
            if params["ot_method"] == "unbalanced":
                params["reg_m"] = self.ot_reg_m.value()
            if params["ot_method"] == "emd":
                params.pop("reg")
        elif method == "soft_dtw":
            params = {"gamma": self.gamma.value()}
        elif method == "attention":
            params = {"temperature": self.temperature.value() or None}
        elif method == "cycle_consistency":
            params = {"temperature": self.cycle_temperature.value() or None}
        return MethodSpec(method, self.feature_a.currentText(), self.feature_b.currentText(),
                          float(self.rate.value()), self.metric.currentText(), dict(params))

    def run(self) -> int:
        self._refresh_availability()
        spec = self.spec()
        job = self.workspace.run_method(spec)
        if job != -1:
            self.progress.setValue(0)
            self.cancel_button.setEnabled(True)
        return job

    # ------------------------------------------------------------------ estimate
    def _on_inputs_changed(self, *_) -> None:
        self._refresh_availability()
        self._estimate_timer.start()

    def _refresh_availability(self) -> None:
        ok, why = compute.method_available(self.current_method())
        self.availability.setText("" if ok else why)
        self.availability.setVisible(not ok)
        for k, key in enumerate(METHOD_TITLES):
            available = compute.method_available(key)[0]
            title = METHOD_TITLES[key] + ("" if available else " (not available yet)")
            if self.method.itemText(k) != title:
                self.method.setItemText(k, title)

    def update_estimate(self) -> None:
        """Time and memory of the current choice, before running it."""
        if not self.session.has_both():
            self.estimate_label.setText("open A and B to see an estimate")
            return
        spec = self.spec()
        n = []
        for slot in ("a", "b"):
            rec = self.session.recording(slot)
            rate = spec.rate_hz
            if rec.kind == "video":
                rate = min(rate, float(rec.rate_hz))
            n.append(max(1, int(rec.duration_s * rate)))
        dims = {"chroma": 12, "cens": 12, "onset": 1, "dlnco": 12, "mfcc": 20, "logmel": 64,
                "thumbnail": 256, "histogram": 48, "motion": 1}
        dim = dims.get(spec.feature_a, 16)
        try:
            seconds, memory = compute.estimate(spec.method, n[0], n[1], dim,
                                               engine_params(spec, spec.rate_hz))
        except Exception as exc:  # noqa: BLE001 - an estimate never stops the panel
            self.estimate_label.setText(f"no estimate: {exc}")
            return
        self.estimate_label.setText(
            f"{n[0]}×{n[1]} frames: about {_fmt_seconds(seconds)}, {_fmt_bytes(memory)}")

    def _on_anchors_changed(self) -> None:
        n = len(self.session.anchors)
        self.anchors_label.setText("none (Shift+click)" if n == 0 else
                                   f"{n} (the path passes through them)")
        self.clear_anchors_button.setEnabled(n > 0)

    # ------------------------------------------------------------------ features
    def _fill_features(self, *_) -> None:
        for slot, combo in (("a", self.feature_a), ("b", self.feature_b)):
            rec = self.session.recording(slot)
            names = compute.VIDEO_FEATURES if rec is not None and rec.kind == "video" \
                else compute.AUDIO_FEATURES
            current = combo.currentText()
            combo.blockSignals(True)
            combo.clear()
            combo.addItems(names)
            if current in names:
                combo.setCurrentText(current)
            combo.blockSignals(False)
        self._on_inputs_changed()

    # ------------------------------------------------------------------ results
    def _item(self, aid: int) -> QListWidgetItem | None:
        for k in range(self.results.count()):
            item = self.results.item(k)
            if item.data(Qt.ItemDataRole.UserRole) == aid:
                return item
        return None

    def _on_alignment_added(self, aid: int) -> None:
        al = self.session.alignment(aid)
        item = QListWidgetItem(f"#{aid} {self.session.label(aid)}")
        item.setData(Qt.ItemDataRole.UserRole, aid)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Unchecked)
        elapsed = al.diagnostics.get("elapsed_s")
        item.setToolTip("\n".join([f"{k} = {v}" for k, v in al.params.items()]
                                  + ([f"elapsed = {elapsed:.3f} s"]
                                     if isinstance(elapsed, float) else [])))
        self.results.blockSignals(True)
        self.results.addItem(item)
        self.results.blockSignals(False)
        self._mark_active()
        inputs = self.session.matrix_inputs(aid)
        if self.results.count() == 1 and inputs is not None:
            # start from what the default alignment used
            for combo, feats in ((self.feature_a, inputs[0]), (self.feature_b, inputs[1])):
                if combo.findText(feats.name) >= 0:
                    combo.setCurrentText(feats.name)
            if self.metric.findText(inputs[2]) >= 0:
                self.metric.setCurrentText(inputs[2])

    def _on_alignment_removed(self, aid: int) -> None:
        item = self._item(aid)
        if item is not None:
            self.results.takeItem(self.results.row(item))

    def _on_active_changed(self, aid: int) -> None:
        self._mark_active()

    def _mark_active(self) -> None:
        self.results.blockSignals(True)
        for k in range(self.results.count()):
            item = self.results.item(k)
            font = item.font()
            font.setBold(item.data(Qt.ItemDataRole.UserRole) == self.session.active_id)
            item.setFont(font)
            if item.data(Qt.ItemDataRole.UserRole) == self.session.active_id:
                self.results.setCurrentItem(item)
        self.results.blockSignals(False)

    def _on_compared_changed(self, aid: int) -> None:
        self.results.blockSignals(True)
        for k in range(self.results.count()):
            item = self.results.item(k)
            checked = item.data(Qt.ItemDataRole.UserRole) == aid
            item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
        self.results.blockSignals(False)

    def _on_item_clicked(self, item: QListWidgetItem) -> None:
        self.session.set_active(item.data(Qt.ItemDataRole.UserRole))

    def _on_item_changed(self, item: QListWidgetItem) -> None:
        aid = item.data(Qt.ItemDataRole.UserRole)
        if item.checkState() == Qt.CheckState.Checked:
            self.session.set_compared(aid)
        elif self.session.compared_id == aid:
            self.session.set_compared(-1)

    def _remove_selected(self) -> None:
        item = self.results.currentItem()
        if item is not None:
            self.session.remove_alignment(item.data(Qt.ItemDataRole.UserRole))

    # ------------------------------------------------------------------ progress
    def _on_progress(self, fraction: float) -> None:
        self.progress.setValue(int(round(1000 * fraction)))

    def _on_method_finished(self, aid: int) -> None:
        self.cancel_button.setEnabled(False)
        self.progress.setValue(1000 if aid != -1 else 0)


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
