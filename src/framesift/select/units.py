"""Selection units: single frames, or runs of ``selected_sequence_length`` consecutive frames.

LightlyOne's sequence selection splits every video into consecutive sequences of length L,
averages the frame embeddings of a sequence and selects whole sequences. Everything the
engine does happens on units; a unit maps back to its L frames at the end. With L = 1 a
unit is a frame and nothing is copied.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .types import SelectionInputs


@dataclass
class Units:
    """``members[u]`` are the frames (positions into N) of unit ``u``, in frame order."""

    members: np.ndarray  # (U, L) int64
    video: np.ndarray  # (U,) int64
    frame_lo: np.ndarray  # (U,) first / last frame_index of the unit
    frame_hi: np.ndarray
    time_lo: np.ndarray  # (U,) first / last time_s of the unit
    time_hi: np.ndarray
    shot: np.ndarray | None  # (U,) shot of the first frame
    preselected: np.ndarray  # (U,) bool: any member preselected
    excluded: np.ndarray  # (U,) bool: any member excluded

    @property
    def n(self) -> int:
        return len(self.members)

    @property
    def length(self) -> int:
        return self.members.shape[1]

    def mean_scalar(self, values: np.ndarray) -> np.ndarray:
        """Per-unit mean of a per-frame float array (NaN ignored; all-NaN stays NaN)."""
        values = np.asarray(values, dtype=np.float64)
        if self.length == 1:
            return values[self.members[:, 0]]
        v = values[self.members]
        ok = ~np.isnan(v)
        total = np.where(ok, v, 0.0).sum(axis=1)
        count = ok.sum(axis=1)
        out = np.full(self.n, np.nan)
        np.divide(total, count, out=out, where=count > 0)
        return out

    def mean_rows(self, matrix: np.ndarray) -> np.ndarray:
        """Per-unit mean of a per-frame matrix (N, C) -> (U, C) float32."""
        if self.length == 1:
            return np.asarray(matrix[self.members[:, 0]], dtype=np.float32)
        out = np.zeros((self.n, matrix.shape[1]), dtype=np.float32)
        for j in range(self.length):
            out += np.asarray(matrix[self.members[:, j]], dtype=np.float32)
        return out / self.length

    def first(self, values: np.ndarray) -> np.ndarray:
        """Per-unit value of the first member (categorical data)."""
        return np.asarray(values)[self.members[:, 0]]

    def embeddings(self, emb: np.ndarray, units: np.ndarray | None = None) -> np.ndarray:
        """Unit embeddings: the member mean, re-normalised. With L = 1 this is the frame row."""
        sel = self.members if units is None else self.members[units]
        if self.length == 1:
            return np.asarray(emb[sel[:, 0]], dtype=np.float32)
        out = np.zeros((len(sel), emb.shape[1]), dtype=np.float32)
        for j in range(self.length):
            out += np.asarray(emb[sel[:, j]], dtype=np.float32)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return out / norms


def make_units(inputs: SelectionInputs, length: int) -> Units:
    """Split every video into consecutive runs of ``length`` frames (the tail shorter than L is dropped)."""
    n = inputs.n
    pre = np.zeros(n, bool) if inputs.preselected is None else np.asarray(inputs.preselected, bool)
    exc = np.zeros(n, bool) if inputs.excluded is None else np.asarray(inputs.excluded, bool)
    video = np.asarray(inputs.video_ids, dtype=np.int64)
    frame = np.asarray(inputs.frame_index, dtype=np.int64)
    time = np.asarray(inputs.time_s, dtype=np.float64)
    shot = None if inputs.shot_ids is None else np.asarray(inputs.shot_ids, dtype=np.int64)
    if length == 1:
        members = np.arange(n, dtype=np.int64)[:, None]
    else:
        order = np.lexsort([np.arange(n), frame, video])
        v_sorted = video[order]
        run_start = np.flatnonzero(np.r_[True, v_sorted[1:] != v_sorted[:-1]])
        run_len = np.diff(np.r_[run_start, n])
        chunks = []
        for start, size in zip(run_start.tolist(), run_len.tolist(), strict=True):
            usable = size - size % length
            if usable:
                chunks.append(order[start : start + usable].reshape(-1, length))
        members = np.concatenate(chunks) if chunks else np.zeros((0, length), dtype=np.int64)
    first, last = members[:, 0], members[:, -1]
    return Units(
        members=members,
        video=video[first],
        frame_lo=frame[first],
        frame_hi=frame[last],
        time_lo=np.minimum(time[first], time[last]),
        time_hi=np.maximum(time[first], time[last]),
        shot=None if shot is None else shot[first],
        preselected=pre[members].any(axis=1),
        excluded=exc[members].any(axis=1),
    )
