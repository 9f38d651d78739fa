"""Uncertainty of class-probability vectors, each rescaled to [0, 1] like LightlyOne.

0 means the model put all mass on one class, 1 means all classes are equally likely. Raw
values are mapped linearly between those two extremes (least confidence spans
``[0, 1 - 1/C]``, entropy ``[0, log2 C]``, margin already spans ``[0, 1]``) and clipped.
A single-column input is read as binary ``[p, 1 - p]``.
"""

from __future__ import annotations

import numpy as np

CLASSIFICATION_SCORES = ("uncertainty_least_confidence", "uncertainty_margin", "uncertainty_entropy")


def _as_matrix(probabilities: np.ndarray) -> np.ndarray:
    probs = np.asarray(probabilities, dtype=np.float64)
    if probs.ndim == 1:
        probs = probs[None, :]
    if probs.ndim != 2 or probs.shape[1] == 0:
        raise ValueError(f"probabilities must be (N, C) with C >= 1, got shape {probs.shape}")
    if probs.shape[1] == 1:
        probs = np.concatenate([probs, 1.0 - probs], axis=1)
    return probs


def least_confidence(probabilities: np.ndarray) -> np.ndarray:
    """``1 - max(p)``, divided by its maximum ``1 - 1/C``."""
    probs = _as_matrix(probabilities)
    top = 1.0 - 1.0 / probs.shape[1]
    return np.clip((1.0 - probs.max(axis=1)) / top, 0.0, 1.0)


def margin(probabilities: np.ndarray) -> np.ndarray:
    """``1 - (p_first - p_second)``: high when the two best classes are close."""
    probs = _as_matrix(probabilities)
    two = np.partition(probs, -2, axis=1)[:, -2:]
    return np.clip(1.0 - (two[:, 1] - two[:, 0]), 0.0, 1.0)


def entropy(probabilities: np.ndarray) -> np.ndarray:
    """Shannon entropy in bits, divided by ``log2 C``."""
    probs = _as_matrix(probabilities)
    logs = np.zeros_like(probs)
    np.log2(probs, out=logs, where=probs > 0)
    raw = -(probs * logs).sum(axis=1)
    return np.clip(raw / np.log2(probs.shape[1]), 0.0, 1.0)


def classification_scores(probabilities: np.ndarray) -> dict[str, np.ndarray]:
    """All three uncertainty scores of (N, C) probabilities, keyed by LightlyOne's names."""
    return {
        "uncertainty_least_confidence": least_confidence(probabilities),
        "uncertainty_margin": margin(probabilities),
        "uncertainty_entropy": entropy(probabilities),
    }
