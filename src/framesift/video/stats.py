"""Per-frame quality statistics (pure numpy on a grayscale image; no I/O).

Definitions follow ../shared/DESIGN.md and LightlyOne's public docs:
- sharpness: variance of the 4-neighbour Laplacian on the 0-255 gray image (higher = sharper)
- brightness: mean gray level in [0, 1]
- contrast: RMS contrast, standard deviation of gray levels in [0, 1]
- uniform_row_ratio: with the image resized to 400 px height, a pixel is *uniform* when its
  |Laplacian| (gray in [0, 1]) is below 5/255 and a row is uniform when more than 97 % of its
  pixels are; the ratio of uniform rows flags blank, frozen-green or half-decoded frames.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

STATS_HEIGHT = 400
UNIFORM_PIXEL_THRESHOLD = 5.0 / 255.0
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
    g = gray.astype(np.float32, copy=False)
    return g[:-2, 1:-1] + g[2:, 1:-1] + g[1:-1, :-2] + g[1:-1, 2:] - 4.0 * g[1:-1, 1:-1]


def frame_stats(gray: np.ndarray) -> FrameStats:
    """Statistics of a uint8 gray image already resized to at most ``STATS_HEIGHT`` rows."""
    if gray.ndim != 2:
        raise ValueError(f"expected a 2-D gray image, got shape {gray.shape}")
    if gray.shape[0] < 3 or gray.shape[1] < 3:
        level = float(gray.mean()) / 255.0 if gray.size else 0.0
        return FrameStats(0.0, level, float(gray.std()) / 255.0 if gray.size else 0.0, 1.0)
    g = gray.astype(np.float32)
    lap = laplacian(g)
    uniform = np.abs(lap) < UNIFORM_PIXEL_THRESHOLD * 255.0
    uniform_rows = uniform.mean(axis=1) > UNIFORM_ROW_FRACTION
    return FrameStats(
        sharpness=float(lap.var()),
        brightness=float(g.mean() / 255.0),
        contrast=float(g.std() / 255.0),
        uniform_row_ratio=float(uniform_rows.mean()),
    )
