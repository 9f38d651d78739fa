"""Pure numbers behind the selection report (no I/O): coverage distances, baseline selections,
distributions and per-pick attributions.

Kept free of catalog and plotting code so benchmarks (e.g. label efficiency) can reuse them on
plain arrays.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

METRICS = ("euclidean", "cosine")


# -- coverage ---------------------------------------------------------------------------------
def nearest_distances(
    points: np.ndarray,
    centers: np.ndarray,
    *,
    metric: str = "euclidean",
    chunk_rows: int = 4096,
    chunk_cols: int = 4096,
) -> np.ndarray:
    """Distance of every row of ``points`` to its nearest row of ``centers`` (inf when there is none).

    The nearest center is found with float32 matrix products over blocks of ``chunk_rows`` x
    ``chunk_cols`` (memory stays bounded for millions of points and thousands of centers); its
    distance is then computed directly in float64, so near-zero distances stay exact.
    """
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {METRICS}, got {metric!r}")
    n = len(points)
    out = np.full(n, np.inf, np.float32)
    if n == 0 or len(centers) == 0:
        return out
    centers = np.asarray(centers, np.float32)
    c_norm2 = np.einsum("ij,ij->i", centers, centers)
    if metric == "cosine":
        c_scale = 1.0 / np.maximum(np.sqrt(c_norm2), 1e-12)
    for r0 in range(0, n, chunk_rows):
        block = np.asarray(points[r0 : r0 + chunk_rows], np.float32)
        best = np.full(len(block), np.inf, np.float32)
        best_idx = np.zeros(len(block), np.int64)
        for c0 in range(0, len(centers), chunk_cols):
            dots = block @ centers[c0 : c0 + chunk_cols].T
            if metric == "euclidean":
                score = c_norm2[None, c0 : c0 + chunk_cols] - 2.0 * dots  # + |x|^2, constant per row
            else:
                score = -dots * c_scale[None, c0 : c0 + chunk_cols]
            arg = score.argmin(axis=1)
            value = score[np.arange(len(block)), arg]
            better = value < best
            best[better] = value[better]
            best_idx[better] = arg[better] + c0
        # exact distance to the nearest center (the expanded form above loses precision near 0)
        nearest = centers[best_idx].astype(np.float64)
        if metric == "euclidean":
            dist = np.linalg.norm(block.astype(np.float64) - nearest, axis=1)
        else:
            b_len = np.maximum(np.linalg.norm(block.astype(np.float64), axis=1), 1e-12)
            c_len = np.maximum(np.linalg.norm(nearest, axis=1), 1e-12)
            dist = np.maximum(1.0 - np.einsum("ij,ij->i", block.astype(np.float64), nearest) / (b_len * c_len), 0.0)
        out[r0 : r0 + len(block)] = dist
    return out


@dataclass(frozen=True)
class DistanceSummary:
    """Mean, median, 90th percentile and maximum (the covering radius) of nearest-pick distances."""

    n: int
    mean: float
    p50: float
    p90: float
    max: float

    def as_dict(self) -> dict[str, float]:
        return {"n": self.n, "mean": self.mean, "p50": self.p50, "p90": self.p90, "max": self.max}


def summarize_distances(distances: np.ndarray) -> DistanceSummary:
    d = np.asarray(distances, np.float64)
    if len(d) == 0:
        return DistanceSummary(0, float("nan"), float("nan"), float("nan"), float("nan"))
    if not np.all(np.isfinite(d)):
        return DistanceSummary(len(d), float("inf"), float("inf"), float("inf"), float("inf"))
    return DistanceSummary(
        len(d), float(d.mean()), float(np.percentile(d, 50)), float(np.percentile(d, 90)), float(d.max())
    )


def shared_histogram(
    series: Mapping[str, np.ndarray], bins: int = 30
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Histograms of several distance arrays over the same bin edges (finite values only)."""
    finite = [np.asarray(v)[np.isfinite(v)] for v in series.values()]
    top = max((float(v.max()) for v in finite if len(v)), default=1.0)
    edges = np.linspace(0.0, top if top > 0 else 1.0, bins + 1)
    counts = {name: np.histogram(v, bins=edges)[0] for name, v in zip(series, finite, strict=True)}
    return edges, counts


# -- baseline selections ----------------------------------------------------------------------
def random_selection(n: int, k: int, *, seed: int = 0, candidates: np.ndarray | None = None) -> np.ndarray:
    """``k`` distinct positions drawn uniformly (seeded) from the candidates; sorted."""
    pool = np.arange(n) if candidates is None else np.flatnonzero(candidates)
    k = min(k, len(pool))
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(pool, size=k, replace=False)) if k else np.zeros(0, np.int64)


def uniform_time_selection(
    video_ids: np.ndarray, time_s: np.ndarray, k: int, *, candidates: np.ndarray | None = None
) -> np.ndarray:
    """``k`` positions evenly spaced in time within each video, like sampling at one fixed fps.

    Picks are split across videos in proportion to their duration (largest remainder, never more
    than a video has frames); within a video the frame nearest each of ``k_v`` evenly spaced
    instants is taken, bumped forward where two instants share a frame. Sorted positions.
    """
    video_ids = np.asarray(video_ids)
    time_s = np.asarray(time_s, np.float64)
    pool = np.ones(len(video_ids), bool) if candidates is None else np.asarray(candidates, bool)
    videos = [v for v in np.unique(video_ids[pool])]
    if k <= 0 or not videos:
        return np.zeros(0, np.int64)
    members, durations = [], []
    for v in videos:
        pos = np.flatnonzero(pool & (video_ids == v))
        pos = pos[np.argsort(time_s[pos], kind="stable")]
        members.append(pos)
        t = time_s[pos]
        step = float(np.median(np.diff(t))) if len(t) > 1 else 0.0
        durations.append(float(t[-1] - t[0]) + step)
    caps = np.array([len(m) for m in members])
    weights = np.array(durations)
    if not np.any(weights > 0):
        weights = caps.astype(np.float64)
    quota = apportion(weights, min(k, int(caps.sum())), caps)
    out = []
    for pos, k_v in zip(members, quota, strict=True):
        if k_v == 0:
            continue
        t = time_s[pos]
        targets = t[0] + (np.arange(k_v) + 0.5) / k_v * (t[-1] - t[0])
        nearest = _nearest_sorted(t, targets)
        chosen = np.empty(k_v, np.int64)
        prev = -1
        for j, idx in enumerate(nearest):
            c = min(max(int(idx), prev + 1), len(pos) - (k_v - j))
            chosen[j] = c
            prev = c
        out.append(pos[chosen])
    return np.sort(np.concatenate(out))


def apportion(weights: np.ndarray, total: int, caps: np.ndarray) -> np.ndarray:
    """Split ``total`` into integers proportional to ``weights`` (largest remainder), capped per item."""
    weights = np.asarray(weights, np.float64)
    caps = np.asarray(caps, np.int64)
    quota = np.zeros(len(weights), np.int64)
    open_ = caps > 0
    remaining = min(total, int(caps.sum()))
    while remaining > 0 and open_.any():
        w = np.where(open_, weights, 0.0)
        if w.sum() <= 0:
            w = open_.astype(np.float64)
        share = w / w.sum() * remaining
        add = np.minimum(np.floor(share).astype(np.int64), caps - quota)
        left = remaining - int(add.sum())
        if left > 0:  # largest remainders, among items with room
            room = (caps - quota - add) > 0
            order = np.argsort(-(share - np.floor(share)) - room * 10, kind="stable")
            for i in order[:left]:
                if room[i]:
                    add[i] += 1
        quota += add
        remaining -= int(add.sum())
        open_ = quota < caps
        if int(add.sum()) == 0:
            break
    return quota


def _nearest_sorted(sorted_values: np.ndarray, targets: np.ndarray) -> np.ndarray:
    if len(sorted_values) == 1:
        return np.zeros(len(targets), np.int64)
    idx = np.clip(np.searchsorted(sorted_values, targets), 1, len(sorted_values) - 1)
    left = sorted_values[idx - 1]
    right = sorted_values[idx]
    return np.where(targets - left <= right - targets, idx - 1, idx)


# -- distributions ----------------------------------------------------------------------------
def fractions(counts: Mapping[str, float]) -> dict[str, float]:
    total = float(sum(counts.values()))
    return {k: (float(v) / total if total > 0 else 0.0) for k, v in counts.items()}


def count_values(values: Sequence[object] | np.ndarray) -> dict[str, int]:
    """Counts of categorical values (None/NaN become 'missing'), most frequent first."""
    labels = ["missing" if _is_missing(v) else str(v) for v in values]
    names, counts = np.unique(np.array(labels, dtype=object), return_counts=True) if labels else ([], [])
    pairs = sorted(zip(names, counts, strict=True), key=lambda p: (-int(p[1]), str(p[0])))
    return {str(name): int(count) for name, count in pairs}


def _is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def target_distribution(
    categories: Sequence[str],
    input_fractions: Mapping[str, float],
    *,
    target: Mapping[str, float] | None = None,
    distribution: str | None = None,
) -> dict[str, float] | None:
    """The class/metadata distribution a BALANCE strategy aims at, or None when it sets none.

    ``target`` lists fractions for some categories; the unlisted ones share what is left equally.
    ``distribution`` UNIFORM gives every category the same share, INPUT copies the input.
    """
    mode = (distribution or ("TARGET" if target else "")).upper()
    if mode == "UNIFORM":
        return {c: 1.0 / len(categories) for c in categories} if categories else {}
    if mode == "INPUT":
        return {c: float(input_fractions.get(c, 0.0)) for c in categories}
    if mode == "TARGET" and target:
        listed = {str(k): float(v) for k, v in target.items()}
        rest = [c for c in categories if c not in listed]
        left = max(0.0, 1.0 - sum(listed.values()))
        out = {c: listed.get(c, left / len(rest) if rest else 0.0) for c in categories}
        out.update({c: v for c, v in listed.items() if c not in out})
        return out
    return None


# -- attribution ------------------------------------------------------------------------------
def top_contributors(objectives: Sequence[Mapping[str, float]]) -> list[str | None]:
    """For each pick, the strategy in which it stands out most among the picks.

    Objectives of different strategies live on different scales, so each pick's objective is
    turned into its percentile rank among all picks of that strategy; the strategy with the
    highest rank wins (ties: the strategy listed first). None when a pick has no objectives.
    """
    labels: list[str] = []
    for obj in objectives:
        for label in obj:
            if label not in labels:
                labels.append(label)
    if not labels:
        return [None] * len(objectives)
    n = len(objectives)
    ranks = np.full((n, len(labels)), -1.0)
    for j, label in enumerate(labels):
        values = np.array([obj.get(label, np.nan) for obj in objectives], np.float64)
        ok = np.isfinite(values)
        if ok.sum() == 0:
            continue
        finite = values[ok]
        # mean of "strictly below" and "at most" fractions: ties share a rank
        below = np.searchsorted(np.sort(finite), finite, side="left")
        at_most = np.searchsorted(np.sort(finite), finite, side="right")
        ranks[ok, j] = (below + at_most) / (2.0 * len(finite))
    out: list[str | None] = []
    for i in range(n):
        j = int(np.argmax(ranks[i]))
        out.append(labels[j] if ranks[i, j] >= 0 else None)
    return out


# -- curves -----------------------------------------------------------------------------------
def downsample_max(x: np.ndarray, y: np.ndarray, max_points: int) -> tuple[np.ndarray, np.ndarray]:
    """At most ``max_points`` points of a curve, keeping the peak of each bin (spikes stay visible)."""
    x = np.asarray(x)
    y = np.asarray(y, np.float64)
    if len(x) <= max_points:
        return x, y
    edges = np.linspace(0, len(x), max_points + 1).astype(np.int64)
    keep = []
    for a, b in itertools.pairwise(edges):
        if b <= a:
            continue
        seg = y[a:b]
        keep.append(a + (int(np.nanargmax(seg)) if np.isfinite(seg).any() else 0))
    idx = np.array(keep, np.int64)
    return x[idx], y[idx]
