"""The JSON alignment file: everything needed to reproduce and re-import an alignment.

Layout (``format_version`` 1)::

    {"format": "alignment-inspector/alignment", "format_version": 1,
     "program": "alignment-inspector", "program_version": "0.1.0",
     "sources": {"a": {...path, duration, rate, sha256...}, "b": {...}},
     "frames": {"a": {"rate_hz": 50.0, "n": 1500, "duration_s": 30.0}, "b": {...}},
     "method": "dtw", "params": {...feature and method parameters...},
     "distance": 12.5, "normalized_distance": 0.004,
     "path_frames": [[0, 0], ...], "path_s": [[0.0, 0.0], ...],
     "confidence": [...] (optional), "plan": [[...]] (optional, small plans only),
     "diagnostics": {...},
     "recipe": {"method": "default", "params": {...}, "features_a": [...], ...} (optional)}

``params`` are what the engine ran with; ``recipe`` (when the writer knew it) is what
the user asked for, as :meth:`core.registry.Recipe.to_data` gives it: the method and its
panel values, and the features of A and B. The window shows it in the method panel when
the file is opened (:func:`read_recipe`). Files without it (older ones, or written from
Python without a recipe) read as before.

NaN and infinities are written as ``null`` (JSON has neither).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping

import numpy as np

from ..alignment import Alignment
from ..errors import FormatError
from ..paths import open_output
from .csv_pairs import check_rate, read_text

__all__ = ["write_json", "read_json", "read_recipe", "recipe_data",
           "FORMAT_NAME", "FORMAT_VERSION", "to_jsonable"]

FORMAT_NAME = "alignment-inspector/alignment"
FORMAT_VERSION = 1
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
#: Plans with more cells than this are not stored (they can be recomputed).
MAX_PLAN_CELLS = 250_000


def to_jsonable(value):
    """Convert numpy values, mappings, tuples and paths to plain JSON values."""
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool) or value is None or isinstance(value, str | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return str(value)


class _Constant(ValueError):
    pass


def _no_constant(name: str):
    """JSON has no NaN or Infinity (Python's reader accepts them by default)."""
    raise _Constant(name)


def _nan(value):
    return math.nan if value is None else float(value)


def recipe_data(recipe) -> dict:
    """The ``recipe`` field of a file: ``recipe`` (a :class:`core.registry.Recipe`) as
    plain JSON values."""
    from ..registry import Recipe

    if not isinstance(recipe, Recipe):
        raise ValueError(f"recipe: expected a core.registry.Recipe, got "
                         f"{type(recipe).__name__}")
    return to_jsonable(recipe.to_data())


def _recipe_of(doc: Mapping, path):
    """The Recipe in a parsed file ``doc`` (its ``recipe`` field), or None without one.

    Raises
    ------
    FormatError
        The field is there but is not a recipe (naming what is wrong).
    """
    from ..registry import Recipe

    data = doc.get("recipe")
    if data is None:
        return None
    try:
        if not isinstance(data, Mapping):
            raise ValueError(f"expected an object, got {type(data).__name__}")
        if not isinstance(data.get("method"), str):
            raise ValueError("\"method\": expected a method name")
        if not isinstance(data.get("params"), Mapping):
            raise ValueError("\"params\": expected an object")
        for side in ("features_a", "features_b"):
            specs = data.get(side, [])
            if not isinstance(specs, list) or not all(isinstance(f, Mapping) for f in specs):
                raise ValueError(f"\"{side}\": expected a list of features")
            for f in specs:
                if not isinstance(f.get("name"), str):
                    raise ValueError(f"\"{side}\": a feature without a name")
                check_rate(f.get("rate_hz"), path, side[-1].upper(), "recipe")
                if not isinstance(f.get("options", {}), Mapping):
                    raise ValueError(f"\"{side}\": a feature's options are not an object")
        recipe = Recipe.from_data(data)
        for spec in (*recipe.features_a, *recipe.features_b):
            hash(spec)  # options of unhashable values would fail as a cache key later
        return recipe
    except FormatError:
        raise
    except (TypeError, ValueError, KeyError) as err:
        raise FormatError(path, f"malformed recipe: {err}") from None


def read_recipe(path):
    """The settings that made the alignment in the JSON file ``path`` (its ``recipe``
    field, a :class:`core.registry.Recipe`), or None when the file has none.

    Raises
    ------
    FormatError
        The file is not one of our JSON files, or its recipe is malformed.
    """
    return _recipe_of(_document(path), path)


def write_json(alignment: Alignment, path, *, recipe=None) -> None:
    """Write ``alignment`` as the JSON file described in this module, with ``recipe``
    (a :class:`core.registry.Recipe`: the settings that made it) when given."""
    from .. import __version__

    doc = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "program": "alignment-inspector",
        "program_version": __version__,
        "sources": to_jsonable(alignment.sources),
        "frames": {
            "a": {"rate_hz": alignment.rate_a_hz, "n": alignment.n_a,
                  "duration_s": alignment.duration_a_s},
            "b": {"rate_hz": alignment.rate_b_hz, "n": alignment.n_b,
                  "duration_s": alignment.duration_b_s},
        },
        "method": alignment.method,
        "params": to_jsonable(alignment.params),
        "distance": to_jsonable(alignment.distance),
        "normalized_distance": to_jsonable(alignment.normalized_distance),
        "diagnostics": to_jsonable(alignment.diagnostics),
        "path_frames": alignment.path.tolist(),
        "path_s": alignment.times_s.tolist(),
    }
    if recipe is not None:
        doc["recipe"] = recipe_data(recipe)
    if alignment.confidence is not None:
        doc["confidence"] = to_jsonable(alignment.confidence)
    if alignment.plan is not None and alignment.plan.size <= MAX_PLAN_CELLS:
        doc["plan"] = to_jsonable(alignment.plan)
    # long arrays go one row per line instead of one number per line
    arrays = {}
    for key in ("path_frames", "path_s", "confidence", "plan"):
        if key in doc:
            rows = doc[key]
            arrays[key] = "[" + ",\n  ".join(
                json.dumps(r, separators=(",", ":"), allow_nan=False) for r in rows) + "]"
            doc[key] = f"@@{key}@@"
    text = json.dumps(doc, indent=1, allow_nan=False, ensure_ascii=False)
    for key, compact in arrays.items():
        text = text.replace(f'"@@{key}@@"', compact, 1)
    # a file name's bytes that are not UTF-8 travel as lone surrogates: JSON escapes keep
    # them exact (json.loads gives them back) where UTF-8 cannot hold them
    text = _LONE_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    with open_output(path) as stream:
        stream.write(text + "\n")


def _document(path) -> dict:
    """The parsed file: one of ours, of a format version this program reads."""
    text = read_text(path)
    try:
        doc = json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as err:
        raise FormatError(path, f"not valid JSON: {err.msg}", line=err.lineno) from None
    except RecursionError:
        raise FormatError(path, "not an alignment file (JSON nested too deeply)") from None
    except _Constant as err:
        raise FormatError(path, f"not valid JSON: {err.args[0]} is not a JSON number "
                          f"(we write null)") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT_NAME:
        raise FormatError(path, f"not an alignment file (expected \"format\": "
                          f"\"{FORMAT_NAME}\")")
    version = doc.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise FormatError(path, f"format_version {version!r} is not supported (this program "
                          f"reads up to {FORMAT_VERSION})")
    return doc


def read_json(path) -> Alignment:
    """Read a JSON alignment written by :func:`write_json` (any older format version).

    Raises
    ------
    FormatError
        If the file is not JSON (naming the line), not one of ours, from a newer format
        version, or has a missing or malformed field.
    """
    doc = _document(path)
    try:
        frames = doc["frames"]
        path_frames = np.asarray(doc["path_frames"])
        if path_frames.ndim != 2 or path_frames.shape[1:] != (2,):
            raise ValueError(f"path_frames: expected a list of [i, j] pairs, got shape "
                             f"{path_frames.shape}")
        if path_frames.dtype.kind not in "iu" or (path_frames.size and (
                path_frames.min() < 0 or path_frames.max() >= 2 ** 53)):
            raise ValueError("path_frames: expected whole frame numbers from 0 to 2^53")
        for which in ("a", "b"):
            check_rate(frames[which]["rate_hz"], path, which.upper(), "frames")
        plan = doc.get("plan")
        confidence = doc.get("confidence")
        return Alignment(
            path_frames,
            float(frames["a"]["rate_hz"]), float(frames["b"]["rate_hz"]),
            n_a=int(frames["a"]["n"]), n_b=int(frames["b"]["n"]),
            method=str(doc.get("method", "unknown")),
            params=doc.get("params") or {},
            distance=_nan(doc.get("distance")),
            normalized_distance=_nan(doc.get("normalized_distance")),
            plan=None if plan is None else np.asarray(plan, dtype=np.float64),
            confidence=None if confidence is None else np.array(
                [_nan(c) for c in confidence], dtype=np.float64),
            diagnostics=doc.get("diagnostics") or {},
            sources=doc.get("sources") or {},
        )
    except FormatError:
        raise
    except KeyError as err:
        raise FormatError(path, f"missing field {err.args[0]!r}") from None
    except (TypeError, ValueError) as err:
        raise FormatError(path, f"malformed alignment: {err}") from None
