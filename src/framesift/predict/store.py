"""Catalog writes for tasks and predictions, consistent with what the select stage loads.

``predicted_frames`` gets one row per frame a model ran on (even with no boxes), so "no
object here" is a known fact and not a missing prediction; ``predictions`` one row per
singleton with pixel boxes of the original frame (NULL box for classification).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence

import numpy as np

from framesift.errors import FramesiftError
from framesift.predict.base import TASK_TYPES, Category, FramePrediction
from framesift.store.catalog import Catalog


def get_task(catalog: Catalog, name: str) -> dict | None:
    row = catalog.query_one("SELECT name, task_type, categories, source FROM tasks WHERE name = ?", (name,))
    if row is None:
        return None
    return {"name": row["name"], "task_type": row["task_type"], "categories": json.loads(row["categories"]),
            "source": row["source"]}


def delete_task(catalog: Catalog, name: str) -> None:
    with catalog.transaction() as conn:
        conn.execute("DELETE FROM tasks WHERE name = ?", (name,))  # cascades to predicted_frames, predictions
        conn.execute("DELETE FROM scores WHERE task = ?", (name,))


def ensure_task(
    catalog: Catalog, name: str, task_type: str, categories: Sequence[Category], source: str, *, replace: bool = False
) -> bool:
    """Create the task, or check an existing one matches; returns True when it was (re)created.

    An existing task from another source is only overwritten with ``replace``, so two models
    never mix their boxes in one task by accident.
    """
    if task_type not in TASK_TYPES:
        raise FramesiftError(f"task {name}: task_type {task_type!r} is not one of {', '.join(TASK_TYPES)}")
    _check_task_name(name)
    existing = get_task(catalog, name)
    cats = [{"id": int(c["id"]), "name": str(c["name"])} for c in categories]
    if existing is not None:
        same = existing["source"] == source and existing["task_type"] == task_type and existing["categories"] == cats
        if same:
            return False
        if not replace:
            raise FramesiftError(
                f"task {name!r} already holds predictions from {existing['source']}; pass --replace to overwrite it "
                "or --task NAME for a new task"
            )
        delete_task(catalog, name)
    with catalog.transaction() as conn:
        conn.execute(
            "INSERT INTO tasks (name, task_type, categories, source) VALUES (?, ?, ?, ?)",
            (name, task_type, json.dumps(cats), source),
        )
    return True


def _check_task_name(name: str) -> None:
    if not name or name in (".", "..") or "/" in name or "\\" in name or name != name.strip():
        raise FramesiftError(f"task name {name!r}: use a plain folder name (letters, digits, '-', '_', '.')")


def _json_list(values: np.ndarray | None) -> str | None:
    if values is None:
        return None
    values = np.asarray(values, np.float64)
    if np.isnan(values).any():
        return None
    return json.dumps([float(v) for v in values])


def _float(value: float) -> float | None:
    value = float(value)
    return None if math.isnan(value) else value


def prediction_rows(task: str, frame_id: int, prediction: FramePrediction) -> list[tuple]:
    n = len(prediction)
    boxes = prediction.boxes.tolist() if prediction.boxes is not None else [[None] * 4] * n
    probs = prediction.probabilities if prediction.probabilities is not None else [None] * n
    return [
        (task, frame_id, category, _float(score), *(None if v is None else _float(v) for v in box), _json_list(p))
        for category, score, box, p in zip(prediction.category_ids.tolist(), prediction.scores.tolist(), boxes, probs,
                                           strict=True)
    ]


def store_predictions(
    catalog: Catalog, task: str, items: Iterable[tuple[int, FramePrediction]], *, classification: bool = False
) -> int:
    """Write (frame_id, prediction) pairs in one transaction, replacing earlier ones of those frames."""
    frame_rows, box_rows, frame_ids = [], [], []
    for frame_id, prediction in items:
        frame_probs = None
        if classification and prediction.probabilities is not None and len(prediction):
            frame_probs = _json_list(prediction.probabilities[0])
        frame_rows.append((task, int(frame_id), frame_probs))
        frame_ids.append((task, int(frame_id)))
        box_rows.extend(prediction_rows(task, int(frame_id), prediction))
    with catalog.transaction() as conn:
        conn.executemany("DELETE FROM predictions WHERE task = ? AND frame_id = ?", frame_ids)
        conn.executemany(
            "INSERT INTO predicted_frames (task, frame_id, probabilities) VALUES (?, ?, ?) "
            "ON CONFLICT(task, frame_id) DO UPDATE SET probabilities = excluded.probabilities",
            frame_rows,
        )
        conn.executemany(
            "INSERT INTO predictions (task, frame_id, category_id, score, x, y, w, h, probabilities) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            box_rows,
        )
    return len(box_rows)


def predicted_frame_ids(catalog: Catalog, task: str, video_id: int | None = None) -> set[int]:
    if video_id is None:
        rows = catalog.query("SELECT frame_id FROM predicted_frames WHERE task = ?", (task,))
    else:
        rows = catalog.query(
            "SELECT p.frame_id FROM predicted_frames p JOIN frames f ON f.id = p.frame_id WHERE p.task = ? AND f.video_id = ?",
            (task, video_id),
        )
    return {int(r[0]) for r in rows}
