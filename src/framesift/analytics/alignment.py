"""Session alignment: where two (or more) recordings of one session are all running.

Each recording starts at ``offset_s`` on a shared session clock (e.g. the teacher camera
started 12.5 s after the student camera) and lasts ``duration_s``. The overlap is an interval
on the session clock; each recording gets the same interval in its own local time, the
window its frames (``time_s``) are analysed in. Pure interval math, no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

EPS = 1e-6  # seconds: frame times computed from pts may be off by a rounding error


@dataclass(frozen=True)
class Recording:
    name: str
    offset_s: float  # session time at which the recording starts
    duration_s: float

    @property
    def end_s(self) -> float:
        return self.offset_s + self.duration_s


@dataclass(frozen=True)
class Window:
    """A half-open interval [start_s, end_s) of one recording's local time."""

    start_s: float
    end_s: float

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    def contains(self, times: np.ndarray | float) -> np.ndarray:
        t = np.asarray(times, np.float64)
        return (t >= self.start_s - EPS) & (t < self.end_s - EPS)


@dataclass(frozen=True)
class Overlap:
    start_s: float  # session clock
    end_s: float
    windows: dict[str, Window]  # recording name -> the overlap in that recording's local time

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


def session_overlap(recordings: Sequence[Recording]) -> Overlap | None:
    """The interval where every recording is running, or None when they never all run at once."""
    if not recordings:
        raise ValueError("need at least one recording")
    for rec in recordings:
        if not np.isfinite(rec.offset_s) or not np.isfinite(rec.duration_s) or rec.duration_s <= 0:
            raise ValueError(f"{rec.name}: offset must be finite and duration > 0 (got {rec.offset_s}, {rec.duration_s})")
    names = [rec.name for rec in recordings]
    if len(set(names)) != len(names):
        raise ValueError("recording names must be distinct")
    start = max(rec.offset_s for rec in recordings)
    end = min(rec.end_s for rec in recordings)
    if end <= start:
        return None
    return Overlap(start, end, {rec.name: local_window(rec, start, end) for rec in recordings})


def local_window(recording: Recording, session_start_s: float, session_end_s: float) -> Window:
    """A session-clock interval in the recording's own time, clipped to the recording."""
    start = max(0.0, session_start_s - recording.offset_s)
    end = min(recording.duration_s, session_end_s - recording.offset_s)
    return Window(start, max(start, end))
