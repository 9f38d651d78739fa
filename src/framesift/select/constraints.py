"""Temporal constraints between picks of the same video: minimum frame/time gap, picks per shot.

Why: neighbouring frames of a video are near duplicates; labeling both wastes budget even
when a score likes them both. The constraints are hard: a unit that violates one can never
be picked. Preselected units (earlier runs) constrain like picks.
"""

from __future__ import annotations

import numpy as np

from .units import Units


class TemporalConstraints:
    """Tells, for a new pick, which other units it rules out."""

    def __init__(
        self,
        units: Units,
        *,
        min_frame_gap: int | None = None,
        min_time_gap: float | None = None,
        max_per_shot: int | None = None,
    ):
        self.units = units
        self.min_frame_gap = min_frame_gap
        self.min_time_gap = min_time_gap
        self.max_per_shot = max_per_shot
        self.active = bool(min_frame_gap or min_time_gap or max_per_shot)
        if min_frame_gap:
            self._frame_order, self._frame_key = self._order(units.frame_lo)
            self._frame_span = int((units.frame_hi - units.frame_lo).max(initial=0))
        if min_time_gap:
            self._time_order, self._time_key = self._order(units.time_lo)
            self._time_span = float((units.time_hi - units.time_lo).max(initial=0.0))
        if max_per_shot:
            if units.shot is None:
                raise ValueError("max_per_shot needs shot ids")
            self._shot_order = np.argsort(units.shot, kind="stable")
            self._shot_sorted = units.shot[self._shot_order]
            self._shot_count: dict[int, int] = {}

    def _order(self, lo: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        order = np.lexsort([lo, self.units.video])
        return order, np.stack([self.units.video[order], lo[order]], axis=1)

    @staticmethod
    def _range(key: np.ndarray, video: int, lo: float, hi: float) -> tuple[int, int]:
        """Positions in the (video, value)-sorted ``key`` with value in [lo, hi]."""
        v = key[:, 0]
        vlo, vhi = np.searchsorted(v, video, "left"), np.searchsorted(v, video, "right")
        vals = key[vlo:vhi, 1]
        return vlo + int(np.searchsorted(vals, lo, "left")), vlo + int(np.searchsorted(vals, hi, "right"))

    def _gap_conflicts(self, u: int, order, key, lo_arr, hi_arr, gap, span) -> np.ndarray:
        units = self.units
        a, b = self._range(key, int(units.video[u]), lo_arr[u] - gap - span, hi_arr[u] + gap)
        cand = order[a:b]
        # Distance between the two units' ranges; forbidden when strictly below the gap.
        dist = np.maximum(lo_arr[cand] - hi_arr[u], lo_arr[u] - hi_arr[cand])
        return cand[(dist < gap) & (cand != u)]

    def blocked_by(self, u: int) -> np.ndarray:
        """Units that can no longer be picked once unit ``u`` is picked (or preselected)."""
        if not self.active:
            return np.zeros(0, dtype=np.int64)
        out = []
        units = self.units
        if self.min_frame_gap:
            out.append(
                self._gap_conflicts(
                    u, self._frame_order, self._frame_key, units.frame_lo, units.frame_hi,
                    self.min_frame_gap, self._frame_span,
                )
            )
        if self.min_time_gap:
            out.append(
                self._gap_conflicts(
                    u, self._time_order, self._time_key, units.time_lo, units.time_hi,
                    self.min_time_gap, self._time_span,
                )
            )
        if self.max_per_shot:
            shot = int(units.shot[u])
            count = self._shot_count.get(shot, 0) + 1
            self._shot_count[shot] = count
            if count >= self.max_per_shot:
                a = np.searchsorted(self._shot_sorted, shot, "left")
                b = np.searchsorted(self._shot_sorted, shot, "right")
                members = self._shot_order[a:b]
                out.append(members[members != u])
        return np.unique(np.concatenate(out)) if out else np.zeros(0, dtype=np.int64)
