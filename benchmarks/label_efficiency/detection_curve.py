"""Part 2: does a detector trained on each method's frames get better? mAP@0.5 vs labeled frames.

The clip is split in time: the first ``pool`` share of its frames is the selection pool (written
as its own video and run through the framesift pipeline like part 1), then ``gap`` frames are
skipped (objects seen at the end of the pool would otherwise reappear), and the rest is the test
set. For every method and budget, the selected pool frames with their ground-truth boxes become a
YOLO dataset (framesift's YOLO writer); a YOLO nano is trained from scratch (no pretrained weights
are available offline) with ``framesift.loop.train_yolo.train_yolo`` at a low resolution for a
fixed number of epochs and seed, and ``evaluate_yolo`` measures mAP@0.5 on the test frames.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

from framesift.export.files import place_images
from framesift.export.model import Box, Category, ExportFrame, ExportSet
from framesift.export.yolo import write_yolo
from framesift.util.atomic import write_text
from framesift.video.naming import frame_file_name

from .datasets import Clip, GroundTruth
from .methods import Method
from .metrics import budget_frames
from .pipeline import PreparedClip


@dataclass(frozen=True)
class Split:
    pool: np.ndarray  # frame indices of the selection pool
    test: np.ndarray  # held-out frame indices


def time_split(n_frames: int, *, pool: float = 0.65, gap: float = 0.05) -> Split:
    """First ``pool`` of the frames to select from, then a ``gap``, the rest for testing."""
    a = round(pool * n_frames)
    b = min(n_frames - 1, a + round(gap * n_frames))
    return Split(np.arange(a), np.arange(b, n_frames))


def sub_clip(clip: Clip, frames: np.ndarray, name: str) -> Clip:
    """The clip restricted to ``frames`` (renumbered 0..), for the selection pool's own video."""
    from .datasets import expand_ground_truth

    gt = expand_ground_truth(clip.gt, frames)
    base = clip.render
    wanted = set(frames.tolist())

    def render():  # type: ignore[no-untyped-def]
        for i, image in enumerate(base()):
            if i in wanted:
                yield image

    src = frames if clip.source_frames is None else clip.source_frames[frames]
    return Clip(name, clip.fps, gt, render, clip.tracks, about=f"frames {frames[0]}-{frames[-1]} of {clip.name}",
                source_frames=src)


def yolo_dataset(folder: Path, images: Sequence[Path], gt: GroundTruth, train: Sequence[int], test: Sequence[int],
                 test_gt: GroundTruth, test_offset: int, size: tuple[int, int], video: str = "clip") -> Path:
    """``folder/train``, ``folder/val`` in YOLO format (framesift's writer) and ``folder/data.yaml``.

    ``images[i]`` is the source image of frame i of the full clip; ``train`` are pool frames (of
    ``gt``), ``test`` frames of ``test_gt`` whose source image is ``images[test_offset + j]``.
    """
    categories = [Category(i, name) for i, name in enumerate(gt.categories)]
    n_total = len(images)
    for split, frames, truth, offset in (("train", train, gt, 0), ("val", test, test_gt, test_offset)):
        export_frames = []
        for f in frames:
            source = images[offset + int(f)]
            name = frame_file_name(video, "mp4", offset + int(f), n_total, suffix=source.suffix.lstrip("."))
            on = truth.frame == int(f)
            boxes = [Box(int(c), gt.categories[int(c)], *map(float, xywh))
                     for c, xywh in zip(truth.cls[on], truth.xywh[on], strict=True)]
            export_frames.append(ExportFrame(int(f), video, "mp4", offset + int(f), None, 0.0, name, source,
                                             size[0], size[1], boxes))
        export = ExportSet(split, folder, None, categories, export_frames)
        place_images(export, folder / split)
        write_yolo(export, folder / split)
    data = {"path": str(folder.resolve()), "train": "train/images", "val": "val/images", "nc": len(categories),
            "names": {c.id: c.name for c in categories}}
    write_text(folder / "data.yaml", yaml.safe_dump(data, sort_keys=False))
    return folder / "data.yaml"


@dataclass
class CurvePoint:
    method: str
    seed: int
    budget: float
    k: int
    metrics: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0


def learning_curve(prepared: PreparedClip, images: Sequence[Path], test_gt: GroundTruth, test_offset: int,
                   methods: Sequence[Method], budgets: Sequence[float], seeds: Sequence[int], work: Path, *,
                   epochs: int, imgsz: int, train_seed: int = 0,
                   log: Callable[[str], None] = lambda _: None) -> list[CurvePoint]:
    """Train and evaluate one YOLO nano per (method, seed, budget)."""
    from framesift.loop.train_yolo import TrainSettings, evaluate_yolo, train_yolo

    clip = prepared.clip
    row = prepared.workspace.catalog.query_one("SELECT width, height FROM videos")
    size = (int(row["width"]), int(row["height"]))
    settings = TrainSettings(model="yolov8n.yaml", epochs=epochs, imgsz=imgsz, batch=8, seed=train_seed, device="cpu")
    out = []
    test = np.arange(test_gt.n_frames)
    for budget in budgets:
        k = budget_frames(clip.n_frames, budget)
        for method in methods:
            for seed in seeds if method.seeded else seeds[:1]:
                start = time.perf_counter()
                frames = np.asarray(method.run(prepared, k, seed), np.int64)
                folder = work / f"{method.name}-{seed}-{k}".replace("+", "_").replace("[", "_").replace("]", "")
                data = yolo_dataset(folder, images, clip.gt, frames.tolist(), test.tolist(), test_gt, test_offset,
                                    size)
                weights = train_yolo(settings, data, folder / "model")
                metrics = evaluate_yolo(weights, data, settings, folder / "model")
                seconds = time.perf_counter() - start
                log(f"  {method.name} seed {seed} {k} frames: mAP50 {metrics['mAP50']:.3f} ({seconds:.0f} s)")
                out.append(CurvePoint(method.name, seed, budget, k, metrics, seconds))
    return out
