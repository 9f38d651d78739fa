"""Coverage metrics of a set of selected frames against per-frame ground truth (pure numpy, no I/O).

``frame`` arrays hold the frame index of each ground-truth box; ``selected`` is any collection
of frame indices (duplicates are ignored). Definitions (also in README.md):

* track coverage: distinct tracks with at least one box in a selected frame / all tracks;
* boxes per labeled frame: boxes in selected frames / selected frames;
* box recall: boxes in selected frames / all boxes;
* class/size coverage: per (class, COCO size bucket) cell, the share of instances (tracks, or
  boxes when there are no tracks) seen in that cell on a selected frame, averaged over the cells
  the clip has; a track that is small far away and large close by belongs to both cells;
* event recall: events (frame intervals) with at least one selected frame / all events;
* idle share: selected frames that lie in idle stretches / selected frames.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

SMALL_AREA = 32.0**2  # COCO: small < 32^2 px, medium < 96^2 px, large above
LARGE_AREA = 96.0**2
SIZE_BUCKETS = ("small", "medium", "large")


def selected_mask(selected: Iterable[int], n_frames: int) -> np.ndarray:
    """Boolean mask of the selected frames; an index outside [0, n_frames) is an error."""
    idx = np.asarray(list(selected) if not isinstance(selected, np.ndarray) else selected, np.int64).reshape(-1)
    if len(idx) and (idx.min() < 0 or idx.max() >= n_frames):
        raise ValueError(f"selected frame outside 0..{n_frames - 1}")
    mask = np.zeros(n_frames, bool)
    mask[idx] = True
    return mask


def size_bucket(xywh: np.ndarray) -> np.ndarray:
    """0 small, 1 medium, 2 large by box area (w * h) on COCO's thresholds."""
    xywh = np.asarray(xywh, np.float64).reshape(-1, 4)
    area = xywh[:, 2] * xywh[:, 3]
    return np.where(area < SMALL_AREA, 0, np.where(area < LARGE_AREA, 1, 2)).astype(np.int64)


def track_coverage(frame: np.ndarray, track: np.ndarray, mask: np.ndarray) -> float:
    """Share of distinct tracks with a box in a selected frame (NaN without tracks)."""
    track = np.asarray(track, np.int64)
    if len(track) == 0:
        return float("nan")
    seen = np.unique(track[mask[np.asarray(frame, np.int64)]])
    return len(seen) / len(np.unique(track))


def tracks_covered(frame: np.ndarray, track: np.ndarray, mask: np.ndarray) -> int:
    """Number of distinct tracks with a box in a selected frame."""
    return len(np.unique(np.asarray(track, np.int64)[mask[np.asarray(frame, np.int64)]]))


def boxes_per_frame(frame: np.ndarray, mask: np.ndarray) -> float:
    """Mean ground-truth boxes per selected frame (NaN with no frame selected)."""
    k = int(mask.sum())
    if k == 0:
        return float("nan")
    return int(mask[np.asarray(frame, np.int64)].sum()) / k


def box_recall(frame: np.ndarray, mask: np.ndarray) -> float:
    """Share of all ground-truth boxes that lie in selected frames (NaN without boxes)."""
    frame = np.asarray(frame, np.int64)
    if len(frame) == 0:
        return float("nan")
    return int(mask[frame].sum()) / len(frame)


def class_size_coverage(
    frame: np.ndarray, cls: np.ndarray, xywh: np.ndarray, mask: np.ndarray, track: np.ndarray | None = None
) -> tuple[float, dict[tuple[int, int], float]]:
    """(mean over cells, per-cell share) of instances seen per (class, size bucket) cell.

    An instance is a track (or a box when ``track`` is None); it belongs to every cell one of its
    boxes falls in, and counts as seen in a cell when a box of it in that cell is on a selected frame.
    """
    frame = np.asarray(frame, np.int64)
    cls = np.asarray(cls, np.int64)
    instance = np.arange(len(frame)) if track is None else np.asarray(track, np.int64)
    bucket = size_bucket(xywh)
    on = mask[frame]
    cells: dict[tuple[int, int], float] = {}
    for c, b in sorted({(int(c), int(b)) for c, b in zip(cls.tolist(), bucket.tolist(), strict=True)}):
        in_cell = (cls == c) & (bucket == b)
        total = len(np.unique(instance[in_cell]))
        seen = len(np.unique(instance[in_cell & on]))
        cells[(c, b)] = seen / total
    mean = float(np.mean(list(cells.values()))) if cells else float("nan")
    return mean, cells


def event_recall(events: Sequence[tuple[int, int]], mask: np.ndarray) -> float:
    """Share of events (inclusive frame intervals) with at least one selected frame (NaN without events)."""
    if not events:
        return float("nan")
    csum = np.concatenate([[0], np.cumsum(mask.astype(np.int64))])
    hit = [csum[min(end, len(mask) - 1) + 1] - csum[max(start, 0)] > 0 for start, end in events]
    return float(np.mean(hit))


def idle_share(idle: np.ndarray, mask: np.ndarray) -> float:
    """Share of the selected frames that lie in idle stretches (NaN with no frame selected)."""
    k = int(mask.sum())
    if k == 0:
        return float("nan")
    return int((np.asarray(idle, bool) & mask).sum()) / k


def mean_std(values: Iterable[float]) -> tuple[float, float]:
    """Mean and population standard deviation of the finite values (NaN, NaN when there are none)."""
    v = np.asarray([x for x in values if np.isfinite(x)], np.float64)
    if len(v) == 0:
        return float("nan"), float("nan")
    return float(v.mean()), float(v.std())


def budget_frames(n_frames: int, fraction: float) -> int:
    """Frames a budget of ``fraction`` of the clip allows: rounded half up, at least one."""
    return max(1, int(np.floor(fraction * n_frames + 0.5 + 1e-9)))
