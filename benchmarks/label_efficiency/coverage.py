"""Parts 1 and 4: what each method's selected frames cover, per clip and budget."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from . import metrics as m
from .datasets import Clip
from .methods import Method
from .pipeline import PreparedClip
from .stress import RARE_KINDS, rare_event_recall


@dataclass
class Result:
    """Metrics of one selection."""

    clip: str
    budget: float  # fraction of the clip's frames
    k: int
    method: str
    seed: int
    values: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    frames: list[int] = field(default_factory=list)


def selection_metrics(clip: Clip, frames: np.ndarray) -> dict[str, float]:
    """Every metric that the clip's ground truth supports, for one set of selected frames."""
    gt = clip.gt
    mask = m.selected_mask(frames, clip.n_frames)
    out = {
        "boxes_per_frame": m.boxes_per_frame(gt.frame, mask),
        "box_recall": m.box_recall(gt.frame, mask),
    }
    tracks = gt.track if clip.has_tracks else None
    out["class_size"] = m.class_size_coverage(gt.frame, gt.cls, gt.xywh, mask, tracks)[0]
    if tracks is not None:
        out["tracks"] = m.track_coverage(gt.frame, gt.track, mask)
        out["tracks_n"] = float(m.tracks_covered(gt.frame, gt.track, mask))
    if clip.has_idle:
        out["idle_share"] = m.idle_share(clip.idle, mask)  # type: ignore[arg-type]
    if any(e.kind in RARE_KINDS for e in clip.events):
        for kind, value in rare_event_recall(clip.events, mask).items():
            out[f"recall:{kind}"] = value
    return out


def evaluate(
    prepared: PreparedClip,
    budgets: Sequence[float],
    methods: Sequence[Method],
    seeds: Sequence[int],
    *,
    log: Callable[[str], None] = lambda _: None,
) -> list[Result]:
    """Run every method at every budget (seeded methods once per seed) and measure the picks."""
    clip = prepared.clip
    results = []
    for budget in budgets:
        k = m.budget_frames(clip.n_frames, budget)
        for method in methods:
            if method.needs_task and not prepared.tasks:
                continue
            for seed in seeds if method.seeded else seeds[:1]:
                start = time.perf_counter()
                frames = np.asarray(method.run(prepared, k, seed), np.int64)
                seconds = time.perf_counter() - start
                if len(np.unique(frames)) != k:
                    log(f"  note: {method.name} picked {len(np.unique(frames))} of {k} frames on {clip.name}")
                results.append(Result(clip.name, budget, k, method.name, seed, selection_metrics(clip, frames),
                                      seconds, sorted(frames.tolist())))
    return results
