"""Derived tracks for ground truth without track ids (the COCO clips): link boxes frame to frame.

A deliberately simple, documented tracker, so "distinct tracks covered" can be reported on
clips whose annotations have no identities (reported as *derived* tracks):

* each box of frame f may move by a candidate displacement: its track's last step, no motion,
  or one of the scene's main flows between f and f+1 (voted by nearby box pairs);
* boxes of f and f+1 are matched one-to-one (Hungarian assignment, scipy) on cost ``1 - IoU``
  (best candidate) where IoU >= ``min_iou``;
* pairs below that IoU may still match when their centres are closer than ``max_shift`` times
  the mean box size (fast small objects at a low frame rate), at a cost above any IoU match;
* an unmatched box starts a new track; a track that misses one frame ends (no re-identification).

``validate_tracker`` compares it with real identities on a MOT clip.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

_NO_MATCH = 1e6


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every xywh box of ``a`` with every box of ``b``."""
    a = np.asarray(a, np.float64).reshape(-1, 4)
    b = np.asarray(b, np.float64).reshape(-1, 4)
    ax2, ay2 = a[:, 0] + a[:, 2], a[:, 1] + a[:, 3]
    bx2, by2 = b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]
    iw = np.clip(np.minimum(ax2[:, None], bx2[None]) - np.maximum(a[:, 0, None], b[None, :, 0]), 0, None)
    ih = np.clip(np.minimum(ay2[:, None], by2[None]) - np.maximum(a[:, 1, None], b[None, :, 1]), 0, None)
    inter = iw * ih
    union = (a[:, 2] * a[:, 3])[:, None] + (b[:, 2] * b[:, 3])[None] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def match_boxes(
    a: np.ndarray, b: np.ndarray, *, shifts: np.ndarray | None = None, min_iou: float = 0.3, max_shift: float = 0.5
) -> list[tuple[int, int]]:
    """One-to-one matches (i in a, j in b) between the boxes of frame f (``a``) and of frame f+1 (``b``).

    ``shifts`` (len(a), S, 2) are candidate displacements of each box of ``a``; a pair scores its
    best candidate (largest IoU, smallest centre distance). Default: no motion.
    """
    if len(a) == 0 or len(b) == 0:
        return []
    if shifts is None:
        shifts = np.zeros((len(a), 1, 2))
    iou = np.zeros((len(a), len(b)))
    shift = np.full((len(a), len(b)), np.inf)
    for s in range(shifts.shape[1]):
        moved = a.copy()
        moved[:, :2] += shifts[:, s]
        iou = np.maximum(iou, iou_matrix(moved, b))
        shift = np.minimum(shift, _centre_distance(moved, b) / _mean_size(moved, b))
    cost = np.full(iou.shape, _NO_MATCH)
    near = shift < max_shift
    cost[near] = 1.0 + shift[near]  # centre matches rank after every IoU match
    good = iou >= min_iou
    cost[good] = 1.0 - iou[good]
    rows, cols = linear_sum_assignment(cost)
    return [(int(i), int(j)) for i, j in zip(rows, cols, strict=True) if cost[i, j] < _NO_MATCH]


def _centres(boxes: np.ndarray) -> np.ndarray:
    return boxes[:, :2] + boxes[:, 2:] / 2


def _centre_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.linalg.norm(_centres(a)[:, None] - _centres(b)[None], axis=2)


def _mean_size(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    size_a, size_b = np.sqrt(a[:, 2] * a[:, 3]), np.sqrt(b[:, 2] * b[:, 3])
    return np.maximum((size_a[:, None] + size_b[None]) / 2, 1e-9)


def flow_modes(a: np.ndarray, b: np.ndarray, *, modes: int = 3, radius: float = 2.0, bin_px: float = 4.0) -> np.ndarray:
    """Up to ``modes`` common centre displacements from boxes ``a`` to nearby boxes ``b`` (the scene's flows).

    Every pair closer than ``radius`` box sizes votes for its displacement on a ``bin_px`` grid;
    each mode is the mean vote of the best 3x3 cells, whose votes are then removed. Lanes of
    opposite direction and parked cars give separate modes.
    """
    out: list[np.ndarray] = []
    if len(a) == 0 or len(b) == 0:
        return np.zeros((0, 2))
    d = _centres(b)[None] - _centres(a)[:, None]
    votes = d[np.linalg.norm(d, axis=2) < radius * _mean_size(a, b)]
    while len(votes) and len(out) < modes:
        cells = np.floor(votes / bin_px).astype(np.int64)
        keys, counts = np.unique(cells, axis=0, return_counts=True)
        best = keys[np.argmax(counts)]
        close = (np.abs(cells - best) <= 1).all(axis=1)
        if close.sum() < 2:
            break
        out.append(votes[close].mean(axis=0))
        votes = votes[~close]
    return np.array(out).reshape(-1, 2)


def link_tracks(
    frame: np.ndarray, xywh: np.ndarray, *, min_iou: float = 0.3, max_shift: float = 0.5, max_jump: float = 3.0
) -> np.ndarray:
    """A track id (0, 1, ...) for every box, linking boxes of consecutive frames.

    Each box of frame f may move by one of a few candidate displacements before matching with
    frame f+1: its track's last step, no motion, or one of the scene's main flows between the
    two frames (``flow_modes``). A static camera at a low frame rate (NGSIM) moves cars by most
    of their length per frame; without motion candidates most cars would start a new track.
    Boxes left unmatched on both sides are then paired when their centres are within
    ``max_jump`` box sizes and their areas within a factor 2 (a lone fast car).
    """
    frame = np.asarray(frame, np.int64)
    xywh = np.asarray(xywh, np.float64).reshape(-1, 4)
    track = np.full(len(frame), -1, np.int64)
    if len(frame) == 0:
        return track
    order = np.argsort(frame, kind="stable")
    velocity = np.full((len(frame), 2), np.nan)  # displacement that brought each box here
    next_id = 0
    prev_idx = np.zeros(0, np.int64)
    prev_frame = None
    for f in np.unique(frame).tolist():
        idx = order[frame[order] == f]
        if prev_frame is not None and f == prev_frame + 1 and len(prev_idx):
            flows = np.vstack([np.zeros((1, 2)), flow_modes(xywh[prev_idx], xywh[idx])])
            own = np.nan_to_num(velocity[prev_idx])[:, None]  # no motion for a track's first box
            shifts = np.concatenate([own, np.broadcast_to(flows, (len(prev_idx), *flows.shape))], axis=1)
            pairs = match_boxes(xywh[prev_idx], xywh[idx], shifts=shifts, min_iou=min_iou, max_shift=max_shift)
            pairs += _leftover_matches(xywh[prev_idx], xywh[idx], pairs, max_jump)
            for i, j in pairs:
                track[idx[j]] = track[prev_idx[i]]
                velocity[idx[j]] = _centres(xywh[idx[j]][None])[0] - _centres(xywh[prev_idx[i]][None])[0]
        for j in idx:
            if track[j] < 0:
                track[j] = next_id
                next_id += 1
        prev_idx, prev_frame = idx, f
    return track


def _leftover_matches(a: np.ndarray, b: np.ndarray, pairs: list[tuple[int, int]], max_jump: float) -> list[tuple[int, int]]:
    left_a = np.setdiff1d(np.arange(len(a)), [i for i, _ in pairs])
    left_b = np.setdiff1d(np.arange(len(b)), [j for _, j in pairs])
    if len(left_a) == 0 or len(left_b) == 0 or max_jump <= 0:
        return []
    aa, bb = a[left_a], b[left_b]
    jump = _centre_distance(aa, bb) / _mean_size(aa, bb)
    ratio = (aa[:, 2] * aa[:, 3])[:, None] / np.maximum((bb[:, 2] * bb[:, 3])[None], 1e-9)
    cost = np.where((jump < max_jump) & (ratio > 0.5) & (ratio < 2.0), jump, _NO_MATCH)
    rows, cols = linear_sum_assignment(cost)
    return [(int(left_a[i]), int(left_b[j])) for i, j in zip(rows, cols, strict=True) if cost[i, j] < _NO_MATCH]


@dataclass(frozen=True)
class TrackerCheck:
    """How derived tracks relate to true identities on a clip that has them."""

    true_tracks: int
    derived_tracks: int
    purity: float  # share of boxes whose derived track's majority identity is their own
    completeness: float  # share of boxes whose identity's majority derived track holds them


def validate_tracker(frame: np.ndarray, xywh: np.ndarray, true_track: np.ndarray, **options: float) -> TrackerCheck:
    derived = link_tracks(frame, xywh, **options)
    true_track = np.asarray(true_track, np.int64)
    return TrackerCheck(
        len(np.unique(true_track)), len(np.unique(derived)),
        _majority_share(derived, true_track), _majority_share(true_track, derived),
    )


def _majority_share(groups: np.ndarray, labels: np.ndarray) -> float:
    if len(groups) == 0:
        return float("nan")
    hit = 0
    for g in np.unique(groups):
        _, counts = np.unique(labels[groups == g], return_counts=True)
        hit += int(counts.max())
    return hit / len(groups)
