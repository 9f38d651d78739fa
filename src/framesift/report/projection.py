"""2-D maps of the embedding space (PCA, UMAP, t-SNE) on a bounded sample of frames.

PCA needs only numpy. UMAP (umap-learn) and t-SNE (scikit-learn) are optional: a missing
library or too few points gives a note instead of a map. All maps share one sample: every
selected frame first (up to the cap), then a seeded random draw of the others.
"""

from __future__ import annotations

import contextlib
import logging
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

log = logging.getLogger(__name__)

MAP_METHODS = ("pca", "umap", "tsne")
MAX_POINTS = 3000
# "auto" draws UMAP only from this many points on: below it t-SNE shows the same structure and
# UMAP's numba compilation (~10 s per process) would dominate the report time.
UMAP_AUTO_MIN_POINTS = 1000
TSNE_ITERATIONS = 400  # with angle 0.7: ~2x faster than sklearn's defaults, same clusters on screen
TSNE_ANGLE = 0.7
UMAP_EPOCHS = 200  # umap-learn uses 500 below 10,000 points; 200 lays out 3,000 points as well, 2x faster
TSNE_THREADED_FROM = 1000
MIN_POINTS = {"pca": 3, "umap": 16, "tsne": 10}
PRE_PCA_DIM = 50  # t-SNE/UMAP run on the top principal components: faster, same neighbourhoods


@dataclass
class EmbeddingMap:
    method: str  # "PCA" | "UMAP" | "t-SNE"
    coords: np.ndarray  # (m, 2), rows aligned with MapSet.rows
    detail: str = ""
    seconds: float = 0.0


@dataclass
class MapSet:
    rows: np.ndarray  # rows of the embedding matrix that are drawn
    maps: list[EmbeddingMap] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def sample_rows(n: int, priority: np.ndarray, cap: int, seed: int = 0) -> np.ndarray:
    """Up to ``cap`` distinct rows of ``range(n)``: ``priority`` rows first, then a random draw."""
    priority = np.asarray(priority, np.int64)
    priority = priority[(priority >= 0) & (priority < n)]
    first = np.array(list(dict.fromkeys(priority.tolist())), np.int64)[:cap]
    rest = np.setdiff1d(np.arange(n), first, assume_unique=False)
    room = min(cap - len(first), len(rest))
    extra = np.random.default_rng(seed).choice(rest, size=room, replace=False) if room > 0 else np.zeros(0, np.int64)
    return np.concatenate([first, np.sort(extra)]).astype(np.int64)


def pca(x: np.ndarray, k: int = 2, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Top-``k`` principal component scores and the explained-variance ratio of each.

    Randomized range finder with power iterations (Halko et al.): a few (n x d) @ (d x k+10)
    products instead of a full SVD, so 3,000 x 1,280 takes milliseconds, not seconds.
    """
    centered = np.asarray(x, np.float64) - np.mean(x, axis=0)
    n, d = centered.shape
    k_eff = min(k, n, d)
    width = min(k_eff + 10, n, d)
    q = centered @ np.random.default_rng(seed).normal(size=(d, width))
    for _ in range(3):
        q, _ = np.linalg.qr(q)
        q, _ = np.linalg.qr(centered @ (centered.T @ q))
    _, s, vt = np.linalg.svd(q.T @ centered, full_matrices=False)
    scores = centered @ vt[:k_eff].T
    if k_eff < k:
        scores = np.pad(scores, ((0, 0), (0, k - k_eff)))
    total = float(np.sum(centered**2))
    ratio = s[:k_eff] ** 2 / total if total > 0 else np.zeros(k_eff)
    return scores, ratio


def resolve_methods(methods: str | Sequence[str], n_points: int) -> tuple[list[str], list[str]]:
    """The map methods to draw and notes on the ones "auto" leaves out."""
    if isinstance(methods, str) and methods == "auto":
        if n_points >= UMAP_AUTO_MIN_POINTS:
            return list(MAP_METHODS), []
        return ["pca", "tsne"], [f"UMAP left out for {n_points:,} points (auto draws it from "
                                 f"{UMAP_AUTO_MIN_POINTS:,}); `framesift report --maps pca,umap,tsne` forces it"]
    chosen = [methods] if isinstance(methods, str) else list(methods)
    unknown = [m for m in chosen if m not in MAP_METHODS]
    if unknown:
        raise ValueError(f"unknown map method(s) {unknown}; choose from {MAP_METHODS} or 'auto'")
    return chosen, []


def build_maps(
    embeddings: np.ndarray, priority: np.ndarray, methods: str | Sequence[str] = "auto", *,
    max_points: int = MAX_POINTS, seed: int = 0,
) -> MapSet:
    rows = sample_rows(len(embeddings), priority, max_points, seed)
    methods, notes = resolve_methods(methods, len(rows))
    result = MapSet(rows, notes=notes)
    if len(embeddings) > len(rows):
        result.notes.append(f"maps show {len(rows):,} of {len(embeddings):,} frames (all selected frames first)")
    x = np.asarray(embeddings[rows], np.float32)
    reduced: np.ndarray | None = None
    for method in methods:
        if len(rows) < MIN_POINTS[method]:
            result.notes.append(f"{_title(method)} skipped: {len(rows)} points, needs at least {MIN_POINTS[method]}")
            continue
        start = time.perf_counter()
        if method == "pca":
            with single_threaded_blas():
                coords, ratio = pca(x)
            detail = f"explained variance {ratio.sum():.0%}"
        else:
            if reduced is None:
                with single_threaded_blas():
                    reduced = pca(x, min(PRE_PCA_DIM, x.shape[1]))[0].astype(np.float32)
            try:
                coords, detail = (_umap if method == "umap" else _tsne)(reduced, seed)
            except ImportError as err:
                result.notes.append(f"{_title(method)} skipped: {err.name or err} is not installed")
                continue
        result.maps.append(EmbeddingMap(_title(method), np.asarray(coords, np.float32), detail,
                                        time.perf_counter() - start))
    return result


def single_threaded_blas() -> contextlib.AbstractContextManager:
    """BLAS on one thread: these matrices are small, and threaded BLAS spin-waits badly on a busy
    machine (a 160 x 624 SVD took 2.5 s with 2 threads under load, 0.03 s with one)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def _title(method: str) -> str:
    return {"pca": "PCA", "umap": "UMAP", "tsne": "t-SNE"}[method]


def _umap(x: np.ndarray, seed: int) -> tuple[np.ndarray, str]:
    import umap

    n_neighbors = min(15, len(x) - 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = umap.UMAP(n_components=2, n_neighbors=n_neighbors, min_dist=0.1, random_state=seed,
                          n_epochs=UMAP_EPOCHS, init="random" if len(x) < 100 else "spectral")
        coords = model.fit_transform(x)
    return coords, f"n_neighbors {n_neighbors}"


def _tsne(x: np.ndarray, seed: int) -> tuple[np.ndarray, str]:
    from sklearn.manifold import TSNE
    from threadpoolctl import threadpool_limits

    perplexity = float(min(30.0, max(2.0, (len(x) - 1) / 3.0)))
    # small maps: one thread is as fast and immune to OpenMP spin-waiting on a busy machine
    threads = 1 if len(x) < TSNE_THREADED_FROM else None
    with warnings.catch_warnings(), threadpool_limits(limits=threads):
        warnings.simplefilter("ignore")
        model = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed, max_iter=TSNE_ITERATIONS,
                     angle=TSNE_ANGLE)
        coords = model.fit_transform(x)
    return coords, f"perplexity {perplexity:.0f}"
