"""The four Video-Annotator feeds and the review order, on score arrays (pure numpy, no I/O).

After each build the user sees unlabeled frames from four angles: the most confident positives
(precision check), the most confident negatives (recall check: missed positives hide here), the
borderline frames nearest the decision boundary (what the model is unsure about) and a random
sample (an unbiased view of the collection). Labeling any of them and rebuilding closes the loop.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FEEDS = ("positive", "negative", "borderline", "random")
THRESHOLD = 0.5


def build_feeds(
    scores: np.ndarray, labeled: np.ndarray, *, n: int = 24, seed: int = 0, threshold: float = THRESHOLD
) -> dict[str, np.ndarray]:
    """Positions (into ``scores``) of up to ``n`` unlabeled frames per feed, best first.

    ``labeled`` is a boolean mask of frames that already carry a label for the concept.
    Ties are broken by position so the feeds are deterministic for a given model and seed.
    """
    scores = np.asarray(scores, np.float64)
    labeled = np.asarray(labeled, bool)
    if scores.shape != labeled.shape:
        raise ValueError(f"scores {scores.shape} and labeled mask {labeled.shape} differ")
    pool = np.flatnonzero(~labeled & np.isfinite(scores))
    n = max(0, int(n))
    s = scores[pool]
    out = {
        "positive": pool[np.lexsort((pool, -s))][:n],
        "negative": pool[np.lexsort((pool, s))][:n],
        "borderline": pool[np.lexsort((pool, np.abs(s - threshold)))][:n],
    }
    rng = np.random.default_rng(seed)
    out["random"] = rng.permutation(pool)[:n] if len(pool) else pool
    return out


@dataclass
class ReviewItem:
    position: int  # index into the label arrays given to review_order
    value: int
    score: float
    disagrees: bool


def review_order(values: np.ndarray, scores: np.ndarray, *, threshold: float = THRESHOLD) -> list[ReviewItem]:
    """All labels, the model's disagreements first, worst first; then agreements, least sure first.

    ``scores`` should be held-out (out-of-fold) scores where available: a model always agrees
    with most of the labels it was fitted on, so in-sample scores hide label mistakes.
    Labels without a score (NaN) come last.
    """
    values = np.asarray(values, np.int64)
    scores = np.asarray(scores, np.float64)
    known = np.isfinite(scores)
    gap = np.where(known, np.abs(values - np.where(known, scores, 0.0)), -1.0)
    disagrees = known & ((scores >= threshold).astype(np.int64) != values)
    order = np.lexsort((np.arange(len(values)), -gap, ~disagrees))
    return [ReviewItem(int(i), int(values[i]), float(scores[i]), bool(disagrees[i])) for i in order]


def evenly_spaced(start: int, stop: int, count: int) -> np.ndarray:
    """``count`` integers spread evenly over [start, stop] inclusive (all of them if fewer)."""
    if stop < start or count <= 0:
        return np.zeros(0, np.int64)
    span = stop - start + 1
    if count >= span:
        return np.arange(start, stop + 1, dtype=np.int64)
    return np.unique(np.round(np.linspace(start, stop, count)).astype(np.int64))
