"""Augmentations: the side cut-off band is exactly where and as wide as asked; the rest is untouched."""

from __future__ import annotations

import numpy as np
import pytest

from framesift.analytics.augment import Augmenter, brightness_contrast, random_side_cutoff, side_cutoff


@pytest.fixture()
def image() -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(1, 256, size=(30, 40, 3), dtype=np.uint8)  # no zero pixels: black means cut off


def _black_columns(image: np.ndarray) -> np.ndarray:
    return np.flatnonzero((image == 0).all(axis=(0, 2)))


def _black_rows(image: np.ndarray) -> np.ndarray:
    return np.flatnonzero((image == 0).all(axis=(1, 2)))


@pytest.mark.parametrize(("side", "width"), [("left", 7), ("right", 12), ("top", 5), ("bottom", 9)])
def test_side_cutoff_band(image, side, width):
    out = side_cutoff(image, side, width)
    assert out.shape == image.shape and out.dtype == np.uint8
    expected = {"left": np.arange(7), "right": np.arange(40 - 12, 40), "top": np.arange(5),
                "bottom": np.arange(30 - 9, 30)}[side]
    black = _black_columns(out) if side in ("left", "right") else _black_rows(out)
    assert black.tolist() == expected.tolist()
    keep = np.ones(image.shape[:2], bool)
    if side in ("left", "right"):
        keep[:, expected] = False
    else:
        keep[expected] = False
    assert np.array_equal(out[keep], image[keep])
    assert (image != 0).all()  # the input is not modified


def test_side_cutoff_edge_widths(image):
    assert np.array_equal(side_cutoff(image, "left", 0), image)
    assert (side_cutoff(image, "top", 999) == 0).all()
    with pytest.raises(ValueError, match="side"):
        side_cutoff(image, "middle", 3)


def test_random_side_cutoff_reports_what_it_did(image):
    rng = np.random.default_rng(3)
    seen = set()
    for _ in range(40):
        out, side, width = random_side_cutoff(image, rng, min_fraction=0.1, max_fraction=0.4, sides=("left", "right"))
        seen.add(side)
        assert round(0.1 * 40) <= width <= round(0.4 * 40)
        assert np.array_equal(out, side_cutoff(image, side, width))
    assert seen == {"left", "right"}


def test_brightness_contrast_is_exact_affine_on_the_mean(image):
    out = brightness_contrast(image, 1.0, 10.0)
    assert np.array_equal(out, np.clip(image.astype(np.int32) + 10, 0, 255).astype(np.uint8))
    flat = brightness_contrast(image, 0.0, 0.0)
    assert np.unique(flat).tolist() == [round(float(image.mean()))]


def test_augmenter_is_seeded_and_shape_preserving(image):
    augment = Augmenter(cutoff_p=1.0, cutoff_min=0.25, cutoff_max=0.25, jitter=0.0, flip=False)
    out = augment(image, np.random.default_rng(1))
    black = _black_columns(out)
    assert len(black) == 10 and black.tolist() in (list(range(10)), list(range(30, 40)))
    a = Augmenter()(image, np.random.default_rng(5))
    b = Augmenter()(image, np.random.default_rng(5))
    assert np.array_equal(a, b) and a.shape == image.shape
