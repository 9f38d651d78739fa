"""Per-frame objectives that do not change while selecting: WEIGHTS, SIMILARITY, TYPICALITY, THRESHOLD.

All objectives are scaled to [0, 1] (1 = best) because the combined score is a product of
``objective ** strength``: scaling one strategy by a constant does not change the order
(LightlyOne's argument for the product), but a shift would, so negative inputs are shifted.
"""

from __future__ import annotations

import numpy as np

from framesift.config.selection import ThresholdOperation

FLOOR = 1e-12  # smallest objective; keeps log() finite so "0" is "last", not "never"


def weights_objective(values: np.ndarray) -> np.ndarray:
    """WEIGHTS: ``value / max`` for non-negative inputs (ratios kept), min-max otherwise; NaN -> 0."""
    v = np.asarray(values, dtype=np.float64)
    ok = np.isfinite(v)
    out = np.zeros(len(v))
    if not ok.any():
        return out
    lo, hi = v[ok].min(), v[ok].max()
    if lo >= 0:
        out[ok] = v[ok] / hi if hi > 0 else 1.0
    else:
        out[ok] = (v[ok] - lo) / (hi - lo) if hi > lo else 1.0
    return out


def threshold_mask(values: np.ndarray, threshold: float, op: ThresholdOperation) -> np.ndarray:
    """True where the value passes; missing values (NaN) never pass."""
    v = np.asarray(values, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        if op is ThresholdOperation.SMALLER:
            return v < threshold
        if op is ThresholdOperation.SMALLER_EQUAL:
            return v <= threshold
        if op is ThresholdOperation.BIGGER:
            return v > threshold
        return v >= threshold


def similarity_objective(emb: np.ndarray, queries: np.ndarray, chunk: int = 65536) -> np.ndarray:
    """SIMILARITY: ``1 - min_q |x - q| / 2`` in [0, 1] (1 = identical to a query)."""
    q = np.asarray(queries, dtype=np.float32)
    q = q / np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-12)
    out = np.empty(len(emb))
    for lo in range(0, len(emb), chunk):
        part = np.asarray(emb[lo : lo + chunk], dtype=np.float32)
        best = (part @ q.T).max(axis=1)
        out[lo : lo + chunk] = 1.0 - np.sqrt(np.maximum(2.0 - 2.0 * best, 0.0)) / 2.0
    return out


def typicality_objective(
    emb: np.ndarray, k: int, *, groups: list[np.ndarray] | None = None, chunk: int = 4096
) -> np.ndarray:
    """TYPICALITY: inverse mean distance to the ``k`` nearest neighbours, scaled to (0, 1].

    Exact for small inputs. For large inputs pass ``groups`` (e.g. the blocks of a
    :class:`~.blocks.BlockIndex`, compact clusters): neighbours are then searched inside the
    frame's group only, an approximation that is good when groups are clusters.
    """
    n = len(emb)
    groups = groups or [np.arange(n)]
    mean_dist = np.empty(n)
    for g in groups:
        x = np.asarray(emb[g], dtype=np.float32)
        kk = min(k, len(g) - 1)
        if kk <= 0:
            mean_dist[g] = np.inf
            continue
        for lo in range(0, len(g), chunk):
            d2 = 2.0 - 2.0 * (x[lo : lo + chunk] @ x.T)
            rows = np.arange(lo, min(lo + chunk, len(g)))
            d2[rows - lo, rows] = np.inf  # not your own neighbour
            near = np.partition(d2, kk - 1, axis=1)[:, :kk]
            mean_dist[g[rows]] = np.sqrt(np.maximum(near, 0.0)).mean(axis=1)
    typ = 1.0 / np.maximum(mean_dist, 1e-6)
    typ[~np.isfinite(mean_dist)] = 0.0
    top = typ.max(initial=0.0)
    return typ / top if top > 0 else np.ones(n)


def log_objective(obj: np.ndarray, strength: float) -> np.ndarray:
    return strength * np.log(np.maximum(obj, FLOOR))
