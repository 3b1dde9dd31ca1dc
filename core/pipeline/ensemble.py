"""Music whose onset curve never settles: a sustained ensemble (choir, string section).

A chord held by several bowed or sung voices keeps changing under the DLNCO's strong
compression (vibrato, chorus, beating between the voices): its rises fill the frames
between the onsets, and after the local normalization its DLNCO is nearly as strong
between two chords as at them. Measured on the DLNCO as planned: the median frame norm
is 0.36-0.48 of the 95th percentile on a choir's or a string section's side (samekind
tuning pairs music_s01, s02, s05, s09 and music_p01's B) against 0.01-0.28 on struck,
plucked, blown and organ notes (the other sides of those pairs, music_p02-p03) and on
every side of ``generalize.py audio``'s pairs (single sung or bowed melodies among them:
at most 0.18), whose onsets stand out.

On such a side (:func:`is_sustained`) the music pipeline computes its DLNCOs without the
rises it keeps making (``floor_s``: each pitch class's running median over
:data:`FLOOR_S` taken off) and its local stages weigh the onset terms
:data:`LOCAL_ONSET_SHARE` as much: the local stage, which trusts onsets to place what
chroma cannot (repeated chords), had followed the noisy ones away from the global
search's match (music_s01 27 -> 57 ms, s02 39 -> 42, s05 29 -> 32, music_p01 42 -> 46
from the global to the local stage; s09 46 -> 33). Taking the floor off every side
instead helped other pairs too (music_s04 15 -> 8 ms) but cost single sung melodies of
``generalize.py`` up to 31 ms (voice against a bowed string in a band-limited room);
the share alone does not fire on those.
"""

from __future__ import annotations

import numpy as np

__all__ = ["FLOOR_S", "LOCAL_ONSET_SHARE", "is_sustained", "onset_floor_share"]

# median frame norm / 95th percentile at which a side counts as sustained (between the
# clean sides' 0.28 and the ensembles' 0.36)
_MIN_SHARE = 0.32
# the running median taken off the rises of a sustained side (s)
FLOOR_S = 1.0
# the onset terms' weight in the local stages where a side is sustained, as a share
LOCAL_ONSET_SHARE = 0.25
# frames with a norm below this are silent (no rise anywhere) and not counted
_SILENT = 1e-3


def onset_floor_share(values) -> float | None:
    """Median frame norm of a DLNCO ``values`` (T, 12) over its 95th percentile (frames
    with any rise only); None without such frames."""
    norm = np.linalg.norm(np.asarray(values, dtype=np.float64), axis=1)
    norm = norm[norm > _SILENT]
    if norm.size == 0:
        return None
    top = float(np.percentile(norm, 95))
    return float(np.median(norm)) / top if top > 0 else None


def is_sustained(share) -> bool:
    """Whether a side's :func:`onset_floor_share` is a sustained ensemble's."""
    return share is not None and share >= _MIN_SHARE
