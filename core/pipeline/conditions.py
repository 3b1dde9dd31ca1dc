"""Recording conditions one side may have and the other not (issue 16): mains hum
(:mod:`.hum`), strong steady noise (:mod:`.noise`), a lost band (:mod:`.band`) and a
much more reverberant room (:mod:`.reverb`), handled before an audio pair's features
are computed; hard clipping (:mod:`.clipping`) is found here and handled in the
features' options. A music pair in two keys is handled on the features (:mod:`.key`)."""

from __future__ import annotations

from .band import band_edges, band_levels, band_of_levels
from .clipping import is_clipped
from .hum import remove_hum
from .noise import remove_noise
from .reverb import add_room, decay_time_s, dry_room_s, remove_reverb, reverberant_side, room_kept

__all__ = ["prepare_sides"]


def _side(x, sample_rate, edges):
    clipped, share = is_clipped(x)  # on the samples as they came (before any filter)
    clipping = {"clipped": clipped, "share": share}
    x, hum = remove_hum(x, sample_rate)
    x, noise = remove_noise(x, sample_rate)
    return (x, hum, noise, band_levels(x, sample_rate, edges), decay_time_s(x, sample_rate),
            clipping)


def prepare_sides(xa, sr_a, xb, sr_b, *, material=None):
    """Both sides' mono signals with hum and a strong noise floor removed (and the late
    reverberation of a side much more reverberant than the other, the other side then put
    in a shorter room: :func:`core.pipeline.reverb.add_room`), and the band they share.

    ``material``, if given, is called as ``material(xa, xb)`` on the cleaned signals when
    one side may be reverberant, before anything is subtracted: the pair's material
    (``"music"``, ``"speech"`` or ``"other"``). Music keeps its room (a piano's own slow
    decay looks like a room beside an organ's short release, and the subtraction, forced
    on music in a real room, made two of three pairs worse:
    :func:`core.pipeline.reverb.room_kept`), and speech needs a smaller difference of
    decay times than other sounds (:func:`core.pipeline.reverb.reverberant_side`);
    without it, a room is taken out where the decay times differ as much as other sounds
    need.

    Returns ``(xa, xb, band, info)``: the signals (the inputs themselves where nothing
    was found), ``band`` (``(fmin_hz, fmax_hz)`` or None, for
    :func:`core.pipeline.band.band_options`) and ``info`` (``hum``, ``noise`` per side,
    ``band``, ``reverb`` (with ``dry_room_s`` where the dry side got a room) and
    ``clipping`` per side (``clipped``, ``share``: for
    :func:`core.pipeline.clipping.clip_options`), for the diagnostics).

    Notes
    -----
    B's checks run on a worker thread beside A's (their FFTs, sorts and filters release
    the GIL): the same results in about half the wall time on two cores.
    """
    from concurrent.futures import ThreadPoolExecutor

    edges = band_edges(sr_a, sr_b)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="conditions") as pool:
        side_b = pool.submit(_side, xb, sr_b, edges)
        xa, hum_a, noise_a, levels_a, decay_a, clip_a = _side(xa, sr_a, edges)
        xb, hum_b, noise_b, levels_b, decay_b, clip_b = side_b.result()
    band, band_info = band_of_levels(levels_a, levels_b, sr_a, sr_b)
    # the smaller (speech) ratio first: the material is asked only where it may matter
    wet = reverberant_side(decay_a, decay_b, speech=material is not None)
    pair = None if wet is None or material is None else material(xa, xb)
    if pair is not None and pair != "speech":
        wet = reverberant_side(decay_a, decay_b)
    reverb = {"applied": False,
              "decay_s": [None if d is None else round(d, 3) for d in (decay_a, decay_b)]}
    if wet is not None:
        reverb["side"] = wet
        reason = room_kept(pair)
        if reason is not None:
            reverb["kept"] = reason
        elif wet == "a":
            reverb["dry_room_s"] = round(dry_room_s(decay_a), 3)
            xa, xb = remove_reverb(xa, sr_a, decay_a), add_room(xb, sr_b, dry_room_s(decay_a))
        else:
            reverb["dry_room_s"] = round(dry_room_s(decay_b), 3)
            xa, xb = add_room(xa, sr_a, dry_room_s(decay_b)), remove_reverb(xb, sr_b, decay_b)
        reverb["applied"] = reason is None
    info = {"hum": {"a": hum_a, "b": hum_b}, "noise": {"a": noise_a, "b": noise_b},
            "band": band_info, "reverb": reverb, "clipping": {"a": clip_a, "b": clip_b}}
    return xa, xb, band, info
