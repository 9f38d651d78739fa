"""Detection scores per frame from flat box arrays (one entry per box, ``frame`` = its frame).

LightlyOne's definitions:

* ``objectness_least_confidence`` = ``1 - mean(box scores)`` of the frame, 0 without boxes.
* ``object_frequency``: each class present counts 1 for its first box and
  ``frequency_penalty`` (0.25) for every further box; the per-frame sums are mapped linearly
  from [min, max] over all frames of the task to [``min_score``, 1] = [0.9, 1] (all 1.0 when
  every frame has the same sum). It prefers frames with many, varied objects.
* ``uncertainty_*`` (only when boxes carry class probabilities): the classification scores of
  each box, maximum over the frame's boxes, 0 without boxes.

framesift's additions, about how close box scores sit to the decision boundary:

* ``box_uncertainty_mean`` / ``box_uncertainty_max``: mean / max over the frame's boxes of
  ``1 - |2 * score - 1|`` (1 for a 0.5 score, 0 for a score of 0 or 1); 0 without boxes.
* ``low_confidence_count``: number of boxes with ``score < low_confidence`` (0.5).
"""

from __future__ import annotations

import numpy as np

from framesift.scores.classification import CLASSIFICATION_SCORES, classification_scores

DETECTION_SCORES = (
    "objectness_least_confidence",
    "object_frequency",
    "box_uncertainty_mean",
    "box_uncertainty_max",
    "low_confidence_count",
)


def _per_frame_mean(frame: np.ndarray, values: np.ndarray, n_frames: int) -> np.ndarray:
    counts = np.bincount(frame, minlength=n_frames).astype(np.float64)
    sums = np.bincount(frame, weights=values, minlength=n_frames)
    return np.divide(sums, counts, out=np.zeros(n_frames), where=counts > 0)


def _per_frame_max(frame: np.ndarray, values: np.ndarray, n_frames: int) -> np.ndarray:
    out = np.zeros(n_frames)  # values are >= 0, so 0 is the no-box default and a neutral start
    np.maximum.at(out, frame, values)
    return out


def objectness_least_confidence(frame: np.ndarray, scores: np.ndarray, n_frames: int) -> np.ndarray:
    """``1 - mean(score)`` over each frame's boxes; 0 for a frame without boxes."""
    frame = np.asarray(frame, np.int64)
    counts = np.bincount(frame, minlength=n_frames)
    mean = _per_frame_mean(frame, np.asarray(scores, np.float64), n_frames)
    return np.where(counts > 0, 1.0 - mean, 0.0)


def object_frequency(
    frame: np.ndarray, category: np.ndarray, n_frames: int, *, frequency_penalty: float = 0.25, min_score: float = 0.9
) -> np.ndarray:
    """Penalised object count per frame, scaled to [min_score, 1] across the frames given."""
    frame = np.asarray(frame, np.int64)
    category = np.asarray(category, np.int64)
    if n_frames == 0:
        return np.zeros(0)
    totals = np.bincount(frame, minlength=n_frames).astype(np.float64)
    if len(frame):
        low_cat = int(category.min())
        span = int(category.max()) - low_cat + 1
        pairs = np.unique(frame * span + (category - low_cat))  # one key per (frame, class) present
        distinct = np.bincount(pairs // span, minlength=n_frames).astype(np.float64)
    else:
        distinct = np.zeros(n_frames)
    value = distinct + frequency_penalty * (totals - distinct)
    low, high = value.min(), value.max()
    if high == low:
        return np.ones(n_frames)
    return min_score + (value - low) / (high - low) * (1.0 - min_score)


def box_uncertainty(scores: np.ndarray) -> np.ndarray:
    """``1 - |2s - 1|`` per box: 1 at score 0.5, 0 at 0 or 1."""
    return 1.0 - np.abs(2.0 * np.clip(np.asarray(scores, np.float64), 0.0, 1.0) - 1.0)


def detection_scores(
    frame: np.ndarray,
    scores: np.ndarray,
    category: np.ndarray,
    n_frames: int,
    *,
    probabilities: np.ndarray | None = None,
    frequency_penalty: float = 0.25,
    min_score: float = 0.9,
    low_confidence: float = 0.5,
) -> dict[str, np.ndarray]:
    """All detection scores for ``n_frames`` frames; ``probabilities`` is (K, C), NaN rows = none."""
    frame = np.asarray(frame, np.int64)
    scores = np.asarray(scores, np.float64)
    if len(frame) and (frame.min() < 0 or frame.max() >= n_frames):
        raise ValueError("box frame positions must lie in [0, n_frames)")
    known = ~np.isnan(scores)
    uncertainty = box_uncertainty(scores[known])
    out = {
        "objectness_least_confidence": objectness_least_confidence(frame[known], scores[known], n_frames),
        "object_frequency": object_frequency(
            frame, category, n_frames, frequency_penalty=frequency_penalty, min_score=min_score
        ),
        "box_uncertainty_mean": _per_frame_mean(frame[known], uncertainty, n_frames),
        "box_uncertainty_max": _per_frame_max(frame[known], uncertainty, n_frames),
        "low_confidence_count": np.bincount(frame[known][scores[known] < low_confidence], minlength=n_frames).astype(
            np.float64
        ),
    }
    if probabilities is not None and len(probabilities):
        probs = np.asarray(probabilities, np.float64)
        has = ~np.isnan(probs).any(axis=1)
        if has.any():
            per_box = classification_scores(probs[has])
            for name in CLASSIFICATION_SCORES:
                out[name] = _per_frame_max(frame[has], per_box[name], n_frames)
    return out
