"""Shot boundary detection from tiny per-frame thumbnails (pure numpy; no I/O).

A cut is a frame whose colour histogram and pixel content both jump against the previous
frame by much more than the recent typical change. Comparing to a running median keeps
fast camera motion (large but steady changes) from being read as cuts.
"""

from __future__ import annotations

from collections import deque

import cv2
import numpy as np

THUMB_SIZE = (32, 18)  # (width, height) of the RGB thumbnail each frame is reduced to
HIST_BINS = 4  # per channel -> 64-bin joint histogram


def thumb_signature(thumb: np.ndarray) -> np.ndarray:
    """Feature of one (h, w, 3) uint8 thumbnail: normalised joint colour histogram + pixels."""
    q = (thumb.astype(np.int32) * HIST_BINS) // 256
    codes = (q[..., 0] * HIST_BINS + q[..., 1]) * HIST_BINS + q[..., 2]
    hist = np.bincount(codes.ravel(), minlength=HIST_BINS**3).astype(np.float32)
    hist /= max(1.0, hist.sum())
    pixels = thumb.astype(np.float32).ravel() / 255.0
    return np.concatenate([hist, pixels])


def yuv_thumbnail(y: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """The RGB thumbnail of ``THUMB_SIZE`` straight from the planes (area averaging, no swscale)."""
    planes = [cv2.resize(p, THUMB_SIZE, interpolation=cv2.INTER_AREA) for p in (y, u, v)]
    return cv2.cvtColor(np.dstack(planes), cv2.COLOR_YUV2RGB)


def change_score(previous: np.ndarray, current: np.ndarray) -> float:
    """Change between two signatures in [0, 1]: geometric mean of histogram and pixel change."""
    n_hist = HIST_BINS**3
    hist_change = 0.5 * float(np.abs(current[:n_hist] - previous[:n_hist]).sum())
    pixel_change = float(np.abs(current[n_hist:] - previous[n_hist:]).mean()) if len(current) > n_hist else hist_change
    return float(np.sqrt(min(max(hist_change, 0.0), 1.0) * min(max(pixel_change * 2.0, 0.0), 1.0)))


class ShotTracker:
    """Streaming cut detector: feed one signature per decoded frame, in decode order.

    A frame is a cut when its change score exceeds ``threshold`` and ``ratio`` times the median
    change of the ``window`` frames before it, and the previous cut is ``min_shot`` frames back.
    """

    def __init__(self, *, threshold: float = 0.15, ratio: float = 3.0, window: int = 15, min_shot: int = 4):
        self.threshold, self.ratio, self.window, self.min_shot = threshold, ratio, window, min_shot
        self._previous: np.ndarray | None = None
        self._recent: deque[float] = deque(maxlen=window)
        self._since_cut = 0
        self.shot_id = 0

    def update(self, signature: np.ndarray) -> bool:
        """Returns True when this frame starts a new shot (``shot_id`` is then already advanced)."""
        is_cut = False
        if self._previous is not None:
            score = change_score(self._previous, signature)
            self._since_cut += 1
            typical = float(np.median(self._recent)) if self._recent else 0.0
            if score >= self.threshold and self._since_cut >= self.min_shot and score > self.ratio * typical:
                is_cut = True
                self.shot_id += 1
                self._since_cut = 0
            self._recent.append(score)
        self._previous = signature
        return is_cut


def detect_cuts(signatures: np.ndarray, **options: float) -> list[int]:
    """Indices of frames that start a new shot (never 0), see ``ShotTracker``."""
    tracker = ShotTracker(**options)  # type: ignore[arg-type]
    return [i for i, signature in enumerate(signatures) if tracker.update(signature)]


def shot_ids(n_frames: int, cuts: list[int]) -> np.ndarray:
    """Shot number (0-based) of every frame given the cut positions."""
    ids = np.zeros(n_frames, dtype=np.int64)
    for cut in cuts:
        ids[cut:] += 1
    return ids
