"""Helpers for the predict tests: a synthetic clip with known boxes, Lightly folders written by hand."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from framesift.pipeline.ingest import ingest_videos
from framesift.store.videos import SamplingKey, register_videos
from framesift.video import synthetic
from framesift.video.discover import discover_videos
from framesift.workspace import Workspace

CATEGORIES = [{"id": 0, "name": "car"}, {"id": 1, "name": "person"}]
COLORS = {0: (220, 30, 30), 1: (30, 30, 220)}  # car red, person blue


@dataclass
class BoxTruth:
    n_frames: int
    width: int
    height: int
    boxes: list[list[tuple[int, float, int, int, int, int]]]  # per frame: (class, score, x, y, w, h)


def make_boxes_video(path: Path, n_frames: int = 40, person_every: int = 5) -> BoxTruth:
    """One box per frame: a person (blue) in every ``person_every``-th frame, a car (red) otherwise."""
    width, height = 160, 120
    background = synthetic.textured_background(height, width, seed=3)
    boxes = []
    for i in range(n_frames):
        cls = 1 if i % person_every == 0 else 0
        x, y = 10 + (i * 3) % 100, 20 + (i * 7) % 60
        score = round(0.3 + 0.6 * ((i * 37) % 11) / 10, 3)
        boxes.append([(cls, score, x, y, 24, 20)])

    def frames():
        for i in range(n_frames):
            image = background.copy()
            for cls, _, x, y, w, h in boxes[i]:
                synthetic.draw_box(image, x, y, w, h, COLORS[cls])
            yield image

    synthetic.write_video(path, frames(), fps=10, quality=10)
    return BoxTruth(n_frames, width, height, boxes)


def ingest_folder(ws: Workspace, folder: Path, stride: int | None = None) -> None:
    ids, _ = register_videos(ws.catalog, discover_videos(str(folder)), SamplingKey(stride, None))
    ingest_videos(ws.catalog, ids, frame_stride=stride)

def write_lightly_predictions(root: Path, truth: BoxTruth, task: str = "detector", video: str = "cam1/street",
                              frames: range | None = None) -> Path:
    """A .lightly/predictions folder exactly as the LightlyOne docs describe, written by hand."""
    task_dir = root / ".lightly" / "predictions" / task
    task_dir.mkdir(parents=True, exist_ok=True)
    (root / ".lightly" / "predictions" / "tasks.json").write_text(json.dumps([task]))
    (task_dir / "schema.json").write_text(json.dumps({"task_type": "object-detection", "categories": CATEGORIES}))
    pad = len(str(truth.n_frames))
    for i in frames if frames is not None else range(truth.n_frames):
        name = f"{video}-{i:0{pad}d}-mp4"
        singletons = [{"category_id": c, "bbox": [x, y, w, h], "score": s} for c, s, x, y, w, h in truth.boxes[i]]
        target = task_dir / f"{name}.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps({"file_name": f"{name}.png", "predictions": singletons}))
    return task_dir

def frame_ids(ws: Workspace) -> dict[int, int]:
    return {r[1]: r[0] for r in ws.catalog.query("SELECT id, frame_index FROM frames")}

def expected_objectness(truth: BoxTruth) -> np.ndarray:
    return np.array([1 - np.mean([b[1] for b in boxes]) for boxes in truth.boxes])
