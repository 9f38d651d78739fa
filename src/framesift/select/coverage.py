"""Nearest-pick distances for k-center greedy, updated lazily and pruned with exact bounds.

Every block ``b`` (see :mod:`.blocks`) remembers how many picks it has absorbed
(``applied[b]``) and an upper bound ``bound[b]`` of the largest nearest-pick distance of its
rows (exact once all picks are absorbed). New picks are only *logged*; a block absorbs the
picks it has not seen yet when the greedy needs it (its bound tops the order), many at
once. Absorbing a pick ``p`` into a block goes through three exact filters, cheapest first:

1. block: ``|a(p) - c_b| - r_b >= bound[b]`` (triangle inequality in lower-bound
   coordinates ``a``, see :mod:`.blocks`) -> skip the block;
2. sub-block: the same test with the sub-block's centre and the sub-block's own bound;
3. row: lower-bound distance ``|a(x) - a(p)| >= mind(x)`` -> ``p`` is not closer, skip.

Only pairs surviving all three are computed exactly in full space. Hence ``mind`` is always
the exact nearest-pick distance for blocks that absorbed all picks, and the greedy built on
it makes exactly the picks plain exact k-center greedy makes (up to float ties).

An optional ``cap`` makes all distances ``>= cap`` count as equal ("far enough"); pairs
that cannot be closer than ``cap`` are then never computed. ``cap=inf`` (default) is exact.
"""

from __future__ import annotations

import numpy as np

from .blocks import BlockIndex

_SLACK = np.float32(2e-4)  # float32 rounding slack: keeps every lower bound conservative
_FAR = np.float32(2.0 + 1e-3)  # unit vectors are never further apart: stands in for "unknown / inf"
_CHUNK_PICKS = 64  # above this many picks, a block is screened chunk by chunk
_VIEW_FRACTION = 0.6  # screen the whole block (views) when the hit sub-blocks hold more of it
_WARM_START_PICKS = 64  # a block absorbing at least this many picks warms its bounds up first


def _pick_side(v: np.ndarray) -> np.ndarray:
    """[v, |v|^2, 1] rows (see :meth:`Coverage.refresh`)."""
    out = np.empty((len(v), v.shape[1] + 2), dtype=np.float32)
    out[:, :-2] = v
    out[:, -2] = np.einsum("ij,ij->i", v, v)
    out[:, -1] = 1.0
    return out


def _row_side(x_and_norm: np.ndarray, threshold: np.ndarray) -> np.ndarray:
    """[-2x, 1, |x|^2 - t^2] rows from [x, |x|^2] rows and per-row thresholds ``t``."""
    r = x_and_norm.shape[1] - 1
    out = np.empty((len(x_and_norm), r + 2), dtype=np.float32)
    np.multiply(x_and_norm[:, :r], -2.0, out=out[:, :r])
    out[:, r] = 1.0
    out[:, r + 1] = x_and_norm[:, r] - np.square(threshold, dtype=np.float32)
    return out


class Coverage:
    """Exact nearest-pick distances ``mind`` over the rows of a :class:`BlockIndex`, updated lazily."""

    def __init__(self, index: BlockIndex, capacity: int = 1024, cap: float = np.inf):
        self.index = index
        n, d = len(index.rows), index.source.shape[1]
        m = index.n_blocks
        self.cap = np.float32(cap)
        self.mind = np.full(n, np.inf, dtype=np.float32)
        self.bound = np.full(m, np.inf, dtype=np.float32)
        self.sub_bound = np.full(len(index.sub_radius), np.inf, dtype=np.float32)  # max mind per sub-block
        # max over the sub-block's rows of (distance + distance to the sub-block centre): a pick
        # further than this from the centre (lower-bound coordinates) cannot help any row.
        self.sub_reach = np.full(len(index.sub_radius), np.inf, dtype=np.float32)
        self.applied = np.zeros(m, dtype=np.int64)
        capacity = max(capacity, 16)
        self.centers = np.empty((capacity, d), dtype=np.float32)
        self.centers_aug = np.empty((capacity, index.A.shape[1] + 2), dtype=np.float32)
        self.center_cdist = np.empty((capacity, m), dtype=np.float32)
        self.n_centers = 0
        self._block_aug = np.concatenate(
            [index.centroids, np.einsum("ij,ij->i", index.centroids, index.centroids)[:, None]], axis=1
        )
        self._a2 = np.einsum("ij,ij->i", index.A, index.A)
        sub = index.sub_centroids
        self._sub_aug = np.concatenate([sub, np.einsum("ij,ij->i", sub, sub)[:, None]], axis=1)
        # Work counters (benchmarks, tests): sub-block tests, (row, pick) pairs screened with the
        # lower bound, pairs the bound could not settle, pairs computed exactly.
        self.sub_tests = 0
        self.pairs_screened = 0
        self.pairs_needed = 0
        self.pairs_exact = 0

    # -- bounds ---------------------------------------------------------------------------
    def block_upper_bound(self) -> np.ndarray:
        """Upper bound of the largest (capped) nearest-pick distance per block."""
        return np.minimum(self.bound, self.cap)

    def is_stale(self, b: int) -> bool:
        return bool(self.applied[b] < self.n_centers)

    # -- adding picks ---------------------------------------------------------------------
    def _grow(self, extra: int) -> None:
        need = self.n_centers + extra
        if need <= len(self.centers):
            return
        size = max(need, 2 * len(self.centers))
        for name in ("centers", "centers_aug", "center_cdist"):
            old = getattr(self, name)
            new = np.empty((size, old.shape[1]), dtype=old.dtype)
            new[: self.n_centers] = old[: self.n_centers]
            setattr(self, name, new)

    def add_centers(self, vecs: np.ndarray) -> None:
        """Log unit vectors as picks (cost O(picks x blocks x r), no per-row work)."""
        vecs = np.atleast_2d(np.asarray(vecs, dtype=np.float32))
        if len(vecs) == 0:
            return
        self._grow(len(vecs))
        for lo in range(0, len(vecs), 4096):
            part = vecs[lo : lo + 4096]
            at = self.n_centers
            aug = _pick_side(self.index.lower_bound_coords(part))
            self.centers[at : at + len(part)] = part
            self.centers_aug[at : at + len(part)] = aug
            # Distance to every block centre in lower-bound coordinates (for the block test).
            d2 = aug[:, :-2] @ (-2.0 * self._block_aug[:, :-1].T) + aug[:, -2:-1] + self._block_aug[None, :, -1]
            self.center_cdist[at : at + len(part)] = np.sqrt(np.maximum(d2, 0.0))
            self.n_centers += len(part)

    # -- absorbing picks into a block -----------------------------------------------------
    def refresh(self, b: int) -> bool:
        """Absorb the picks block ``b`` has not seen; returns True when some distance went down.

        The sub-block test is one matrix product: with ``c~ = [c, |c|^2, 1]`` (pick side, stored
        at add time) and ``x~ = [-2x, 1, |x|^2 - t^2]``, ``c~ . x~ < 0`` is exactly
        ``|c - x| < t`` in lower-bound coordinates. The row test is a product plus one compare.
        """
        first, last = int(self.applied[b]), self.n_centers
        if first >= last:
            return False
        self.applied[b] = last
        idx = self.index
        limit = min(self.bound[b], self.cap)
        ids = first + np.flatnonzero(self.center_cdist[first:last, b] - idx.radius[b] < limit)
        if len(ids) == 0:
            return False
        caug = self.centers_aug[ids]
        # Sub-block test: |c - centre_s| < reach_s (triangle inequality through the centre).
        s_lo, s_hi = int(idx.block_subs[b]), int(idx.block_subs[b + 1])
        reach = np.minimum(self.sub_reach[s_lo:s_hi], _FAR + idx.sub_radius[s_lo:s_hi])
        gap = caug @ _row_side(self._sub_aug[s_lo:s_hi], reach).T  # |c - centre|^2 - reach^2
        self.sub_tests += gap.size
        if len(ids) >= _WARM_START_PICKS:
            # Many picks at once (first touch, bulk seeds): give every sub-block its nearest
            # pick first. That makes the bounds tight, so the screening below prunes.
            self._warm_start(s_lo, s_hi, ids, gap, reach)
            reach = np.minimum(self.sub_reach[s_lo:s_hi], _FAR + idx.sub_radius[s_lo:s_hi])
            gap = caug @ _row_side(self._sub_aug[s_lo:s_hi], reach).T
        hit = gap < 0.0
        subs = np.flatnonzero(hit.any(axis=0))
        if len(subs) == 0:
            self.bound[b] = self.sub_bound[s_lo:s_hi].max()
            return False
        keep = np.flatnonzero(hit[:, subs].any(axis=1))
        ids, caug, hit = ids[keep], caug[keep], hit[keep]
        if len(ids) <= _CHUNK_PICKS:
            changed = self._screen(b, subs, ids, caug)
        else:
            # Many picks: screening each against the rows of every sub-block any of them hits
            # would mostly be wasted. Picks sorted by their nearest sub-block, in chunks, meet
            # only the sub-blocks their chunk hits.
            order = np.argsort(np.argmin(np.where(hit, gap[keep], np.inf), axis=1), kind="stable")
            changed = False
            step = int(np.ceil(len(order) / np.ceil(len(order) / _CHUNK_PICKS)))
            for start in range(0, len(order), step):
                chunk = order[start : start + step]
                chunk_subs = np.flatnonzero(hit[chunk].any(axis=0))
                changed |= self._screen(b, chunk_subs, ids[chunk], caug[chunk])
        self.bound[b] = self.sub_bound[s_lo:s_hi].max()
        return changed

    def _screen(self, b: int, subs: np.ndarray, ids: np.ndarray, caug: np.ndarray) -> bool:
        """Lower-bound screening of picks ``ids`` against the rows of sub-blocks ``subs`` (local
        numbers in block ``b``), exact distances where the bound cannot decide, new bounds."""
        idx = self.index
        s_lo = int(idx.block_subs[b])
        lo, hi = int(idx.starts[b]), int(idx.starts[b + 1])
        starts = idx.sub_starts[s_lo + subs]
        lens = idx.sub_starts[s_lo + subs + 1] - starts
        if lens.sum() > _VIEW_FRACTION * (hi - lo):
            # Most of the block is hit: screen the whole block through views (no gathers).
            subs = np.arange(int(idx.block_subs[b + 1]) - s_lo)
            pos = np.arange(lo, hi)
            offsets = idx.sub_starts[s_lo : s_lo + len(subs)] - lo
            a_rows, a2, mind = idx.A[lo:hi], self._a2[lo:hi], self.mind[lo:hi]
        else:
            offsets = np.concatenate([[0], np.cumsum(lens)[:-1]])
            pos = np.repeat(starts - offsets, lens) + np.arange(int(lens.sum()))
            a_rows, a2, mind = idx.A[pos], self._a2[pos], self.mind[pos]
        # Row test, |c - x|^2 = |c|^2 + |x|^2 - 2 c.x < (current distance + slack)^2, as one
        # matrix product and one comparison.
        cur = np.minimum(np.minimum(mind, self.cap), _FAR) + _SLACK
        g = caug[:, :-2] @ a_rows.T
        g *= -2.0
        g += caug[:, -2:-1]
        need = g < (np.square(cur) - a2)[None, :]
        self.pairs_screened += need.size
        rows_need = np.flatnonzero(need.any(axis=0))
        changed = False
        if len(rows_need):
            self.pairs_needed += int(need.sum())
            changed = self._exact_update(pos, rows_need, need, ids)
        mind = self.mind[pos]
        self.sub_bound[s_lo + subs] = np.maximum.reduceat(mind, offsets)
        reach_rows = np.minimum(np.minimum(mind, self.cap), _FAR) + idx.to_sub[pos]
        self.sub_reach[s_lo + subs] = np.maximum.reduceat(reach_rows, offsets)
        return changed

    def _warm_start(self, s_lo: int, s_hi: int, ids: np.ndarray, gap: np.ndarray, reach: np.ndarray) -> None:
        """Exact distances of every row to its sub-block's nearest pick (lower-bound coordinates)."""
        idx = self.index
        d2 = gap + np.square(reach)[None, :]  # squared lower-bound distance pick -> centre
        near = np.argmin(d2, axis=0)  # per sub-block
        # Only sub-blocks whose distances are still unknown (never reached, or only "far"), and
        # whose nearest pick can actually be within the cap.
        unknown = self.sub_bound[s_lo:s_hi] >= min(self.cap, _FAR)
        close = d2[near, np.arange(s_hi - s_lo)] < np.square(min(self.cap, _FAR))
        hit = np.flatnonzero(unknown & close & (gap < 0.0).any(axis=0))
        if len(hit) == 0:
            return
        uniq, which = np.unique(near[hit], return_inverse=True)
        starts = idx.sub_starts[s_lo + hit]
        lens = idx.sub_starts[s_lo + hit + 1] - starts
        offsets = np.concatenate([[0], np.cumsum(lens)[:-1]])
        pos = np.repeat(starts - offsets, lens) + np.arange(int(lens.sum()))
        col = np.repeat(which, lens)
        dots = idx.vectors(pos) @ self.centers[ids[uniq]].T
        self.pairs_exact += dots.size
        d = np.sqrt(np.maximum(2.0 - 2.0 * dots[np.arange(len(pos)), col], 0.0))
        self.mind[pos] = np.minimum(self.mind[pos], d)
        mind = self.mind[pos]
        self.sub_bound[s_lo + hit] = np.maximum.reduceat(mind, offsets)
        reach_rows = np.minimum(np.minimum(mind, self.cap), _FAR) + idx.to_sub[pos]
        self.sub_reach[s_lo + hit] = np.maximum.reduceat(reach_rows, offsets)

    def _exact_update(self, pos: np.ndarray, rows_need: np.ndarray, need: np.ndarray, ids: np.ndarray) -> bool:
        """Exact distances for the (row, pick) pairs that survived screening; returns True if any shrank.

        One matrix product over (rows needing something) x (picks needed by someone) wastes
        work when the needed pairs are sparse, so rows are cut into consecutive groups
        (rows of nearby sub-blocks) and every group only meets the picks it needs.
        """
        n_groups = int(min(8, max(1, len(rows_need) // 64)))
        step = int(np.ceil(len(rows_need) / n_groups))
        changed = False
        for start in range(0, len(rows_need), step):
            group = rows_need[start : start + step]
            picks = ids[need[:, group].any(axis=1)]
            rows = pos[group]
            d2 = 2.0 - 2.0 * (self.index.vectors(rows) @ self.centers[picks].T)
            new = np.sqrt(np.maximum(d2.min(axis=1), 0.0))
            self.pairs_exact += d2.size
            old = self.mind[rows]
            better = new < old
            if better.any():
                changed = True
                self.mind[rows[better]] = new[better]
        return changed

    def refresh_all(self) -> None:
        for b in np.flatnonzero(self.applied < self.n_centers).tolist():
            self.refresh(b)
