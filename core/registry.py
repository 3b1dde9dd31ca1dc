"""Every alignment method once: its function, its parameters, its inputs, its estimate.

The command line's ``align`` options, the method panel's fields, the time and memory
estimates and the results' descriptions are all generated from :data:`METHODS`; nothing
else lists a method's parameters. A :class:`Method` names its engine function by a real
import (the import contract sees the data flow), declares each :class:`Param` (type,
range, default, unit, choices with labels, a one-line description, when it applies) and
says which inputs it takes (two recordings, or two feature sequences of the same or of
different dimensions).

Values travel in two forms:

- the **user's values** (:attr:`Recipe.params`): what the panel or the command line
  asked for, in the user's units (seconds, Hz, labels' values), complete with defaults;
- the **engine's keywords** (:meth:`Method.engine_kwargs`): what the function is called
  with, in the engine's units (frames). Seconds become frames in one place
  (:func:`to_frames`, :func:`anchor_frames`), with the actual frame rates of the
  features.

A result's ``params`` are what the engine ran with; the recipe that made it (method, the
user's values, the features and rate per stream, engine version) is a :class:`Recipe`
kept beside it (``core.project``), never merged into it.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import time
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

import numpy as np

from . import __version__
from .alignment import Alignment
from .canonical import ctw
from .features import AUDIO_FEATURES, VIDEO_FEATURES, n_feature_frames
from .media.recording import describe_recording
from .pipeline import align_recordings
from .soft import attention, cycle_consistency, soft_dtw
from .transport import ot
from .warping import PATTERN_NAMES, dtw
from .warping import estimate as dtw_estimate

__all__ = [
    "Choice", "Param", "Method", "FeatureSpec", "FeatureInfo", "Recipe", "Run", "Estimate",
    "ParamError", "METHODS", "FEATURES", "FEATURE_INPUTS", "DEFAULT_METHOD", "get",
    "default_feature", "feature_names", "recipe", "run", "describe", "to_frames",
    "anchor_frames", "transpose_recipe", "feature_frames",
]

ENGINE_VERSION = __version__
UNITS = (None, "frames", "seconds", "hz")
KINDS = ("float", "int", "bool", "choice", "anchors")
#: keywords every feature method's function takes besides its parameters
FEATURE_KEYWORDS = ("rate_a_hz", "rate_b_hz", "progress", "cancel")
#: keywords the default pipeline's function takes besides its parameters
RECORDING_KEYWORDS = ("progress", "cancel")


class ParamError(ValueError):
    """A parameter value is out of its declared type, range or choices.

    ``param`` is the :class:`Param` (its ``name`` and command-line ``flag`` name it).
    """

    def __init__(self, param: Param, problem: str):
        self.param = param
        self.problem = problem
        super().__init__(f"{param.name}: {problem}")


# ---------------------------------------------------------------------------- schema
@dataclasses.dataclass(frozen=True)
class Choice:
    """One allowed value of a choice parameter and the label shown for it."""

    value: Any
    label: str


_FROM_SIGNATURE = object()


@dataclasses.dataclass(frozen=True)
class Param:
    """One parameter of a method, as the user sees it.

    Parameters
    ----------
    name : str
        Key in :attr:`Recipe.params` (and, with dashes, the command-line flag).
    kind : {"float", "int", "bool", "choice", "anchors"}
        ``"anchors"`` is a list of ``(time on A, time on B)`` in seconds (set on the
        matrix, not in a field).
    description : str
        One line: tooltips and ``--help``.
    default : optional
        Default value; taken from the engine function's signature when omitted (one
        place for the engine's defaults). ``None`` with ``optional``: the engine chooses.
    minimum, maximum : float, optional
        Inclusive bounds (``minimum`` exclusive with ``exclusive_minimum``).
    unit : {None, "frames", "seconds", "hz"}
        The user's unit. ``engine_unit`` is the engine's; seconds become frames in
        :func:`to_frames` when they differ.
    choices : tuple of Choice
        For ``kind="choice"``; ``joinable`` allows several joined by ``"+"``.
    optional : bool
        ``None`` is allowed and means "let the engine choose" (shown as "auto").
    engine : str or None
        The engine keyword this parameter becomes; ``None`` when the method's
        ``assemble`` builds the keyword from several parameters (DTW's window).
    when : tuple of (name, values)
        The parameter applies only when each named parameter has one of the values
        (e.g. the band radius only with a band window).
    label, flag : str
        The panel's label and the command-line flag (default: from ``name``).
    cli, panel : bool
        Exposed on the command line / as a field of the method panel.
    decimals, step : int, float
        Field precision and step of the panel's spin box.
    """

    name: str
    kind: str
    description: str
    default: Any = _FROM_SIGNATURE
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    unit: str | None = None
    engine_unit: str | None = _FROM_SIGNATURE
    choices: tuple[Choice, ...] = ()
    joinable: bool = False
    optional: bool = False
    engine: str | None = _FROM_SIGNATURE
    when: tuple[tuple[str, tuple], ...] = ()
    label: str = ""
    flag: str = ""
    cli: bool = True
    panel: bool = True
    decimals: int = 3
    step: float = 1.0
    none_means: str = "auto"

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"{self.name}: kind must be one of {KINDS}, got {self.kind!r}")
        if self.unit not in UNITS:
            raise ValueError(f"{self.name}: unit must be one of {UNITS}, got {self.unit!r}")
        set_ = object.__setattr__
        if self.engine is _FROM_SIGNATURE:
            set_(self, "engine", self.name)
        if self.engine_unit is _FROM_SIGNATURE:
            set_(self, "engine_unit", self.unit)
        if self.engine_unit not in UNITS:
            raise ValueError(f"{self.name}: engine_unit must be one of {UNITS}")
        if (self.unit, self.engine_unit) not in ((u, u) for u in UNITS) and \
                (self.unit, self.engine_unit) != ("seconds", "frames"):
            raise ValueError(f"{self.name}: cannot convert {self.unit} to {self.engine_unit}")
        if self.kind == "choice" and not self.choices:
            raise ValueError(f"{self.name}: a choice parameter needs choices")
        if not self.label:
            set_(self, "label", self.name.removesuffix("_s").replace("_", " "))
        if not self.flag:
            set_(self, "flag", "--" + self.name.replace("_", "-"))

    # ------------------------------------------------------------------ values
    @property
    def values(self) -> tuple:
        """The allowed values of a choice parameter."""
        return tuple(c.value for c in self.choices)

    def label_of(self, value) -> str:
        """The label of a choice value (the value itself for other kinds)."""
        for c in self.choices:
            if c.value == value:
                return c.label
        return str(value)

    def applies(self, values: Mapping[str, Any]) -> bool:
        """Whether this parameter applies given the other values."""
        return all(values.get(name) in allowed for name, allowed in self.when)

    def range_text(self) -> str:
        """The allowed values in words (for ``--help`` and error messages)."""
        if self.kind == "bool":
            text = "yes or no"
        elif self.kind == "choice":
            text = "one of " + ", ".join(str(v) for v in self.values)
            if self.joinable:
                text += " (several joined by +)"
        elif self.kind == "anchors":
            text = "(time on A, time on B) pairs in seconds"
        else:
            what = "an integer" if self.kind == "int" else "a number"
            lo, hi = self.minimum, self.maximum
            if lo is not None and hi is not None:
                text = f"{what} in {'(' if self.exclusive_minimum else '['}{lo:g}, {hi:g}]"
            elif lo is not None:
                text = f"{what} {'>' if self.exclusive_minimum else '>='} {lo:g}"
            elif hi is not None:
                text = f"{what} <= {hi:g}"
            else:
                text = what
        unit = {"seconds": " (seconds)", "hz": " (Hz)", "frames": " (frames)"}.get(
            self.unit, "")
        return text + unit + (f", or {self.none_means}" if self.optional and
                              self.none_means == "auto" else "")

    def show(self, value) -> str:
        """A value as the user reads it (``yes``/``no``, ``auto`` for None)."""
        if value is None:
            return self.none_means
        if isinstance(value, bool):
            return "yes" if value else "no"
        return _short(value)

    def parse(self, text: str):
        """A value from its text (the command line); ``"auto"`` is None when optional."""
        text = str(text).strip()
        if self.optional and text.lower() in ("auto", "none", ""):
            return None
        if self.kind == "bool":
            low = text.lower()
            if low in ("1", "yes", "true", "on"):
                return True
            if low in ("0", "no", "false", "off"):
                return False
            raise ParamError(self, f"expected yes or no, got {text!r}")
        if self.kind in ("float", "int"):
            try:
                value = float(text)
            except ValueError:
                raise ParamError(self, f"expected {self.range_text()}, got {text!r}") from None
            return self.check(value)
        if self.kind == "anchors":
            raise ParamError(self, "anchors are not given as text")
        return self.check(text)

    def check(self, value):
        """``value`` validated and converted to this parameter's type.

        Raises
        ------
        ParamError
            Naming the parameter, the value and what is allowed.
        """
        if value is None:
            if self.optional:
                return None
            raise ParamError(self, f"a value is required ({self.range_text()})")
        if self.kind == "bool":
            if isinstance(value, bool | np.bool_):
                return bool(value)
            raise ParamError(self, f"expected True or False, got {value!r}")
        if self.kind == "choice":
            parts = str(value).split("+") if self.joinable else [value]
            for part in parts:
                if part not in self.values:
                    raise ParamError(self, f"expected {self.range_text()}, got {value!r}")
            return value
        if self.kind == "anchors":
            try:
                pts = np.asarray(value, dtype=float).reshape(-1, 2)
            except (TypeError, ValueError):
                raise ParamError(self, "expected (time on A, time on B) pairs") from None
            if not np.all(np.isfinite(pts)) or np.any(pts < 0):
                raise ParamError(self, "expected finite non-negative times")
            return tuple((float(a), float(b)) for a, b in pts)
        if isinstance(value, bool) or not isinstance(value, int | float | np.number):
            raise ParamError(self, f"expected {self.range_text()}, got {value!r}")
        value = float(value)
        if math.isnan(value):
            raise ParamError(self, f"expected {self.range_text()}, got nan")
        if self.kind == "int":
            if value != round(value):
                raise ParamError(self, f"expected {self.range_text()}, got {value:g}")
            value = int(round(value))
        lo, hi = self.minimum, self.maximum
        if (lo is not None and (value < lo or (self.exclusive_minimum and value <= lo))) \
                or (hi is not None and value > hi):
            raise ParamError(self, f"expected {self.range_text()}, got {value:g}")
        return value


@dataclasses.dataclass(frozen=True)
class Estimate:
    """Rough time (seconds) and peak extra memory (bytes) of a run, before running it."""

    seconds: float
    bytes: float


@dataclasses.dataclass(frozen=True)
class Sizes:
    """What an estimate needs to know about the inputs."""

    n_a: int
    n_b: int
    dim_a: int
    dim_b: int
    duration_a_s: float
    duration_b_s: float


@dataclasses.dataclass(frozen=True)
class Method:
    """One alignment method.

    Parameters
    ----------
    name, title : str
        Registry key (``--method NAME``) and the panel's title.
    function : callable
        The engine function. Feature methods are called ``function(x, y, **kwargs,
        rate_a_hz=, rate_b_hz=, progress=, cancel=)``; the default pipeline
        ``function(rec_a, rec_b, **kwargs, progress=, cancel=)``.
    params : tuple of Param
    inputs : {"features", "recordings"}
    same_dim : bool
        Feature methods: whether A's and B's features must have the same dimension.
    summary : str
        One line: what the method does (``--help``, tooltips).
    fixed : mapping
        Engine keywords this entry always passes.
    assemble : callable, optional
        ``assemble(values) -> dict`` of engine keywords built from several parameters
        (values already in engine units; parameters with ``engine=None``).
    estimate : callable
        ``estimate(kwargs, sizes) -> Estimate`` from the engine keywords.
    image_metric : callable
        ``image_metric(values) -> str``: the local distance the cost matrix is shown with.
    """

    name: str
    title: str
    function: Callable
    params: tuple[Param, ...]
    inputs: str
    summary: str
    estimate: Callable[[Mapping, Sizes], Estimate]
    same_dim: bool = True
    fixed: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    assemble: Callable[[Mapping], dict] | None = None
    image_metric: Callable[[Mapping], str] = lambda values: "euclidean"

    def __post_init__(self):
        if self.inputs not in ("features", "recordings"):
            raise ValueError(f"{self.name}: inputs must be 'features' or 'recordings'")
        sig = inspect.signature(self.function).parameters
        taken = FEATURE_KEYWORDS if self.inputs == "features" else RECORDING_KEYWORDS
        keywords = [p.engine for p in self.params if p.engine is not None]
        for keyword in [*keywords, *self.fixed, *taken]:
            if keyword not in sig:
                raise TypeError(f"{self.name}: {self.function.__module__}."
                                f"{self.function.__name__} takes no keyword {keyword!r}")
        params = []
        for p in self.params:
            if p.default is _FROM_SIGNATURE:
                if p.engine is None or sig[p.engine].default is inspect.Parameter.empty:
                    raise ValueError(f"{self.name}.{p.name}: no default to take from "
                                     "the function's signature")
                p = dataclasses.replace(p, default=sig[p.engine].default)
            if p.default is not None or not p.optional:
                p.check(p.default)  # a declared default is always valid
            params.append(p)
        names = [p.name for p in params]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.name}: parameter names repeat")
        object.__setattr__(self, "params", tuple(params))
        object.__setattr__(self, "fixed", MappingProxyType(dict(self.fixed)))

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(f"{self.name} has no parameter {name!r}")

    def defaults(self) -> dict:
        """Every parameter at its default (the user's units)."""
        return {p.name: p.default for p in self.params}

    def check(self, values: Mapping[str, Any] | None = None) -> dict:
        """The user's ``values`` validated and completed with defaults.

        Raises
        ------
        ParamError
            A value out of its type, range or choices; an unknown parameter name.
        """
        values = dict(values or {})
        unknown = set(values) - {p.name for p in self.params}
        if unknown:
            name = sorted(unknown)[0]
            raise ParamError(Param(name, "float", ""), f"not a parameter of {self.name} "
                             f"(its parameters: {', '.join(p.name for p in self.params)})")
        out = {}
        for p in self.params:
            out[p.name] = p.check(values[p.name]) if p.name in values else p.default
        return out

    def engine_kwargs(self, values: Mapping[str, Any], *, rate_a_hz: float = 1.0,
                      rate_b_hz: float = 1.0, n_a: int | None = None,
                      n_b: int | None = None) -> dict:
        """The engine keywords for the user's ``values``: the one place where seconds
        become frames (at the features' frame rates; anchors need ``n_a`` and ``n_b``).

        Parameters that do not apply (:meth:`Param.applies`) and optional ones left to
        the engine (None) are not passed.
        """
        values = self.check(values)
        kwargs = dict(self.fixed)
        assembled = {}
        for p in self.params:
            value = values[p.name]
            if not p.applies(values) or (value is None and p.optional):
                continue
            if p.unit == "seconds" and p.engine_unit == "frames":
                if p.kind == "anchors":
                    if not value:
                        continue
                    if n_a is None or n_b is None:
                        continue  # an estimate: anchors do not change it much
                    value = anchor_frames(value, rate_a_hz, rate_b_hz, n_a, n_b)
                else:
                    value = to_frames(value, rate_a_hz)
            if p.engine is None:
                assembled[p.name] = value
            else:
                kwargs[p.engine] = value
        if self.assemble is not None:
            kwargs.update(self.assemble(assembled))
        return kwargs

    def flags(self) -> list[str]:
        return [p.flag for p in self.params if p.cli]


def to_frames(seconds: float, rate_hz: float) -> int:
    """A length in seconds as whole frames at ``rate_hz`` (rounded up, at least one)."""
    return max(1, int(math.ceil(float(seconds) * float(rate_hz) - 1e-9)))


def anchor_frames(anchors_s, rate_a_hz: float, rate_b_hz: float, n_a: int, n_b: int):
    """Anchors in seconds to frame pairs (nearest frame, inside both sequences), sorted."""
    pts = np.asarray(anchors_s, dtype=float).reshape(-1, 2)
    i = np.clip(np.rint(pts[:, 0] * rate_a_hz), 0, n_a - 1).astype(int)
    j = np.clip(np.rint(pts[:, 1] * rate_b_hz), 0, n_b - 1).astype(int)
    return [(int(a), int(b)) for a, b in sorted(zip(i, j, strict=True))]


# ---------------------------------------------------------------------------- features
@dataclasses.dataclass(frozen=True)
class FeatureInfo:
    """A feature of :func:`core.compute_features` as the registry describes it: the
    kind of recording it applies to, a label and its dimension with default options
    (a test checks the dimensions against the computed features)."""

    name: str
    kind: str
    label: str
    dim: int


FEATURES: Mapping[str, FeatureInfo] = MappingProxyType({f.name: f for f in (
    FeatureInfo("chroma", "audio", "chroma (12 pitch classes)", 12),
    FeatureInfo("logmel", "audio", "log-mel spectrogram (64 bands)", 64),
    FeatureInfo("mfcc", "audio", "MFCC (20 coefficients)", 20),
    FeatureInfo("cens", "audio", "CENS (smoothed chroma)", 12),
    FeatureInfo("onset", "audio", "onset strength", 1),
    FeatureInfo("dlnco", "audio", "DLNCO (onsets per pitch class)", 12),
    FeatureInfo("thumbnail", "video", "grey thumbnail (32x18)", 576),
    FeatureInfo("histogram", "video", "colour histogram (3x16 bins)", 48),
    FeatureInfo("motion", "video", "motion energy", 1),
)})
assert set(FEATURES) == set(AUDIO_FEATURES) | set(VIDEO_FEATURES), "FEATURES out of date"


def feature_names(kind: str) -> tuple[str, ...]:
    """The feature names for a recording of ``kind`` ("audio" or "video"), panel order."""
    return tuple(f.name for f in FEATURES.values() if f.kind == kind)


def default_feature(kind: str) -> str:
    """The feature a feature method uses when the user says ``auto``."""
    return "thumbnail" if kind == "video" else "chroma"


@dataclasses.dataclass(frozen=True)
class FeatureSpec:
    """The recipe of one feature sequence: :func:`core.compute_features` ``name`` at
    ``rate_hz`` with ``options``. Plain data; hashable (a cache key)."""

    name: str
    rate_hz: float
    options: tuple[tuple[str, Any], ...] = ()

    def __post_init__(self):
        object.__setattr__(self, "rate_hz", float(self.rate_hz))
        opts = self.options.items() if isinstance(self.options, Mapping) else self.options
        object.__setattr__(self, "options", tuple(sorted((str(k), v) for k, v in opts)))

    @property
    def kwargs(self) -> dict:
        return dict(self.options)

    def to_data(self) -> dict:
        return {"name": self.name, "rate_hz": self.rate_hz, "options": dict(self.options)}

    @classmethod
    def from_data(cls, data: Mapping) -> FeatureSpec:
        return cls(data["name"], data["rate_hz"], dict(data.get("options") or {}))


_FEATURE_CHOICES = tuple(Choice(f.name, f.label) for f in FEATURES.values())
#: the inputs of every feature method (the panel's Features box; --feature, --rate)
FEATURE_INPUTS: tuple[Param, ...] = (
    Param("feature", "choice", "feature of A (and of B unless --feature-b): auto is "
          f"{default_feature('audio')} for audio and {default_feature('video')} for video",
          default="auto", choices=(Choice("auto", "auto (by kind)"), *_FEATURE_CHOICES),
          engine=None, label="A"),
    Param("feature_b", "choice", "feature of B", default=None, optional=True,
          choices=(Choice("auto", "auto (by kind)"), *_FEATURE_CHOICES), engine=None,
          label="B", none_means="as --feature"),
    Param("rate_hz", "float", "feature frame rate", default=25.0, minimum=0.0,
          exclusive_minimum=True, maximum=1000.0, unit="hz", engine=None, label="rate",
          flag="--rate", decimals=1, step=5.0),
)


# ---------------------------------------------------------------------------- estimates
def _cells(n_a, n_b, kwargs):
    cells = float(n_a) * float(n_b)
    window = kwargs.get("window")
    if isinstance(window, tuple) and len(window) == 2:
        cells = min(cells, float(max(n_a, n_b)) * (2 * float(window[1]) + 1))
    return cells


def _estimate_dtw(kwargs, sizes: Sizes) -> Estimate:
    out = dtw_estimate(sizes.n_a, sizes.n_b, window=kwargs.get("window"),
                       step_pattern=kwargs.get("step_pattern", "symmetric2"),
                       dim=max(sizes.dim_a, 1))
    return Estimate(float(out["seconds"]), float(out["bytes"]))


def _estimate_cells(per_cell_s: float, arrays: float, iterations: Callable = lambda k: 1.0):
    """A cell-count model: ``per_cell_s`` per cell and feature dimension / 8 per
    iteration, ``arrays`` float64 (N, M) arrays (rough: good to a factor of a few)."""

    def estimate(kwargs, sizes: Sizes) -> Estimate:
        cells = _cells(sizes.n_a, sizes.n_b, kwargs)
        dim = max(sizes.dim_a, sizes.dim_b, 1)
        seconds = cells * per_cell_s * (1 + dim / 8) * iterations(kwargs)
        return Estimate(seconds, cells * 8.0 * arrays + 8.0 * (sizes.n_a + sizes.n_b) * dim)

    return estimate


def _estimate_ot(kwargs, sizes: Sizes) -> Estimate:
    variant = kwargs.get("method", "sinkhorn")
    cells = float(sizes.n_a) * float(sizes.n_b)
    dim = max(sizes.dim_a, 1)
    if variant in ("emd", "assignment"):
        # network simplex / Hungarian: superlinear in the cells
        n = float(max(sizes.n_a, sizes.n_b))
        return Estimate(1e-9 * n * n * max(n / 100.0, 1.0), cells * 8.0 * 3)
    # each Sinkhorn iteration is two passes over the cells, costs recomputed (O(NMD))
    iterations = min(float(kwargs.get("max_iter", 1000)), 60.0)
    return Estimate(cells * 2.5e-9 * (1 + dim / 8) * iterations, cells * 8.0 * 2)


def _estimate_pipeline(kwargs, sizes: Sizes) -> Estimate:
    # features of both recordings (the bulk, ~5 ms per second of audio on 2 cores),
    # then a coarse-to-fine corridor DTW linear in the durations; memory: both signals
    # decoded (float32 at ~22 kHz) and a few feature arrays at 100-200 Hz
    total_s = float(sizes.duration_a_s) + float(sizes.duration_b_s)
    return Estimate(0.3 + 5e-3 * total_s, total_s * (22050 * 4 + 200 * 40 * 8))


# ---------------------------------------------------------------------------- methods
def _dtw_window(values) -> dict:
    kind = values.get("window", "none")
    if kind == "itakura":
        return {"window": ("itakura",)}
    if kind in ("sakoe_chiba", "slanted_band"):
        return {"window": (kind, int(values["radius_s"]))}
    return {}


_COMMON_PATTERNS = ("symmetric2", "symmetric1", "asymmetric", "symmetricP05", "symmetricP1",
                    "symmetricP2", "asymmetricP05", "asymmetricP1", "asymmetricP2")
_PATTERNS = _COMMON_PATTERNS + tuple(p for p in PATTERN_NAMES if p not in _COMMON_PATTERNS)
_DTW_METRICS = (Choice("euclidean", "euclidean"), Choice("sqeuclidean", "squared euclidean"),
                Choice("cosine", "cosine"), Choice("cityblock", "city block"))
_SIMILARITIES = (Choice("neg_sqeuclidean", "negative squared euclidean"),
                 Choice("dot", "dot product"), Choice("cosine", "cosine"))
_SOFT_VARIANTS = ("sinkhorn", "unbalanced")
_BANDS = ("sakoe_chiba", "slanted_band")
_TEMPERATURE = Param("temperature", "float", "softmax temperature (lower is sharper; auto: "
                     "a tenth of the typical similarity gap)", optional=True, minimum=0.0,
                     exclusive_minimum=True, maximum=1e6, decimals=4, step=0.05)


def _similarity_image(values) -> str:
    return {"cosine": "cosine"}.get(values.get("similarity"), "sqeuclidean")


def _declare() -> dict[str, Method]:
    all_features = (Choice("auto", "auto (from the material)"), *_FEATURE_CHOICES)
    methods = [
        Method(
            "default", "Default pipeline", align_recordings,
            inputs="recordings",
            summary="the default pipeline for the material (music, speech, other sounds, "
                    "video, video against audio): its features, coarse-to-fine DTW, "
                    "overlap detection and confidence",
            params=(
                Param("feature", "choice", "features: auto chooses them from the content "
                      "(material detection)", choices=all_features, joinable=True),
                Param("rate_hz", "float", "base feature frame rate (auto: 50 Hz for audio, "
                      "the frame rate for video)", optional=True, minimum=0.0,
                      exclusive_minimum=True, maximum=1000.0, unit="hz", flag="--rate",
                      label="rate", decimals=1, step=5.0),
                Param("band_s", "float", "radius of a slanted band around the diagonal "
                      "that the path must stay in (auto: no band)", optional=True,
                      minimum=0.0, exclusive_minimum=True, maximum=86400.0,
                      unit="seconds", flag="--band", label="band", decimals=2, step=0.5),
                Param("solver", "choice", "what aligns the pipeline's features",
                      engine="method", choices=(
                          Choice("dtw", "coarse-to-fine DTW"),
                          Choice("ctw", "CTW on the pipeline's features"),
                          Choice("ot", "optimal transport on the pipeline's features"))),
                Param("anchors_s", "anchors", "points the path must pass through "
                      "(Shift+click on the matrix)", default=(), unit="seconds",
                      engine_unit="seconds", engine="anchors", label="anchors", cli=False,
                      panel=False, when=(("solver", ("dtw",)),)),
            ),
            estimate=_estimate_pipeline),
        Method(
            "dtw", "DTW", dtw, inputs="features",
            summary="dynamic time warping (dtw-python's step patterns, windows, open "
                    "ends, anchors)",
            params=(
                Param("metric", "choice", "local distance between frames",
                      choices=_DTW_METRICS),
                Param("step_pattern", "choice", "step pattern (dtw-python's names and "
                      "weights)", choices=tuple(Choice(p, p) for p in _PATTERNS),
                      label="step pattern"),
                Param("window", "choice", "window the path must stay in", default="none",
                      engine=None, choices=(
                          Choice("none", "none"), Choice("sakoe_chiba", "Sakoe-Chiba band"),
                          Choice("slanted_band", "slanted band"),
                          Choice("itakura", "Itakura parallelogram"))),
                Param("radius_s", "float", "band radius", default=2.0, minimum=0.0,
                      exclusive_minimum=True, maximum=86400.0, unit="seconds",
                      engine_unit="frames", engine=None, when=(("window", _BANDS),),
                      label="radius", flag="--radius", decimals=2, step=0.5),
                Param("open_begin", "bool", "the path may start anywhere on B (needs a "
                      "pattern normalized by N, e.g. asymmetric)", label="open begin"),
                Param("open_end", "bool", "the path may end anywhere on B",
                      label="open end"),
                Param("anchors_s", "anchors", "points the path must pass through "
                      "(Shift+click on the matrix)", default=(), unit="seconds",
                      engine_unit="frames", engine="anchors", label="anchors", cli=False,
                      panel=False),
            ),
            assemble=_dtw_window, estimate=_estimate_dtw,
            image_metric=lambda values: values["metric"]),
        Method(
            "ctw", "CTW (DTW + CCA)", ctw, inputs="features", same_dim=False,
            summary="canonical time warping: DTW in a learned common space (features of "
                    "different kinds or dimensions)",
            params=(
                Param("n_components", "int", "most canonical components (auto: up to 10)",
                      optional=True, minimum=1, maximum=256, label="components"),
                Param("reg", "float", "ridge added to the covariances, times their mean "
                      "variance (auto: Ledoit-Wolf shrinkage)", default=None, optional=True,
                      minimum=0.0, exclusive_minimum=True, maximum=1e3, decimals=4,
                      step=0.01, label="regularization"),
                Param("max_iter", "int", "most CCA + DTW iterations per level", minimum=1,
                      maximum=1000, label="max iterations"),
            ),
            estimate=_estimate_cells(3e-9, 1.0, lambda k: float(k.get("max_iter", 30)))),
        Method(
            "ot", "Optimal transport", ot, inputs="features",
            summary="optimal transport or assignment between the frames (Sinkhorn, "
                    "exact, unbalanced, assignment); a plan, turned into a monotone path",
            params=(
                Param("variant", "choice", "which transport problem", engine="method",
                      label="method", choices=(
                          Choice("sinkhorn", "Sinkhorn (entropic)"),
                          Choice("emd", "exact (network simplex)"),
                          Choice("unbalanced", "unbalanced (KL-relaxed marginals)"),
                          Choice("assignment", "assignment (one to one)"))),
                Param("metric", "choice", "local cost between frames", choices=(
                    Choice("sqeuclidean", "squared euclidean"),
                    Choice("euclidean", "euclidean"), Choice("cosine", "cosine"))),
                Param("reg", "float", "entropic regularization (auto: 5 % of the median "
                      "cost)", optional=True, minimum=0.0, exclusive_minimum=True,
                      maximum=1e6, when=(("variant", _SOFT_VARIANTS),), decimals=4,
                      step=0.01, label="reg (entropy)"),
                Param("reg_m", "float", "marginal relaxation (larger: closer to balanced)",
                      minimum=0.0, exclusive_minimum=True, maximum=1e6,
                      when=(("variant", ("unbalanced",)),), step=0.5,
                      label="reg_m (unbalanced)"),
                Param("max_iter", "int", "most Sinkhorn iterations", minimum=1,
                      maximum=1_000_000, when=(("variant", _SOFT_VARIANTS),),
                      label="max iterations"),
            ),
            estimate=_estimate_ot,
            image_metric=lambda values: values["metric"]),
        Method(
            "soft_dtw", "soft-DTW", soft_dtw, inputs="features",
            summary="soft-DTW value and its expected alignment (a soft plan)",
            params=(Param("gamma", "float", "smoothing (tends to DTW as gamma -> 0)",
                          minimum=0.0, exclusive_minimum=True, maximum=1e4, decimals=4,
                          step=0.1),),
            estimate=_estimate_cells(1e-8, 3.0),
            image_metric=lambda values: "sqeuclidean"),
        Method(
            "attention", "Attention", attention, inputs="features",
            summary="soft attention between the frames (row softmax of the similarities)",
            params=(_TEMPERATURE,
                    Param("similarity", "choice", "similarity of frame pairs",
                          choices=_SIMILARITIES)),
            estimate=_estimate_cells(5e-9, 3.0), image_metric=_similarity_image),
        Method(
            "cycle_consistency", "Cycle consistency", cycle_consistency, inputs="features",
            summary="temporal cycle-consistency: cycle-back error and confidence per frame",
            params=(_TEMPERATURE,
                    Param("similarity", "choice", "similarity of frame pairs",
                          choices=_SIMILARITIES)),
            estimate=_estimate_cells(1e-8, 3.0), image_metric=_similarity_image),
    ]
    return {m.name: m for m in methods}


#: every method, in the order the panel lists them (a mutable dict: tests substitute
#: entries; nothing else should)
METHODS: dict[str, Method] = _declare()
DEFAULT_METHOD = "default"


def get(name: str) -> Method:
    """The method called ``name``.

    Raises
    ------
    ValueError
        Naming the unknown method and the known ones.
    """
    try:
        return METHODS[name]
    except KeyError:
        raise ValueError(f"method: expected one of {', '.join(METHODS)}, got {name!r}") \
            from None


# ---------------------------------------------------------------------------- recipes
@dataclasses.dataclass(frozen=True)
class Recipe:
    """How a result was (or is to be) made, as the user asked for it.

    Parameters
    ----------
    method : str
        A key of :data:`METHODS`.
    params : mapping
        The user's values (seconds, choice values), complete with defaults.
    features_a, features_b : tuple of FeatureSpec
        The features per stream: one for a feature method; for the default pipeline
        empty before the run and then the features it reports having used.
    engine_version : str
        ``core.__version__`` of the engine that ran it.
    """

    method: str
    params: Mapping[str, Any]
    features_a: tuple[FeatureSpec, ...] = ()
    features_b: tuple[FeatureSpec, ...] = ()
    engine_version: str = ENGINE_VERSION

    def __post_init__(self):
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))
        object.__setattr__(self, "features_a", tuple(self.features_a))
        object.__setattr__(self, "features_b", tuple(self.features_b))

    @property
    def entry(self) -> Method:
        return get(self.method)

    def __reduce__(self):  # read-only mappings do not pickle: travel as plain data
        return (_recipe_from_data, (self.to_data(),))

    def to_data(self) -> dict:
        """Plain data (dicts, lists, numbers, strings)."""
        params = dict(self.params)
        entry = METHODS.get(self.method)
        for p in entry.params if entry is not None else ():
            if p.kind == "anchors" and params.get(p.name) is not None:
                params[p.name] = [list(pair) for pair in params[p.name]]
        return {"method": self.method, "params": params,
                "features_a": [f.to_data() for f in self.features_a],
                "features_b": [f.to_data() for f in self.features_b],
                "engine_version": self.engine_version}

    @classmethod
    def from_data(cls, data: Mapping) -> Recipe:
        params = dict(data["params"])
        entry = METHODS.get(data["method"])
        if entry is not None:
            for p in entry.params:
                if p.kind == "anchors" and params.get(p.name) is not None:
                    params[p.name] = p.check(params[p.name])
        return cls(data["method"], params,
                   tuple(FeatureSpec.from_data(f) for f in data.get("features_a", ())),
                   tuple(FeatureSpec.from_data(f) for f in data.get("features_b", ())),
                   data.get("engine_version", ""))


def _recipe_from_data(data) -> Recipe:
    return Recipe.from_data(data)


def transpose_recipe(rec: Recipe) -> Recipe:
    """The same recipe with A and B exchanged (anchors transposed, features swapped)."""
    params = dict(rec.params)
    entry = METHODS.get(rec.method)
    if entry is not None:
        for p in entry.params:
            if p.kind == "anchors" and params.get(p.name):
                params[p.name] = tuple(sorted((b, a) for a, b in params[p.name]))
    return dataclasses.replace(rec, params=params, features_a=rec.features_b,
                               features_b=rec.features_a)


def _resolve_feature(name, kind: str) -> str:
    if name in (None, "auto"):
        return default_feature(kind)
    info = FEATURES.get(name)
    if info is None:
        raise ParamError(FEATURE_INPUTS[0], f"unknown feature {name!r}")
    if info.kind != kind:
        names = ", ".join(feature_names(kind))
        raise ParamError(FEATURE_INPUTS[0], f"{name} is a {info.kind} feature; for "
                         f"{kind} use one of {names}")
    return name


def recipe(method: str, params: Mapping[str, Any] | None = None, *, kind_a: str = "audio",
           kind_b: str = "audio", feature: str | None = "auto", feature_b: str | None = None,
           rate_hz: float | None = None, fps_a: float | None = None,
           fps_b: float | None = None) -> Recipe:
    """A checked recipe: the method's values completed with defaults and, for a feature
    method, the features of A and B (``auto``: by kind) at ``rate_hz``.

    Everything is checked before any work starts: values in their ranges, feature names
    that fit each recording's kind, and equal feature dimensions for a method that needs
    them.

    Raises
    ------
    ParamError
        Naming the parameter (or feature) and the problem.
    ValueError
        An unknown method; features of different dimensions for a method that needs
        equal ones.
    """
    entry = get(method)
    values = entry.check(params)
    if entry.inputs == "recordings":
        return Recipe(method, values)
    rate = FEATURE_INPUTS[2].check(FEATURE_INPUTS[2].default if rate_hz is None
                                   else rate_hz)
    FEATURE_INPUTS[0].check(feature if feature is not None else "auto")
    if feature_b is not None:
        FEATURE_INPUTS[1].check(feature_b)
    name_a = _resolve_feature(feature, kind_a)
    name_b = _resolve_feature(feature if feature_b is None else feature_b, kind_b)
    check_dims(entry, name_a, name_b)
    # a video's features are sampled at its frames: never above its frame rate
    rate_a = min(rate, float(fps_a)) if kind_a == "video" and fps_a else rate
    rate_b = min(rate, float(fps_b)) if kind_b == "video" and fps_b else rate
    return Recipe(method, values, (FeatureSpec(name_a, rate_a),), (FeatureSpec(name_b, rate_b),))


def check_dims(entry: Method, name_a: str, name_b: str, dim_a: int | None = None,
               dim_b: int | None = None) -> None:
    """Raise ValueError when ``entry`` needs equal feature dimensions and they differ."""
    if not entry.same_dim:
        return
    dim_a = FEATURES[name_a].dim if dim_a is None else dim_a
    dim_b = FEATURES[name_b].dim if dim_b is None else dim_b
    if dim_a != dim_b:
        others = [m.title for m in METHODS.values()
                  if m.inputs == "recordings" or not m.same_dim]
        raise ValueError(f"{entry.name} needs features of the same dimension on A and B; "
                         f"{name_a} has {dim_a}, {name_b} has {dim_b} (choose other "
                         f"features, or {' or '.join(others)})")


def feature_frames(duration_s: float, rate_hz: float,
                   source_rate_hz: float | None = None) -> int:
    """How many feature frames at ``rate_hz`` a recording of ``duration_s`` seconds gives,
    counted as :mod:`core.features` counts them from its samples (audio) or frames (video)
    at ``source_rate_hz``; without it, the recording is taken as sampled at ``rate_hz``."""
    source = float(rate_hz if source_rate_hz is None else source_rate_hz)
    return n_feature_frames(max(1, round(duration_s * source)), source, rate_hz)


def estimate(rec: Recipe, duration_a_s: float, duration_b_s: float, *,
             source_rates_hz: tuple[float | None, float | None] = (None, None)) -> Estimate:
    """Time and memory of running ``rec`` on recordings of these durations (sampled at
    ``source_rates_hz``: the sample rates or frame rates of A and B, when known, make the
    frame counts those of the features)."""
    entry = rec.entry
    if entry.inputs == "recordings":
        sizes = Sizes(0, 0, 0, 0, duration_a_s, duration_b_s)
        return entry.estimate(entry.engine_kwargs(rec.params), sizes)
    fa, fb = rec.features_a[0], rec.features_b[0]
    n_a = feature_frames(duration_a_s, fa.rate_hz, source_rates_hz[0])
    n_b = feature_frames(duration_b_s, fb.rate_hz, source_rates_hz[1])
    sizes = Sizes(n_a, n_b, FEATURES[fa.name].dim, FEATURES[fb.name].dim, duration_a_s,
                  duration_b_s)
    return entry.estimate(entry.engine_kwargs(rec.params, rate_a_hz=fa.rate_hz,
                                              rate_b_hz=fb.rate_hz), sizes)


# ---------------------------------------------------------------------------- running
@dataclasses.dataclass(frozen=True)
class Run:
    """A result and what made it: ``alignment`` (its ``params`` are the engine's
    keywords), ``recipe`` (the user's values, the features used), and the features a
    feature method ran on (None for the default pipeline)."""

    alignment: Alignment
    recipe: Recipe
    features_a: Any = None
    features_b: Any = None


def run(rec: Recipe, rec_a=None, rec_b=None, *, features_a=None, features_b=None,
        progress=None, cancel=None) -> Run:
    """Run a recipe: the default pipeline on two recordings, or a feature method on the
    features of two recordings (computed here unless given).

    Parameters
    ----------
    rec : Recipe
        From :func:`recipe`.
    rec_a, rec_b : core.media.Recording, optional
        The recordings (needed unless both feature sequences are given).
    features_a, features_b : core.Features, optional
        Already computed features of the recipe's specs (a cache).
    progress, cancel : callables, optional

    Returns
    -------
    Run

    Raises
    ------
    ValueError
        Bad parameters, features of different dimensions where the method needs equal
        ones; whatever the engine raises for bad input.
    core.Cancelled
    """
    from ._progress import Monitor

    entry = rec.entry
    values = entry.check(rec.params)
    mon = Monitor(progress, cancel)
    t0 = time.perf_counter()
    if entry.inputs == "recordings":
        kwargs = entry.engine_kwargs(values)
        al = entry.function(rec_a, rec_b, **kwargs, progress=mon.report, cancel=cancel)
        used_a, used_b = pipeline_features(al)
        return Run(al, dataclasses.replace(rec, params=values, features_a=used_a,
                                           features_b=used_b))
    from .features import compute_features

    spec_a, spec_b = rec.features_a[0], rec.features_b[0]
    if features_a is None:
        features_a = compute_features(rec_a, spec_a.name, rate_hz=spec_a.rate_hz,
                                      progress=mon.sub(0.0, 0.2).report, cancel=cancel,
                                      **spec_a.kwargs)
    if features_b is None:
        features_b = compute_features(rec_b, spec_b.name, rate_hz=spec_b.rate_hz,
                                      progress=mon.sub(0.2, 0.4).report, cancel=cancel,
                                      **spec_b.kwargs)
    x, y = np.asarray(features_a.values), np.asarray(features_b.values)
    check_dims(entry, spec_a.name, spec_b.name, x.shape[1], y.shape[1])
    rate_a, rate_b = float(features_a.rate_hz), float(features_b.rate_hz)
    kwargs = entry.engine_kwargs(values, rate_a_hz=rate_a, rate_b_hz=rate_b, n_a=len(x),
                                 n_b=len(y))
    t1 = time.perf_counter()
    al = entry.function(x, y, **kwargs, rate_a_hz=rate_a, rate_b_hz=rate_b,
                        progress=mon.sub(0.4, 1.0).report, cancel=cancel)
    diagnostics = dict(al.diagnostics)
    diagnostics.setdefault("elapsed_s", time.perf_counter() - t1)
    diagnostics["total_elapsed_s"] = time.perf_counter() - t0
    sources = dict(al.sources)
    if rec_a is not None and rec_b is not None and not sources:
        sources = {"a": describe_recording(rec_a), "b": describe_recording(rec_b)}
    al = al.replace(diagnostics=diagnostics, sources=sources)
    used = dataclasses.replace(rec, params=values,
                               features_a=(dataclasses.replace(spec_a, rate_hz=rate_a),),
                               features_b=(dataclasses.replace(spec_b, rate_hz=rate_b),))
    return Run(al, used, features_a, features_b)


def pipeline_features(al: Alignment) -> tuple[tuple[FeatureSpec, ...], tuple[FeatureSpec, ...]]:
    """The features the default pipeline reports having used (its
    ``diagnostics["features"]``), per stream, at the alignment's rates."""
    out: tuple[list, list] = ([], [])
    for term in al.diagnostics.get("features") or ():
        if not isinstance(term, Mapping) or "name" not in term:
            continue
        for k, (slot, rate) in enumerate((("a", al.rate_a_hz), ("b", al.rate_b_hz))):
            if term.get("side", slot) != slot:
                continue
            name = term.get(f"name_{slot}", term["name"])
            if name not in FEATURES:
                continue
            options = {}
            params = term.get(f"params_{slot}")
            if isinstance(params, Mapping) and params.get("normalize"):
                options["normalize"] = params["normalize"]
            spec = FeatureSpec(name, rate, options)
            if spec not in out[k]:
                out[k].append(spec)
    return tuple(out[0]), tuple(out[1])


#: features that make a striped, unreadable cost image: a tonal or appearance feature
#: is shown when the result used one
_SPARSE = ("onset", "dlnco", "motion")


def image_inputs(rec: Recipe, al: Alignment) -> tuple[FeatureSpec, FeatureSpec, str] | None:
    """What the cost matrix of a result shows: the features of A and B and the local
    distance, from its recipe (None when the recipe records no features)."""
    entry = rec.entry
    if not rec.features_a or not rec.features_b:
        return None
    if entry.inputs == "features":
        return rec.features_a[0], rec.features_b[0], entry.image_metric(rec.params)
    terms = [t for t in al.diagnostics.get("features") or () if isinstance(t, Mapping)]
    ranked = sorted(terms, key=lambda t: (t.get("name") in _SPARSE,
                                          -float(t.get("weight", 1.0) or 0.0)))
    specs = []
    for slot, feats in (("a", rec.features_a), ("b", rec.features_b)):
        names = [t.get(f"name_{slot}", t.get("name")) for t in ranked
                 if t.get("side", slot) == slot]
        pick = next((f for n in names for f in feats if f.name == n), feats[0])
        specs.append(pick)
    metric = "euclidean"
    for t in ranked:
        if t.get("name") == specs[0].name and t.get("metric") in (
                "euclidean", "sqeuclidean", "cosine", "cityblock"):
            metric = t["metric"]
            break
    if specs[0].name != specs[1].name:
        # different features on the two sides (video motion against audio onsets): on
        # their own scales one side's curve would swamp the other's in the image, so
        # both are standardized (the pipeline compares normalized peak trains of them)
        specs = [dataclasses.replace(f, options=dict(f.options, normalize="zscore"))
                 for f in specs]
    return specs[0], specs[1], metric


# ---------------------------------------------------------------------------- describe
def describe(rec: Recipe, al: Alignment | None = None) -> str:
    """A short label for a results list: method, features, the values that differ from
    the defaults (anchors counted), and the distance."""
    entry = METHODS.get(rec.method)
    if entry is None:
        text = rec.method
    elif entry.inputs == "recordings":
        text = f"default {rec.params.get('solver', 'dtw')}"
        bits = [f"{p.name}={_short(rec.params[p.name])}" for p in entry.params
                if p.name != "solver" and rec.params.get(p.name) != p.default]
        text = " ".join([text, *bits])
    else:
        fa = rec.features_a[0] if rec.features_a else None
        fb = rec.features_b[0] if rec.features_b else None
        feats = ""
        if fa is not None and fb is not None:
            names = fa.name if fa.name == fb.name else f"{fa.name}/{fb.name}"
            rates = f"{fa.rate_hz:g}" if fa.rate_hz == fb.rate_hz else \
                f"{fa.rate_hz:g}/{fb.rate_hz:g}"
            feats = f" {names}@{rates}Hz"
        bits = []
        for p in entry.params:
            value = rec.params.get(p.name)
            if not p.applies(rec.params) or value is None or value is False:
                continue
            if p.kind == "anchors":
                if value:
                    bits.append(f"anchors={len(value)}")
                continue
            bits.append(f"{p.name}={_short(value)}")
        text = f"{rec.method}{feats} " + " ".join(bits)
    if al is not None and not math.isnan(al.distance):
        text += f" d={al.distance:.4g}"
    return text.strip()


def _short(value) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
