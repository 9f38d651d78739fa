"""The embedder protocol: a model that turns a batch of RGB frames into unit vectors."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Embedder(Protocol):
    key: str  # storage key: embeddings of different keys never mix
    dim: int
    input_size: tuple[int, int]  # (width, height) the decoder resizes frames to

    def embed(self, images: np.ndarray) -> np.ndarray:
        """(B, H, W, 3) uint8 RGB at ``input_size`` -> (B, dim) float32, L2-normalised rows."""
        ...


def l2_normalise(vectors: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, eps)
