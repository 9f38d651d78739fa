"""The methods compared: baselines on frame numbers, and framesift selection configs.

Baselines never look at pixels:

* ``uniform-fps``: k frames evenly spaced in time with a random phase (seeded), i.e. sampling at
  the fixed frame rate that spends the budget, started at a random instant;
* ``random``: k distinct frames uniformly at random (``framesift.report.metrics.random_selection``).

framesift methods are LightlyOne-style ``selection_config`` dicts run through the real pipeline
(``pipeline.select_frames``). ``uncertainty`` weights by ``objectness_least_confidence`` of the
prediction task (the simulated detector by default), ``balance`` balances that task's predicted
class distribution (UNIFORM), ``gap`` adds ``min_frame_gap`` = half the uniform spacing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from framesift.report.metrics import random_selection

from .pipeline import PreparedClip, select_frames

DEFAULT_TASK = "simdet"


def uniform_fps_selection(n_frames: int, k: int, *, seed: int = 0) -> np.ndarray:
    """``k`` frames at a fixed rate: frame ``floor((j + phase) * n / k)`` with phase ~ U[0, 1) from ``seed``."""
    k = min(max(k, 0), n_frames)
    if k == 0:
        return np.zeros(0, np.int64)
    phase = np.random.default_rng(seed).random()
    return np.floor((np.arange(k) + phase) * n_frames / k).astype(np.int64)


def min_gap_for(n_frames: int, k: int) -> int:
    """Half the spacing of uniform sampling at the same budget (at least 1)."""
    return max(1, n_frames // (2 * max(k, 1)))


def _diversity() -> dict[str, Any]:
    return {"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY"}}


def _uncertainty(task: str) -> dict[str, Any]:
    return {"input": {"type": "SCORES", "task": task, "score": "objectness_least_confidence"},
            "strategy": {"type": "WEIGHTS"}}


def _balance(task: str) -> dict[str, Any]:
    return {"input": {"type": "PREDICTIONS", "task": task, "name": "CLASS_DISTRIBUTION"},
            "strategy": {"type": "BALANCE", "distribution": "UNIFORM"}}


@dataclass(frozen=True)
class Method:
    name: str
    kind: str  # "baseline" or "framesift"
    seeded: bool  # result depends on the seed
    run: Callable[[PreparedClip, int, int], np.ndarray]  # (prepared clip, k, seed) -> frame indices
    needs_task: bool = False
    config: Callable[[int, int], dict[str, Any]] | None = None  # (n_frames, k) -> selection_config
    embedder: str | None = None


def _framesift(name: str, embedder: str, strategies: Callable[[str], list[dict[str, Any]]], *, gap: bool = False,
               task: str = DEFAULT_TASK, needs_task: bool = False) -> Method:
    def config(n_frames: int, k: int) -> dict[str, Any]:
        cfg: dict[str, Any] = {"n_samples": k, "strategies": strategies(task), "random_seed": 0}
        if gap:
            cfg["min_frame_gap"] = min_gap_for(n_frames, k)
        return cfg

    def run(prepared: PreparedClip, k: int, seed: int) -> np.ndarray:
        return select_frames(prepared, config(prepared.clip.n_frames, k), embedder).frames

    return Method(name, "framesift", False, run, needs_task, config, embedder)


def baseline_methods() -> list[Method]:
    return [
        Method("uniform-fps", "baseline", True, lambda p, k, s: uniform_fps_selection(p.clip.n_frames, k, seed=s)),
        Method("random", "baseline", True, lambda p, k, s: random_selection(p.clip.n_frames, k, seed=s)),
    ]


def framesift_methods(embedder: str = "efficientnet_lite0", *, cheap_embedder: str | None = "pixels",
                      task: str = DEFAULT_TASK) -> list[Method]:
    """diversity, +uncertainty, +balance, +min gap (cumulative), and diversity on the cheap embedder."""
    out = [
        _framesift("diversity", embedder, lambda t: [_diversity()]),
        _framesift("div+uncertainty", embedder, lambda t: [_diversity(), _uncertainty(t)], task=task, needs_task=True),
        _framesift("div+unc+balance", embedder, lambda t: [_diversity(), _uncertainty(t), _balance(t)], task=task,
                   needs_task=True),
        _framesift("div+unc+bal+gap", embedder, lambda t: [_diversity(), _uncertainty(t), _balance(t)], gap=True,
                   task=task, needs_task=True),
        _framesift("diversity+gap", embedder, lambda t: [_diversity()], gap=True),
    ]
    if cheap_embedder:
        out.append(_framesift(f"diversity[{cheap_embedder}]", cheap_embedder, lambda t: [_diversity()]))
    return out
