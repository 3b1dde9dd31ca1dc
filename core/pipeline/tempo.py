"""Two recordings at very different tempi: the shorter side's features sampled oftener.

With symmetric1 steps every path pays for every cell it visits, so where B is played much
slower than A (its shared part twice as long) each A frame stands against two B frames and
the costs alone decide where the extra B frames go. Measured on the transformed copies of
``benchmarks/accuracy/unseen.py`` (B slowed down with a phase vocoder, pitch kept; the
vocoder at 1.0 x changes no error), the error grew with the slowdown on all four pairs
(vibeace 12.3 ms untransformed, 19.3 / 27.2 / 49.8 / 55.8 ms at 0.8 / 0.7 / 0.6 / 0.5 x;
k545 5.6 -> 29.7 ms at 0.5 x; the simple DTW of ``eval_alignment.py`` likewise, 107 ->
1491 ms on vibeace). Sampling the shorter side's features as often as the longer side's
over the shared part (linear between frames, :func:`oftener`: the features are not
computed again) gives a path of slope about 1 on that grid; the result keeps each side's
own rate (``rate_a_hz`` / ``rate_b_hz``).

Only beyond ``_MIN_RATIO``: the generated pairs of ``benchmarks/accuracy/generalize.py``
have shared parts up to 1.67 times longer on one side (tempo curves that differ along the
piece), where the defaults were tuned and hold; sampled oftener from 1.25 on, 13 of their
pairs changed, 6 better and 7 worse (the onset-lag shift, set at one rate, moved
differently), so the ratio must lie beyond that range (see
``benchmarks/accuracy/unseen.md``).

The longer (slower) side's features whose curves have time constants (DLNCO: a rise of
20 ms, a decay of 0.1 s spread over 0.3 s, a running maximum over 2 s) are computed again
with those stretched by the same factor (:func:`slow_options`; the pipeline's
``_slow_side``): sampling the faster side oftener stretches its curves by the factor,
and the slower side's computed at fixed times would rise as fast and decay as soon as
ever, so the two no longer have one shape (a real recording at 0.5x: 44.8 -> 26.8 ms;
generated pairs played twice as slowly, attacks as fast: 9 of 12 better, 140 -> 12 ms on
an organ, 249 -> 34 on bowed strings; ``benchmarks/accuracy/unseen.md``).

:func:`tempo_plan` decides from the shared part the overlap search found (its length per
side), :func:`tempo_terms` applies a plan (also to the terms :func:`core.pipeline.
cost_source` rebuilds for a re-solve, from ``params["tempo"]``).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["oftener", "slow_options", "tempo_plan", "tempo_ratio", "tempo_terms"]

# a feature's options in seconds that shape its curves in time (a rise, a decay, a
# spread, a normalization window): on the slower side they are stretched by the tempo
# ratio, so that its curves keep the shape the faster side's have once that side is
# sampled oftener (the faster side's are stretched by the sampling)
_TIME_OPTIONS = {"dlnco": ("rise_s", "memory_s", "decay_s", "spread_s", "local_s",
                           "floor_s")}

# a shared part this many times longer on one side than on the other gets the shorter
# side's features sampled oftener: above the 1.67 of the generated pairs, and below the
# 1.9-2.4 of the public pairs' copies at 0.6 and 0.5 x tempo
_MIN_RATIO = 1.75
# and at most this many times (a shared part found 4 times longer on one side is more
# likely a wrong overlap than a tempo)
_MAX_FACTOR = 3.0


def tempo_ratio(span_a, span_b) -> float:
    """How many times longer the shared part is on B than on A (its lengths, in one
    unit: seconds, or frames at one rate)."""
    if not (math.isfinite(span_a) and math.isfinite(span_b) and span_a > 0 and span_b > 0):
        raise ValueError(f"span_a, span_b: expected positive lengths, got {span_a} and "
                         f"{span_b}")
    return float(span_b) / float(span_a)


def tempo_plan(span_a, span_b, *, min_ratio=_MIN_RATIO, max_factor=_MAX_FACTOR):
    """Which side's features to sample oftener, and how much, or None.

    Parameters
    ----------
    span_a, span_b : float
        Length of the shared part on A and on B (seconds, or frames at one rate).
    min_ratio : float
        A ratio of the two (either way) below this leaves both sides alone.
    max_factor : float
        The largest factor applied.

    Returns
    -------
    dict or None
        ``{"side": "a" or "b", "factor": f, "ratio": r}``: the shorter side's rate is
        multiplied by ``f = min(r, max_factor)`` (``r`` the longer part over the shorter,
        rounded to 1e-3); None when ``r < min_ratio``.
    """
    ratio = tempo_ratio(span_a, span_b)
    side = "a" if ratio >= 1.0 else "b"
    ratio = max(ratio, 1.0 / ratio)
    if ratio < min_ratio:
        return None
    ratio = round(ratio, 3)
    return {"side": side, "factor": min(ratio, float(max_factor)), "ratio": ratio}


def oftener(values, factor):
    """``values`` (T, D), frames at one rate, sampled ``factor`` (>= 1) times oftener:
    frame ``k`` of the result lies at ``k / factor`` of the input's frames, linear
    between its two neighbours; shape ``(floor((T - 1) * factor) + 1, D)``, the dtype
    kept."""
    values = np.asarray(values)
    n = values.shape[0]
    if n < 2 or factor == 1.0:
        return values
    at = np.arange(int(np.floor((n - 1) * factor + 1e-9)) + 1) / factor
    lo = np.minimum(at.astype(np.int64), n - 2)
    w = (at - lo)[:, None]
    out = (1.0 - w) * values[lo] + w * values[lo + 1]
    return out.astype(values.dtype, copy=False)


def tempo_terms(terms, rates, plan):
    """``terms`` (:class:`core.warping.Term`, at ``rates``) with one side's features
    sampled ``plan["factor"]`` times oftener (:func:`oftener`: linear between frames);
    returns ``(terms, rates)``.

    ``plan``: :func:`tempo_plan`'s (or None: unchanged). The new side has
    ``floor((n - 1) * factor) + 1`` frames for ``n``, at ``rate * factor``."""
    if not plan:
        return list(terms), tuple(rates)
    factor = float(plan["factor"])
    if not (math.isfinite(factor) and factor >= 1.0) or plan.get("side") not in ("a", "b"):
        raise ValueError(f"plan: expected side 'a' or 'b' and a factor of at least 1, "
                         f"got {plan!r}")
    k = 0 if plan["side"] == "a" else 1
    rate = float(rates[k])
    new_rate = rate * factor
    key = "x" if k == 0 else "y"
    out = [t._replace(**{key: oftener(getattr(t, key), factor)}) for t in terms]
    new_rates = list(rates)
    new_rates[k] = new_rate
    return out, tuple(new_rates)


def slow_options(name, options, factor):
    """The options of feature ``name`` for the slower side of a plan of ``factor``: its
    time options (``_TIME_OPTIONS``; those ``options`` leave out at the feature's
    defaults) multiplied by ``factor``; None for a feature without time options (its
    frames do not depend on the tempo: chroma, log-mel)."""
    keys = _TIME_OPTIONS.get(name)
    if not keys:
        return None
    import inspect

    from ..features import audio

    defaults = inspect.signature(getattr(audio, name)).parameters
    out = dict(options)
    for key in keys:
        if key not in options and not defaults[key].default:
            continue  # off by default (floor_s): stays off
        out[key] = float(options.get(key, defaults[key].default)) * float(factor)
    return out
