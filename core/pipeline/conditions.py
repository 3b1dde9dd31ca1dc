"""Recording conditions one side may have and the other not (issue 16): mains hum
(:mod:`.hum`), strong steady noise (:mod:`.noise`) and a lost band (:mod:`.band`),
handled before an audio pair's features are computed. A music pair in two keys is
handled on the features (:mod:`.key`)."""

from __future__ import annotations

from .band import band_edges, band_levels, band_of_levels
from .hum import remove_hum
from .noise import remove_noise

__all__ = ["prepare_sides"]


def _side(x, sample_rate, edges):
    x, hum = remove_hum(x, sample_rate)
    x, noise = remove_noise(x, sample_rate)
    return x, hum, noise, band_levels(x, sample_rate, edges)


def prepare_sides(xa, sr_a, xb, sr_b):
    """Both sides' mono signals with hum and a strong noise floor removed, and the band
    they share.

    Returns ``(xa, xb, band, info)``: the signals (the inputs themselves where nothing
    was found), ``band`` (``(fmin_hz, fmax_hz)`` or None, for
    :func:`core.pipeline.band.band_options`) and ``info`` (``hum``, ``noise`` per side
    and ``band``, for the diagnostics).

    Notes
    -----
    B's checks run on a worker thread beside A's (their FFTs, sorts and filters release
    the GIL): the same results in about half the wall time on two cores.
    """
    from concurrent.futures import ThreadPoolExecutor

    edges = band_edges(sr_a, sr_b)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="conditions") as pool:
        side_b = pool.submit(_side, xb, sr_b, edges)
        xa, hum_a, noise_a, levels_a = _side(xa, sr_a, edges)
        xb, hum_b, noise_b, levels_b = side_b.result()
    band, band_info = band_of_levels(levels_a, levels_b, sr_a, sr_b)
    info = {"hum": {"a": hum_a, "b": hum_b}, "noise": {"a": noise_a, "b": noise_b},
            "band": band_info}
    return xa, xb, band, info
