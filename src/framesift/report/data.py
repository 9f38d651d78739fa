"""Everything a report shows about one run, read from the catalog and the embedding store.

This is the only report module that queries the catalog; the section builders work on the
arrays collected here (positions into the run's frame table).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from framesift.errors import FramesiftError
from framesift.pipeline.frames import FrameTable, load_frame_table
from framesift.store.catalog import Catalog
from framesift.store.embeddings import EmbeddingStore
from framesift.workspace import Workspace


@dataclass
class RunInfo:
    id: int
    name: str
    status: str
    created_at: str
    finished_at: str | None
    embedder: str | None
    config: dict[str, Any]
    stats: dict[str, Any]


@dataclass
class TaskPredictions:
    """Predicted classes of one task: one entry per box (detection) or per frame (classification)."""

    name: str
    task_type: str
    categories: list[str]
    positions: np.ndarray  # frame-table position of each entry
    classes: np.ndarray  # category name of each entry (object array)
    predicted: np.ndarray  # bool per frame-table row: the task has a prediction for this frame


@dataclass
class Box:
    task: str
    category: str
    score: float | None
    x: float
    y: float
    w: float
    h: float


@dataclass
class ReportData:
    workspace: Workspace
    run: RunInfo
    table: FrameTable
    videos: list[dict[str, Any]]  # every catalog video, failed ones included
    selected: np.ndarray  # frame-table positions of this run's picks, in pick order
    objectives: list[dict[str, float]]  # per pick, aligned with ``selected``
    earlier: np.ndarray  # positions picked by the earlier runs this run built on (datapool)
    embedded: np.ndarray  # frame-table positions that have an embedding, aligned with ``embeddings``
    embeddings: np.ndarray | None
    scores: dict[str, np.ndarray] = field(default_factory=dict)  # "task/name" -> value per row (NaN: none)
    predictions: list[TaskPredictions] = field(default_factory=list)
    metadata: dict[str, np.ndarray] = field(default_factory=dict)  # imported key -> value per row
    missing_selected: int = 0  # picks whose frame is no longer indexed

    @property
    def catalog(self) -> Catalog:
        return self.workspace.catalog

    def video(self, video_id: int) -> dict[str, Any]:
        for v in self.videos:
            if v["id"] == video_id:
                return v
        raise KeyError(video_id)


def load_run_info(catalog: Catalog, run_name: str) -> RunInfo:
    row = catalog.query_one("SELECT * FROM runs WHERE name = ?", (run_name,))
    if row is None:
        names = [r["name"] for r in catalog.query("SELECT name FROM runs ORDER BY id")]
        raise FramesiftError(f"run {run_name!r} not found; runs in this workspace: {', '.join(names) or 'none'}")
    return RunInfo(
        id=int(row["id"]),
        name=row["name"],
        status=row["status"],
        created_at=row["created_at"],
        finished_at=row["finished_at"],
        embedder=row["embedder"],
        config=json.loads(row["config"] or "{}"),
        stats=json.loads(row["stats"] or "{}"),
    )


def load_report_data(workspace: Workspace, run_name: str) -> ReportData:
    catalog = workspace.catalog
    run = load_run_info(catalog, run_name)
    table = load_frame_table(catalog)
    videos = [dict(r) for r in catalog.query("SELECT * FROM videos ORDER BY id")]
    rows = catalog.query("SELECT frame_id, objectives FROM selections WHERE run_id = ? ORDER BY rank", (run.id,))
    ids = np.array([r["frame_id"] for r in rows], np.int64)
    pos = table.positions(ids)
    objectives = [json.loads(r["objectives"] or "{}") for r, p in zip(rows, pos, strict=True) if p >= 0]
    embedded, embeddings = _load_embeddings(workspace, run, table)
    return ReportData(
        workspace=workspace,
        run=run,
        table=table,
        videos=videos,
        selected=pos[pos >= 0],
        objectives=objectives,
        earlier=_earlier_picks(catalog, run, table),
        embedded=embedded,
        embeddings=embeddings,
        scores=_load_scores(catalog, table),
        predictions=[_load_task(catalog, table, t) for t in catalog.query("SELECT * FROM tasks ORDER BY name")],
        metadata=load_metadata(catalog, table),
        missing_selected=int((pos < 0).sum()),
    )


def _load_embeddings(workspace: Workspace, run: RunInfo, table: FrameTable) -> tuple[np.ndarray, np.ndarray | None]:
    if not run.embedder or len(table) == 0:
        return np.zeros(0, np.int64), None
    matrix = EmbeddingStore(workspace, run.embedder).load(table.frame_id, scratch_dir=workspace.scratch_dir)
    if len(matrix) == 0:
        return np.zeros(0, np.int64), None
    return table.positions(matrix.frame_ids), matrix.vectors


def _earlier_picks(catalog: Catalog, run: RunInfo, table: FrameTable) -> np.ndarray:
    """Frames earlier runs picked that this run treated as already selected (datapool)."""
    worker = run.config.get("worker_config") or {}
    if (worker.get("datasource") or {}).get("process_all"):
        return np.zeros(0, np.int64)
    seed_tag = ((run.config.get("framesift") or {}).get("datapool") or {}).get("seed_tag")
    if seed_tag:
        rows = catalog.query(
            "SELECT s.frame_id FROM selections s JOIN runs r ON r.id = s.run_id WHERE r.name = ? AND r.id < ?",
            (seed_tag, run.id),
        )
    else:
        rows = catalog.query(
            "SELECT DISTINCT s.frame_id FROM selections s JOIN runs r ON r.id = s.run_id "
            "WHERE r.status = 'done' AND r.id < ?",
            (run.id,),
        )
    pos = table.positions(np.array([r[0] for r in rows], np.int64))
    return np.unique(pos[pos >= 0])


def _load_scores(catalog: Catalog, table: FrameTable) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for key in catalog.query("SELECT DISTINCT task, name FROM scores ORDER BY task, name"):
        rows = catalog.query("SELECT frame_id, value FROM scores WHERE task = ? AND name = ?", (key[0], key[1]))
        data = np.array([tuple(r) for r in rows], np.float64).reshape(-1, 2)
        values = np.full(len(table), np.nan)
        pos = table.positions(data[:, 0].astype(np.int64))
        values[pos[pos >= 0]] = data[pos >= 0, 1]
        out[f"{key[0]}/{key[1]}"] = values
    return out


def _load_task(catalog: Catalog, table: FrameTable, task: Any) -> TaskPredictions:
    categories = json.loads(task["categories"] or "[]")
    names = {int(c["id"]): str(c["name"]) for c in categories}
    predicted = np.zeros(len(table), bool)
    frames = catalog.query("SELECT frame_id, probabilities FROM predicted_frames WHERE task = ?", (task["name"],))
    frame_pos = table.positions(np.array([r[0] for r in frames], np.int64))
    predicted[frame_pos[frame_pos >= 0]] = True
    boxes = catalog.query("SELECT frame_id, category_id FROM predictions WHERE task = ?", (task["name"],))
    box_pos = table.positions(np.array([r[0] for r in boxes], np.int64))
    predicted[box_pos[box_pos >= 0]] = True
    box_cls = np.array([names.get(int(r[1]), str(r[1])) for r in boxes], dtype=object)
    if task["task_type"] == "classification":
        # one class per frame: the prediction row if any, else the argmax of the probabilities
        by_pos: dict[int, str] = {int(p): c for p, c in zip(box_pos, box_cls, strict=True) if p >= 0}
        order = [int(c["id"]) for c in categories]
        for p, r in zip(frame_pos, frames, strict=True):
            if p >= 0 and int(p) not in by_pos and r["probabilities"]:
                probs = json.loads(r["probabilities"])
                if probs:
                    best = int(np.argmax(probs))
                    by_pos[int(p)] = names.get(order[best], str(best)) if best < len(order) else str(best)
        positions = np.array(sorted(by_pos), np.int64)
        classes = np.array([by_pos[int(p)] for p in positions], dtype=object)
    else:
        keep = box_pos >= 0
        positions, classes = box_pos[keep], box_cls[keep]
    return TaskPredictions(task["name"], task["task_type"], [names[k] for k in names], positions, classes, predicted)


def load_metadata(catalog: Catalog, table: FrameTable) -> dict[str, np.ndarray]:
    """Imported metadata per frame: video-level values, overridden by frame-level ones."""
    out: dict[str, np.ndarray] = {}
    keys = catalog.query("SELECT key, MAX(value_type LIKE 'CATEGORICAL%') FROM metadata GROUP BY key ORDER BY key")
    for key, categorical in keys:
        rows = catalog.query(
            "SELECT video_id, frame_id, value_num, value_text FROM metadata WHERE key = ? "
            "ORDER BY frame_id IS NOT NULL",
            (key,),
        )
        values = np.full(len(table), None, dtype=object) if categorical else np.full(len(table), np.nan)
        per_video = {r[0]: (r[3] if categorical else r[2]) for r in rows if r[1] is None}
        for video_id, value in per_video.items():
            values[table.video_id == video_id] = value
        framed = [r for r in rows if r[1] is not None]
        if framed:
            pos = table.positions(np.array([r[1] for r in framed], np.int64))
            for p, r in zip(pos, framed, strict=True):
                if p >= 0:
                    values[p] = r[3] if categorical else r[2]
        out[key] = values
    return out


_load_metadata = load_metadata  # old private name, imported by framesift.app.filters


def load_boxes(catalog: Catalog, frame_ids: list[int]) -> dict[int, list[Box]]:
    """Predicted boxes (all tasks) of the given frames, by frame id."""
    out: dict[int, list[Box]] = {fid: [] for fid in frame_ids}
    if not frame_ids:
        return out
    names = {
        (t["name"], int(c["id"])): str(c["name"])
        for t in catalog.query("SELECT name, categories FROM tasks")
        for c in json.loads(t["categories"] or "[]")
    }
    marks = ",".join("?" * len(frame_ids))
    rows = catalog.query(
        f"SELECT task, frame_id, category_id, score, x, y, w, h FROM predictions WHERE frame_id IN ({marks}) "
        "AND x IS NOT NULL AND w IS NOT NULL ORDER BY id",
        list(frame_ids),
    )
    for r in rows:
        category = names.get((r["task"], int(r["category_id"])), str(r["category_id"]))
        out[int(r["frame_id"])].append(Box(r["task"], category, r["score"], r["x"], r["y"], r["w"], r["h"]))
    return out
