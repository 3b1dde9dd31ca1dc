"""Batches: align many pairs on Dask distributed, resumably, with a summary to triage.

>>> from core.batch import read_manifest, align_pairs, read_summary
>>> rows = align_pairs(read_manifest("corpus.csv"), "aligned/")      # doctest: +SKIP
>>> doubtful = sorted(read_summary("aligned/"),                       # doctest: +SKIP
...                   key=lambda r: r.mean_confidence if r.mean_confidence is not None else -1)

A batch folder holds
    ``<id>.<ext>``      one alignment per pair (JSON by default, any ``align`` format);
    ``summary.csv``     one row per pair (:mod:`core.batch.summary` documents the columns);
    ``.batch/<id>.json`` each finished pair's record (its key, for resuming);
    ``.batch/lock``     held while a batch writes in the folder.

Modules
    :mod:`~core.batch.manifest` (the CSV of pairs: :func:`read_manifest`; a pair's method
    and options are named as in :mod:`core.options`, like ``align``'s),
    :mod:`~core.batch.runner` (:func:`align_pairs`, the local cluster),
    :mod:`~core.batch.summary` (:func:`read_summary`), ``_task`` (what a worker runs),
    :mod:`~core.batch.commands` (``alignment-inspector batch``).

Only :func:`align_pairs` imports Dask; reading a manifest or a summary does not.
"""

from __future__ import annotations

from .manifest import ManifestError, Pair, as_pairs, read_manifest
from .summary import LOW_CONFIDENCE, SUMMARY_COLUMNS, SummaryRow, read_summary

__all__ = ["align_pairs", "mark_corrected", "read_manifest", "read_summary", "as_pairs",
           "Pair", "SummaryRow", "ManifestError", "BatchError", "BatchProgress", "SUMMARY_COLUMNS",
           "LOW_CONFIDENCE", "local_cluster"]


def __getattr__(name):
    # the runner imports the formats and, when it runs, Dask: load it on first use
    if name in ("align_pairs", "mark_corrected", "BatchError", "BatchProgress",
                "local_cluster"):
        from . import runner

        return getattr(runner, name)
    raise AttributeError(f"module 'core.batch' has no attribute {name!r}")
