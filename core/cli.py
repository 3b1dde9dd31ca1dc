"""The headless command line: ``alignment-inspector align|transfer|...`` and
``alignment-inspector-sv``.

Bad input (a missing or unreadable file, an unknown option value, an output folder that
does not exist) gives one line on standard error and exit status 2; an interrupted run
exits with 130. Nothing prints a traceback and no output file is left half-written
(writers go through :mod:`core.formats`, which writes atomically).
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
from pathlib import Path

from . import __version__, registry
from .errors import Cancelled, FormatError, MediaError
from .formats import ALIGNMENT_FORMATS

__all__ = ["main", "sv_main", "build_parser", "is_subcommand"]

PROG = "alignment-inspector"
EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 1
EXIT_INTERRUPTED = 130


class UsageError(Exception):
    """A command-line argument is wrong (exit status 2)."""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors instead of usage + error + exit."""

    def error(self, message):
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="Align two recordings in time (headless commands). "
                     f"Run '{PROG} [A [B]]' without a command to open the window.")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    align = sub.add_parser("align", help="align two recordings and write the alignment",
                           description="Align recording A with recording B. Every method "
                           "and its options come from core.registry; an option applies "
                           "only to the methods named in its help, and its value is "
                           "checked before any work starts.")
    align.add_argument("a", metavar="A", help="audio or video file (recording A)")
    align.add_argument("b", metavar="B", help="audio or video file (recording B)")
    align.add_argument("-o", "--output", metavar="OUT",
                       help="output file; its extension chooses the format "
                            "(default: CSV on standard output)")
    _add_method_options(align)
    align.add_argument("--format", dest="fmt", choices=ALIGNMENT_FORMATS,
                       help="output format (default: from OUT's extension)")
    align.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    align.set_defaults(func=_run_align)

    from .formats import commands as format_commands

    format_commands.register(sub)
    return parser


def is_subcommand(word: str) -> bool:
    """True when ``word`` names a headless subcommand (used by the launcher)."""
    parser = build_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return word in action.choices
    return False


def _method_options() -> dict[str, list[tuple[str, registry.Param]]]:
    """Every command-line flag of the registry: flag -> [(who takes it, Param)]."""
    table: dict[str, list] = {}
    for p in registry.FEATURE_INPUTS:
        table.setdefault(p.flag, []).append(("feature methods", p))
    for entry in registry.METHODS.values():
        for p in entry.params:
            if p.cli:
                table.setdefault(p.flag, []).append((entry.name, p))
    return table


def _add_method_options(parser) -> None:
    """``--method`` and one option per registry parameter, with ranges and defaults in
    their help; values stay text here and are checked by the registry (:func:`_recipe`)."""
    names = ", ".join(registry.METHODS)
    parser.add_argument(
        "--method", choices=list(registry.METHODS), default=registry.DEFAULT_METHOD,
        metavar="NAME", help=f"alignment method, one of {names} (default: "
        f"{registry.DEFAULT_METHOD}). " + "; ".join(
            f"{m.name}: {m.summary}" for m in registry.METHODS.values()).replace("%", "%%"))
    for flag, owners in _method_options().items():
        parts = []
        for owner, p in owners:
            parts.append(f"[{owner}] {p.description}: {p.range_text()} "
                         f"(default: {p.show(p.default)})")
        metavar = owners[0][1].unit.upper() if owners[0][1].unit in ("seconds", "hz") \
            else "VALUE"
        parser.add_argument(flag, dest="opt_" + flag[2:].replace("-", "_"), metavar=metavar,
                            help="; ".join(parts).replace("%", "%%"))


def _recipe(args, rec_a, rec_b) -> registry.Recipe:
    """The checked recipe of ``align``'s options for two open recordings: an option
    the chosen method does not take, or a value out of its range, is a usage error
    naming the option."""
    entry = registry.get(args.method)
    params, inputs = {}, {}
    for flag, owners in _method_options().items():
        text = getattr(args, "opt_" + flag[2:].replace("-", "_"), None)
        if text is None:
            continue
        takers = [p for owner, p in owners if owner == entry.name
                  or (owner == "feature methods" and entry.inputs == "features")]
        if not takers:
            takes = ", ".join(p.flag for p in entry.params if p.cli) if entry.inputs == \
                "recordings" else ", ".join([p.flag for p in registry.FEATURE_INPUTS]
                                            + entry.flags())
            raise UsageError(f"argument {flag}: not an option of --method {entry.name} "
                             f"(its options: {takes or 'none'})")
        p = takers[0]
        try:
            value = p.parse(text)
        except registry.ParamError as exc:
            raise UsageError(f"argument {flag}: {exc.problem}") from None
        (params if p in entry.params else inputs)[p.name] = value
    try:
        return registry.recipe(entry.name, params, kind_a=rec_a.kind, kind_b=rec_b.kind,
                               feature=inputs.get("feature", "auto"),
                               feature_b=inputs.get("feature_b"),
                               rate_hz=inputs.get("rate_hz"), fps_a=rec_a.rate_hz,
                               fps_b=rec_b.rate_hz)
    except registry.ParamError as exc:
        raise UsageError(f"argument {exc.param.flag}: {exc.problem}") from None


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (value > 0 and value < float("inf")):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def _format_for(output: str | None, fmt: str | None) -> str:
    """The format from ``--format``, else from OUT's extension, else CSV."""
    from .formats import format_from_path

    if fmt is not None:
        return fmt
    return format_from_path(output) if output is not None else "csv"


def _check_input(path: str) -> None:
    p = Path(path)
    if not p.exists():
        raise MediaError(path, "file not found")
    if p.is_dir():
        raise MediaError(path, "is a folder, not a media file")


def _check_output(path: str) -> None:
    folder = Path(path).resolve().parent
    if not folder.is_dir():
        raise UsageError(f"{path}: output folder {folder} does not exist")
    if Path(path).is_dir():
        raise UsageError(f"{path}: is a folder; give a file name")


class _StderrProgress:
    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.last = -1

    def __call__(self, fraction: float):
        percent = int(fraction * 100)
        if self.enabled and percent != self.last:
            self.last = percent
            sys.stderr.write(f"\r{PROG}: {percent:3d} %")
            sys.stderr.flush()

    def done(self):
        if self.enabled and self.last >= 0:
            sys.stderr.write("\r" + " " * (len(PROG) + 8) + "\r")
            sys.stderr.flush()


def _run_align(args) -> int:
    _check_input(args.a)
    _check_input(args.b)
    fmt = _format_for(args.output, args.fmt)
    if args.output:
        _check_output(args.output)
    alignment = _align(args.a, args.b, args, quiet=args.quiet)
    if args.output:
        from . import formats

        formats.write_alignment(alignment, args.output, format=fmt)
    else:
        sys.stdout.write(_render(alignment, fmt))
        sys.stdout.flush()
    return 0


def _align(path_a, path_b, args=None, *, quiet=False):
    """Align two files (names or open recordings) with the registry method ``args`` asks
    for (default: the default pipeline); every option is checked once the files'
    headers are read, before any work."""
    from .media import open_recording

    rec_a = path_a if hasattr(path_a, "kind") else open_recording(path_a)
    rec_b = path_b if hasattr(path_b, "kind") else open_recording(path_b)
    recipe = registry.recipe(registry.DEFAULT_METHOD) if args is None else \
        _recipe(args, rec_a, rec_b)
    progress = _StderrProgress(enabled=not quiet and sys.stderr.isatty())
    try:
        return registry.run(recipe, rec_a, rec_b, progress=progress).alignment
    finally:
        progress.done()


def _render(alignment, fmt: str) -> str:
    """The alignment written in format ``fmt``, as text (for standard output)."""
    from . import formats

    with tempfile.TemporaryDirectory() as folder:
        out = os.path.join(folder, "alignment.out")
        formats.write_alignment(alignment, out, format=fmt)
        with open(out, encoding="utf-8") as handle:
            return handle.read()


def _fail(message: str, status: int) -> int:
    sys.stderr.write(f"{PROG}: error: {' '.join(str(message).split())}\n")
    return status


def _guarded(run) -> int:
    """Run ``run()`` and turn every failure into one line on stderr and an exit status."""
    try:
        return int(run() or 0)
    except UsageError as exc:
        return _fail(str(exc), EXIT_BAD_INPUT)
    except (MediaError, FormatError, ValueError, OSError) as exc:
        return _fail(str(exc), EXIT_BAD_INPUT)
    except (Cancelled, KeyboardInterrupt):
        return _fail("interrupted", EXIT_INTERRUPTED)
    except MemoryError:
        return _fail("out of memory (try --band or a lower --rate)", EXIT_INTERNAL)
    except Exception as exc:  # a bug: still one line, never a traceback
        return _fail(f"internal error: {type(exc).__name__}: {exc}", EXIT_INTERNAL)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the headless subcommands; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)

    def run():
        parser = build_parser()
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # --help / --version printed and asked to exit
            return exc.code or 0
        if getattr(args, "func", None) is None:
            raise UsageError(f"a command is required ({PROG} --help lists them)")
        return args.func(args)

    return _guarded(run)


def sv_main(argv: list[str] | None = None) -> int:
    """``alignment-inspector-sv REF OTHER``: Sonic Visualiser's external aligner.

    Prints ``t_ref,t_other`` lines (seconds, no header) on standard output.
    """
    argv = list(sys.argv[1:] if argv is None else argv)

    def run():
        parser = _Parser(prog="alignment-inspector-sv",
                         description="Align OTHER to REF and print 't_ref,t_other' lines "
                                     "(Sonic Visualiser / Sonic Lineup external aligner).")
        parser.add_argument("ref", metavar="REF")
        parser.add_argument("other", metavar="OTHER")
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:
            return exc.code or 0
        from .formats import write_sv_pairs

        _check_input(args.ref)
        _check_input(args.other)
        alignment = _align(args.ref, args.other, quiet=True)
        buffer = io.StringIO()
        write_sv_pairs(alignment, buffer)
        sys.stdout.write(buffer.getvalue())
        sys.stdout.flush()
        return 0

    return _guarded(run)
