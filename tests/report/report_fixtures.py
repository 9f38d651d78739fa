"""Helpers for report tests: a finished synthetic run to build reports from: 3 readable videos + 1 broken one, pixel
embeddings, a k-center selection recorded through the run API, optional detection predictions.

A plain module (not conftest) so benchmarks and scratch scripts can build the same run."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from framesift.embed.pixels import PixelEmbedder
from framesift.pipeline.embed import embed_videos
from framesift.pipeline.frames import load_frame_table
from framesift.pipeline.ingest import ingest_videos
from framesift.pipeline.runs import create_run, finish_run, get_run, save_selection, write_selection_files
from framesift.store.embeddings import EmbeddingStore
from framesift.store.videos import SamplingKey, register_videos
from framesift.video import synthetic
from framesift.video.discover import discover_videos
from framesift.workspace import Workspace

BLANK_FRAMES = (5, 6, 7)  # all-black frames in lobby.mp4: uniform-row ratio 1.0 -> corrupt
N_PICKS = 12
CONFIG = {
    "selection_config": {
        "n_samples": N_PICKS,
        "strategies": [
            {"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY"}},
            {"input": {"type": "METADATA", "key": "video_name"}, "strategy": {"type": "BALANCE", "distribution": "UNIFORM"}},
            {"input": {"type": "PREDICTIONS", "task": "objects", "name": "CLASS_DISTRIBUTION"},
             "strategy": {"type": "BALANCE", "target": {"red_square": 0.5}}},
        ],
    },
    "worker_config": {"corruptness_check": {"corruption_threshold": 0.9}, "datasource": {"process_all": False}},
    "framesift": {"embedder": "pixels"},
}


@dataclass
class SyntheticRun:
    workspace: Workspace
    run_name: str
    run_id: int
    rare_truth: synthetic.RareObjectTruth
    shots_truth: synthetic.ShotsTruth


def lobby_video(path: Path) -> None:
    """A static textured scene with three all-black frames."""
    background = synthetic.textured_background(120, 160, seed=3)
    frames = [np.zeros_like(background) if i in BLANK_FRAMES else background for i in range(40)]
    synthetic.write_video(path, frames, fps=10)


def k_center(x: np.ndarray, k: int, allowed: np.ndarray) -> tuple[list[int], list[float]]:
    """Plain greedy k-center (first pick: the allowed row farthest from the mean)."""
    first = int(np.flatnonzero(allowed)[np.argmax(np.linalg.norm(x[allowed] - x.mean(0), axis=1))])
    picks, gains = [first], [1.0]
    dist = np.linalg.norm(x - x[first], axis=1)
    for _ in range(k - 1):
        masked = np.where(allowed, dist, -1.0)
        nxt = int(np.argmax(masked))
        picks.append(nxt)
        gains.append(float(masked[nxt]))
        dist = np.minimum(dist, np.linalg.norm(x - x[nxt], axis=1))
    return picks, gains


def add_predictions(ws: Workspace, rare: synthetic.RareObjectTruth) -> None:
    """Boxes of the red square on the rare frames of rare.mp4, and an uncertainty score per frame."""
    cat = ws.catalog
    categories = [{"id": 0, "name": "red_square"}, {"id": 1, "name": "background"}]
    rows = cat.query("SELECT f.id, f.frame_index FROM frames f JOIN videos v ON v.id = f.video_id WHERE v.name = 'rare'")
    with cat.transaction() as conn:
        conn.execute("INSERT INTO tasks (name, task_type, categories) VALUES ('objects', 'object-detection', ?)",
                     (json.dumps(categories),))
        for r in rows:
            conn.execute("INSERT INTO predicted_frames (task, frame_id) VALUES ('objects', ?)", (r["id"],))
            if r["frame_index"] in rare.rare_frames:
                x, y, w, h = rare.box
                conn.execute("INSERT INTO predictions (task, frame_id, category_id, score, x, y, w, h) "
                             "VALUES ('objects', ?, 0, 0.9, ?, ?, ?, ?)", (r["id"], x, y, w, h))
            conn.execute("INSERT INTO predictions (task, frame_id, category_id, score, x, y, w, h) "
                         "VALUES ('objects', ?, 1, 0.6, 2, 2, 30, 20)", (r["id"],))
            uncertainty = 0.9 if r["frame_index"] in rare.rare_frames else 0.1
            conn.execute("INSERT INTO scores (task, name, frame_id, value) VALUES ('objects', 'uncertainty', ?, ?)",
                         (r["id"], uncertainty))


def make_run(tmp: Path, rare_video, shots_video, *, predictions: bool) -> SyntheticRun:
    folder = tmp / "videos"
    folder.mkdir()
    shutil.copy(rare_video[0], folder / "rare.mp4")
    shutil.copy(shots_video[0], folder / "shots.mp4")
    lobby_video(folder / "lobby.mp4")
    (folder / "broken.mp4").write_bytes(b"")
    ws = Workspace.open(tmp / "ws")
    ids, _ = register_videos(ws.catalog, discover_videos(str(folder)), SamplingKey(None, None))
    ingest = ingest_videos(ws.catalog, ids)
    embed_videos(ws, PixelEmbedder())
    if predictions:
        add_predictions(ws, rare_video[1])
    table = load_frame_table(ws.catalog)
    matrix = EmbeddingStore(ws, "pixels").load(table.frame_id)
    corrupt = table.stats["uniform_row_ratio"] > 0.9
    picks, gains = k_center(matrix.vectors, N_PICKS, ~corrupt)
    top = max(gains[1:])
    objectives = [{"DIVERSITY": g / top if i else 1.0, "BALANCE video_name": 1.0 / (1 + i % 3)}
                  for i, g in enumerate(gains)]
    run_id, name = create_run(ws.catalog, "run-1", CONFIG, "pixels")
    save_selection(ws.catalog, run_id, table.frame_id[picks], objectives)
    finish_run(ws.catalog, run_id, {
        "stop_reason": "n_samples", "n_input": len(table), "n_candidates": int((~corrupt).sum()),
        "n_selected": N_PICKS, "corrupt_skipped": int(corrupt.sum()), "labeled_excluded": 0, "preselected": 0,
        "filtered": {"THRESHOLD lightly.sharpness": 0},
        "timings": {"ingest": 1.25, "embed": 0.5, "select": 0.25, "extract": 0.125},
        "ingest_failed": ingest.failed,
    })
    write_selection_files(ws, get_run(ws.catalog, name))  # the run folder, as `framesift run` leaves it
    return SyntheticRun(ws, name, run_id, rare_video[1], shots_video[1])
