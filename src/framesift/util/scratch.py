"""Large temporary arrays backed by a file instead of anonymous memory.

A selection over millions of frames needs every embedding at once (4 x dim bytes a frame).
Held in anonymous memory that is RAM the process must own; in a memory-mapped scratch file
the same bytes live in the page cache, which the kernel can write back and drop under
pressure. The file is unlinked as soon as it is mapped (POSIX keeps the mapping valid), so
nothing is left behind however the process ends.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

import numpy as np

SCRATCH_OVER_BYTES = 32 * 2**20  # arrays below this stay in RAM: mapping them buys nothing
COPY_STEP_ROWS = 8192  # rows gathered per step by copy_rows: bounded temporaries whatever the size


def scratch_array(shape: tuple[int, ...], dtype: type, directory: Path | None) -> np.ndarray:
    """An array of ``shape``: in RAM when small or without ``directory``, else a mapped, already-unlinked file."""
    nbytes = int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize
    if directory is None or nbytes < SCRATCH_OVER_BYTES:
        return np.empty(shape, dtype)
    directory.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix="scratch-", suffix=".bin", dir=directory)
    try:
        os.ftruncate(fd, max(nbytes, 1))  # a sparse file: no disk used for rows never written
        array = np.memmap(name, dtype=dtype, mode="r+", shape=shape)
    finally:
        os.close(fd)
        with contextlib.suppress(OSError):  # Windows cannot unlink a mapped file; it stays until reboot cleanup
            os.unlink(name)
    return array


def copy_rows(out: np.ndarray, source: np.ndarray, source_rows: np.ndarray, out_rows: np.ndarray | None = None) -> None:
    """``out[out_rows] = source[source_rows]`` (``out[:len(source_rows)]`` without ``out_rows``) in steps.

    A single fancy-indexed copy would materialise all gathered rows in RAM first, which is what a
    scratch-backed ``out`` is there to avoid. Steps run in order, so compacting an array in place
    (``source is out``, ascending ``source_rows[i] >= i``) never reads a row already overwritten.
    """
    for lo in range(0, len(source_rows), COPY_STEP_ROWS):
        part = source_rows[lo : lo + COPY_STEP_ROWS]
        if out_rows is None:
            out[lo : lo + len(part)] = source[part]
        else:
            out[out_rows[lo : lo + COPY_STEP_ROWS]] = source[part]
