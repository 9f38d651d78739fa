"""Selection runs: their catalog records and the selection.json / selection.csv files.

A run's name is also the tag of its selected frames (datapool seeding, SIMILARITY queries).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import socket
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from framesift import __version__
from framesift.errors import FramesiftError
from framesift.pipeline.extract import selected_frame_rows
from framesift.store.catalog import Catalog
from framesift.util.atomic import write_json, write_text
from framesift.util.crashpoint import crash_point
from framesift.video.naming import frame_file_name
from framesift.workspace import Workspace

RUN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


def next_run_name(catalog: Catalog) -> str:
    names = {row["name"] for row in catalog.query("SELECT name FROM runs")}
    number = len(names) + 1
    while f"run-{number}" in names:
        number += 1
    return f"run-{number}"


def create_run(catalog: Catalog, name: str | None, config: dict[str, Any], embedder: str | None) -> tuple[int, str]:
    """Start a run record; a failed run, or one left 'running' by a process that is gone, is replaced.

    Without a name, the newest run a killed process left unfinished is taken over (so rerunning
    the same command resumes it), else the next ``run-N``. A run whose process still lives is
    never touched.
    """
    with catalog.transaction() as conn:
        name = name or _abandoned_run_name(conn) or next_run_name(catalog)
        if not RUN_NAME.match(name):
            raise FramesiftError(f"run name {name!r}: use letters, digits, '-', '_' or '.', starting with a letter or digit")
        old = conn.execute("SELECT id, status, stats FROM runs WHERE name = ?", (name,)).fetchone()
        if old is not None:
            if old["status"] == "done":
                raise FramesiftError(f"run {name!r} already exists and is finished; pick another --run-name")
            owner = _owner_of(old)
            if old["status"] == "running" and owner is not None and _alive(owner):
                raise FramesiftError(f"run {name!r} is being written by process {owner.get('pid')} on "
                                     f"{owner.get('host')}; wait for it or pick another --run-name")
            conn.execute("DELETE FROM runs WHERE id = ?", (old["id"],))
        cursor = conn.execute(
            "INSERT INTO runs (name, config, embedder, status, stats) VALUES (?, ?, ?, 'running', ?)",
            (name, json.dumps(config, sort_keys=True), embedder, json.dumps({"owner": _this_process()})),
        )
        return int(cursor.lastrowid), name


def _abandoned_run_name(conn: Any) -> str | None:
    row = conn.execute("SELECT name, status, stats FROM runs WHERE status = 'running' ORDER BY id DESC LIMIT 1").fetchone()
    if row is None:
        return None
    owner = _owner_of(row)
    return None if owner is not None and _alive(owner) else row["name"]


def _owner_of(row: Any) -> dict[str, Any] | None:
    try:
        owner = json.loads(row["stats"] or "{}").get("owner")
    except (ValueError, AttributeError):
        return None
    return owner if isinstance(owner, dict) else None


def _this_process() -> dict[str, Any]:
    return {"host": socket.gethostname(), "pid": os.getpid(), "started": _start_time(os.getpid())}


def _start_time(pid: int) -> str | None:
    """The process start time (Linux /proc), so a recycled pid is not mistaken for the owner."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            return fh.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _alive(owner: dict[str, Any]) -> bool:
    """Whether the process that created a run may still be writing it (other hosts: assume so)."""
    if owner.get("host") != socket.gethostname():
        return True
    pid = owner.get("pid")
    if not isinstance(pid, int) or pid == os.getpid():
        return False  # this process is starting a run anew: its earlier attempt was interrupted
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    started = owner.get("started")
    return started is None or _start_time(pid) in (None, started)


def save_selection(
    catalog: Catalog, run_id: int, frame_ids: Sequence[int], objectives: Sequence[dict[str, float]]
) -> None:
    with catalog.transaction() as conn:
        conn.execute("DELETE FROM selections WHERE run_id = ?", (run_id,))
        conn.executemany(
            "INSERT INTO selections (run_id, frame_id, rank, objectives) VALUES (?, ?, ?, ?)",
            [(run_id, int(fid), rank, json.dumps(obj)) for rank, (fid, obj) in enumerate(zip(frame_ids, objectives, strict=True))],
        )


def finish_run(catalog: Catalog, run_id: int, stats: dict[str, Any], status: str = "done") -> None:
    with catalog.transaction() as conn:
        conn.execute(
            "UPDATE runs SET status = ?, stats = ?, finished_at = datetime('now') WHERE id = ?",
            (status, json.dumps(stats, default=str), run_id),
        )


def complete_run(catalog: Catalog, run_id: int) -> None:
    """Mark a run left open by ``run_selection(finish=False)`` done, keeping its stats."""
    with catalog.transaction() as conn:
        row = conn.execute("SELECT stats FROM runs WHERE id = ?", (run_id,)).fetchone()
        stats = json.loads(row["stats"] or "{}") if row else {}
        stats.pop("owner", None)
        conn.execute("UPDATE runs SET status = 'done', stats = ?, finished_at = datetime('now') WHERE id = ?",
                     (json.dumps(stats, default=str), run_id))


def update_run_stats(catalog: Catalog, run_id: int, **values: Any) -> None:
    """Merge keys into a run's stats (e.g. stage timings known only after extraction)."""
    with catalog.transaction() as conn:
        row = conn.execute("SELECT stats FROM runs WHERE id = ?", (run_id,)).fetchone()
        stats = json.loads(row["stats"] or "{}") if row else {}
        stats.update(values)
        conn.execute("UPDATE runs SET stats = ? WHERE id = ?", (json.dumps(stats, default=str), run_id))


def get_run(catalog: Catalog, name: str | None = None) -> Any:
    """A run by name, or the latest finished run."""
    if name is None:
        row = catalog.query_one("SELECT * FROM runs WHERE status = 'done' ORDER BY id DESC LIMIT 1")
        if row is None:
            raise FramesiftError(f"{catalog.path.parent}: no finished run yet; run `framesift run` or `framesift select`")
        return row
    row = catalog.query_one("SELECT * FROM runs WHERE name = ?", (name,))
    if row is None:
        names = [r["name"] for r in catalog.query("SELECT name FROM runs ORDER BY id")]
        raise FramesiftError(f"run {name!r} not found; runs in this workspace: {', '.join(names) or 'none'}")
    return row


def resolve_run_path(path_or_name: str, workspace: str | None = None) -> tuple[Workspace, Any]:
    """Accept a run folder (WORKSPACE/runs/NAME), or a run name together with a workspace."""
    candidate = Path(path_or_name)
    if workspace is None and candidate.is_dir() and candidate.parent.name == "runs":
        ws = Workspace.open(candidate.parent.parent, create=False)
        return ws, get_run(ws.catalog, candidate.name)
    if workspace is None and candidate.is_dir() and (candidate / "catalog.sqlite").exists():
        ws = Workspace.open(candidate, create=False)
        return ws, get_run(ws.catalog)
    if workspace is None:
        raise FramesiftError(
            f"{path_or_name}: not a run folder; pass WORKSPACE/runs/NAME or a run name with --workspace"
        )
    ws = Workspace.open(workspace, create=False)
    return ws, get_run(ws.catalog, path_or_name)


def selection_records(workspace: Workspace, run_id: int) -> list[dict[str, Any]]:
    records = []
    for row in selected_frame_rows(workspace, run_id):
        records.append(
            {
                "rank": row["rank"],
                "video": row["video"],
                "video_ext": row["ext"],
                "video_path": row["path"],
                "frame_index": row["frame_index"],
                "pts": row["pts"],
                "time_s": row["time_s"],
                "shot_id": row["shot_id"],
                "file_name": frame_file_name(row["video"], row["ext"], row["frame_index"], row["n_frames"]),
                "frame_id": row["frame_id"],
                "scores": json.loads(row["objectives"] or "{}"),
            }
        )
    return records


def write_selection_files(workspace: Workspace, run: Any) -> Path:
    """Write selection.json/.csv + config.json into the run folder and the workspace root."""
    records = selection_records(workspace, int(run["id"]))
    stats = json.loads(run["stats"] or "{}")
    document = {
        "run": run["name"],
        "framesift_version": __version__,
        "created_at": run["created_at"],
        "embedder": run["embedder"],
        "n_selected": len(records),
        "stop_reason": stats.get("stop_reason"),
        "frames_dir": str(workspace.frames_dir),
        "frames": records,
    }
    labels = sorted({label for r in records for label in r["scores"]})
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    columns = ["rank", "video", "video_ext", "frame_index", "pts", "time_s", "shot_id", "file_name"]
    writer.writerow(columns + labels)
    for r in records:
        writer.writerow([r[c] for c in columns] + [r["scores"].get(label, "") for label in labels])
    run_dir = workspace.run_dir(run["name"])
    for folder in (run_dir, workspace.root):
        write_json(folder / "selection.json", document)
        crash_point("files.selection")
        write_text(folder / "selection.csv", buffer.getvalue())
    write_json(run_dir / "config.json", json.loads(run["config"]))
    return run_dir
