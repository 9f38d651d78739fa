"""Write a task's stored predictions back out in LightlyOne's ``.lightly/predictions`` layout.

For LightlyOne users going back, and for round trips: file names are the frames' Lightly names
(``{video}-{frame:0Nd}-{ext}.json``, N = digits of the video's frame count), one file per
frame the model ran on, empty ``predictions`` where it found nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from framesift.errors import FramesiftError
from framesift.predict.base import FramePrediction
from framesift.predict.lightly_format import write_task
from framesift.predict.store import get_task
from framesift.store.catalog import Catalog
from framesift.video.naming import frame_stem
from framesift.workspace import Workspace


def _task_frames(catalog: Catalog, task: str, n_classes: int, classification: bool) -> Iterator[tuple[str, FramePrediction]]:
    frames = catalog.query(
        "SELECT p.frame_id, p.probabilities, f.frame_index, v.name, v.ext, v.n_frames FROM predicted_frames p "
        "JOIN frames f ON f.id = p.frame_id JOIN videos v ON v.id = f.video_id WHERE p.task = ? "
        "ORDER BY v.name, v.ext, f.frame_index",
        (task,),
    )
    singletons: dict[int, list] = {}
    for r in catalog.query(
        "SELECT frame_id, category_id, score, x, y, w, h, probabilities FROM predictions WHERE task = ? ORDER BY id", (task,)
    ):
        singletons.setdefault(int(r[0]), []).append(r)
    for frame in frames:
        rows = singletons.get(int(frame["frame_id"]), [])
        stem = frame_stem(frame["name"], frame["ext"], frame["frame_index"], frame["n_frames"])
        probs = np.full((len(rows), n_classes), np.nan)
        for k, r in enumerate(rows):
            text = r[7] or (frame["probabilities"] if classification else None)
            if text:
                values = json.loads(text)
                probs[k, : len(values)] = values[:n_classes]
        boxes = None
        if not classification:
            boxes = np.array([[np.nan if v is None else v for v in r[3:7]] for r in rows], np.float64).reshape(-1, 4)
        yield stem, FramePrediction(
            np.array([r[1] for r in rows], np.int64),
            np.array([np.nan if r[2] is None else r[2] for r in rows], np.float64),
            boxes,
            probs if len(rows) else None,
        )


def export_task(workspace: Workspace, task: str, datasource: str | Path) -> tuple[Path, int]:
    """Write ``datasource/.lightly/predictions/<task>``; returns (folder, files written)."""
    info = get_task(workspace.catalog, task)
    if info is None:
        known = [r[0] for r in workspace.catalog.query("SELECT name FROM tasks ORDER BY name")]
        raise FramesiftError(f"--task {task}: not found; known tasks: {', '.join(known) or 'none'}")
    classification = info["task_type"] == "classification"
    frames = _task_frames(workspace.catalog, task, len(info["categories"]), classification)
    return write_task(Path(datasource).expanduser(), task, info["task_type"], info["categories"], frames)
