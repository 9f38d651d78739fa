"""Catalog reads and writes of the analytics package: videos, frames, scores, analysis windows.

Scores live in the shared ``scores`` table under task ``analytics`` (names such as
``face_count`` or ``smile_probability``), next to the prediction scores, so a selection
config's SCORES input and the report read them like any other score. An analysis window
(from ``framesift align``) is stored as video-level metadata in the video's own time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from framesift.analytics.alignment import Window
from framesift.errors import FramesiftError
from framesift.store.catalog import Catalog
from framesift.workspace import Workspace

ANALYTICS_TASK = "analytics"
WINDOW_KEYS = ("analysis_start_s", "analysis_end_s", "session_offset_s")


@dataclass(frozen=True)
class VideoRow:
    id: int
    name: str
    ext: str
    path: str
    n_frames: int
    duration_s: float | None
    fps: float | None


@dataclass
class FrameRows:
    """Indexed frames of one video, in frame order."""

    frame_id: np.ndarray
    frame_index: np.ndarray
    pts: list[int | None]
    time_s: np.ndarray

    def __len__(self) -> int:
        return len(self.frame_id)

    def targets(self, positions: Sequence[int] | np.ndarray | None = None) -> list[tuple[int, int | None]]:
        """(frame_index, pts) pairs for ``read_frames``."""
        picks = range(len(self)) if positions is None else positions
        return [(int(self.frame_index[i]), self.pts[i]) for i in picks]


def videos(catalog: Catalog, names: Sequence[str] | None = None) -> list[VideoRow]:
    """Ingested videos (only those named, when ``names`` is given; unknown names are an error)."""
    rows = [VideoRow(int(r["id"]), r["name"], r["ext"], r["path"], int(r["n_frames"] or 0), r["duration_s"], r["fps"])
            for r in catalog.query("SELECT id, name, ext, path, n_frames, duration_s, fps FROM videos "
                                   "WHERE status = 'ingested' ORDER BY id")]
    if not names:
        return rows
    return [find_video(catalog, name, rows) for name in names]


def find_video(catalog: Catalog, ref: str, rows: list[VideoRow] | None = None) -> VideoRow:
    """An ingested video by name (``cam1/street``), name with extension, or file path."""
    rows = rows if rows is not None else videos(catalog)
    resolved = str(Path(ref).expanduser().resolve()) if "://" not in ref else ref
    for row in rows:
        if ref in (row.name, f"{row.name}.{row.ext}", row.path) or resolved == row.path:
            return row
    known = ", ".join(r.name for r in rows[:10]) or "none"
    raise FramesiftError(f"video {ref!r} is not ingested in this workspace (videos: {known}); run `framesift ingest`")


def frame_rows(catalog: Catalog, video_id: int, window: Window | None = None) -> FrameRows:
    rows = catalog.query("SELECT id, frame_index, pts, time_s FROM frames WHERE video_id = ? ORDER BY frame_index",
                         (video_id,))
    frames = FrameRows(np.array([r[0] for r in rows], np.int64), np.array([r[1] for r in rows], np.int64),
                       [None if r[2] is None else int(r[2]) for r in rows], np.array([r[3] for r in rows], np.float64))
    if window is None or not len(frames):
        return frames
    keep = np.flatnonzero(window.contains(frames.time_s))
    return FrameRows(frames.frame_id[keep], frames.frame_index[keep], [frames.pts[i] for i in keep], frames.time_s[keep])


# -- scores ---------------------------------------------------------------------------------
def write_scores(
    catalog: Catalog, name: str, video_ids: Sequence[int], frame_ids: np.ndarray, values: np.ndarray,
    *, task: str = ANALYTICS_TASK,
) -> int:
    """Replace score ``name`` of the given videos with (frame, value) pairs; NaN values are left out."""
    values = np.asarray(values, np.float64)
    keep = np.isfinite(values)
    rows = [(task, name, int(f), float(v)) for f, v in zip(np.asarray(frame_ids)[keep], values[keep], strict=True)]
    with catalog.transaction() as conn:
        conn.executemany(
            "DELETE FROM scores WHERE task = ? AND name = ? AND frame_id IN (SELECT id FROM frames WHERE video_id = ?)",
            [(task, name, int(v)) for v in video_ids],
        )
        conn.executemany("INSERT INTO scores (task, name, frame_id, value) VALUES (?, ?, ?, ?)", rows)
    return len(rows)


def read_scores(catalog: Catalog, task: str, name: str, video_id: int) -> tuple[np.ndarray, np.ndarray]:
    """(frame ids, values) of one score on one video, in frame order."""
    rows = catalog.query(
        "SELECT s.frame_id, s.value FROM scores s JOIN frames f ON f.id = s.frame_id "
        "WHERE s.task = ? AND s.name = ? AND f.video_id = ? ORDER BY f.frame_index", (task, name, video_id))
    return np.array([r[0] for r in rows], np.int64), np.array([r[1] for r in rows], np.float64)


def score_names(catalog: Catalog, task: str = ANALYTICS_TASK) -> list[str]:
    return [r[0] for r in catalog.query("SELECT DISTINCT name FROM scores WHERE task = ? ORDER BY name", (task,))]


def parse_score_ref(ref: str) -> tuple[str, str]:
    """``TASK/NAME`` (or a bare analytics score name) -> (task, name)."""
    if "/" not in ref:
        return ANALYTICS_TASK, ref
    task, name = ref.rsplit("/", 1)
    if not task or not name:
        raise FramesiftError(f"score {ref!r}: write TASK/NAME, e.g. analytics/smile_probability or faces/face_count")
    return task, name


def check_score(catalog: Catalog, task: str, name: str) -> None:
    if catalog.query_one("SELECT 1 FROM scores WHERE task = ? AND name = ? LIMIT 1", (task, name)) is None:
        known = [f"{r[0]}/{r[1]}" for r in catalog.query("SELECT DISTINCT task, name FROM scores ORDER BY 1, 2")]
        raise FramesiftError(f"score {task}/{name} not found; known scores: {', '.join(known[:20]) or 'none'} "
                             "(run `framesift faces` / `framesift train-classifier` first)")


# -- analysis windows ------------------------------------------------------------------------
def save_window(catalog: Catalog, video_id: int, window: Window, session_offset_s: float) -> None:
    values = (window.start_s, window.end_s, session_offset_s)
    with catalog.transaction() as conn:
        for key, value in zip(WINDOW_KEYS, values, strict=True):
            conn.execute("DELETE FROM metadata WHERE video_id = ? AND frame_id IS NULL AND key = ?", (video_id, key))
            conn.execute("INSERT INTO metadata (video_id, frame_id, key, value_num, value_type) "
                         "VALUES (?, NULL, ?, ?, 'NUMERIC_FLOAT')", (video_id, key, float(value)))


def clear_window(catalog: Catalog, video_id: int) -> None:
    with catalog.transaction() as conn:
        conn.executemany("DELETE FROM metadata WHERE video_id = ? AND frame_id IS NULL AND key = ?",
                         [(video_id, key) for key in WINDOW_KEYS])


def load_windows(catalog: Catalog) -> dict[int, tuple[Window, float]]:
    """video id -> (analysis window in the video's time, session offset) for aligned videos."""
    marks = ",".join("?" * len(WINDOW_KEYS))
    values: dict[int, dict[str, float]] = {}
    for r in catalog.query(f"SELECT video_id, key, value_num FROM metadata WHERE frame_id IS NULL AND key IN ({marks})",
                           WINDOW_KEYS):
        values.setdefault(int(r[0]), {})[r[1]] = float(r[2])
    return {vid: (Window(v["analysis_start_s"], v["analysis_end_s"]), v.get("session_offset_s", 0.0))
            for vid, v in values.items() if "analysis_start_s" in v and "analysis_end_s" in v}


def window_of(catalog: Catalog, video_id: int) -> Window | None:
    found = load_windows(catalog).get(video_id)
    return found[0] if found else None


# -- files ------------------------------------------------------------------------------------
def analytics_dir(workspace: Workspace, *parts: str) -> Path:
    folder = workspace.root.joinpath("analytics", *parts)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def video_file(workspace: Workspace, kind: str, video_name: str, suffix: str) -> Path:
    """WORKSPACE/analytics/KIND/<video name>.SUFFIX (names may hold sub-folders, like frame names); not created."""
    return workspace.root / "analytics" / kind / f"{video_name}.{suffix}"
