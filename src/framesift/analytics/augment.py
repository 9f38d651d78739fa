"""Training augmentations for small frame/face classifiers; pure numpy on RGB uint8 images.

The one specific to classroom video is the side cut-off: a black band over one side of the
image, as when a face is partly out of the camera frame. Every random op takes a
``numpy.random.Generator`` and returns what it did, so tests can check the result exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

SIDES = ("left", "right", "top", "bottom")


def side_cutoff(image: np.ndarray, side: str, width: int) -> np.ndarray:
    """A copy with a black band ``width`` pixels wide along ``side``."""
    if side not in SIDES:
        raise ValueError(f"side {side!r}: use one of {', '.join(SIDES)}")
    out = np.array(image, copy=True)
    height, full_width = out.shape[:2]
    limit = full_width if side in ("left", "right") else height
    width = int(min(max(width, 0), limit))
    if width == 0:
        return out
    if side == "left":
        out[:, :width] = 0
    elif side == "right":
        out[:, full_width - width :] = 0
    elif side == "top":
        out[:width] = 0
    else:
        out[height - width :] = 0
    return out


def random_side_cutoff(
    image: np.ndarray, rng: np.random.Generator, *, min_fraction: float = 0.1, max_fraction: float = 0.4,
    sides: Sequence[str] = SIDES,
) -> tuple[np.ndarray, str, int]:
    """Cut a random side by a random fraction of the image size; returns (image, side, band width)."""
    if not 0 <= min_fraction <= max_fraction <= 1:
        raise ValueError(f"need 0 <= min_fraction <= max_fraction <= 1, got {min_fraction}, {max_fraction}")
    side = str(sides[int(rng.integers(len(sides)))])
    extent = image.shape[1] if side in ("left", "right") else image.shape[0]
    width = round(float(rng.uniform(min_fraction, max_fraction)) * extent)
    return side_cutoff(image, side, width), side, width


def brightness_contrast(image: np.ndarray, gain: float, offset: float) -> np.ndarray:
    """``gain * (image - mean) + mean + offset``, clipped: lighting changes between sessions."""
    pixels = np.asarray(image, np.float32)
    mean = pixels.mean()
    return np.clip(gain * (pixels - mean) + mean + offset, 0, 255).round().astype(np.uint8)


@dataclass(frozen=True)
class Augmenter:
    """A random mix of horizontal flip, lighting jitter and side cut-off.

    ``flip`` suits concepts that are mirror-symmetric (smiling, child vs adult); turn it off for
    ones that are not (looking left).
    """

    flip: bool = True
    jitter: float = 0.2  # gain in [1 - jitter, 1 + jitter], offset in +-40 * jitter
    cutoff_p: float = 0.5  # probability of a side cut-off
    cutoff_min: float = 0.1
    cutoff_max: float = 0.35
    cutoff_sides: tuple[str, ...] = ("left", "right")

    def __call__(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        out = np.asarray(image)
        if self.flip and rng.random() < 0.5:
            out = out[:, ::-1]
        if self.jitter > 0:
            gain = float(rng.uniform(1 - self.jitter, 1 + self.jitter))
            out = brightness_contrast(out, gain, float(rng.uniform(-40, 40)) * self.jitter)
        if self.cutoff_p > 0 and rng.random() < self.cutoff_p:
            out, _, _ = random_side_cutoff(out, rng, min_fraction=self.cutoff_min, max_fraction=self.cutoff_max,
                                           sides=self.cutoff_sides)
        return np.ascontiguousarray(out, np.uint8)
