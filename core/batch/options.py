"""A pair's method and options, named as ``align``'s command-line options and checked by
:mod:`core.registry` (the one place that declares every method's parameters).

An option's name is its ``align`` flag without the dashes, ``-`` and ``_`` alike:
``feature``, ``rate``, ``band``, ``solver``, ``step_pattern``, ... Values are text (a
manifest's fields, parsed by the registry) or already typed (from Python).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

from .. import registry

__all__ = ["option_table", "normalize", "check_value", "applies", "split_options",
           "make_recipe", "FEATURE_METHODS"]

#: The owner of the options every feature method takes (``feature``, ``feature_b``, ``rate``).
FEATURE_METHODS = "feature methods"


def normalize(name: str) -> str:
    """An option's name as :func:`option_table` keys it (``step-pattern`` ->
    ``step_pattern``)."""
    return str(name).strip().lower().replace("-", "_")


@functools.cache
def option_table() -> dict[str, tuple[tuple[str, registry.Param], ...]]:
    """Every option: name -> ((owner, Param), ...); the owner is a method's name or
    :data:`FEATURE_METHODS`. The same options as ``align``'s flags."""
    table: dict[str, list] = {}
    for p in registry.FEATURE_INPUTS:
        table.setdefault(normalize(p.flag[2:]), []).append((FEATURE_METHODS, p))
    for entry in registry.METHODS.values():
        for p in entry.params:
            if p.cli:
                table.setdefault(normalize(p.flag[2:]), []).append((entry.name, p))
    return {name: tuple(owners) for name, owners in table.items()}


def _takers(name: str, method: str) -> list[registry.Param]:
    entry = registry.get(method)
    return [p for owner, p in option_table().get(name, ())
            if owner == entry.name or (owner == FEATURE_METHODS and entry.inputs == "features")]


def applies(name: str, method: str) -> bool:
    """Whether ``method`` takes the option ``name``."""
    return bool(_takers(normalize(name), method))


def _parse(p: registry.Param, value):
    return p.parse(value) if isinstance(value, str) else p.check(value)


def check_value(name: str, value, method: str | None = None):
    """``value`` of the option ``name``, parsed; for ``method`` when given, else for any
    method that takes it.

    Raises
    ------
    ValueError
        ``name: problem``: an unknown option, one ``method`` does not take, a value out
        of range.
    """
    name = normalize(name)
    owners = option_table().get(name)
    if owners is None:
        raise ValueError(f"{name}: not an option (the options: "
                         f"{', '.join(option_table())})")
    if method is not None:
        takers = _takers(name, method)
        if not takers:
            raise ValueError(f"{name}: not an option of method {method} (its options: "
                             f"{', '.join(_options_of(method)) or 'none'})")
    else:
        takers = [p for _, p in owners]
    problems = []
    for p in takers:
        try:
            return _parse(p, value)
        except registry.ParamError as exc:
            problems.append(exc.problem)
    raise ValueError(f"{name}: {problems[0]}")


def _options_of(method: str) -> list[str]:
    return [name for name in option_table() if _takers(name, method)]


def split_options(method: str, options: Mapping[str, object]) -> tuple[dict, dict]:
    """The method's parameters and the feature inputs (``feature``, ``feature_b``,
    ``rate_hz``) of ``options``, checked (the parameters also together).

    Raises
    ------
    ValueError
        Naming the option (by its name here) and the problem.
    """
    entry = registry.get(method)
    params, inputs = {}, {}
    for name, value in options.items():
        name = normalize(name)
        parsed = check_value(name, value, method)
        p = _takers(name, method)[0]
        (params if p in entry.params else inputs)[p.name] = parsed
    try:
        entry.check(params)
    except registry.ParamError as exc:
        raise ValueError(f"{_name_of(exc.param)}: {exc.problem}") from None
    return params, inputs


def _name_of(param: registry.Param) -> str:
    return normalize(param.flag[2:]) if param.flag else param.name


def make_recipe(method: str, options: Mapping[str, object], rec_a, rec_b,
                anchors_s=None) -> registry.Recipe:
    """The checked registry recipe of a pair, as ``align`` makes it for two open
    recordings (feature names that fit each recording, a rate the recordings allow,
    anchors in seconds where the method takes them).

    Raises
    ------
    ValueError
        Naming the option and the problem.
    """
    from ..pipeline import rate_problem

    entry = registry.get(method)
    params, inputs = split_options(method, options)
    if anchors_s is not None and len(anchors_s):
        spot = [p for p in entry.params if p.kind == "anchors"]
        if not spot:
            raise ValueError(f"anchors: method {method} takes no anchors")
        values = entry.check(params)
        if not spot[0].applies(values):
            when = " and ".join(f"{name} {'/'.join(map(str, allowed))}"
                                for name, allowed in spot[0].when)
            raise ValueError(f"anchors: apply to method {method} only with {when}")
        params[spot[0].name] = [tuple(map(float, row)) for row in anchors_s]
    try:
        recipe = registry.recipe(method, params, kind_a=rec_a.kind, kind_b=rec_b.kind,
                                 feature=inputs.get("feature", "auto"),
                                 feature_b=inputs.get("feature_b"),
                                 rate_hz=inputs.get("rate_hz"), fps_a=rec_a.rate_hz,
                                 fps_b=rec_b.rate_hz)
    except registry.ParamError as exc:
        raise ValueError(f"{_name_of(exc.param)}: {exc.problem}") from None
    if entry.inputs == "recordings" and recipe.params.get("rate_hz") is not None:
        problem = rate_problem(float(recipe.params["rate_hz"]), rec_a, rec_b)
        if problem:
            raise ValueError(f"rate: {problem}")
    return recipe
