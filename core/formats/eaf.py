"""ELAN annotation files (``.eaf``, format 3.0).

Tiers hold time-aligned annotations whose times are time slots in milliseconds. Points
have no native ELAN form: a point tier is written with the linguistic type ``point`` and
annotations whose two time slots are the same. Reading resolves time slots without a
value (ELAN's unaligned slots) by interpolating between their aligned neighbours, and
symbolic (``REF_ANNOTATION``) tiers by taking the times of the annotation they refer to.

An alignment is written as two tiers ``A`` and ``B`` of consecutive segments between the
path's anchors (segment k spans anchors k and k + 1 on each recording, both labelled
``k``), with both recordings as media descriptors and the frame rates as header
properties, so that it re-imports to the same anchors.
"""

from __future__ import annotations

import datetime
import math
import os
import re
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import quote, unquote, urlparse

import numpy as np

from ..alignment import Alignment
from ..errors import FormatError
from ..paths import STDOUT, open_output
from ._anchors import path_anchors
from ._xml import parse_xml, xml_text
from .annotations import Annotation, Interval, Point, Tier
from .csv_pairs import MAX_RATE_HZ

__all__ = ["read_eaf", "write_eaf", "write_alignment_eaf", "read_alignment_eaf"]

SCHEMA_URL = "http://www.mpi.nl/tools/elan/EAFv3.0.xsd"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
_MIME = {".wav": "audio/x-wav", ".mp3": "audio/mpeg", ".mp4": "video/mp4",
         ".mov": "video/quicktime", ".mpg": "video/mpeg", ".mpeg": "video/mpeg",
         ".ogg": "audio/ogg", ".flac": "audio/flac", ".m4a": "audio/mp4",
         ".aif": "audio/x-aiff", ".aiff": "audio/x-aiff", ".avi": "video/x-msvideo"}
_RATE_PROPERTY = "alignment-inspector:rate_{}_hz"


def _media_descriptor(header, media: str, folder: str | None) -> None:
    media = str(media)
    local = None
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]+:", media) and not re.match(r"^[A-Za-z]:[\\/]",
                                                                       media):
        url = media  # already a URL (e.g. read from another ELAN file)
        name = unquote(urlparse(media).path.rsplit("/", 1)[-1])
        if urlparse(media).scheme == "file":
            local = unquote(urlparse(media).path)
    else:
        url = Path(media).resolve().as_uri()
        name = Path(media).name
        local = str(Path(media).resolve())
    ET.SubElement(header, "MEDIA_DESCRIPTOR", {
        "MEDIA_URL": url, "MIME_TYPE": _MIME.get(Path(name).suffix.lower(), "unknown"),
        "RELATIVE_MEDIA_URL": _relative_url(local, name, folder)})


def _relative_url(local: str | None, name: str, folder: str | None) -> str:
    """The media's URL relative to the folder the file is written in, as ELAN reads it
    (ELAN looks there when MEDIA_URL is gone: the folder moved with its media); "./name"
    when either is unknown (a URL of another scheme, standard output)."""
    relative = None
    if local is not None and folder is not None:
        try:
            relative = os.path.relpath(local, folder).replace(os.sep, "/")
        except ValueError:  # another drive (Windows)
            relative = None
    if relative is None:
        relative = name
    if not relative.startswith("../"):
        relative = "./" + relative
    return quote(os.fsencode(relative))


def _document(tiers, media: list[str], properties: dict[str, str], path) -> ET.ElementTree:
    """``tiers``: list of (name, linguistic type, [(start_ms, end_ms, label)]); ``path``:
    where the document is written (its media are given relative to its folder too)."""
    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0).isoformat()
    ET.register_namespace("xsi", XSI)
    root = ET.Element("ANNOTATION_DOCUMENT", {
        "AUTHOR": "", "DATE": now, "FORMAT": "3.0", "VERSION": "3.0",
        f"{{{XSI}}}noNamespaceSchemaLocation": SCHEMA_URL})
    header = ET.SubElement(root, "HEADER", {"MEDIA_FILE": "", "TIME_UNITS": "milliseconds"})
    folder = None if isinstance(path, str) and path == STDOUT else \
        os.path.dirname(os.path.abspath(os.fsdecode(path)))
    for m in media:
        _media_descriptor(header, m, folder)
    n_annotations = sum(len(items) for _, _, items in tiers)
    props = {"URN": f"urn:nl-mpi-tools-elan-eaf:{uuid.uuid4()}",
             "lastUsedAnnotationId": str(n_annotations), **properties}
    for name, value in props.items():
        ET.SubElement(header, "PROPERTY", {"NAME": name}).text = value
    # one time slot per distinct (tier, time), numbered in time order
    keys = sorted({(ms, t) for t, (_, _, items) in enumerate(tiers)
                   for item in items for ms in item[:2]})
    slot = {key: f"ts{k}" for k, key in enumerate(keys, start=1)}
    order = ET.SubElement(root, "TIME_ORDER")
    for ms, t in keys:
        ET.SubElement(order, "TIME_SLOT", {"TIME_SLOT_ID": slot[(ms, t)],
                                           "TIME_VALUE": str(ms)})
    number = 0
    for t, (name, ltype, items) in enumerate(tiers):
        tier = ET.SubElement(root, "TIER", {"LINGUISTIC_TYPE_REF": ltype, "TIER_ID": name})
        for start, end, label in items:
            number += 1
            ann = ET.SubElement(ET.SubElement(tier, "ANNOTATION"), "ALIGNABLE_ANNOTATION", {
                "ANNOTATION_ID": f"a{number}", "TIME_SLOT_REF1": slot[(start, t)],
                "TIME_SLOT_REF2": slot[(end, t)]})
            ET.SubElement(ann, "ANNOTATION_VALUE").text = label
    for ltype in sorted({ltype for _, ltype, _ in tiers} | {"default-lt"}):
        ET.SubElement(root, "LINGUISTIC_TYPE", {
            "GRAPHIC_REFERENCES": "false", "LINGUISTIC_TYPE_ID": ltype,
            "TIME_ALIGNABLE": "true"})
    tree = ET.ElementTree(root)
    ET.indent(tree, space="    ")
    return tree


def _write(tree: ET.ElementTree, path) -> None:
    with open_output(path, "wb") as stream:
        tree.write(stream, encoding="UTF-8", xml_declaration=True)
        stream.write(b"\n")


def _ms(t: float) -> int:
    return int(round(t * 1000.0))


def write_eaf(annotation: Annotation, path) -> list[str]:
    """Write ``annotation`` as an ELAN 3.0 file (times rounded to milliseconds).

    Empty-labelled intervals (Praat's gaps) are not written: ELAN leaves gaps empty.
    Characters XML cannot hold (control characters other than tab and line breaks) are
    replaced by U+FFFD, with a warning. Tiers with the same name are numbered (ELAN's
    tier ids are unique). Returns warnings.
    """
    warnings: list[str] = []
    replaced: set[str] = set()

    def clean(text: str, where: str) -> str:
        text, changed = xml_text(text)
        if changed:
            replaced.add(where)
        return text

    tiers = []
    seen: set[str] = set()
    for tier in annotation.tiers:
        name = clean(tier.name, f"tier {tier.name!r}")
        base, k = name, 1
        while name in seen:
            k += 1
            name = f"{base} ({k})"
        if name != clean(tier.name, ""):
            warnings.append(f"tier {tier.name!r} renamed {name!r} (ELAN tier names are unique)")
        seen.add(name)
        if tier.kind == "point":
            items = [(_ms(p.time_s), _ms(p.time_s), clean(p.label, f"tier {tier.name!r}"))
                     for p in tier.items]
            tiers.append((name, "point", items))
        else:
            items = [(_ms(i.start_s), _ms(i.end_s), clean(i.label, f"tier {tier.name!r}"))
                     for i in tier.items if i.label]
            tiers.append((name, "default-lt", items))
    media = [clean(annotation.media, "the media name")] if annotation.media else []
    _write(_document(tiers, media, {}, path), path)
    warnings += [f"{where}: characters XML cannot hold replaced by U+FFFD"
                 for where in sorted(replaced) if where]
    return warnings


def _parse(path) -> ET.Element:
    root = parse_xml(path)
    if root.tag != "ANNOTATION_DOCUMENT":
        raise FormatError(path, f"not an ELAN file (root element {root.tag!r})")
    return root


def _slot_times(root, path) -> dict[str, float]:
    """Time of every slot in seconds; slots without a value are interpolated."""
    ids, values = [], []
    for slot in root.iter("TIME_SLOT"):
        sid = slot.get("TIME_SLOT_ID")
        value = slot.get("TIME_VALUE")
        try:
            number = float(value) if value is not None else None
        except ValueError:
            raise FormatError(path, f"time slot {sid}: TIME_VALUE {value!r} is not a "
                              f"number") from None
        if number is not None and not (math.isfinite(number) and number >= 0):
            raise FormatError(path, f"time slot {sid}: TIME_VALUE {value!r} is not a "
                              f"non-negative number of milliseconds")
        values.append(np.nan if number is None else number / 1000.0)
        ids.append(sid)
    v = np.array(values, dtype=np.float64)
    known = np.flatnonzero(~np.isnan(v))
    if known.size and known.size < v.size:
        v = np.interp(np.arange(v.size), known, v[known])
    elif not known.size and v.size:
        raise FormatError(path, "no time slot has a time value")
    return dict(zip(ids, v.tolist(), strict=True))


def read_eaf(path) -> Annotation:
    """Read every tier of an ELAN file.

    Raises
    ------
    FormatError
        Not XML or not ELAN, an annotation referring to a missing time slot or
        annotation, or an annotation that ends before it starts.
    """
    root = _parse(path)
    slots = _slot_times(root, path)
    times: dict[str, tuple[float, float]] = {}
    raw = []
    for tier in root.iter("TIER"):
        name = tier.get("TIER_ID", "")
        entries = []
        for ann in tier.iter("ALIGNABLE_ANNOTATION"):
            aid = ann.get("ANNOTATION_ID")
            r1, r2 = ann.get("TIME_SLOT_REF1"), ann.get("TIME_SLOT_REF2")
            if r1 not in slots or r2 not in slots:
                raise FormatError(path, f"tier {name!r}, annotation {aid}: time slot "
                                  f"{r1 if r1 not in slots else r2!r} does not exist")
            start, end = slots[r1], slots[r2]
            if end < start:
                raise FormatError(path, f"tier {name!r}, annotation {aid}: ends at "
                                  f"{end:g} s before it starts at {start:g} s")
            times[aid] = (start, end)
            entries.append(("time", aid, ann.findtext("ANNOTATION_VALUE") or ""))
        for ann in tier.iter("REF_ANNOTATION"):
            entries.append(("ref", ann.get("ANNOTATION_REF"),
                            ann.findtext("ANNOTATION_VALUE") or ""))
        raw.append((name, tier.get("LINGUISTIC_TYPE_REF", ""), entries))
    # symbolic annotations take the times of what they refer to (possibly through refs)
    refs = {ann.get("ANNOTATION_ID"): ann.get("ANNOTATION_REF")
            for ann in root.iter("REF_ANNOTATION")}

    def resolve(aid, depth=0):
        if aid in times:
            return times[aid]
        if aid in refs and depth < 100:
            return resolve(refs[aid], depth + 1)
        raise FormatError(path, f"annotation reference {aid!r} does not exist")

    tiers = []
    for name, ltype, entries in raw:
        spans = [(resolve(aid), label) for _, aid, label in entries]
        spans.sort(key=lambda s: s[0])
        if ltype == "point" or (spans and all(s == e for (s, e), _ in spans)):
            tiers.append(Tier(name, "point", tuple(Point(s, lab) for (s, _), lab in spans)))
        else:
            tiers.append(Tier(name, "interval",
                              tuple(Interval(s, e, lab) for (s, e), lab in spans)))
    media = next((m.get("MEDIA_URL") for m in root.iter("MEDIA_DESCRIPTOR")), None)
    return Annotation(tuple(tiers), start_s=0.0, media=media)


# ---------------------------------------------------------------------------- alignment
def _ms_anchors(alignment: Alignment) -> np.ndarray:
    """Anchors whose millisecond times increase strictly on both recordings."""
    anchors = path_anchors(alignment.path)
    ms = np.round(anchors / np.array([alignment.rate_a_hz, alignment.rate_b_hz]) * 1000)
    keep = [0]
    for k in range(1, len(anchors)):
        if ms[k, 0] > ms[keep[-1], 0] and ms[k, 1] > ms[keep[-1], 1]:
            keep.append(k)
    return ms[keep].astype(np.int64)


def write_alignment_eaf(alignment: Alignment, path) -> None:
    """Write the alignment as tiers ``A`` and ``B`` of matching anchor segments."""
    ms = _ms_anchors(alignment)
    if len(ms) == 1:
        ms = np.vstack([ms, ms])
    seg_a = [(int(ms[k, 0]), int(ms[k + 1, 0]), str(k + 1)) for k in range(len(ms) - 1)]
    seg_b = [(int(ms[k, 1]), int(ms[k + 1, 1]), str(k + 1)) for k in range(len(ms) - 1)]
    media = []
    for which in ("a", "b"):
        source = alignment.sources.get(which) or {}
        if hasattr(source, "get") and source.get("path"):
            media.append(str(source["path"]))
    props = {_RATE_PROPERTY.format("a"): repr(alignment.rate_a_hz),
             _RATE_PROPERTY.format("b"): repr(alignment.rate_b_hz)}
    _write(_document([("A", "default-lt", seg_a), ("B", "default-lt", seg_b)], media, props,
                     path), path)


def read_alignment_eaf(path, *, rate_a_hz=None, rate_b_hz=None) -> Alignment:
    """Read an alignment written by :func:`write_alignment_eaf` (tiers A and B whose
    annotations are paired by their values)."""
    from .textgrid import anchors_to_alignment

    root = _parse(path)
    for prop in root.iter("PROPERTY"):
        for which in ("a", "b"):
            if prop.get("NAME") != _RATE_PROPERTY.format(which):
                continue
            try:
                rate = float(prop.text)
            except (TypeError, ValueError):
                rate = math.nan
            if not (math.isfinite(rate) and 0 < rate <= MAX_RATE_HZ):
                raise FormatError(path, f"property {prop.get('NAME')}: {prop.text!r} is not "
                                  f"a frame rate (a number of Hz up to {MAX_RATE_HZ:g})")
            if which == "a" and rate_a_hz is None:
                rate_a_hz = rate
            if which == "b" and rate_b_hz is None:
                rate_b_hz = rate
    ann = read_eaf(path)
    try:
        tier_a, tier_b = ann.tier("A"), ann.tier("B")
    except KeyError:
        raise FormatError(path, "an alignment ELAN file needs tiers 'A' and 'B'") from None
    seg_b = {it.label: it for it in tier_b.items}
    if len(tier_a.items) != len(tier_b.items) or any(
            it.label not in seg_b for it in tier_a.items):
        raise FormatError(path, "tiers 'A' and 'B' do not have matching annotations")
    if not tier_a.items:
        raise FormatError(path, "the alignment tiers are empty")
    ta = [it.start_s if hasattr(it, "start_s") else it.time_s for it in tier_a.items]
    tb = [seg_b[it.label].start_s if hasattr(it, "start_s") else seg_b[it.label].time_s
          for it in tier_a.items]
    last_a, last_b = tier_a.items[-1], seg_b[tier_a.items[-1].label]
    ta.append(getattr(last_a, "end_s", ta[-1]))
    tb.append(getattr(last_b, "end_s", tb[-1]))
    media = [m.get("MEDIA_URL") for m in root.iter("MEDIA_DESCRIPTOR")]
    sources = {w: {"path": m} for w, m in zip("ab", media, strict=False)}
    times = np.unique(np.array([ta, tb]).T, axis=0)
    return anchors_to_alignment(times[:, 0], times[:, 1], path, rate_a_hz=rate_a_hz,
                                rate_b_hz=rate_b_hz, resolution_s=1e-3, fmt="eaf",
                                sources=sources)
