"""Headless subcommands for alignment files: ``transfer`` and ``convert``.

``register(subparsers)`` adds them to the command line's ``argparse`` subparsers; each
parser's ``func(args)`` returns the exit status. Errors are raised as ``ValueError``
subclasses (``FormatError``, ``MediaError``) with a one-line message for the CLI to print.
Warnings (labels that collapsed to zero length, tiers merged or split) go to stderr, one
line each, and do not change the exit status.
"""

from __future__ import annotations

import argparse
import sys

from ..paths import check_output
from . import (
    ALIGNMENT_FORMATS,
    ANNOTATION_FORMATS,
    format_from_path,
    output_format,
    read_alignment,
    read_alignment_or_project,
    transfer_file,
    write_alignment,
)
from .csv_pairs import MAX_RATE_HZ

__all__ = ["register", "run_transfer", "run_convert"]


def run_transfer(args: argparse.Namespace) -> int:
    """``transfer ALIGNMENT LABELS -o OUT``: move labels of A to B (or B to A)."""
    check_output(args.output, inputs=(args.alignment, args.labels))
    # told here, where the option that gives the format is known
    labels_format = args.labels_format or format_from_path(args.labels, "annotation",
                                                           option="--labels-format")
    warnings = transfer_file(args.alignment, args.labels, args.output, format=args.format,
                             direction=args.direction, labels_format=labels_format,
                             collapsed_marker=args.mark_collapsed or None)
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return 0


def run_convert(args: argparse.Namespace) -> int:
    """``convert IN -o OUT``: re-write an alignment file in another format."""
    check_output(args.output, inputs=(args.input,))
    fmt = output_format(args.output, args.format, "alignment")
    from ..project_file import is_project_file

    if args.input_format is None and is_project_file(args.input):
        alignment = read_alignment_or_project(args.input)  # the project's active result
    else:
        input_format = args.input_format or format_from_path(args.input,
                                                             option="--input-format")
        alignment = read_alignment(args.input, input_format, rate_a_hz=args.rate_a,
                                   rate_b_hz=args.rate_b)
    write_alignment(alignment, args.output, fmt)
    return 0


def register(subparsers) -> None:
    """Add the ``transfer`` and ``convert`` subcommands to ``subparsers``."""
    p = subparsers.add_parser(
        "transfer", help="map annotations of one recording to the other through an alignment",
        description="Read annotations of recording A (Audacity labels, Praat TextGrid, ELAN "
                    ".eaf, Sonic Visualiser CSV layer, CSV of times and labels), map every time "
                    "through ALIGNMENT to recording B and write them to OUT. Intervals that "
                    "collapse to zero length are kept and reported on stderr.")
    p.add_argument("alignment", help="alignment file (csv, json, svl, txt, TextGrid, eaf), "
                                     "or a project (.alignproj): its active result")
    p.add_argument("labels", help="annotation file of the source recording")
    p.add_argument("-o", "--output", required=True, metavar="OUT",
                   help="annotation file to write ('-': standard output)")
    p.add_argument("--format", choices=ANNOTATION_FORMATS,
                   help="output format (default: OUT's extension, else the input's format)")
    p.add_argument("--labels-format", choices=ANNOTATION_FORMATS,
                   help="input format (default: from the extension)")
    p.add_argument("--direction", choices=("a2b", "b2a"), default="a2b",
                   help="a2b: LABELS are on A (default); b2a: on B")
    p.add_argument("--mark-collapsed", default="", metavar="TEXT",
                   help="append TEXT to the label of every interval that collapses")
    p.set_defaults(func=run_transfer)

    c = subparsers.add_parser("convert", help="convert an alignment file to another format",
                              description="Re-write an alignment file in another format; "
                                          "from a project (.alignproj), its active result.")
    c.add_argument("input", help="alignment file, or a project (.alignproj)")
    c.add_argument("-o", "--output", required=True, metavar="OUT",
                   help="alignment file to write ('-': standard output, CSV unless --format)")
    c.add_argument("--format", choices=ALIGNMENT_FORMATS,
                   help="output format (default: from OUT's extension)")
    c.add_argument("--input-format", choices=ALIGNMENT_FORMATS,
                   help="input format (default: from the extension)")
    from ..cli import number_in

    rate = number_in(0.0, MAX_RATE_HZ)
    c.add_argument("--rate-a", type=rate, default=None, metavar="HZ",
                   help=f"frame rate of A for seconds-only inputs, 0 < HZ <= {MAX_RATE_HZ:g}; "
                        f"refused if it puts two distinct times of A on one frame "
                        f"(default: inferred)")
    c.add_argument("--rate-b", type=rate, default=None, metavar="HZ",
                   help=f"frame rate of B for seconds-only inputs, 0 < HZ <= {MAX_RATE_HZ:g} "
                        f"(default: inferred)")
    c.set_defaults(func=run_convert)
