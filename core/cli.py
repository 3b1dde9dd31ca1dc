"""The headless command line: ``alignment-inspector align|transfer|...`` and
``alignment-inspector-sv``.

Bad input (a missing or unreadable file, an unknown option value, an output that is a
folder, one of the inputs or in a folder that does not exist) gives one line on standard
error and exit status 2, checked before any work starts. An interrupted run exits with
130 (SIGINT), 143 (SIGTERM) or 129 (SIGHUP), its temporary files removed. Nothing prints
a traceback and no output file is left half-written: every output goes through
:mod:`core.paths` (``-o -`` is standard output).
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import sys
import warnings
from pathlib import Path

from . import __version__, options, paths, registry
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
                     f"Run '{PROG} [A [B] | PROJECT] [--screenshot PNG]' without a command "
                     "to open the window (on two recordings or a project; --screenshot "
                     "saves the window once the alignment is shown, and exits).")
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
                       help="output file; its extension chooses the format (.alignproj: "
                            "a project the window opens, with the recordings and the "
                            "recipe); '-' is standard output (default: CSV on standard "
                            "output)")
    _add_method_options(align)
    align.add_argument("--anchors", metavar="FILE",
                       help="CSV of points the path must pass through: columns time_a_s, "
                            "time_b_s (seconds) and optionally hard (1/0; default 1: a soft "
                            "anchor is left out where it contradicts a hard one); every "
                            "method, the default included")
    align.add_argument("--base", metavar="ALIGNMENT",
                       help="with --anchors: re-solve this alignment file (any format of "
                            "'convert', from this tool or another, or a project's active "
                            "result) through the anchors instead of aligning from scratch")
    align.add_argument("--format", dest="fmt", choices=ALIGNMENT_FORMATS,
                       help="output format (default: from OUT's extension)")
    align.add_argument("--structure", choices=options.STRUCTURES,
                       default="monotone",
                       help="[default] monotone: one path through both recordings in the "
                            "same order (default); auto: switch to a path with jumps when "
                            "a section is repeated, skipped or moved (said on stderr); "
                            "pieces: always a path with jumps (written as JSON or CSV)")
    align.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    align.set_defaults(func=_run_align)

    from .formats import commands as format_commands

    format_commands.register(sub)
    from . import render

    render.register(sub)
    from .batch import commands as batch_commands

    batch_commands.register(sub)
    return parser


def is_subcommand(word: str) -> bool:
    """True when ``word`` names a headless subcommand (used by the launcher)."""
    parser = build_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return word in action.choices
    return False


def _add_method_options(parser) -> None:
    """``--method`` and one option per registry parameter (:mod:`core.options`), with
    ranges and defaults in their help; values stay text here and are checked by the
    registry (:func:`_recipe`)."""
    names = ", ".join(registry.METHODS)
    parser.add_argument(
        "--method", choices=list(registry.METHODS), default=registry.DEFAULT_METHOD,
        metavar="NAME", help=f"alignment method, one of {names} (default: "
        f"{registry.DEFAULT_METHOD}). " + "; ".join(
            f"{m.name}: {m.summary}" for m in registry.METHODS.values()).replace("%", "%%"))
    for name, owners in options.option_table().items():
        parts = []
        for owner, p in owners:
            parts.append(f"[{owner}] {p.description}: {p.range_text()} "
                         f"(default: {p.show(p.default)})")
        metavar = owners[0][1].unit.upper() if owners[0][1].unit in ("seconds", "hz") \
            else "VALUE"
        parser.add_argument(options.flag(name), dest="opt_" + name, metavar=metavar,
                            help="; ".join(parts).replace("%", "%%"))


def _given_options(args) -> dict[str, str]:
    """The method options given on the command line, by name (text, unparsed)."""
    return {name[len("opt_"):]: value for name, value in vars(args).items()
            if name.startswith("opt_") and value is not None}


def _recipe(args, rec_a, rec_b) -> registry.Recipe:
    """The checked recipe of ``align``'s options for two open recordings: an option
    the chosen method does not take, a value out of its range, or a rate the recordings
    cannot carry is a usage error naming the option."""
    try:
        return options.make_recipe(args.method, _given_options(args), rec_a, rec_b)
    except options.OptionError as exc:
        raise UsageError(exc.as_flags()) from None


def number_in(low: float, high: float, *, low_open: bool = True):
    """An argparse type: a finite number in ``(low, high]`` (``[low, high]`` when not
    ``low_open``), refused with the range in the message before any work."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        above = value > low if low_open else value >= low
        if not (above and value <= high):
            bracket = "(" if low_open else "["
            raise argparse.ArgumentTypeError(f"expected a number in {bracket}{low:g}, "
                                             f"{high:g}], got {text!r}")
        return value

    return parse


def _format_for(output: str | None, fmt: str | None) -> str:
    """The format from ``--format``, else from OUT's extension, else CSV; refused before
    work when OUT's extension cannot hold it (:func:`core.formats.output_format`)."""
    from .formats import output_format

    return output_format(paths.STDOUT if output is None else output, fmt, "alignment")


def _check_input(path: str) -> None:
    p = Path(path)
    if not p.exists():
        raise MediaError(path, "file not found")
    if p.is_dir():
        raise MediaError(path, "is a folder, not a media file")


def check_output(path: str | None, inputs=()) -> str:
    """Check OUT before work starts (see :func:`core.paths.check_output`); ``None`` is
    standard output. Returns the output name to write (``"-"`` for standard output)."""
    path = paths.STDOUT if path is None else path
    paths.check_output(path, inputs=inputs)
    return path


class _StderrProgress:
    """A percentage on standard error, rewritten in place: on a terminal only (in a log,
    the carriage returns would glue every percentage and the next line together)."""

    def __init__(self, enabled: bool):
        self.enabled = enabled and sys.stderr is not None and sys.stderr.isatty()
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
    from . import formats
    from .media import open_recording

    _check_input(args.a)
    _check_input(args.b)
    output = check_output(args.output, inputs=(args.a, args.b))
    as_project = _is_project_name(args.output) and args.fmt is None
    fmt = None if as_project else _format_for(args.output, args.fmt)
    if args.base is not None and args.anchors is None:
        raise UsageError("argument --base: needs --anchors (the points to re-solve through)")
    structure = getattr(args, "structure", "monotone")
    if as_project and (args.anchors is not None or structure != "monotone"):
        raise UsageError("argument -o: a project from the command line holds one plain "
                         "result; --anchors and --structure write an alignment file "
                         "(open it in the window to keep working on it)")
    anchors = None
    if args.anchors is not None:
        from .constraints import read_anchor_file

        _check_input(args.anchors)
        anchors = read_anchor_file(args.anchors)
    base = None
    if args.base is not None:
        _check_input(args.base)
        base = formats.read_alignment_or_project(args.base)
    rec_a, rec_b = open_recording(args.a), open_recording(args.b)  # headers only
    recipe = _recipe(args, rec_a, rec_b)
    if as_project:
        _write_project(rec_a, rec_b, recipe, output, quiet=args.quiet)
        return 0
    if structure != "monotone":
        from .structure.cli import align_with_structure

        alignment = align_with_structure(args, recipe, rec_a, rec_b, fmt, UsageError,
                                         _StderrProgress, anchors=anchors is not None)
    elif anchors is None:
        run = _run(rec_a, rec_b, recipe, quiet=args.quiet)
        alignment, recipe = run.alignment, run.recipe  # with the features it used
    else:
        alignment = _align_constrained(args, rec_a, rec_b, recipe, anchors, base)
    check = alignment.diagnostics.get("order_check")
    if check and not args.quiet:  # a monotone result's order check (core.structure.order)
        _say("note", check["message"].replace("Try Run with structure",
                                              "Try --structure auto"))
    # a JSON file keeps the settings, which the window shows when it opens the file
    formats.write_alignment(alignment, output, format=fmt, recipe=recipe)
    return 0


def _align_constrained(args, rec_a, rec_b, recipe, anchors, base):
    """``align --anchors`` (and ``--base``): hard anchors go into a method that takes
    anchors itself (the default pipeline's DTW, DTW); otherwise the method's result (or
    the ``--base`` file) is recomputed from them (:mod:`core.correcting`)."""
    from . import correcting
    from .constraints import Constraints

    constraints = Constraints(tuple(anchors))
    if base is not None:
        for name, dur, last in (("A", rec_a.duration_s, base.duration_a_s),
                                ("B", rec_b.duration_s, base.duration_b_s)):
            if last > dur + 1.0:
                raise UsageError(f"argument --base: {args.base}: runs to {last:.3f} s of "
                                 f"{name}, which lasts {dur:.3f} s (another recording?)")
        return correcting.correct_alignment(base, rec_a, rec_b, constraints)
    if all(a.hard for a in anchors):
        try:
            native = options.make_recipe(args.method, _given_options(args), rec_a, rec_b,
                                         anchors_s=[(a.time_a_s, a.time_b_s) for a in anchors])
        except options.OptionError:
            native = None  # the method takes no anchors: recompute its result
        if native is not None:
            return _align(rec_a, rec_b, native, quiet=args.quiet)
    return correcting.constrained_run(recipe, rec_a, rec_b, constraints)


def _is_project_name(output: str | None) -> bool:
    from .project_file import SUFFIX

    return output is not None and str(output).lower().endswith(SUFFIX)


def _write_project(rec_a, rec_b, recipe, output: str, *, quiet: bool) -> None:
    """Align and write a project (recordings with their content hashes, the result
    with its recipe and cost-image features) that the window opens."""
    from .project import Project, RecordingInfo
    from .project_file import save_project

    progress = _StderrProgress(enabled=not quiet)
    try:
        run = registry.run(recipe, rec_a, rec_b, progress=progress)
    finally:
        progress.done()
    project = Project()
    for slot, rec in (("a", rec_a), ("b", rec_b)):
        project.set_recording(slot, RecordingInfo.of(rec, content_hash=rec.content_hash()))
    project.add_result(run.alignment, run.recipe, label=registry.describe(run.recipe),
                       image=registry.image_inputs(run.recipe, run.alignment))
    save_project(project, output)


def _align(path_a, path_b, recipe=None, *, quiet=False):
    """Align two files (names or open recordings) with a checked registry recipe
    (default: the default pipeline)."""
    return _run(path_a, path_b, recipe, quiet=quiet).alignment


def _run(path_a, path_b, recipe=None, *, quiet=False):
    """:func:`_align`'s registry Run: the alignment and the recipe it ran (with the
    features the default pipeline used)."""
    from .media import open_recording

    rec_a = path_a if hasattr(path_a, "kind") else open_recording(path_a)
    rec_b = path_b if hasattr(path_b, "kind") else open_recording(path_b)
    if recipe is None:
        recipe = registry.recipe(registry.DEFAULT_METHOD)
    progress = _StderrProgress(enabled=not quiet)
    try:
        return registry.run(recipe, rec_a, rec_b, progress=progress)
    finally:
        progress.done()


def _say(kind: str, message) -> None:
    """One line ``PROG: kind: message`` on stderr (whitespace collapsed)."""
    text = " ".join(str(message).split())
    # a file name may hold any bytes: show the ones that are not UTF-8 as \xNN
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    if sys.stderr is not None:
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.write(f"{PROG}: {kind}: {text}\n")
            sys.stderr.flush()


def _fail(message: str, status: int) -> int:
    _say("error", message)
    return status


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """``warnings.showwarning`` for the commands: an engine warning (a part of one
    recording that the other lacks, a solver that did not converge) as one line like
    the errors, not Python's two lines with a source file and line."""
    _say("warning", message)


def _stdout_gone() -> int:
    """Standard output was closed by its reader (``... | head``): stop quietly, as the
    usual tools do, without a second error when Python flushes it at exit."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    return 128 + 13  # as if killed by SIGPIPE


def _guarded(run) -> int:
    """Run ``run()`` and turn every failure into one line on stderr and an exit status.

    SIGTERM and SIGHUP unwind like SIGINT meanwhile (temporary files are removed)."""
    restore = paths.cleanup_on_signals()
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            return int(run() or 0)
    except UsageError as exc:
        return _fail(str(exc), EXIT_BAD_INPUT)
    except BrokenPipeError:
        return _stdout_gone()
    except OSError as exc:
        if exc.errno == errno.EPIPE:
            return _stdout_gone()
        return _fail(str(exc), EXIT_BAD_INPUT)
    except (MediaError, FormatError, ValueError) as exc:
        return _fail(str(exc), EXIT_BAD_INPUT)
    except paths.Terminated as exc:
        return _fail(str(exc), 128 + exc.signum)
    except (Cancelled, KeyboardInterrupt):
        return _fail("interrupted", EXIT_INTERRUPTED)
    except MemoryError:
        return _fail("out of memory (try --band or a lower --rate)", EXIT_INTERNAL)
    except Exception as exc:  # a bug: still one line, never a traceback
        return _fail(f"internal error: {type(exc).__name__}: {exc}", EXIT_INTERNAL)
    finally:
        restore()


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
        check_output(paths.STDOUT)
        alignment = _align(args.ref, args.other, quiet=True)
        with paths.open_output(paths.STDOUT) as stream:
            write_sv_pairs(alignment, stream)
        return 0

    return _guarded(run)
