"""A SIMULATED detector: ground-truth boxes turned into imperfect predictions with confidences.

The uncertainty strategies need model predictions. A real detector trained on a disjoint part of
each clip costs minutes of CPU per clip (see detection_curve.py for what a YOLO nano learns on
CPU in that time), so the selection benchmark uses this stand-in, clearly labelled as simulated
wherever its numbers appear. Its behaviour follows what detectors are known to do:

* confidence grows with object size: ``sigmoid((sqrt(area) - size_mid) / size_scale)`` mapped to
  [0.25, 0.95], minus ``crowd_penalty`` for a box overlapping another GT box (IoU > 0.1), times
  the frame's ``visibility`` (1 normally; lower in dark frames of the stress videos) and times
  ``rare_factor`` for classes with under ``rare_share`` of the boxes (a model trained on
  imbalanced data is less sure of rare classes), plus N(0, ``noise``);
* a box is missed when its confidence falls below ``threshold`` (0.1);
* boxes are jittered by N(0, 5 %) of their size;
* false positives: Poisson(``fp_rate``) per frame, random boxes with confidence U(0.1, 0.35) and a
  class drawn from the ground truth's class frequencies (a detector's prior).

Seeded: the same clip and seed give the same predictions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from framesift.predict.base import FramePrediction

from .datasets import GroundTruth
from .tracks import iou_matrix


@dataclass(frozen=True)
class DetectorModel:
    size_mid: float = 20.0  # px (sqrt of box area) at which confidence is half way
    size_scale: float = 8.0
    crowd_penalty: float = 0.15
    rare_share: float = 0.1
    rare_factor: float = 0.6
    noise: float = 0.08
    threshold: float = 0.1
    fp_rate: float = 0.3
    jitter: float = 0.05

    @property
    def name(self) -> str:
        return "simulated-detector (GT + noise, see benchmarks/label_efficiency/detector.py)"


def simulate(gt: GroundTruth, size: tuple[int, int], *, seed: int = 0, model: DetectorModel | None = None,
             visibility: np.ndarray | None = None) -> list[FramePrediction]:
    """One prediction per frame of ``gt`` (frame size ``size`` = (width, height))."""
    model = model or DetectorModel()
    rng = np.random.default_rng(seed)
    width, height = size
    vis = np.ones(gt.n_frames) if visibility is None else np.asarray(visibility, np.float64)
    counts = np.bincount(gt.cls, minlength=len(gt.categories)).astype(np.float64)
    share = counts / max(1.0, counts.sum())
    rare = share < model.rare_share
    prior = share if counts.sum() > 0 else np.full(len(share), 1.0 / max(1, len(share)))
    out = []
    order = np.argsort(gt.frame, kind="stable")
    starts = np.searchsorted(gt.frame[order], np.arange(gt.n_frames + 1))
    for f in range(gt.n_frames):
        idx = order[starts[f]:starts[f + 1]]
        boxes = gt.xywh[idx]
        side = np.sqrt(np.maximum(boxes[:, 2] * boxes[:, 3], 0.0))
        conf = 0.25 + 0.7 / (1.0 + np.exp(-(side - model.size_mid) / model.size_scale))
        if len(idx) > 1:
            overlap = iou_matrix(boxes, boxes)
            np.fill_diagonal(overlap, 0.0)
            conf = conf - model.crowd_penalty * (overlap.max(axis=1) > 0.1)
        conf = conf * vis[f] * np.where(rare[gt.cls[idx]], model.rare_factor, 1.0)
        conf = np.clip(conf + rng.normal(0.0, model.noise, len(idx)), 0.0, 0.99)
        keep = conf >= model.threshold
        jitter = rng.normal(0.0, model.jitter, (len(idx), 4)) * np.repeat(boxes[:, 2:], 2, axis=1)
        pred = boxes + jitter
        n_fp = rng.poisson(model.fp_rate)
        fp_w = rng.uniform(0.03, 0.1, n_fp) * width
        fp_h = fp_w * rng.uniform(0.6, 1.4, n_fp)
        fp = np.stack([rng.uniform(0, width - fp_w), rng.uniform(0, np.maximum(height - fp_h, 1)), fp_w, fp_h], axis=1)
        all_boxes = np.vstack([pred[keep], fp.reshape(-1, 4)])
        all_boxes[:, 2:] = np.maximum(all_boxes[:, 2:], 1.0)
        scores = np.concatenate([conf[keep], rng.uniform(0.1, 0.35, n_fp)])
        categories = np.concatenate([gt.cls[idx][keep], rng.choice(len(gt.categories), n_fp, p=prior)])
        out.append(FramePrediction(categories.astype(np.int64), scores, all_boxes))
    return out
