"""k-center greedy (farthest-first traversal): the fast algorithm and the plain reference.

``kcenter_greedy`` runs the same greedy loop as ``select`` with a single DIVERSITY strategy
(and optional WEIGHTS). With ``cap=None`` it makes exactly the picks of
``exact_kcenter_greedy`` (up to float ties) while computing far fewer distances (see
:mod:`.coverage`).

Distance cap. Early on, while the farthest frame is about as far as unrelated shots are
from each other, no bound can rule a pair out and every pick costs a pass over the data.
With a cap ``C`` all distances ``>= C`` count as equal ("far enough"): the greedy first
builds a C-net (any frame at least ``C`` from all picks, ties broken by the other
objectives, then by order), then continues as exact greedy below ``C``. Pairs that cannot be
closer than ``C`` are never computed. If the net completes (every frame within ``C``), the
picks are pairwise at least as far apart as the final radius ``R``, so the classic
farthest-first guarantee ``R <= 2 * optimum`` still holds. ``cap="auto"`` estimates the
final radius with the exact greedy on one medoid row per sub-block (~1/48 of the rows, all
shots still represented, same k). That dense pilot underestimates the final radius, so the
cap is 1.4 times its radius for DIVERSITY alone (the net completes; if not, the run is
repeated with a larger cap) and 1.25 times when other objectives (WEIGHTS, BALANCE, ...)
multiply the distance: they decide among frames that far apart anyway, and the smaller cap
saves a fifth of the time at the same covering radius (BENCHMARKS.md).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from framesift.util.threads import single_blas_thread

from .blocks import BlockIndex, build_block_index
from .coverage import Coverage
from .greedy import DiversityTerm, Greedy
from .objectives import FLOOR, weights_objective

_BRUTE_FORCE_PAIRS = 2e8  # covering_radius computes all pairs below this many
AUTO_CAP_MIN_ROWS = 100_000  # below this, "auto" means exact (no cap): it is fast enough
AUTO_CAP_MIN_PICKS = 500
AUTO_CAP_MARGIN = 1.4  # DIVERSITY alone: the C-net must complete (guarantee, no rerun)
AUTO_CAP_MARGIN_COMBINED = 1.25  # with WEIGHTS/BALANCE/...: they decide among frames this far apart
AUTO_CAP_RETRY = 1.3


def _unit_rows(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norms, 1e-12)


def medoid_rows(index: BlockIndex) -> np.ndarray:
    """Sorted positions of one row per sub-block: the one nearest its centre."""
    order = np.lexsort([index.to_sub, index.sub_of])
    first = np.r_[0, np.flatnonzero(np.diff(index.sub_of[order])) + 1]
    return np.sort(order[first])


def estimate_cap(index: BlockIndex, k: int, *, seed: int = 0, margin: float = AUTO_CAP_MARGIN) -> float:
    """Distance cap for ``k`` picks over the rows of ``index`` (see module docstring)."""
    med = medoid_rows(index)
    k_pilot = min(k, len(med) // 2)
    if k_pilot < 2:
        return float("inf")
    pilot = build_block_index(index.vectors(med), seed=seed)
    coverage = Coverage(pilot, capacity=k_pilot)
    greedy = Greedy(np.zeros(len(med)), diversity=DiversityTerm("DIVERSITY", 1.0, pilot, coverage))
    with single_blas_thread():
        for _ in range(k_pilot):
            pos = greedy.next_pick()
            if pos is None:
                break
            greedy.commit(pos)
        greedy.refresh_all()
    return margin * float(coverage.mind.max())


def net_complete(greedy: Greedy) -> bool:
    """True when no row is still at least ``cap`` from every pick (the capped greedy is exact again)."""
    cov = greedy.div.coverage
    if not np.isfinite(cov.cap):
        return True
    while True:
        ub = cov.block_upper_bound()
        b = int(np.argmax(ub))
        if ub[b] < cov.cap:
            return True
        if not cov.is_stale(b):
            lo, hi = cov.index.starts[b], cov.index.starts[b + 1]
            return bool((cov.mind[lo:hi][greedy.avail[lo:hi]] < cov.cap).all())
        cov.refresh(b)


def resolve_cap(
    cap: float | str | None, index: BlockIndex, k: int, seed: int = 0, *, combined: bool = False
) -> float:
    """Numeric cap from the user setting: None = exact (inf), "auto" = pilot estimate, or a number.

    ``combined``: other objectives multiply the distance (smaller margin, see module docstring)."""
    if cap is None:
        return float("inf")
    if cap == "auto":
        if len(index.rows) < AUTO_CAP_MIN_ROWS or k < AUTO_CAP_MIN_PICKS:
            return float("inf")
        return estimate_cap(index, k, seed=seed, margin=AUTO_CAP_MARGIN_COMBINED if combined else AUTO_CAP_MARGIN)
    return float(cap)


def kcenter_greedy(
    embeddings: np.ndarray,
    k: int,
    *,
    seed_mask: np.ndarray | None = None,
    weights: np.ndarray | None = None,
    block_size: int = 1024,
    seed: int = 0,
    cap: float | str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """Indices of ``k`` rows chosen by k-center greedy, in pick order.

    ``seed_mask`` rows count as already picked (they are never returned); ``weights``
    multiplies the distance objective (LightlyOne DIVERSITY x WEIGHTS, both strength 1).
    Without seeds the first pick is the row with the largest weight (row 0 without weights).
    ``cap``: None = exact farthest-first; a number or "auto" = capped (module docstring).
    """
    n = embeddings.shape[0]
    seeds = np.zeros(n, bool) if seed_mask is None else np.asarray(seed_mask, bool)
    cand = np.flatnonzero(~seeds)
    k = min(k, len(cand))
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    index = build_block_index(embeddings, cand, block_size=block_size, seed=seed)
    to_cand = np.full(n, -1, dtype=np.int64)
    to_cand[cand] = np.arange(len(cand))
    index.rows = to_cand[index.rows]
    limit = resolve_cap(cap, index, k, seed, combined=weights is not None)
    seed_vecs = _unit_rows(embeddings[np.flatnonzero(seeds)]) if seeds.any() else None
    fixed = np.zeros(len(cand)) if weights is None else np.log(np.maximum(weights_objective(weights[cand]), FLOOR))
    while True:
        coverage = Coverage(index, capacity=k + int(seeds.sum()), cap=limit)
        if seed_vecs is not None:
            coverage.add_centers(seed_vecs)
        greedy = Greedy(fixed, diversity=DiversityTerm("DIVERSITY", 1.0, index, coverage))
        picks = np.empty(k, dtype=np.int64)
        done = k
        with single_blas_thread():
            for i in range(k):
                pos = greedy.next_pick()
                if pos is None:
                    done = i
                    break
                picks[i] = greedy.commit(pos)
                if progress is not None and (i + 1) % max(1, k // 100) == 0:
                    progress(i + 1, k)
            complete = cap != "auto" or net_complete(greedy)
        if complete:
            return cand[picks[:done]]
        limit *= AUTO_CAP_RETRY  # the estimate was too small: the net did not complete


def exact_kcenter_greedy(
    embeddings: np.ndarray,
    k: int,
    *,
    seed_mask: np.ndarray | None = None,
    weights: np.ndarray | None = None,
    chunk: int = 65536,
) -> np.ndarray:
    """Plain k-center greedy: after every pick, distances from the pick to all rows (reference)."""
    x = np.asarray(embeddings, dtype=np.float32)
    n = len(x)
    seeds = np.zeros(n, bool) if seed_mask is None else np.asarray(seed_mask, bool)
    mind = np.full(n, np.inf, dtype=np.float32)
    for s in np.flatnonzero(seeds):
        np.minimum(mind, np.sqrt(np.maximum(2.0 - 2.0 * (x @ x[s]), 0.0)), out=mind)
    fixed = None if weights is None else np.log(np.maximum(weights_objective(weights), FLOOR))
    mind[seeds] = -1.0  # sentinel: never a candidate
    picks = []
    for _ in range(min(k, int((~seeds).sum()))):
        if fixed is None:
            p = int(np.argmax(mind))
        else:
            score = fixed + np.log(np.clip(mind / 2.0, FLOOR, 1.0))
            score[mind < 0] = -np.inf
            p = int(np.argmax(score))
        picks.append(p)
        for lo in range(0, n, chunk):
            part = x[lo : lo + chunk]
            np.minimum(mind[lo : lo + chunk], np.sqrt(np.maximum(2.0 - 2.0 * (part @ x[p]), 0.0)), out=mind[lo : lo + chunk])
        mind[p] = -1.0
    return np.asarray(picks, dtype=np.int64)


def covering_radius(embeddings: np.ndarray, picks: np.ndarray, *, seed: int = 0) -> float:
    """Exact max over rows of the distance to the nearest pick (pruned like the fast greedy)."""
    picks = np.asarray(picks, dtype=np.int64)
    n = embeddings.shape[0]
    if len(picks) == 0:
        return float("inf")
    centers = _unit_rows(embeddings[picks])
    if float(n) * len(picks) <= _BRUTE_FORCE_PAIRS:
        x = _unit_rows(embeddings)
        worst = 0.0
        for lo in range(0, n, 16384):
            d2 = 2.0 - 2.0 * (x[lo : lo + 16384] @ centers.T)
            worst = max(worst, float(d2.min(axis=1).max()))
        return float(np.sqrt(max(worst, 0.0)))
    index = build_block_index(embeddings, seed=seed)
    coverage = Coverage(index, capacity=len(picks))
    coverage.add_centers(centers)
    with single_blas_thread():
        coverage.refresh_all()
    return float(coverage.mind.max())
