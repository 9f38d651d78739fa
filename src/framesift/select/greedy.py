"""The greedy loop: pick the candidate maximising ``sum_i strength_i * log(objective_i)``.

That sum is the log of LightlyOne's ``prod(objective_i ** strength_i)``. Fixed objectives
(WEIGHTS, SIMILARITY, TYPICALITY, RANDOM) are pre-summed into ``F``; DIVERSITY depends on
the picks so far and BALANCE on the class counts so far.

Candidates are laid out in *segments*: contiguous runs of rows that share a sub-block (when
there is DIVERSITY) and the BALANCE group of every BALANCE strategy. Each segment keeps an
upper bound of ``F + s_div * log(diversity)`` over its rows; with the BALANCE term, which
is constant inside a segment for categorical inputs, this bounds every row's score. The
argmax runs over segments (tens of thousands, not millions of rows); only the winning
segment is looked at row by row, and only stale blocks of the DIVERSITY coverage are
brought up to date (see :mod:`.coverage`). The result is the same as evaluating every row
every time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .balance import BalanceTerm
from .blocks import BlockIndex
from .coverage import Coverage
from .objectives import FLOOR

_CHUNK_ROWS = 1024  # rows per pseudo-block without DIVERSITY


@dataclass
class DiversityTerm:
    label: str
    strength: float
    index: BlockIndex  # rows = candidate numbers
    coverage: Coverage
    min_distance: float | None = None
    labels: list[str] | None = None  # all DIVERSITY strategies folded into this one

    @property
    def lazy(self) -> bool:
        """Stale distances over-estimate, which bounds the score only for a positive strength."""
        return self.strength > 0


def _runs(keys: list[np.ndarray], n: int) -> np.ndarray:
    """Start positions of maximal runs where all ``keys`` are constant, plus ``n``."""
    change = np.zeros(n, dtype=bool)
    if n == 0:
        return np.zeros(1, dtype=np.int64)
    change[0] = True
    for k in keys:
        change[1:] |= k[1:] != k[:-1]
    return np.concatenate([np.flatnonzero(change), [n]]).astype(np.int64)


class Greedy:
    """State of one selection; call :meth:`next_pick` then :meth:`commit` until done."""

    def __init__(
        self,
        fixed_log: np.ndarray,
        *,
        diversity: DiversityTerm | None = None,
        balances: list[BalanceTerm] | None = None,
    ):
        n = len(fixed_log)
        self.n = n
        self.div = diversity
        self.bal = balances or []
        keys_cand = [b.sort_key() for b in self.bal]
        if diversity is not None:
            idx = diversity.index
            cand_at = idx.rows.astype(np.int64)
            block_of_pos = idx.block_of.astype(np.int64)
            keys_pos = [idx.sub_of] + [k[cand_at] for k in keys_cand]
            self.block_starts = idx.starts
        else:
            cand_at = np.lexsort([np.arange(n), *reversed(keys_cand)]) if keys_cand else np.arange(n)
            block_of_pos = np.arange(n) // _CHUNK_ROWS
            keys_pos = [block_of_pos] + [k[cand_at] for k in keys_cand]
            self.block_starts = np.concatenate([np.arange(0, n, _CHUNK_ROWS), [n]]).astype(np.int64)
        self.cand_at = cand_at
        self.pos_of = np.empty(n, dtype=np.int64)
        self.pos_of[cand_at] = np.arange(n)
        self.seg_start = _runs(keys_pos, n)
        n_seg = len(self.seg_start) - 1
        self.seg_of_pos = np.repeat(np.arange(n_seg), np.diff(self.seg_start))
        self.seg_block = block_of_pos[self.seg_start[:-1]] if n else np.zeros(0, dtype=np.int64)
        self.block_seg = np.searchsorted(self.seg_block, np.arange(len(self.block_starts)))

        self.F = np.asarray(fixed_log, dtype=np.float64)[cand_at]
        self.avail = np.ones(n, dtype=bool)
        self.G = self.F.copy()
        self.segG = np.maximum.reduceat(self.G, self.seg_start[:-1]) if n else np.zeros(0)
        self.segF = self.segG.copy()  # static: max fixed part (bounds with the coverage's block bound)
        self.removed_by_distance = np.zeros(n, dtype=bool)
        self.n_picked = 0
        self._seg_balance = [self._balance_layout(b) for b in self.bal]
        self._all_one_hot = all(b.one_hot for b in self.bal)
        self._round_weights: list[np.ndarray] = []
        self._round_bounds: list[np.ndarray] = []

    # -- layout helpers --------------------------------------------------------------------
    def _balance_layout(self, term: BalanceTerm):
        """Per segment: the group (categorical) or the columns present (vector) for the bound."""
        if term.one_hot:
            return term.group_of[self.cand_at[self.seg_start[:-1]]]
        present = np.logical_or.reduceat(term.fractions[self.cand_at] > 0, self.seg_start[:-1], axis=0)
        seg, col = np.nonzero(present)
        ptr = np.searchsorted(seg, np.arange(len(self.seg_start)))
        return ptr, col

    def _balance_bounds(self, j: int, weights: np.ndarray) -> np.ndarray:
        """Upper bound of BALANCE strategy ``j``'s log objective in every segment this round."""
        layout = self._seg_balance[j]
        if self.bal[j].one_hot:
            return weights[layout]
        ptr, col = layout
        return np.maximum.reduceat(weights[col], ptr[:-1]) if len(col) else np.zeros(len(ptr) - 1)

    def _diversity_log(self, pos_lo: int, pos_hi: int) -> np.ndarray:
        cov = self.div.coverage
        mind = np.minimum(cov.mind[pos_lo:pos_hi], cov.cap)
        return np.log(np.clip(mind / 2.0, FLOOR, 1.0))

    # -- keeping segment bounds current ----------------------------------------------------
    def _update_rows(self, lo: int, hi: int) -> None:
        """Recompute G for positions [lo, hi) (one block) and the bounds of their segments."""
        g = self.F[lo:hi].copy()
        if self.div is not None and self.div.strength != 0:
            g += self.div.strength * self._diversity_log(lo, hi)
            if self.div.min_distance is not None:
                close = self.div.coverage.mind[lo:hi] < self.div.min_distance
                self.removed_by_distance[lo:hi] |= close
        g[~self.avail[lo:hi] | self.removed_by_distance[lo:hi]] = -np.inf
        self.G[lo:hi] = g
        s_lo, s_hi = self.seg_of_pos[lo], self.seg_of_pos[hi - 1] + 1
        self.segG[s_lo:s_hi] = np.maximum.reduceat(self.G[lo:hi], self.seg_start[s_lo:s_hi] - lo)

    def _update_block(self, b: int) -> None:
        self._update_rows(int(self.block_starts[b]), int(self.block_starts[b + 1]))

    def _refresh_segments(self, segs: np.ndarray) -> None:
        for s in np.unique(segs).tolist():
            lo, hi = self.seg_start[s], self.seg_start[s + 1]
            self.segG[s] = self.G[lo:hi].max()

    def make_unavailable(self, cands: np.ndarray) -> None:
        """Candidates that may not be picked any more (constraints)."""
        if len(cands) == 0:
            return
        pos = self.pos_of[np.asarray(cands, dtype=np.int64)]
        pos = pos[self.avail[pos]]
        if len(pos) == 0:
            return
        self.avail[pos] = False
        self.G[pos] = -np.inf
        self._refresh_segments(self.seg_of_pos[pos])

    # -- scoring ---------------------------------------------------------------------------
    def _segment_bounds(self, segs: slice | np.ndarray) -> np.ndarray:
        ub = self.segG[segs].copy()
        div = self.div
        if div is not None and div.lazy and div.coverage.n_centers:
            dub = np.log(np.clip(div.coverage.block_upper_bound() / 2.0, FLOOR, 1.0))
            ub = np.minimum(ub, self.segF[segs] + div.strength * dub[self.seg_block[segs]])
        for bound in self._round_bounds:
            ub += bound[segs]
        return ub

    def _row_scores(self, lo: int, hi: int) -> np.ndarray:
        score = self.G[lo:hi].copy()
        cand = self.cand_at[lo:hi]
        for term, w in zip(self.bal, self._round_weights, strict=True):
            score += term.row_log_objective(cand, w)
        return score

    def next_pick(self) -> int | None:
        """Position of the best candidate now, or None when no candidate is left."""
        if self.n == 0:
            return None
        self._round_weights = [b.strength * b.log_weights() for b in self.bal]
        self._round_bounds = [self._balance_bounds(j, w) for j, w in enumerate(self._round_weights)]
        div = self.div
        if div is not None and div.coverage.n_centers == 0 and self.n_picked == 0:
            return self._first_pick()
        tot = self._segment_bounds(slice(None))
        exact = np.zeros(len(tot), dtype=bool)
        while True:
            s = int(np.argmax(tot))
            if tot[s] == -np.inf:
                return None
            b = int(self.seg_block[s])
            if div is not None and div.coverage.is_stale(b):
                div.coverage.refresh(b)
                self._update_block(b)
                segs = slice(int(self.block_seg[b]), int(self.block_seg[b + 1]))
                tot[segs] = self._segment_bounds(segs)
                exact[segs] = False
                continue
            lo, hi = int(self.seg_start[s]), int(self.seg_start[s + 1])
            if self._all_one_hot:
                return lo + int(np.argmax(self.G[lo:hi]))
            scores = self._row_scores(lo, hi)
            if exact[s]:
                return lo + int(np.argmax(scores))
            tot[s] = scores.max()
            exact[s] = True

    def _first_pick(self) -> int | None:
        """No picks anywhere yet: every row's score is exact; ties go to the lowest candidate number."""
        score = self._row_scores(0, self.n)
        best = score.max(initial=-np.inf)
        if best == -np.inf:
            return None
        tied = np.flatnonzero(score == best)
        return int(tied[np.argmin(self.cand_at[tied])])

    def objectives_at(self, pos: int) -> tuple[float | None, list[float]]:
        """(DIVERSITY objective, BALANCE objectives) of the row at ``pos`` for this round."""
        d = None
        if self.div is not None:
            cov = self.div.coverage
            d = float(min(cov.mind[pos], cov.cap, 2.0) / 2.0)
        cand = self.cand_at[pos : pos + 1]
        bal = [
            float(np.exp(t.row_log_objective(cand, t.log_weights())[0]))
            for t in self.bal
        ]
        return d, bal

    def commit(self, pos: int) -> int:
        """Take the row at ``pos``; returns its candidate number."""
        cand = int(self.cand_at[pos])
        self.avail[pos] = False
        self.G[pos] = -np.inf
        self._refresh_segments(np.array([self.seg_of_pos[pos]]))
        for term in self.bal:
            term.add(cand)
        div = self.div
        if div is not None:
            div.coverage.add_centers(div.index.vectors(pos))
            if not div.lazy:  # scores of stale rows would not be upper bounds: update everything now
                stale = np.flatnonzero(div.coverage.applied < div.coverage.n_centers)
                for b in stale.tolist():
                    div.coverage.refresh(b)
                    self._update_block(b)
        self.n_picked += 1
        return cand

    def refresh_all(self) -> None:
        """Bring every block up to date (for exact end-of-run statistics)."""
        if self.div is None:
            return
        for b in np.flatnonzero(self.div.coverage.applied < self.div.coverage.n_centers).tolist():
            self.div.coverage.refresh(b)
            self._update_block(b)
