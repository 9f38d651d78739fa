"""Shot boundary detection from tiny per-frame thumbnails (pure numpy; no I/O).

A cut is a frame whose colour histogram and pixel content both jump against the previous
frame by much more than the recent typical change. Comparing to a running median keeps
fast camera motion (large but steady changes) from being read as cuts.
"""

from __future__ import annotations

import statistics
from collections import deque

import cv2
import numpy as np

from framesift.video.kernels import block_means

THUMB_SIZE = (32, 18)  # (width, height) of the RGB thumbnail each frame is reduced to
HIST_BINS = 4  # per channel -> 64-bin joint histogram


def thumb_signature(thumb: np.ndarray) -> np.ndarray:
    """Feature of one (h, w, 3) uint8 thumbnail: normalised joint colour histogram + pixels."""
    q = np.asarray(thumb, np.uint8) // np.uint8(256 // HIST_BINS)  # bins of equal width (HIST_BINS divides 256)
    codes = (q[..., 0] * np.uint8(HIST_BINS) + q[..., 1]) * np.uint8(HIST_BINS) + q[..., 2]
    signature = np.empty(HIST_BINS**3 + q.size, np.float32)
    hist = np.bincount(codes.ravel(), minlength=HIST_BINS**3)
    signature[: HIST_BINS**3] = hist * np.float32(1.0 / max(1, codes.size))
    np.multiply(thumb.ravel(), np.float32(1.0 / 255.0), out=signature[HIST_BINS**3 :])
    return signature


def yuv_thumbnail(y: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """The RGB thumbnail of ``THUMB_SIZE`` straight from the planes (block means, no swscale).

    OpenCV's area resize costs ~0.07 ms for a 640x360 plane at this 20x reduction; the compiled
    block mean is ~4x cheaper, and this runs for every decoded frame.
    """
    width, height = THUMB_SIZE
    yuv = np.empty((height, width, 3), np.uint8)
    for channel, plane in enumerate((y, u, v)):
        block_means(plane, yuv[:, :, channel])
    return cv2.cvtColor(yuv, cv2.COLOR_YUV2RGB)


def change_score(previous: np.ndarray, current: np.ndarray) -> float:
    """Change between two signatures in [0, 1]: geometric mean of histogram and pixel change."""
    n_hist = HIST_BINS**3
    difference = np.abs(current - previous)  # one pass over both parts: runs for every decoded frame
    hist_change = 0.5 * float(difference[:n_hist].sum())
    n_pixels = len(current) - n_hist
    pixel_change = float(difference[n_hist:].sum()) / n_pixels if n_pixels else hist_change
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
            typical = statistics.median(self._recent) if self._recent else 0.0  # 15 floats: no numpy
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
