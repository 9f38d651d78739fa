"""One entry point: the scores of a whole task, whatever its type."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from framesift.scores.classification import classification_scores
from framesift.scores.detection import detection_scores


@dataclass
class TaskPredictions:
    """A task's predictions on ``n_frames`` frames as flat arrays.

    ``box_frame[k]`` is the frame position (0..n_frames-1) of singleton ``k``; ``frame_probabilities``
    (n_frames, C) holds a classification task's class probabilities, NaN rows where unknown.
    """

    task_type: str
    n_frames: int
    box_frame: np.ndarray
    box_score: np.ndarray
    box_category: np.ndarray
    box_probabilities: np.ndarray | None = None
    frame_probabilities: np.ndarray | None = None


def task_scores(predictions: TaskPredictions, **options: float) -> dict[str, np.ndarray]:
    """Score name -> per-frame values (length ``n_frames``) for a classification or detection task.

    A classification frame without probabilities counts as certain (all scores 0), the way a
    one-hot prediction would score.
    """
    if predictions.task_type == "classification":
        probs = predictions.frame_probabilities
        if probs is None:
            probs = np.full((predictions.n_frames, 1), np.nan)
        probs = np.asarray(probs, np.float64)
        known = ~np.isnan(probs).any(axis=1)
        out = {name: np.zeros(predictions.n_frames) for name in classification_scores(np.ones((1, 2)) / 2)}
        if known.any():
            for name, values in classification_scores(probs[known]).items():
                out[name][known] = values
        return out
    return detection_scores(
        predictions.box_frame,
        predictions.box_score,
        predictions.box_category,
        predictions.n_frames,
        probabilities=predictions.box_probabilities,
        **options,
    )
