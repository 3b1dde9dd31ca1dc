"""The frame grid every feature shares: frame ``k`` is centred on ``k / rate_hz`` s."""

from __future__ import annotations

import math


def n_feature_frames(n_source: int, source_rate_hz: float, rate_hz: float) -> int:
    """How many frames at ``rate_hz`` have their centre inside ``n_source`` samples (or
    video frames) at ``source_rate_hz``: the centres ``k / rate_hz`` up to the last
    source sample's time (at least one)."""
    last = (int(n_source) - 1) * float(rate_hz) / float(source_rate_hz)
    return max(1, 1 + int(math.floor(last + 1e-9)))
