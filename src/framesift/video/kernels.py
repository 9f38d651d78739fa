"""Compiled per-frame kernels for ingest: quality statistics and shot thumbnails (pure; no I/O).

Ingest runs these for every decoded frame while the decoder threads work on the next ones, so
their CPU time is taken straight from decoding. OpenCV needs one call (and one pass over the
pixels) per quantity: the 4-neighbour Laplacian, its sum, its sum of squares, the uniform-pixel
mask and the per-row counts (≈ 0.4 ms for a 640x360 frame). Here one numba loop computes the
Laplacian row by row into a small int16 buffer and reduces it while it is in L1 cache (≈ 0.1 ms,
same integers, so the same results). Arrays may be views with padded rows (decoder planes).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numba
import numpy as np

# Columns summed in int32 (vectorised twice as wide as int64) before adding to the int64 totals:
# 2048 squared Laplacians (each <= 1020**2) stay below 2**31.
CHUNK = 2048


def compiled(function: Callable[..., Any]) -> Any:
    """numba-compiled ``function``, its machine code cached on disk when a cache folder is writable.

    Compiling the three kernels takes ~1.5 s; loading them from the cache ~0.3 s. A read-only
    install (no writable ``__pycache__``, no user cache folder) compiles once per process instead
    of failing at import; ``NUMBA_CACHE_DIR`` points the cache elsewhere.
    """
    options = {"nogil": True, "boundscheck": False, "error_model": "numpy"}
    try:
        return numba.njit(cache=True, **options)(function)
    except RuntimeError:  # "cannot cache function ...: no locator available"
        return numba.njit(**options)(function)


@compiled
def row_sums(values: np.ndarray, limit: int) -> tuple[int, int, int]:
    """(sum, sum of squares, count of squares <= ``limit``) of a 1-D integer array.

    Chunks of ``CHUNK`` values are summed in int32 lanes, then added to int64 totals.
    """
    total = np.int64(0)
    squares = np.int64(0)
    small = np.int64(0)
    for start in range(0, len(values), CHUNK):
        part = values[start : start + CHUNK]
        chunk_total = np.int32(0)
        chunk_squares = np.int32(0)
        chunk_small = np.int32(0)
        for c in range(len(part)):
            value = np.int32(part[c])
            chunk_total += value
            chunk_squares += value * value
            chunk_small += np.int32(value * value <= limit)
        total += chunk_total
        squares += chunk_squares
        small += chunk_small
    return total, squares, small


@compiled
def gray_sums(gray: np.ndarray) -> tuple[int, int]:
    """(sum, sum of squares) of the gray levels of a 2-D uint8 image."""
    total = np.int64(0)
    squares = np.int64(0)
    for r in range(gray.shape[0]):
        row_total, row_squares, _ = row_sums(gray[r], -1)
        total += row_total
        squares += row_squares
    return total, squares


@compiled
def laplacian_sums(gray: np.ndarray, uniform_level: int, uniform_fraction: float) -> tuple[int, int, int]:
    """(sum, sum of squares, uniform rows) of the interior 4-neighbour Laplacian of a uint8 image.

    A pixel is uniform when |Laplacian| <= ``uniform_level``; a row is uniform when more than
    ``uniform_fraction`` of its interior pixels are.
    """
    height, width = gray.shape
    inner = width - 2
    lap = np.empty(inner, np.int16)  # |value| <= 4 * 255
    total = np.int64(0)
    squares = np.int64(0)
    uniform_rows = 0
    for r in range(1, height - 1):
        up = gray[r - 1, 1 : 1 + inner]
        down = gray[r + 1, 1 : 1 + inner]
        left = gray[r, 0:inner]
        centre = gray[r, 1 : 1 + inner]
        right = gray[r, 2 : 2 + inner]
        for c in range(inner):  # int16 lanes: vectorised twice as wide as int32
            lap[c] = (np.int16(up[c]) + np.int16(down[c]) + np.int16(left[c]) + np.int16(right[c])
                      - np.int16(4) * np.int16(centre[c]))
        row_total, row_squares, uniform = row_sums(lap, uniform_level * uniform_level)
        total += row_total
        squares += row_squares
        if uniform > uniform_fraction * inner:
            uniform_rows += 1
    return total, squares, uniform_rows


@compiled
def block_means(plane: np.ndarray, out: np.ndarray) -> None:
    """Shrink a uint8 plane to ``out.shape`` by averaging near-equal blocks (rounded).

    Block (i, j) covers rows ``[i*height//H, (i+1)*height//H)`` and the same for columns: exact
    area averaging when the sizes divide, and a close stand-in when they do not. Rows are summed
    first (vectorised), then the short column sums are cut into blocks.
    """
    height, width = plane.shape
    out_h, out_w = out.shape
    column_sums = np.empty(width, np.int32)
    for i in range(out_h):
        top = i * height // out_h
        bottom = max((i + 1) * height // out_h, top + 1)
        column_sums[:] = 0
        for r in range(top, bottom):
            row = plane[r]
            for c in range(width):
                column_sums[c] += np.int32(row[c])
        for j in range(out_w):
            left = j * width // out_w
            right = max((j + 1) * width // out_w, left + 1)
            block = np.int64(0)
            for c in range(left, right):
                block += column_sums[c]
            count = (bottom - top) * (right - left)
            out[i, j] = (block + count // 2) // count
