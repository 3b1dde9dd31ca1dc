"""The options of an alignment by name, for every surface that names them as text: the
``align`` command line and the batch manifest (and Python keywords). The parameters
themselves are declared once, in :mod:`core.registry`; this module only names them.

An option's name is its ``align`` flag without the dashes, ``-`` and ``_`` alike:
``feature``, ``rate``, ``band``, ``solver``, ``step_pattern``, ... (:func:`flag` gives the
flag back). Values are text (a command line's or a manifest's fields, parsed by the
registry) or already typed (from Python). Problems raise :class:`OptionError`, which
names the option; each surface words it its own way (``argument --band: ...`` on the
command line, ``band: ...`` in a manifest).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

from . import registry

__all__ = ["option_table", "normalize", "flag", "check_value", "applies", "options_of",
           "split_options", "make_recipe", "OptionError", "FEATURE_METHODS", "STRUCTURES",
           "check_structure", "STRUCTURE_RULES", "check_structure_run"]

#: The values of ``align --structure`` and of a batch manifest's ``structure`` column
#: (:func:`core.structure.align_structure`).
STRUCTURES = ("monotone", "auto", "pieces")

#: The owner of the options every feature method takes (``feature``, ``feature_b``, ``rate``).
FEATURE_METHODS = "feature methods"


class OptionError(ValueError):
    """An option is unknown, not taken by the method, or out of its range.

    ``name`` is the option's name (as :func:`normalize` gives it), ``problem`` the
    problem; ``method`` and ``takes`` (the option names the method takes) are set when
    the method does not take it. ``str()`` is ``"name: problem"``; :meth:`as_flags`
    words it with command-line flags.
    """

    def __init__(self, name: str, problem: str, *, method: str | None = None,
                 takes: tuple[str, ...] = ()):
        self.name, self.problem, self.method, self.takes = name, problem, method, takes
        if method is not None:
            problem = (f"not an option of method {method} (its options: "
                       f"{', '.join(takes) or 'none'})")
            self.problem = problem
        super().__init__(f"{name}: {problem}")

    def as_flags(self) -> str:
        """The message with command-line flags: ``argument --band: not an option of
        --method dtw (its options: --feature, ...)``."""
        problem = self.problem
        if self.method is not None:
            problem = (f"not an option of --method {self.method} (its options: "
                       f"{', '.join(flag(t) for t in self.takes) or 'none'})")
        return f"argument {flag(self.name)}: {problem}"


def check_structure(value: str) -> str:
    """``value`` if it is one of :data:`STRUCTURES`, else ValueError."""
    if value not in STRUCTURES:
        raise ValueError(f"structure: expected one of {', '.join(STRUCTURES)}, got "
                         f"{value!r}")
    return value


#: What a structure other than monotone needs, each rule once: ``align --structure``
#: (:func:`core.structure.cli.structure_kwargs`), the batch's check before any recording is
#: opened, its worker and its manifest read this table. Each rule: the fact it is about
#: (a keyword of :func:`check_structure_run`), whether a value of it is allowed, and the
#: problem when it is not (formatted with the structure and the fact's value).
STRUCTURE_RULES = (
    ("anchors", lambda has_anchors: not has_anchors,
     "anchors constrain one monotone path; they cannot be combined with structure "
     "{structure}"),
    ("method", lambda method: method == registry.DEFAULT_METHOD,
     "{structure} needs method " + registry.DEFAULT_METHOD + ", not {value}"),
    ("solver", lambda solver: solver == "dtw", "{structure} needs solver dtw, not {value}"),
    ("format", lambda fmt: fmt in _piece_formats(),
     "{structure} may give a path with jumps, which only {piece_formats} files hold, "
     "not {value}"),
)


def _piece_formats() -> tuple[str, ...]:
    from .formats.pieces import PIECE_FORMATS

    return PIECE_FORMATS


def check_structure_run(structure: str, *, anchors: bool | None = None,
                        method: str | None = None, solver: str | None = None,
                        format: str | None = None) -> None:
    """Refuse what a run with ``structure`` cannot do (:data:`STRUCTURE_RULES`).

    Parameters
    ----------
    structure : str
        One of :data:`STRUCTURES`; ``monotone`` needs nothing.
    anchors : bool, optional
        Whether the run has anchors.
    method, solver : str, optional
        The run's method (a name of :mod:`core.registry`) and the default pipeline's
        solver.
    format : str, optional
        The output format.

    A fact left as None is not known yet and is not checked (the batch's manifest
    knows the anchors only; the worker knows no format).

    Raises
    ------
    OptionError
        ``structure: <problem>`` for the first rule broken, in the table's order.
    """
    if structure == "monotone":
        return
    facts = {"anchors": anchors, "method": method, "solver": solver, "format": format}
    for fact, allowed, problem in STRUCTURE_RULES:
        value = facts[fact]
        if value is not None and not allowed(value):
            raise OptionError("structure", problem.format(
                structure=structure, value=value, piece_formats=" or ".join(_piece_formats())))


def flag(name: str) -> str:
    """The command-line flag of the option ``name`` (``step_pattern`` -> ``--step-pattern``)."""
    return "--" + normalize(name).replace("_", "-")


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
    OptionError
        An unknown option, one ``method`` does not take, a value out of range.
    """
    name = normalize(name)
    owners = option_table().get(name)
    if owners is None:
        raise OptionError(name, f"not an option (the options: {', '.join(option_table())})")
    if method is not None:
        takers = _takers(name, method)
        if not takers:
            raise OptionError(name, "", method=method, takes=tuple(options_of(method)))
    else:
        takers = [p for _, p in owners]
    problems = []
    for p in takers:
        try:
            return _parse(p, value)
        except registry.ParamError as exc:
            problems.append(exc.problem)
    raise OptionError(name, problems[0])


def options_of(method: str) -> list[str]:
    """The names of the options ``method`` takes."""
    return [name for name in option_table() if _takers(name, method)]


def split_options(method: str, options: Mapping[str, object]) -> tuple[dict, dict]:
    """The method's parameters and the feature inputs (``feature``, ``feature_b``,
    ``rate_hz``) of ``options``, checked (the parameters also together).

    Raises
    ------
    OptionError
        Naming the option and the problem.
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
        raise OptionError(_name_of(exc.param), exc.problem) from None
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
    OptionError
        Naming the option and the problem.
    """
    from .pipeline import rate_problem

    entry = registry.get(method)
    params, inputs = split_options(method, options)
    if anchors_s is not None and len(anchors_s):
        spot = [p for p in entry.params if p.kind == "anchors"]
        if not spot:
            raise OptionError("anchors", f"method {method} takes no anchors")
        values = entry.check(params)
        if not spot[0].applies(values):
            when = " and ".join(f"{name} {'/'.join(map(str, allowed))}"
                                for name, allowed in spot[0].when)
            raise OptionError("anchors", f"apply to method {method} only with {when}")
        params[spot[0].name] = [tuple(map(float, row)) for row in anchors_s]
    try:
        recipe = registry.recipe(method, params, kind_a=rec_a.kind, kind_b=rec_b.kind,
                                 feature=inputs.get("feature", "auto"),
                                 feature_b=inputs.get("feature_b"),
                                 rate_hz=inputs.get("rate_hz"), fps_a=rec_a.rate_hz,
                                 fps_b=rec_b.rate_hz)
    except registry.ParamError as exc:
        raise OptionError(_name_of(exc.param), exc.problem) from None
    if entry.inputs == "recordings" and recipe.params.get("rate_hz") is not None:
        problem = rate_problem(float(recipe.params["rate_hz"]), rec_a, rec_b)
        if problem:
            raise OptionError("rate", problem)
    return recipe
