"""Pick highlight frames: the top-k by a score with a minimum time gap, shown in time order.

Greedy by score (ties: the earlier frame): a frame is taken unless it lies closer than
``min_gap_s`` to a frame already taken, so a reel never shows near-duplicates of one moment.
Pure numpy, no I/O.
"""

from __future__ import annotations

import numpy as np


def top_k_with_gap(time_s: np.ndarray, scores: np.ndarray, k: int, min_gap_s: float = 0.0) -> np.ndarray:
    """Positions of the picks, sorted by time; NaN scores are never picked."""
    times = np.asarray(time_s, np.float64)
    values = np.asarray(scores, np.float64)
    if times.shape != values.shape or times.ndim != 1:
        raise ValueError(f"time_s and scores must be 1-D of one length, got {times.shape} and {values.shape}")
    if k < 0 or min_gap_s < 0:
        raise ValueError(f"k ({k}) and min_gap_s ({min_gap_s}) must be >= 0")
    valid = np.flatnonzero(np.isfinite(values))
    order = valid[np.lexsort((times[valid], -values[valid]))]  # best score first, earlier first on ties
    picked: list[int] = []
    picked_times = np.empty(0)
    for position in order:
        if len(picked) >= k:
            break
        if min_gap_s > 0 and len(picked) and np.min(np.abs(picked_times - times[position])) < min_gap_s:
            continue
        picked.append(int(position))
        picked_times = np.append(picked_times, times[position])
    chosen = np.array(picked, np.int64)
    return chosen[np.argsort(times[chosen], kind="stable")]
