"""Helpers for the export tests: run records, predictions with known boxes, stored labels."""

from __future__ import annotations

import json

from framesift.pipeline.runs import create_run, finish_run, get_run, save_selection, write_selection_files
from framesift.workspace import Workspace

RARE_PICKS = (19, 20, 21, 45)  # 19 has no prediction: an image without boxes
SHOTS_PICKS = (0, 25, 40)
CATEGORIES = [{"id": 1, "name": "red square"}, {"id": 2, "name": "marker"}]
AWKWARD = [  # (frame of shots.mp4, category id, score, x, y, w, h)
    (0, 2, 0.31, 0.1 + 0.2, 33.333333333, 16.7, 0.1 + 0.7),
    (25, 2, 0.77, 101.123456789, 59.9999999, 0.3, 59.1),
    (25, 1, 0.05, 7.0, 8.25, 1.0 / 3.0, 2.0 / 3.0),
    (40, 1, None, 159.0, 119.0, 1.0, 1.0),
]



def frame_id(ws: Workspace, video: str, frame_index: int) -> int:
    return int(ws.catalog.scalar(
        "SELECT f.id FROM frames f JOIN videos v ON v.id = f.video_id WHERE v.name = ? AND f.frame_index = ?",
        (video, frame_index),
    ))


def make_run(ws: Workspace, name: str, picks: dict[str, tuple[int, ...]]) -> int:
    run_id, _ = create_run(ws.catalog, name, {"test": True}, "pixels")
    ids = [frame_id(ws, video, i) for video, frames in picks.items() for i in frames]
    save_selection(ws.catalog, run_id, ids, [{"DIVERSITY": 1.0}] * len(ids))
    finish_run(ws.catalog, run_id, {"n_selected": len(ids)})
    write_selection_files(ws, get_run(ws.catalog, name))  # the run folder, as `framesift select` leaves it
    return run_id


def add_predictions(ws: Workspace, rare_box: tuple[int, int, int, int]) -> list[tuple]:
    """Insert task 'detect'; returns the expected boxes as (video, frame, category, x, y, w, h)."""
    expected = []
    with ws.catalog.transaction() as conn:
        conn.execute("INSERT INTO tasks (name, task_type, categories) VALUES ('detect', 'object-detection', ?)",
                     (json.dumps(CATEGORIES),))
        for i in (20, 21, 45):
            conn.execute("INSERT INTO predictions (task, frame_id, category_id, score, x, y, w, h) "
                         "VALUES ('detect', ?, 1, 0.9, ?, ?, ?, ?)", (frame_id(ws, "rare", i), *map(float, rare_box)))
            expected.append(("rare", i, "red square", *map(float, rare_box)))
        for frame, cat, score, x, y, w, h in AWKWARD:
            conn.execute("INSERT INTO predictions (task, frame_id, category_id, score, x, y, w, h) "
                         "VALUES ('detect', ?, ?, ?, ?, ?, ?, ?)", (frame_id(ws, "shots", frame), cat, score, x, y, w, h))
            expected.append(("shots", frame, CATEGORIES[cat - 1]["name"], x, y, w, h))
        # a prediction on a frame that is not selected must not be exported
        conn.execute("INSERT INTO predictions (task, frame_id, category_id, score, x, y, w, h) "
                     "VALUES ('detect', ?, 1, 0.5, 1, 1, 5, 5)", (frame_id(ws, "rare", 30),))
    return sorted(expected)


def stored_labels(ws: Workspace, source: str | None = None) -> list[tuple]:
    """Labels as (video, frame_index, category, x, y, w, h), sorted."""
    sql = ("SELECT v.name, f.frame_index, l.category, l.x, l.y, l.w, l.h FROM labels l JOIN frames f ON f.id = l.frame_id "
           "JOIN videos v ON v.id = f.video_id" + (" WHERE l.source = ?" if source else ""))
    rows = [tuple(r) for r in ws.catalog.query(sql, (source,) if source else ())]
    return sorted(rows, key=lambda r: (r[:3], [-1.0 if v is None else v for v in r[3:]]))
