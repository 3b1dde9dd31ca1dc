"""What a worker does for one pair, and the pair's record that makes a batch resumable.

A task opens both files, aligns them with the default pipeline (exactly what
``alignment-inspector align`` runs), writes the alignment and then the pair's record
(both atomically, through :mod:`core.paths`), and returns one small
:class:`~core.batch.summary.SummaryRow`. Every error of the pair (a missing, corrupt or
unsupported file, a bad anchors file, an option that does not suit the material, a
failure inside the pipeline, even a bug) becomes a ``failed`` row with its reason:
only a crash of the worker process itself escapes, and the scheduler deals with that.

The record (``OUTDIR/.batch/<id>.json``) holds the pair's key, the summary row, and
for each input file its path, size, modification time and SHA-256. The key is the
SHA-256 of the content hashes of A, B and the anchors file, the pipeline options, the
output format and the engine version (``core.__version__``): an output is kept when its
record's key is the key the pair has now. Hashes are taken again only for a file whose
size or modification time changed, so resuming a batch does not read its media again.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import time

from .summary import SummaryRow

__all__ = ["run_pair", "pair_key", "file_identity", "read_record", "KEY_VERSION",
           "RECORD_FORMAT"]

KEY_VERSION = 1
RECORD_FORMAT = "alignment-inspector/batch-record"
_CHUNK = 1 << 20


def file_identity(path, sha256: str | None = None) -> dict:
    """``{"path", "size", "mtime_ns", "sha256"}`` of ``path`` (hashed unless given)."""
    st = os.stat(path)
    if sha256 is None:
        sha256 = _sha256(path)
    return {"path": os.fspath(path), "size": st.st_size, "mtime_ns": st.st_mtime_ns,
            "sha256": sha256}


def _sha256(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def same_stat(identity: dict, path) -> bool:
    """Whether ``path`` still has the size and modification time ``identity`` saw."""
    try:
        st = os.stat(path)
    except OSError:
        return False
    return (identity.get("path") == os.fspath(path) and identity.get("size") == st.st_size
            and identity.get("mtime_ns") == st.st_mtime_ns)


def pair_key(sha_a: str, sha_b: str, sha_anchors: str | None, method: str, options: dict,
             fmt: str, structure: str | None = None) -> str:
    """The key of a pair's result: what must match for an earlier output to be kept
    (a monotone structure leaves the key as it was before the structure column)."""
    from .. import __version__

    fields = {"key_version": KEY_VERSION, "engine": __version__, "a": sha_a, "b": sha_b,
              "anchors": sha_anchors, "method": method, "options": options, "format": fmt}
    if structure not in (None, "monotone"):
        fields["structure"] = structure
    text = json.dumps(fields, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def read_record(path) -> dict | None:
    """A pair's record, or None when it is missing or unreadable (the pair is redone)."""
    try:
        with open(path, encoding="utf-8") as handle:
            record = json.load(handle)
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("format") != RECORD_FORMAT:
        return None
    if not isinstance(record.get("key"), str) or not isinstance(record.get("row"), dict):
        return None
    return record


def row_from_record(record: dict, status: str) -> SummaryRow | None:
    """The summary row a record holds, with ``status``; None if it is malformed."""
    fields = {f.name for f in dataclasses.fields(SummaryRow)}
    try:
        row = SummaryRow(**{k: v for k, v in record["row"].items() if k in fields})
    except TypeError:
        return None
    return dataclasses.replace(row, status=status)


def write_record(path, key: str, files: dict, job: dict, row: SummaryRow) -> None:
    from .. import __version__
    from ..paths import write_text

    record = {"format": RECORD_FORMAT, "version": 1, "key": key, "engine": __version__,
              "method": job["method"], "options": job["options"],
              "structure": job.get("structure") or "monotone",
              "output_format": job["format"], "files": files,
              "row": dataclasses.asdict(dataclasses.replace(row, status="ok"))}
    write_text(path, json.dumps(record, indent=1, ensure_ascii=False) + "\n")


def read_anchors(path):
    """Anchors of a pair: an (L, 2) array of ``time_a_s, time_b_s`` (FormatError if bad;
    the reader of ``align --anchors``, :func:`core.constraints.read_anchor_file`)."""
    import numpy as np

    from ..constraints import read_anchor_file

    return np.array([(a.time_a_s, a.time_b_s) for a in read_anchor_file(path)],
                    dtype=np.float64).reshape(-1, 2)


def error_message(exc: BaseException) -> str:
    """One line saying why a pair failed."""
    if isinstance(exc, MemoryError):
        return "out of memory (try a band or a lower rate for this pair)"
    text = " ".join(str(exc).split())
    if isinstance(exc, ValueError | OSError):
        return text or type(exc).__name__
    return f"internal error: {type(exc).__name__}: {text}"


def run_pair(job: dict) -> SummaryRow:
    """Align one pair on a worker (see the module docstring).

    Parameters
    ----------
    job : dict
        ``id``, ``a``, ``b``, ``anchors`` (or None), ``method`` and ``options`` (by
        name, checked: :mod:`core.options`), ``format``, ``output`` and ``record``
        (absolute paths), ``expect_key`` (the key of an earlier output whose files
        changed on disk: when the key is still the same, the output is kept),
        ``structure`` (as ``align --structure``; missing means monotone).

    Returns
    -------
    SummaryRow
        ``ok``, ``skipped`` or ``failed`` (never raises for a problem of the pair).
    """
    t0 = time.perf_counter()
    durations: list[float | None] = [None, None]
    a, b = job["a"], job["b"]
    try:
        from .. import registry
        from ..formats import write_alignment
        from ..media import open_recording
        from ..options import make_recipe

        with contextlib.ExitStack() as stack:
            recordings = []
            for k, path in enumerate((a, b)):
                rec = stack.enter_context(open_recording(path))
                durations[k] = rec.duration_s
                recordings.append(rec)
            # stat before hashing: a file changed meanwhile gets a new stat, so it is
            # hashed again next time rather than trusted with a stale hash
            files = {side: file_identity(path, rec.content_hash()) for side, path, rec in
                     (("a", a, recordings[0]), ("b", b, recordings[1]))}
            anchors = None
            if job.get("anchors"):
                stat = file_identity(job["anchors"], sha256="")
                anchors = read_anchors(job["anchors"])
                files["anchors"] = dict(stat, sha256=_sha256(job["anchors"]))
            sha_anchors = files["anchors"]["sha256"] if "anchors" in files else None
            structure = job.get("structure") or "monotone"
            key = pair_key(files["a"]["sha256"], files["b"]["sha256"], sha_anchors,
                           job["method"], job["options"], job["format"], structure)
            if job.get("expect_key") == key and os.path.isfile(job["output"]):
                record = read_record(job["record"])
                row = None if record is None or record["key"] != key else \
                    row_from_record(record, "skipped")
                if row is not None:
                    # the files moved or were touched, not changed: remember their new
                    # stat so that the next run does not hash them again
                    write_record(job["record"], key, files, job, row)
                    return row
            # exactly what 'align' runs: the registry's recipe of the method and options
            recipe = make_recipe(job["method"], job["options"], recordings[0],
                                 recordings[1], anchors)
            if structure == "monotone":
                run = registry.run(recipe, recordings[0], recordings[1])
                alignment, recipe = run.alignment, run.recipe  # with the features used
            else:
                alignment = _align_structure(recipe, recordings, structure)
        # a JSON output keeps the settings: the triage's "open pair" shows them
        write_alignment(alignment, job["output"], format=job["format"], recipe=recipe)
        row = SummaryRow(
            id=job["id"], status="ok", duration_a_s=durations[0], duration_b_s=durations[1],
            seconds=time.perf_counter() - t0, material=str(
                alignment.diagnostics.get("material", "")),
            output=os.path.basename(job["output"]), a=a, b=b,
            jumps=_jumps(alignment, structure),
            order_differs=order_differs_text(alignment),
            **_warning(alignment), **_confidence(alignment))
        write_record(job["record"], key, files, job, row)
        return row
    except Exception as exc:  # noqa: BLE001 - every problem of a pair is that pair's failure
        return SummaryRow(id=job["id"], status="failed", error=error_message(exc),
                          duration_a_s=durations[0], duration_b_s=durations[1],
                          seconds=time.perf_counter() - t0, a=a, b=b)


def _align_structure(recipe, recordings, structure: str):
    """What ``align --structure`` runs (:func:`core.structure.cli.align_with_structure`):
    the structure alignment with the default pipeline's checked options (the method and
    solver are checked before the batch starts; :func:`structure_kwargs` checks again)."""
    from ..structure import align_structure
    from ..structure.cli import structure_kwargs

    kwargs = structure_kwargs(recipe, structure)  # its OptionError reads "structure: ..."
    return align_structure(recordings[0], recordings[1], structure=structure, **kwargs)


def _jumps(alignment, structure: str) -> int | None:
    """The row's ``jumps``: how many the path has; 0 when a structure run (``auto`` or
    ``pieces``) found none (the result is monotone), None for a monotone run."""
    if hasattr(alignment, "pieces"):
        return len(alignment.jumps)
    return None if structure == "monotone" else 0


def order_differs_text(alignment) -> str:
    """The row's ``order_differs``: the stretches of the result's order check
    (:mod:`core.structure.order`), e.g. ``B 22.3-40.1 s; A 7.4-19.1 s``; "" without."""
    from ..structure.order import stretches_text

    return stretches_text(alignment.diagnostics.get("order_check"))


def _warning(alignment) -> dict:
    """The row's ``warning`` and ``unshared_s``: what the engine said about the result
    (``diagnostics["warning"]``, e.g. a lead-in of B that A lacks) and the seconds it
    left out that are not silence."""
    from ..alignment import unshared_seconds

    diagnostics = alignment.diagnostics
    warning = diagnostics.get("warning")
    return {"warning": str(warning) if warning else "",
            "unshared_s": unshared_seconds(diagnostics.get("unshared"))}


def _confidence(alignment) -> dict:
    import numpy as np

    from ..pipeline.confidence import doubtful_confidence

    confidence = alignment.confidence
    if confidence is None or len(confidence) == 0:
        return {}
    values = np.asarray(confidence, dtype=np.float64)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return {}
    return {"mean_confidence": float(values.mean()),
            "low_confidence_fraction": float(np.mean(values < doubtful_confidence(alignment)))}
