"""Turn a task's stored predictions into the ``scores`` table (one row per frame and score).

Recomputed for the whole task each time: ``object_frequency`` is scaled across all frames of
the task, so adding a video changes the scores of the others.
"""

from __future__ import annotations

import json

import numpy as np

from framesift.errors import FramesiftError
from framesift.scores import TaskPredictions, task_scores
from framesift.store.catalog import Catalog


def load_task_predictions(catalog: Catalog, task: str) -> tuple[np.ndarray, TaskPredictions]:
    """(frame ids, predictions as flat arrays) for every frame the task's model ran on."""
    row = catalog.query_one("SELECT task_type, categories FROM tasks WHERE name = ?", (task,))
    if row is None:
        raise FramesiftError(f"task {task!r} not found; run `framesift predict` or `framesift import-predictions`")
    n_classes = len(json.loads(row["categories"]))
    frames = catalog.query("SELECT frame_id, probabilities FROM predicted_frames WHERE task = ? ORDER BY frame_id", (task,))
    frame_ids = np.array([r[0] for r in frames], np.int64)
    position = {int(fid): i for i, fid in enumerate(frame_ids)}
    boxes = catalog.query(
        "SELECT frame_id, category_id, score, probabilities FROM predictions WHERE task = ? ORDER BY id", (task,)
    )
    boxes = [b for b in boxes if int(b[0]) in position]
    box_frame = np.array([position[int(b[0])] for b in boxes], np.int64)
    box_score = np.array([np.nan if b[2] is None else b[2] for b in boxes], np.float64)
    box_category = np.array([b[1] for b in boxes], np.int64)
    box_probs = None
    if any(b[3] for b in boxes):
        box_probs = np.full((len(boxes), n_classes), np.nan)
        for k, b in enumerate(boxes):
            if b[3]:
                box_probs[k] = _vector(b[3], n_classes)
    frame_probs = None
    if row["task_type"] == "classification":
        frame_probs = np.full((len(frames), max(n_classes, 1)), np.nan)
        for i, r in enumerate(frames):
            if r[1]:
                frame_probs[i] = _vector(r[1], n_classes)
    predictions = TaskPredictions(row["task_type"], len(frame_ids), box_frame, box_score, box_category, box_probs,
                                  frame_probs)
    return frame_ids, predictions


def _vector(text: str, n: int) -> np.ndarray:
    values = np.asarray(json.loads(text), np.float64)
    out = np.full(n, np.nan)
    out[: min(n, len(values))] = values[:n]
    return out


def compute_task_scores(catalog: Catalog, task: str) -> list[str]:
    """Replace the task's rows in ``scores``; returns the score names written."""
    frame_ids, predictions = load_task_predictions(catalog, task)
    scores = task_scores(predictions) if len(frame_ids) else {}
    rows = [(task, name, int(fid), float(v)) for name, values in scores.items() for fid, v in zip(frame_ids, values, strict=True)]
    with catalog.transaction() as conn:
        conn.execute("DELETE FROM scores WHERE task = ?", (task,))
        conn.executemany("INSERT INTO scores (task, name, frame_id, value) VALUES (?, ?, ?, ?)", rows)
    return sorted(scores)
