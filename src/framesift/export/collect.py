"""Gather what an export needs from the catalog: a run's selected frames (PNGs extracted on
demand), their identity, and optionally one task's box predictions as pre-annotations."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from PIL import Image

from framesift.errors import FramesiftError
from framesift.export.model import Box, Category, ExportFrame, ExportSet
from framesift.pipeline.extract import extract_run, frame_path, selected_frame_rows
from framesift.store.catalog import Catalog
from framesift.video.naming import frame_file_name
from framesift.workspace import Workspace


def collect_export_set(
    workspace: Workspace,
    run: Any,
    *,
    task: str | None = None,
    predictions: bool = True,
    labels: Sequence[str] = (),
    min_score: float = 0.0,
) -> ExportSet:
    run_id, run_name = int(run["id"]), str(run["name"])
    rows = selected_frame_rows(workspace, run_id)
    if not rows:
        raise FramesiftError(f"run {run_name!r} has no selected frames; nothing to export")
    if any(not frame_path(workspace, row).exists() for row in rows):
        extract_run(workspace, run_id)
    missing = [frame_path(workspace, row).name for row in rows if not frame_path(workspace, row).exists()]
    if missing:
        raise FramesiftError(
            f"{len(missing)} selected frames of run {run_name!r} could not be extracted (first: {missing[0]}); "
            "check that the videos are still at their paths (`framesift info`)"
        )
    task_name = resolve_task(workspace.catalog, run_id, task) if predictions or task else None
    categories = task_categories(workspace.catalog, task_name) if task_name else []
    boxes = _boxes_by_frame(workspace.catalog, run_id, task_name, categories, min_score) if predictions and task_name else {}
    for name in labels:
        if name not in {c.name for c in categories}:
            categories.append(Category(max((c.id for c in categories), default=0) + 1, name))
    frames = []
    for row in rows:
        path = frame_path(workspace, row)
        with Image.open(path) as image:
            width, height = image.size
        frames.append(
            ExportFrame(
                frame_id=int(row["frame_id"]),
                video=row["video"],
                video_ext=row["ext"],
                frame_index=int(row["frame_index"]),
                pts=None if row["pts"] is None else int(row["pts"]),
                time_s=float(row["time_s"]),
                file_name=frame_file_name(row["video"], row["ext"], row["frame_index"], row["n_frames"]),
                source_path=path,
                width=width,
                height=height,
                boxes=boxes.get(int(row["frame_id"]), []),
            )
        )
    frames.sort(key=lambda f: f.file_name)
    return ExportSet(run_name, workspace.root, task_name, categories, frames)


def resolve_task(catalog: Catalog, run_id: int, task: str | None) -> str | None:
    """The named task, or the only task with box predictions on this run's frames (None if none)."""
    if task is not None:
        if catalog.query_one("SELECT 1 FROM tasks WHERE name = ?", (task,)) is None:
            names = [r[0] for r in catalog.query("SELECT name FROM tasks ORDER BY name")]
            raise FramesiftError(f"--task {task!r} not found; tasks in this workspace: {', '.join(names) or 'none'}")
        return task
    names = [
        r[0]
        for r in catalog.query(
            "SELECT DISTINCT p.task FROM predictions p JOIN selections s ON s.frame_id = p.frame_id "
            "WHERE s.run_id = ? AND p.x IS NOT NULL ORDER BY p.task",
            (run_id,),
        )
    ]
    if len(names) > 1:
        raise FramesiftError(
            f"several tasks have box predictions for this run ({', '.join(names)}); pick one with --task "
            "or pass --no-predictions"
        )
    return names[0] if names else None


def task_categories(catalog: Catalog, task: str) -> list[Category]:
    raw = catalog.scalar("SELECT categories FROM tasks WHERE name = ?", (task,))
    items = json.loads(raw or "[]")
    categories = []
    for i, item in enumerate(items):
        if isinstance(item, dict):
            categories.append(Category(int(item.get("id", i)), str(item["name"])))
        else:  # a bare list of names: ids are positions
            categories.append(Category(i, str(item)))
    return sorted(categories, key=lambda c: c.id)


def _boxes_by_frame(
    catalog: Catalog, run_id: int, task: str, categories: list[Category], min_score: float
) -> dict[int, list[Box]]:
    names = {c.id: c.name for c in categories}
    out: dict[int, list[Box]] = defaultdict(list)
    rows = catalog.query(
        "SELECT p.frame_id, p.category_id, p.score, p.x, p.y, p.w, p.h FROM predictions p "
        "JOIN selections s ON s.frame_id = p.frame_id AND s.run_id = ? "
        "WHERE p.task = ? AND p.x IS NOT NULL ORDER BY p.frame_id, p.id",
        (run_id, task),
    )
    for r in rows:
        if r["score"] is not None and r["score"] < min_score:
            continue
        category_id = int(r["category_id"])
        if category_id not in names:  # a prediction outside the task's category list: keep it, named by id
            names[category_id] = f"class_{category_id}"
            categories.append(Category(category_id, names[category_id]))
        out[int(r["frame_id"])].append(
            Box(category_id, names[category_id], float(r["x"]), float(r["y"]), float(r["w"]), float(r["h"]),
                None if r["score"] is None else float(r["score"]))
        )
    categories.sort(key=lambda c: c.id)
    return dict(out)
