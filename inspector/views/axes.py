"""Axes whose labels fit: the step follows the pixels per unit and the size of the labels.

pyqtgraph picks a major and a minor tick step from the axis length alone, always labels
the major ticks (even when they pile up on a short or narrow axis) and labels the minor
ones when they happen to fit: two time axes of the same width showing 30.5 s and 28 s were
labelled every 5 s and every 1 s, and a short track's "0" and "1" overlapped.

:class:`FittedAxis` (linear: times, confidence, cost) labels one level only, with the
smallest round step (1, 2, 5 × 10^k) whose labels keep a gap between them; two axes of
the same length showing ranges of about the same size therefore tick alike.
:class:`RatioAxis` (a log-scale axis of ratios, e.g. tempo) labels the ratios that fit:
``¼ ½ 1 2 4`` and finer (0.8, 1.25, ...) on a tall track or a narrow range, every other
power of two on a short one.

Install them with :func:`fit_axes` on existing PlotItems (labels and log mode are kept).
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QFontMetrics

__all__ = ["FittedAxis", "RatioAxis", "fit_axes", "nice_step", "ratio_label"]

#: empty space between two horizontal labels (px)
H_GAP_PX = 16
#: a vertical axis keeps this many text heights from one label to the next
V_SPACING_LINES = 1.25


def nice_step(lower: float) -> float:
    """The smallest 1, 2 or 5 × 10^k at least ``lower`` (> 0)."""
    e = math.floor(math.log10(lower))
    for base in (1.0, 2.0, 5.0, 10.0):
        step = base * 10.0 ** e
        if step >= lower * (1 - 1e-9):
            return step
    return 10.0 ** (e + 1)


def _decimals(step: float) -> int:
    return max(0, -math.floor(math.log10(step) + 1e-9))


def _horizontal(axis: pg.AxisItem) -> bool:
    return axis.orientation in ("bottom", "top")


def _metrics(axis: pg.AxisItem) -> QFontMetrics:
    return QFontMetrics(axis.style.get("tickFont") or axis.font())


class FittedAxis(pg.AxisItem):
    """A linear axis labelled at one round step chosen so that its labels never touch."""

    def __init__(self, orientation: str, **kwargs):
        super().__init__(orientation, **kwargs)
        self.setStyle(maxTextLevel=0)  # the minor ticks carry no text
        # the units stay those of the label: below 1 s pyqtgraph scaled the values by
        # 1000 and added "(x0.001)", so "time A (s)" read 50 ... 750 on a 0.8 s clip (and
        # -450 ... 450 on an empty window) while the tracks under it said 0.2 ... 0.6
        self.enableAutoSIPrefix(False)
        self.partners: list[FittedAxis] = []
        self._step = None

    def share_step(self, *others: FittedAxis) -> None:
        """Label this axis and ``others`` at one step, the coarsest each needs (A and B
        side by side: 4 s and 5 s at one width would tick every 0.2 and 0.5 s)."""
        group = [self, *others]
        for axis in group:
            axis.partners = [a for a in group if a is not axis]

    def own_step(self, size: float | None = None) -> float | None:
        lo, hi = self.range
        if size is None:
            size = self.geometry().width() if _horizontal(self) else self.geometry().height()
        scale = self.scale or 1.0
        return self.label_step(lo * scale, hi * scale, size)

    def label_step(self, lo: float, hi: float, size: float) -> float | None:
        """The labelled step for the range ``lo .. hi`` drawn over ``size`` pixels."""
        span = hi - lo
        if not (math.isfinite(span) and span > 0 and size > 0):
            return None
        per_px = span / size
        fm = _metrics(self)
        step = nice_step(per_px)
        for _ in range(40):
            if _horizontal(self):
                d = _decimals(step)
                need = max(fm.horizontalAdvance(f"{v:.{d}f}") for v in (lo, hi, -abs(hi))
                           ) + H_GAP_PX
            else:
                need = V_SPACING_LINES * fm.height()
            if step / per_px >= need:
                return step
            step = nice_step(step * 1.5)
        return step

    def tickSpacing(self, minVal, maxVal, size):  # noqa: N802 - pyqtgraph override
        if self._tickSpacing is not None:
            return self._tickSpacing
        scale = self.scale or 1.0
        step = self.label_step(minVal * scale, maxVal * scale, size)
        if step is None:
            return super().tickSpacing(minVal, maxVal, size)
        for other in self.partners:
            theirs = other.own_step() if other.isVisible() else None
            if theirs is not None:
                step = max(step, theirs)
        if step != self._step:
            self._step = step
            for other in self.partners:  # they may take this step now: draw them again
                if other._step != step:
                    other.picture = None
                    other.update()
        mantissa = round(step / 10.0 ** math.floor(math.log10(step) + 1e-9))
        minor = step / (2.0 if mantissa == 2 else 5.0)
        return [(step / scale, 0), (minor / scale, 0)]

    def tickStrings(self, values, scale, spacing):  # noqa: N802 - pyqtgraph override
        if self.logMode:
            return super().tickStrings(values, scale, spacing)
        d = _decimals(spacing * scale) if spacing > 0 else 0
        out = []
        for v in values:
            s = f"{v * scale:.{d}f}"
            out.append("0" if s.strip("-0.") == "" else s)
        return out


_FRACTIONS = {1: "1", 2: "½", 4: "¼", 8: "⅛"}


def ratio_label(r: float) -> str:
    """``½``, ``¼``, ``1/16``, ``2``, ``0.8``, ``1.25``: a tempo ratio, short."""
    if r >= 1:
        return f"{r:g}" if r < 10 else f"{r:.0f}"
    inv = 1.0 / r
    k = round(inv)
    if abs(inv - k) < 1e-6 and k & (k - 1) == 0:
        return _FRACTIONS.get(k, f"1/{k}")
    return f"{r:.2g}"


#: the finer ratios, between ½ and 2, offered when they fit
_FINE = (0.5, 0.67, 0.8, 1.0, 1.25, 1.5, 2.0)


class RatioAxis(pg.AxisItem):
    """The log axis of a ratio (values are log10 of it): labels the ratios that fit."""

    def __init__(self, orientation: str = "left", **kwargs):
        super().__init__(orientation, **kwargs)
        self.setStyle(maxTextLevel=0)

    def ratio_ticks(self, lo: float, hi: float, size: float) -> list[float]:
        """The labelled ratios for the log10 range ``lo .. hi`` over ``size`` pixels."""
        if not (math.isfinite(lo) and math.isfinite(hi) and hi > lo and size > 0):
            return []
        fm = _metrics(self)
        need = (V_SPACING_LINES * fm.height() if not _horizontal(self)
                else 3 * fm.horizontalAdvance("0.8") + H_GAP_PX)
        per_log = size / (hi - lo)  # pixels per decade
        r_lo, r_hi = 10.0 ** lo, 10.0 ** hi
        # the finer ladder (½ .. 2) when its closest pair (1.5 / 1.25) fits
        fine = [r for r in _FINE if r_lo <= r <= r_hi]
        if len(fine) >= 2 and per_log * math.log10(1.5 / 1.25) >= need:
            outer = [r for r in (0.25, 4.0) if r_lo <= r <= r_hi]
            return sorted(fine + outer)
        # powers of two, every ``stride``-th one
        stride = max(1, math.ceil(need / (per_log * math.log10(2.0))))
        k0, k1 = math.ceil(math.log2(r_lo)), math.floor(math.log2(r_hi))
        powers = [2.0 ** k for k in range(k0, k1 + 1) if k % stride == 0]
        if len(powers) >= 2 or hi - lo > 1.0:
            return powers
        # a narrow range (a steady tempo of 1.2-1.3): round decimal ratios, spaced as
        # they would be where they are closest (at the top: log10 compresses there)
        per_unit = per_log / (r_hi * math.log(10.0))  # pixels per unit of ratio at r_hi
        step = nice_step(need / per_unit)
        k0, k1 = math.ceil(r_lo / step - 1e-9), math.floor(r_hi / step + 1e-9)
        ticks = [round(k * step, 10) for k in range(k0, k1 + 1) if k * step > 0]
        best = max((powers, ticks), key=len)
        if best:
            return best
        # not even one round value fits between two: the middle, to two digits
        return [float(f"{10.0 ** (0.5 * (lo + hi)):.2g}")]

    def tickValues(self, minVal, maxVal, size):  # noqa: N802 - pyqtgraph override
        if self._tickLevels is not None:
            return super().tickValues(minVal, maxVal, size)
        ratios = self.ratio_ticks(minVal, maxVal, size)
        values = [math.log10(r) for r in ratios]
        spacing = float(np.min(np.diff(values))) if len(values) > 1 else 1.0
        return [(spacing, values)]

    def tickStrings(self, values, scale, spacing):  # noqa: N802 - pyqtgraph override
        return [ratio_label(10.0 ** v) for v in values]


def fit_axes(plot: pg.PlotItem, *, fitted=("bottom", "left"), ratio=()) -> None:
    """Replace ``plot``'s axes named in ``fitted`` by :class:`FittedAxis` and those in
    ``ratio`` by :class:`RatioAxis`, keeping their labels, widths and visibility."""
    items = {}
    for name, cls in [(n, FittedAxis) for n in fitted] + [(n, RatioAxis) for n in ratio]:
        old = plot.getAxis(name)
        new = cls(name)
        new.setPen(old.pen())
        new.setTextPen(old.textPen())
        if old.fixedWidth is not None:
            new.setWidth(old.fixedWidth)
        if old.fixedHeight is not None:
            new.setHeight(old.fixedHeight)
        if old.labelText or old.labelUnits:
            new.setLabel(old.labelText, old.labelUnits, **old.labelStyle)
        items[name] = (new, old.isVisible())
    plot.setAxisItems({name: new for name, (new, _) in items.items()})
    for name, (_new, visible) in items.items():
        plot.showAxis(name, visible)
