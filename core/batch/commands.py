"""``alignment-inspector batch MANIFEST -o OUTDIR``: the command line of :func:`align_pairs`.

Exit status: 0 when every pair is aligned (or kept from an earlier run), 1 when some
failed (each is named in ``summary.csv`` and on standard error), 2 for a bad manifest,
option or output folder or an unreachable scheduler (one line, before any work), 130 /
143 when interrupted by SIGINT / SIGTERM (the cluster shut down, the summary written).

Progress goes to standard error: a bar on a terminal, one line per finished pair
otherwise (pairs done, failed, hours of audio aligned, the time left).
"""

from __future__ import annotations

import argparse
import shutil
import sys

from ..formats import ALIGNMENT_FORMATS
from ..options import STRUCTURES

__all__ = ["register", "run_batch"]

PROG = "alignment-inspector batch"


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1, got {text!r}")
    return value


def register(subparsers) -> None:
    """Add the ``batch`` subcommand to the command line's ``argparse`` subparsers."""
    from ..cli import _add_method_options

    p = subparsers.add_parser(
        "batch", help="align every pair of a manifest, here or on a Dask cluster",
        description="Align every pair listed in MANIFEST (a CSV with columns a,b and "
                    "optionally id, method, anchors, structure and any option of 'align' "
                    "named without its dashes, such as feature, rate, band; paths relative "
                    "to the manifest) and write OUTDIR/<id>.<ext> per pair and "
                    "OUTDIR/summary.csv. Running it again keeps the pairs already done. "
                    "--method and the method options below are the defaults of the pairs "
                    "that do not set them (each option for the pairs whose method takes "
                    "it).")
    p.add_argument("manifest", metavar="MANIFEST", help="CSV of the pairs to align")
    p.add_argument("-o", "--output", required=True, metavar="OUTDIR",
                   help="output folder (created if missing)")
    p.add_argument("--format", dest="fmt", choices=ALIGNMENT_FORMATS, default="json",
                   help="format of each pair's alignment (default: json)")
    p.add_argument("--workers", type=_positive_int, metavar="N",
                   help="worker processes of the local cluster (default: the number of "
                        "cores)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="run on the Dask cluster whose scheduler is at ADDRESS (e.g. "
                        "tcp://10.0.0.5:8786) instead of a local cluster; its workers need "
                        "alignment-inspector installed and the files at the same paths")
    p.add_argument("--strict", action="store_true",
                   help="refuse manifest paths that lead outside the manifest's folder")
    p.add_argument("--force", action="store_true",
                   help="align every pair again, also those an earlier run finished")
    p.add_argument("--structure", choices=STRUCTURES,
                   help="structure of the pairs that do not set one in a structure column, "
                        "as for 'align' (default: monotone); auto or pieces need the "
                        "default method, solver dtw, no anchors and --format json or csv")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    _add_method_options(p)
    p.set_defaults(func=run_batch)


def run_batch(args: argparse.Namespace) -> int:
    """Run the batch described by ``args``; returns the exit status."""
    from . import align_pairs, read_manifest

    if args.scheduler is not None and args.workers is not None:
        raise ValueError("--workers: sets the local cluster's size; a cluster given by "
                         "--scheduler has its own workers")
    from ..cli import _given_options

    pairs = read_manifest(args.manifest, strict=args.strict)
    defaults = _given_options(args)
    display = _Display(enabled=not args.quiet, terminal=_is_terminal(sys.stderr))
    try:
        rows = align_pairs(pairs, args.output, client=args.scheduler, format=args.fmt,
                           n_workers=args.workers, method=args.method, resume=not args.force,
                           progress=display, structure=args.structure, **defaults)
    finally:
        display.close()
    display.final(rows, args.output)
    return 1 if any(row.status == "failed" for row in rows) else 0


def _is_terminal(stream) -> bool:
    try:
        return stream is not None and stream.isatty()
    except (AttributeError, ValueError):
        return False


def duration_text(seconds: float) -> str:
    """``45 s``, ``12 min``, ``3.2 h``."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


class _Display:
    """Progress on stderr: a bar redrawn in place on a terminal, plain lines otherwise."""

    def __init__(self, *, enabled: bool, terminal: bool):
        self.enabled = enabled
        self.terminal = terminal
        self.drawn = False

    def _write(self, text: str) -> None:
        try:
            sys.stderr.write(text)
            sys.stderr.flush()
        except (OSError, ValueError, AttributeError):
            self.enabled = False

    @staticmethod
    def _counts(p) -> str:
        parts = [f"{p.n_done}/{p.n_pairs} pairs"]
        if p.n_failed:
            parts.append(f"{p.n_failed} failed")
        if p.n_skipped:
            parts.append(f"{p.n_skipped} kept")
        parts.append(f"{p.audio_s / 3600:.2f} h of audio aligned")
        if p.eta_s is not None and p.n_done < p.n_pairs:
            parts.append(f"about {duration_text(p.eta_s)} left")
        return ", ".join(parts)

    def __call__(self, p) -> None:
        if not self.enabled:
            return
        row = p.row
        if self.terminal:
            if row is not None and (row.status == "failed" or row.warning):
                self._clear()
                self._write(f"batch: {row.id}: {self._outcome(row)}\n")
            width = max(20, shutil.get_terminal_size((80, 20)).columns - 1)
            text = self._counts(p)
            bar_width = max(10, min(30, width - len(text) - 3))
            filled = int(bar_width * p.n_done / max(p.n_pairs, 1))
            line = f"[{'#' * filled}{'.' * (bar_width - filled)}] {text}"[:width]
            self._write("\r" + line + "\x1b[K")
            self.drawn = True
        elif row is not None:
            self._write(f"batch: {row.id}: {self._outcome(row)} ({self._counts(p)})\n")

    @staticmethod
    def _outcome(row) -> str:
        """``ok``, ``failed: why`` or ``ok, warning: what`` for a pair's line."""
        if row.status == "failed":
            return f"failed: {row.error}"
        return f"{row.status}, warning: {row.warning}" if row.warning else row.status

    def _clear(self) -> None:
        if self.drawn:
            self._write("\r\x1b[K")
            self.drawn = False

    def close(self) -> None:
        if self.enabled and self.terminal:
            self._clear()

    def final(self, rows, out_dir) -> None:
        if not self.enabled:
            return
        from ..paths import display_path

        counts = {s: sum(r.status == s for r in rows) for s in ("ok", "failed", "skipped")}
        hours = sum(r.audio_s for r in rows if r.status == "ok") / 3600
        kept = f", {counts['skipped']} kept from an earlier run" if counts["skipped"] else ""
        # a warned pair is aligned, but the batch left a part of one recording out (or
        # the like) alone: its summary row says what
        n_warned = sum(r.status != "failed" and bool(r.warning) for r in rows)
        warned = f", {n_warned} with a warning (see the warning column)" if n_warned else ""
        self._write(f"batch: {len(rows)} pairs: {counts['ok']} aligned, {counts['failed']} "
                    f"failed{kept}{warned}; {hours:.2f} h of audio aligned; summary in "
                    f"{display_path(out_dir)}/summary.csv\n")
