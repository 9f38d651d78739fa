"""Small synthetic frame collections for the selection tests (arrays only, no files)."""

from __future__ import annotations

import numpy as np

from framesift.config.selection import SelectionConfig
from framesift.select import SelectionInputs


def unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def clustered(n: int, d: int = 16, clusters: int = 12, spread: float = 0.15, seed: int = 0) -> np.ndarray:
    """Unit rows around ``clusters`` random unit centres (structure, like real embeddings)."""
    rng = np.random.default_rng(seed)
    centres = unit(rng.standard_normal((clusters, d)))
    lab = rng.integers(0, clusters, n)
    return unit(centres[lab] + spread * rng.standard_normal((n, d)))


def make_inputs(
    n_videos: int = 4,
    per_video: int = 50,
    d: int = 16,
    seed: int = 0,
    fps: float = 10.0,
    shot_len: int = 10,
    **extra,
) -> SelectionInputs:
    n = n_videos * per_video
    video = np.repeat(np.arange(n_videos), per_video)
    frame = np.tile(np.arange(per_video), n_videos)
    shots = video * 1000 + frame // shot_len
    return SelectionInputs(
        video_ids=video,
        frame_index=frame,
        time_s=frame / fps,
        shot_ids=shots,
        embeddings=clustered(n, d, seed=seed),
        **extra,
    )


def config(n_samples: int | None = None, *strategies: dict, **top) -> SelectionConfig:
    data: dict = {"strategies": list(strategies), **top}
    if n_samples is not None:
        data["n_samples"] = n_samples
    return SelectionConfig.model_validate(data)


DIVERSITY = {"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY"}}


def weights(task: str = "t", score: str = "s", strength: float = 1.0) -> dict:
    return {"input": {"type": "SCORES", "task": task, "score": score}, "strategy": {"type": "WEIGHTS", "strength": strength}}

