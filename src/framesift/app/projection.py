"""2-D map of the embeddings for the explorer: PCA by default, UMAP when installed and asked.

Computed once per embedding set (same frames, same vectors) and cached as a .npy under
``WORKSPACE/cache/maps/``; coordinates are scaled to [0, 1].
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging

import numpy as np

from framesift.store.embeddings import EmbeddingMatrix
from framesift.util.atomic import write_npy
from framesift.workspace import Workspace

log = logging.getLogger(__name__)
PCA_FIT_ROWS = 50_000  # PCA axes from a sample; every row is then projected


def project(vectors: np.ndarray, method: str = "pca", seed: int = 0) -> np.ndarray:
    """(N, d) -> (N, 2) float32 in [0, 1]."""
    n = len(vectors)
    if n == 0:
        return np.zeros((0, 2), np.float32)
    if method == "umap" and n >= 5:
        import umap

        xy = umap.UMAP(n_components=2, random_state=seed, n_jobs=1, n_neighbors=min(15, n - 1)).fit_transform(
            np.asarray(vectors, np.float32))
    else:
        xy = _pca(np.asarray(vectors), seed)
    xy = np.asarray(xy, np.float64)
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    return ((xy - lo) / np.where(hi > lo, hi - lo, 1.0)).astype(np.float32)


def _pca(vectors: np.ndarray, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if len(vectors) > PCA_FIT_ROWS:
        sample = np.asarray(vectors[np.sort(rng.choice(len(vectors), PCA_FIT_ROWS, replace=False))], np.float32)
    else:
        sample = np.asarray(vectors, np.float32)
    mean = sample.mean(axis=0)
    out = np.zeros((len(vectors), 2), np.float32)
    if len(sample) < 3:
        return out
    axes = top_axes(sample - mean, 2, rng)
    for start in range(0, len(vectors), 65536):
        out[start : start + 65536] = (np.asarray(vectors[start : start + 65536], np.float32) - mean) @ axes.T
    return out


def top_axes(centred: np.ndarray, k: int, rng: np.random.Generator, power_iterations: int = 4) -> np.ndarray:
    """Top-k principal axes by a randomized range finder (O(N·d·k), no d×d matrix); signs fixed."""
    width = min(k + 8, *centred.shape)
    basis = centred @ rng.standard_normal((centred.shape[1], width)).astype(np.float32)
    for _ in range(power_iterations):
        basis, _ = np.linalg.qr(basis)
        basis, _ = np.linalg.qr(centred.T @ basis)
        basis = centred @ basis
    basis, _ = np.linalg.qr(basis)
    _, _, vt = np.linalg.svd(basis.T @ centred, full_matrices=False)
    axes = vt[:k]
    if len(axes) < k:
        axes = np.vstack([axes, np.zeros((k - len(axes), centred.shape[1]), axes.dtype)])
    signs = np.sign(axes[np.arange(k), np.abs(axes).argmax(axis=1)])
    return (axes * np.where(signs == 0, 1, signs)[:, None]).astype(np.float32)


def cached_projection(workspace: Workspace, key: str, matrix: EmbeddingMatrix, method: str = "pca") -> np.ndarray:
    if method == "umap" and importlib.util.find_spec("umap") is None:
        log.warning("umap-learn is not installed: using PCA for the map")
        method = "pca"
    digest = hashlib.blake2b(digest_size=8)
    digest.update(np.ascontiguousarray(matrix.frame_ids).tobytes())
    digest.update(str(matrix.vectors.shape).encode())
    step = max(1, len(matrix) // 256)
    digest.update(np.ascontiguousarray(np.asarray(matrix.vectors[::step], np.float32)).tobytes())
    path = workspace.cache_dir / "maps" / f"{key}-{method}-{digest.hexdigest()}.npy"
    if path.exists():
        xy = np.load(path)
        if xy.shape == (len(matrix), 2):
            return xy
    xy = project(matrix.vectors, method)
    write_npy(path, xy)
    return xy
