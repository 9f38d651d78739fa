"""Arrays in, picks out: the data contract between the pipeline and the selection engine."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np


@dataclass
class PredictionArrays:
    """Predictions of one task, aligned with the frames."""

    categories: list[str]  # category names, column order
    counts: np.ndarray  # (N, C) float: objects per class per frame (detection) or class probabilities
    has_prediction: np.ndarray  # (N,) bool: frame was predicted at all


@dataclass
class SelectionInputs:
    """Everything the engine may need, one row per frame (N frames)."""

    video_ids: np.ndarray  # (N,) int
    frame_index: np.ndarray  # (N,) int, decode order within the video
    time_s: np.ndarray  # (N,) float
    shot_ids: np.ndarray | None = None  # (N,) int, unique across videos
    embeddings: np.ndarray | None = None  # (N, d) float32/float16, L2-normalised, may be a np.memmap
    scores: Mapping[tuple[str, str], np.ndarray] = field(default_factory=dict)  # (task, score) -> (N,)
    predictions: Mapping[str, PredictionArrays] = field(default_factory=dict)  # task -> arrays
    metadata: Mapping[str, np.ndarray] = field(default_factory=dict)  # key -> (N,) float or object
    similarity_queries: Mapping[int, np.ndarray] = field(default_factory=dict)  # strategy index -> (Q, d)
    preselected: np.ndarray | None = None  # (N,) bool: picked before (datapool)
    excluded: np.ndarray | None = None  # (N,) bool: never select

    @property
    def n(self) -> int:
        return len(self.video_ids)


@dataclass
class SelectionResult:
    """The picks in order, with what each strategy thought of every pick (for the report)."""

    indices: np.ndarray  # positions into N, in pick order
    objectives: dict[str, np.ndarray]  # strategy label -> (k,) objective value at pick time
    stop_reason: str
    n_input: int
    n_candidates: int  # after THRESHOLD filters and excluded
    filtered: dict[str, int]  # THRESHOLD label -> frames it removed
    min_distance: float | None  # nearest-pick distance of the last DIVERSITY pick (None without DIVERSITY)
