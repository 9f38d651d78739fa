"""Build a concept: train on its labels, estimate held-out AP, store the model, score every frame."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from framesift.loop.annotator import DEFAULT_C, TrainingError, estimate_ap, train_classifier
from framesift.loop.concepts import StoredModel, frame_labels, latest_model, save_model
from framesift.store.catalog import Catalog
from framesift.store.embeddings import EmbeddingMatrix


@dataclass
class BuildResult:
    model: StoredModel
    scores: np.ndarray  # (N,) score of every row of the embedding matrix
    n_labels_without_embedding: int


def rows_of(matrix: EmbeddingMatrix, frame_ids: np.ndarray) -> np.ndarray:
    """Row of each frame id in the matrix (-1 when the frame has no embedding)."""
    frame_ids = np.asarray(frame_ids, np.int64)
    if len(matrix) == 0:
        return np.full(len(frame_ids), -1, np.int64)
    order = np.argsort(matrix.frame_ids, kind="stable")
    ids_sorted = matrix.frame_ids[order]
    idx = np.minimum(np.searchsorted(ids_sorted, frame_ids), len(ids_sorted) - 1)
    return np.where(ids_sorted[idx] == frame_ids, order[idx], -1)


def build_concept(
    catalog: Catalog, concept_id: int, matrix: EmbeddingMatrix, embedder: str, *, c: float = DEFAULT_C, seed: int = 0
) -> BuildResult:
    """Train on the concept's whole-frame labels; raises TrainingError with a user-facing reason."""
    frame_ids, values = frame_labels(catalog, concept_id)
    rows = rows_of(matrix, frame_ids)
    has = rows >= 0
    if not has.any():
        raise TrainingError("no labeled frame has an embedding yet: label frames first (or run `framesift embed`)")
    x = np.asarray(matrix.vectors[rows[has]], np.float32)
    y = values[has]
    classifier = train_classifier(x, y, c=c, embedder=embedder)
    estimate = estimate_ap(x, y, c=c, seed=seed)
    oof = dict(zip(frame_ids[has].tolist(), estimate.oof_scores.tolist(), strict=True))
    save_model(catalog, concept_id, classifier, estimate, oof)
    stored = latest_model(catalog, concept_id)
    assert stored is not None
    return BuildResult(stored, classifier.score(matrix.vectors), int((~has).sum()))
