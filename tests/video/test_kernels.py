"""The compiled per-frame kernels against plain numpy/OpenCV definitions of the same quantities."""

import cv2
import numpy as np
import pytest

from framesift.video.kernels import CHUNK, block_means, gray_sums, laplacian_sums
from framesift.video.shots import THUMB_SIZE, yuv_thumbnail
from framesift.video.stats import UNIFORM_PIXEL_LEVEL, UNIFORM_ROW_FRACTION, frame_stats


def reference_stats(gray: np.ndarray) -> tuple[float, float, float, float]:
    """The DESIGN.md definitions written with numpy on int64 (slow, obviously right)."""
    g = gray.astype(np.int64)
    lap = g[:-2, 1:-1] + g[2:, 1:-1] + g[1:-1, :-2] + g[1:-1, 2:] - 4 * g[1:-1, 1:-1]
    uniform = np.abs(lap) <= UNIFORM_PIXEL_LEVEL
    rows = uniform.sum(axis=1) > UNIFORM_ROW_FRACTION * lap.shape[1]
    return float(lap.var()), float(g.mean() / 255), float(g.std() / 255), float(rows.mean())


def textured(height: int, width: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 256, (height, width), dtype=np.uint8)
    image[: height // 3] = 40  # flat band: uniform rows
    image[height // 3 : height // 2, :] //= 60  # low-contrast band: |laplacian| mostly <= 4
    return image


@pytest.mark.parametrize(("height", "width"), [(3, 3), (7, 5), (360, 640), (121, 333), (40, CHUNK + 517)])
def test_stats_equal_the_reference_definitions(height, width):
    image = textured(height, width, seed=height + width)
    got = frame_stats(image)
    sharpness, brightness, contrast, uniform = reference_stats(image)
    assert got.sharpness == pytest.approx(sharpness, rel=1e-12, abs=1e-9)
    assert got.brightness == pytest.approx(brightness, rel=1e-12)
    assert got.contrast == pytest.approx(contrast, rel=1e-9, abs=1e-12)
    assert got.uniform_row_ratio == uniform  # integer counts: exact


def test_padded_plane_views_give_the_same_sums_as_contiguous_copies():
    image = textured(90, 130, seed=3)
    padded = np.zeros((90, 192), np.uint8)
    padded[:, :130] = image
    view = padded[:, :130]  # like a decoder plane with line padding
    assert not view.flags.c_contiguous
    assert gray_sums(view) == gray_sums(image)
    assert laplacian_sums(view, 4, 0.97) == laplacian_sums(image, 4, 0.97)


def test_extreme_laplacian_values_do_not_overflow():
    checker = (np.indices((50, 3 * CHUNK)).sum(axis=0) % 2 * 255).astype(np.uint8)  # |laplacian| = 1020 inside
    total, squares, uniform_rows = laplacian_sums(checker, 4, 0.97)
    interior = 48 * (3 * CHUNK - 2)
    assert squares == interior * 1020**2
    assert total == 0  # +1020 and -1020 alternate along each interior row (an even count)
    assert uniform_rows == 0
    assert gray_sums(np.full((10, 5 * CHUNK), 255, np.uint8)) == (10 * 5 * CHUNK * 255, 10 * 5 * CHUNK * 255**2)


def test_block_means_are_exact_area_averages_when_sizes_divide():
    image = textured(360, 640, seed=5)
    out = np.empty((18, 32), np.uint8)
    block_means(image, out)
    exact = image.reshape(18, 20, 32, 20).mean(axis=(1, 3))
    assert np.abs(out.astype(float) - exact).max() <= 0.5  # rounded block means
    opencv = cv2.resize(image, (32, 18), interpolation=cv2.INTER_AREA)
    assert np.abs(out.astype(int) - opencv).max() <= 1  # OpenCV rounds exact halves differently


def test_block_means_cover_every_pixel_when_sizes_do_not_divide():
    image = np.zeros((272, 650), np.uint8)
    image[-1, -1] = 255  # the last pixel lands in the last block
    out = np.empty((18, 32), np.uint8)
    block_means(image, out)
    assert out[-1, -1] > 0 and out.sum() == out[-1, -1]


def test_yuv_thumbnail_matches_opencv_conversion_of_the_averaged_planes():
    y = textured(360, 640, seed=8)
    u = np.full((180, 320), 90, np.uint8)
    v = np.full((180, 320), 200, np.uint8)
    thumb = yuv_thumbnail(y, u, v)
    assert thumb.shape == (THUMB_SIZE[1], THUMB_SIZE[0], 3)
    planes = [cv2.resize(p, THUMB_SIZE, interpolation=cv2.INTER_AREA) for p in (y, u, v)]
    assert np.abs(thumb.astype(int) - cv2.cvtColor(np.dstack(planes), cv2.COLOR_YUV2RGB)).max() <= 2
    assert (thumb[..., 0] > thumb[..., 2]).all()  # V (red difference) 200 > U (blue difference) 90: reddish


def test_block_means_of_a_plane_smaller_than_the_thumbnail_repeat_its_pixels():
    plane = np.arange(6 * 8, dtype=np.uint8).reshape(6, 8) * 5  # smaller than 32x18 in both axes
    out = np.empty((18, 32), np.uint8)
    block_means(plane, out)
    rows, cols = np.arange(18) * 6 // 18, np.arange(32) * 8 // 32
    assert np.array_equal(out, plane[np.ix_(rows, cols)])
