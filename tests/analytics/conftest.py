"""Fixtures: a workspace of drawn-face clips (smiling known per frame) with face boxes and labels."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))  # importlib mode: make analytics_support importable

from analytics_support import PEOPLE, ClipTruth, classroom_clip, ingest

from framesift.loop.concepts import create_concept, set_labels
from framesift.predict.base import FramePrediction
from framesift.predict.store import ensure_task, store_predictions
from framesift.workspace import Workspace


@dataclass
class SmileSet:
    workspace: Workspace
    truths: dict[str, ClipTruth]  # video name -> truth
    concept_id: int


def smiling_pattern(n: int, run: int = 4, phase: int = 0) -> list[bool]:
    """Runs of ``run`` smiling then ``run`` neutral frames."""
    return [((i + phase) // run) % 2 == 0 for i in range(n)]


def store_true_boxes(ws: Workspace, truths: dict[str, ClipTruth], task: str = "faces") -> None:
    """Face boxes where they were drawn (score 0.99), as if a face detector had found them."""
    ensure_task(ws.catalog, task, "object-detection", [{"id": 0, "name": "face"}], "drawn")
    for video in ws.catalog.query("SELECT id, name FROM videos"):
        truth = truths[video["name"]]
        frames = ws.catalog.query("SELECT id, frame_index FROM frames WHERE video_id = ?", (video["id"],))
        items = []
        for f in frames:
            boxes = np.array(truth.boxes[f["frame_index"]], np.float64)
            items.append((int(f["id"]), FramePrediction(np.zeros(len(boxes), np.int64), np.full(len(boxes), 0.99),
                                                        boxes)))
        store_predictions(ws.catalog, task, items)


@pytest.fixture(scope="session")
def smile_set(tmp_path_factory: pytest.TempPathFactory) -> SmileSet:
    """Five people, one clip each (16 frames at 5 fps); every 4 frames the smile switches on/off.

    Clips 1-4 show a second person on 6 frames each (at different times). All frames are labeled
    for the concept ``smiling`` from the drawing, and the drawn face boxes are stored as task ``faces``.
    """
    root = tmp_path_factory.mktemp("smiles")
    truths = {}
    second_from = {1: 10, 2: 0, 3: 4, 4: 8}
    for k, person in enumerate(PEOPLE[:5]):
        second = [second_from[k] <= i < second_from[k] + 6 for i in range(16)] if k in second_from else None
        truths[f"p{k}"] = classroom_clip(root / "in" / f"p{k}.mp4", person, smiling_pattern(16, phase=k),
                                         second=second)
    ws = Workspace.open(root / "ws")
    ingest(ws, root / "in")
    store_true_boxes(ws, truths)
    concept = create_concept(ws.catalog, "smiling")
    for video in ws.catalog.query("SELECT id, name FROM videos"):
        frames = ws.catalog.query("SELECT id, frame_index FROM frames WHERE video_id = ?", (video["id"],))
        for value in (0, 1):
            ids = [f["id"] for f in frames if truths[video["name"]].smile[f["frame_index"]] == bool(value)]
            set_labels(ws.catalog, concept.id, ids, value)
    return SmileSet(ws, truths, concept.id)
