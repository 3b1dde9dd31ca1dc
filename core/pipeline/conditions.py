"""Recording conditions one side may have and the other not (issue 16): mains hum
(:mod:`.hum`), strong steady noise (:mod:`.noise`) and a lost band (:mod:`.band`),
handled before an audio pair's features are computed. A music pair in two keys is
handled on the features (:mod:`.key`)."""

from __future__ import annotations

from .band import shared_band
from .hum import remove_hum
from .noise import remove_noise

__all__ = ["prepare_sides"]


def prepare_sides(xa, sr_a, xb, sr_b):
    """Both sides' mono signals with hum and a strong noise floor removed, and the band
    they share.

    Returns ``(xa, xb, band, info)``: the signals (the inputs themselves where nothing
    was found), ``band`` (``(fmin_hz, fmax_hz)`` or None, for
    :func:`core.pipeline.band.band_options`) and ``info`` (``hum``, ``noise`` per side
    and ``band``, for the diagnostics).
    """
    xa, hum_a = remove_hum(xa, sr_a)
    xb, hum_b = remove_hum(xb, sr_b)
    xa, noise_a = remove_noise(xa, sr_a)
    xb, noise_b = remove_noise(xb, sr_b)
    band, band_info = shared_band(xa, sr_a, xb, sr_b)
    info = {"hum": {"a": hum_a, "b": hum_b}, "noise": {"a": noise_a, "b": noise_b},
            "band": band_info}
    return xa, xb, band, info
