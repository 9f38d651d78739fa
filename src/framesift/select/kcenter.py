"""k-center greedy (farthest-first traversal): the fast exact algorithm and the plain reference.

``kcenter_greedy`` runs the same greedy loop as ``select`` with a single DIVERSITY strategy
(and optional WEIGHTS), so it makes the same picks as ``exact_kcenter_greedy`` (up to float
ties) while computing far fewer distances; see :mod:`.coverage`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .blocks import build_block_index
from .coverage import Coverage
from .greedy import DiversityTerm, Greedy
from .objectives import FLOOR, weights_objective

_BRUTE_FORCE_PAIRS = 2e8  # covering_radius computes all pairs below this many


def _unit_rows(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norms, 1e-12)


def kcenter_greedy(
    embeddings: np.ndarray,
    k: int,
    *,
    seed_mask: np.ndarray | None = None,
    weights: np.ndarray | None = None,
    block_size: int = 1024,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """Indices of ``k`` rows chosen by k-center greedy, in pick order (fast, exact).

    ``seed_mask`` rows count as already picked (they are never returned); ``weights``
    multiplies the distance objective (LightlyOne DIVERSITY x WEIGHTS, both strength 1).
    Without seeds the first pick is the row with the largest weight (row 0 without weights).
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
    coverage = Coverage(index, capacity=k + int(seeds.sum()))
    if seeds.any():
        coverage.add_centers(_unit_rows(embeddings[np.flatnonzero(seeds)]))
    fixed = np.zeros(len(cand)) if weights is None else np.log(np.maximum(weights_objective(weights[cand]), FLOOR))
    greedy = Greedy(fixed, diversity=DiversityTerm("DIVERSITY", 1.0, index, coverage))
    picks = np.empty(k, dtype=np.int64)
    for i in range(k):
        pos = greedy.next_pick()
        if pos is None:
            return cand[picks[:i]]
        picks[i] = greedy.commit(pos)
        if progress is not None and (i + 1) % max(1, k // 100) == 0:
            progress(i + 1, k)
    return cand[picks]


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
    coverage.refresh_all()
    return float(coverage.mind.max())
