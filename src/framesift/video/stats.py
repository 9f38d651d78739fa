"""Per-frame quality statistics of a grayscale image (pure; no I/O).

Definitions follow ../shared/DESIGN.md and LightlyOne's public docs:
- sharpness: variance of the 4-neighbour Laplacian on the 0-255 gray image (higher = sharper)
- brightness: mean gray level in [0, 1]
- contrast: RMS contrast, standard deviation of gray levels in [0, 1]
- uniform_row_ratio: a pixel is *uniform* when its |Laplacian| (gray in [0, 1]) is below 5/255
  and a row is uniform when more than 97 % of its pixels are; the ratio of uniform rows flags
  blank, frozen-green or half-decoded frames.

All four are computed on the gray (luma) image shrunk to at most 400 px height (area
averaging by an integer factor, e.g. 1080 -> 360 rows) by the compiled one-pass kernel in
``kernels``: this runs once per indexed frame and must cost much less than decoding it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from framesift.video.kernels import gray_sums, laplacian_sums

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
    gray = resize_for_stats(np.asarray(gray, dtype=np.uint8))
    height, width = gray.shape
    total, squares = gray_sums(gray)
    n = height * width
    mean = total / n
    brightness, contrast = mean / 255.0, math.sqrt(max(squares / n - mean * mean, 0.0)) / 255.0
    if height < 3 or width < 3:
        return FrameStats(0.0, brightness, contrast, 1.0)
    lap_total, lap_squares, uniform_rows = laplacian_sums(gray, UNIFORM_PIXEL_LEVEL, UNIFORM_ROW_FRACTION)
    m = (height - 2) * (width - 2)
    return FrameStats(
        sharpness=max(lap_squares / m - (lap_total / m) ** 2, 0.0),
        brightness=brightness,
        contrast=contrast,
        uniform_row_ratio=uniform_rows / (height - 2),
    )
