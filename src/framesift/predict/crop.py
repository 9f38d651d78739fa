"""Cut boxes out of an image, with optional padding; shared by face crops and run crops."""

from __future__ import annotations

import numpy as np


def crop_window(box_xywh: np.ndarray, width: int, height: int, padding: float = 0.0) -> tuple[int, int, int, int] | None:
    """Integer (x0, y0, x1, y1) of a box grown by ``padding`` x its size on each side, clipped to the image.

    None when nothing of the box lies inside the image.
    """
    x, y, w, h = (float(v) for v in box_xywh)
    x0, y0 = x - padding * w, y - padding * h
    x1, y1 = x + w + padding * w, y + h + padding * h
    ix0, iy0 = max(0, int(np.floor(x0))), max(0, int(np.floor(y0)))
    ix1, iy1 = min(width, int(np.ceil(x1))), min(height, int(np.ceil(y1)))
    if ix1 <= ix0 or iy1 <= iy0:
        return None
    return ix0, iy0, ix1, iy1


def crop_boxes(image: np.ndarray, boxes_xywh: np.ndarray, padding: float = 0.0) -> list[np.ndarray | None]:
    """One crop per box (None for a box entirely outside the image)."""
    height, width = image.shape[:2]
    crops: list[np.ndarray | None] = []
    for box in np.asarray(boxes_xywh, np.float64).reshape(-1, 4):
        window = crop_window(box, width, height, padding)
        crops.append(None if window is None else np.ascontiguousarray(image[window[1]:window[3], window[0]:window[2]]))
    return crops
