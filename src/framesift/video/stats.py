"""Per-frame quality statistics (pure numpy on a grayscale image; no I/O).

Definitions follow ../shared/DESIGN.md and LightlyOne's public docs:
- sharpness: variance of the 4-neighbour Laplacian on the 0-255 gray image (higher = sharper)
- brightness: mean gray level in [0, 1]
- contrast: RMS contrast, standard deviation of gray levels in [0, 1]
- uniform_row_ratio: a pixel is *uniform* when its |Laplacian| (gray in [0, 1]) is below 5/255
  and a row is uniform when more than 97 % of its pixels are; the ratio of uniform rows flags
  blank, frozen-green or half-decoded frames.

All four are computed on the gray (luma) image shrunk to at most 400 px height (area
averaging by an integer factor, e.g. 1080 -> 360 rows), with OpenCV's SIMD kernels: this runs once per indexed frame and must cost much
less than decoding it.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

STATS_HEIGHT = 400
UNIFORM_PIXEL_THRESHOLD = 5.0 / 255.0
# |laplacian| < 5 on the 0-255 scale, i.e. <= 4 for the integer Laplacian of uint8 images
UNIFORM_PIXEL_LEVEL = 4
UNIFORM_ROW_FRACTION = 0.97
STAT_NAMES = ("sharpness", "brightness", "contrast", "uniform_row_ratio")
# LightlyOne metadata keys that name the same quantities, for configs written for LightlyOne.
LIGHTLY_METADATA_KEYS = {
    "lightly.sharpness": "sharpness",
    "lightly.luminance": "brightness",
    "lightly.contrast": "contrast",
    "lightly.uniformRowRatio": "uniform_row_ratio",
}


@dataclass(frozen=True)
class FrameStats:
    sharpness: float
    brightness: float
    contrast: float
    uniform_row_ratio: float


def laplacian(gray: np.ndarray) -> np.ndarray:
    """4-neighbour Laplacian of the interior pixels (output is 2 px smaller in each axis)."""
    return cv2.Laplacian(np.ascontiguousarray(gray), cv2.CV_16S, ksize=1)[1:-1, 1:-1]


def resize_for_stats(gray: np.ndarray) -> np.ndarray:
    """Shrink by the smallest integer factor that gives at most ``STATS_HEIGHT`` rows.

    Integer factors make area averaging an exact block mean and hit OpenCV's fast path
    (1080p -> 360 rows costs ~1 ms; a non-integer 400-row target costs ~3x that).
    """
    height, width = gray.shape
    factor = -(-height // STATS_HEIGHT)
    if factor <= 1:
        return gray
    return cv2.resize(gray, (max(3, width // factor), height // factor), interpolation=cv2.INTER_AREA)


def frame_stats(gray: np.ndarray) -> FrameStats:
    """Statistics of a uint8 gray image of any size (resized to ``STATS_HEIGHT`` rows first)."""
    if gray.ndim != 2:
        raise ValueError(f"expected a 2-D gray image, got shape {gray.shape}")
    gray = resize_for_stats(np.ascontiguousarray(gray, dtype=np.uint8))
    mean, std = cv2.meanStdDev(gray)
    brightness, contrast = float(mean[0, 0]) / 255.0, float(std[0, 0]) / 255.0
    if gray.shape[0] < 3 or gray.shape[1] < 3:
        return FrameStats(0.0, brightness, contrast, 1.0)
    lap = laplacian(gray)
    n = lap.size
    total = cv2.sumElems(lap)[0]
    squares = cv2.norm(lap, cv2.NORM_L2SQR)
    uniform = cv2.inRange(lap, -UNIFORM_PIXEL_LEVEL, UNIFORM_PIXEL_LEVEL)  # 255 where uniform
    row_sums = uniform.astype(np.float32) @ np.ones(uniform.shape[1], np.float32)  # BLAS: fastest row sum
    uniform_rows = row_sums > UNIFORM_ROW_FRACTION * 255.0 * uniform.shape[1]
    return FrameStats(
        sharpness=float(squares / n - (total / n) ** 2),
        brightness=brightness,
        contrast=contrast,
        uniform_row_ratio=float(uniform_rows.mean()),
    )
