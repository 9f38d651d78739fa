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


CPU_BATCH_SIZE = 4  # CNN/ViT activations of small batches stay in cache: ~2x the frames/s of 32 on CPU
GPU_BATCH_SIZE = 64


def default_batch_size(embedder: object) -> int:
    """Frames per model call when the user sets none: small on CPU, large on an accelerator."""
    preferred = getattr(embedder, "preferred_batch_size", None)
    if preferred:
        return int(preferred)
    device = getattr(embedder, "device", None)
    kind = getattr(device, "type", device)
    return GPU_BATCH_SIZE if kind not in (None, "cpu") else CPU_BATCH_SIZE
