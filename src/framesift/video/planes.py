"""Zero-copy access to a decoded frame's Y, U, V planes.

Ingest computes its statistics on the luma plane directly instead of asking swscale for a
converted copy; that is most of the difference between decode speed and ingest speed.
"""

from __future__ import annotations

import av
import numpy as np

PLANAR_8BIT = frozenset({"yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "yuv440p", "yuvj440p"})


def plane_array(plane: av.video.plane.VideoPlane) -> np.ndarray:
    """A 2-D uint8 view of one plane, without the line padding."""
    data = np.frombuffer(plane, np.uint8)
    return data.reshape(plane.height, plane.line_size)[:, : plane.width]


def yuv_planes(frame: av.VideoFrame, rotation: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(Y, U, V) as uint8 arrays in display orientation; other pixel formats are converted first."""
    if frame.format.name not in PLANAR_8BIT:
        frame = frame.reformat(format="yuv420p")
    y, u, v = (plane_array(p) for p in frame.planes[:3])
    if rotation:
        k = rotation // 90
        y, u, v = (np.ascontiguousarray(np.rot90(p, k=k)) for p in (y, u, v))
    return y, u, v
