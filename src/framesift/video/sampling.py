"""Which decoded frames get a catalog row: every frame, every k-th, or about ``fps`` per second."""

from __future__ import annotations


class FrameSampler:
    """Decides per decoded frame (in decode order) whether to index it."""

    def __init__(self, *, frame_stride: int | None = None, fps: float | None = None):
        if frame_stride is not None and fps is not None:
            raise ValueError("use frame_stride or fps, not both")
        if frame_stride is not None and frame_stride < 1:
            raise ValueError("frame_stride must be >= 1")
        if fps is not None and fps <= 0:
            raise ValueError("fps must be > 0")
        self.frame_stride = frame_stride or 1
        self.fps = fps
        self._next_time: float | None = None

    def keep(self, frame_index: int, time_s: float) -> bool:
        if self.fps is None:
            return frame_index % self.frame_stride == 0
        if self._next_time is None:
            self._next_time = time_s
        if time_s + 1e-9 < self._next_time:
            return False
        period = 1.0 / self.fps
        while self._next_time <= time_s + 1e-9:
            self._next_time += period
        return True
