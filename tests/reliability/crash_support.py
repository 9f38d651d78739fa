"""Run the real CLI, kill it with SIGKILL, and compare workspaces down to the bytes.

A workspace snapshot holds everything a run produces: catalog rows (timestamps and timings left
out), embedding matrices, PNG bytes, selection files. Two workspaces built from the same input
and config must have equal snapshots whether or not the run was killed along the way.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from framesift.video import synthetic

CONFIG = """\
selection_config:
  n_samples: 8
  min_frame_gap: 2
  strategies:
    - input: {type: EMBEDDINGS}
      strategy: {type: DIVERSITY}
    - input: {type: METADATA, key: video_name}
      strategy: {type: BALANCE, distribution: UNIFORM}
framesift:
  embedder: pixels
  embed_batch_size: 8
  embed_chunk_frames: 8
"""
VOLATILE_COLUMNS = {"added_at", "ingested_at", "updated_at", "created_at", "finished_at", "done_at"}
VOLATILE_STATS = {"timings", "select_seconds"}


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    appeared_s: float | None = None  # when the ``watch`` path first existed, seconds after the start


def cli(args: list[str], *, crash_at: str | None = None, kill_after: float | None = None,
        watch: Path | None = None, timeout: float = 300) -> Result:
    """``framesift ARGS`` in a subprocess; ``crash_at`` sets the crash hook, ``kill_after`` sends SIGKILL.

    ``watch``: poll for this path while the command runs and report when it appeared (the catalog
    file marks the end of start-up, so random kills can be aimed at the work itself).
    """
    env = {k: v for k, v in os.environ.items() if k != "FRAMESIFT_TEST_CRASH_AT"}
    env["FRAMESIFT_PROGRESS"] = "0"
    # one BLAS thread: on a loaded 2-core machine OpenBLAS's spinning threads made `select` 40x slower
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    env.setdefault("OMP_NUM_THREADS", "1")
    if crash_at:
        env["FRAMESIFT_TEST_CRASH_AT"] = crash_at
    start = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-c", "from framesift.cli import main; main()", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    appeared = None
    try:
        while watch is not None and appeared is None and proc.poll() is None:
            if watch.exists():
                appeared = time.monotonic() - start
            time.sleep(0.01)
        if kill_after is not None:
            try:
                proc.wait(timeout=max(0.0, kill_after - (time.monotonic() - start)))
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGKILL)
        out, err = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return Result(proc.returncode, out, err, time.monotonic() - start, appeared)


def make_videos(folder: Path) -> Path:
    """The three small clips of the crash tests: 80 frames in all, one clip with hard cuts."""
    synthetic.static_scene_with_rare_object(folder / "lobby.mp4", n_frames=30, rare_frames=(9, 10, 22),
                                            size=(64, 48), seed=1)
    synthetic.multi_shot_video(folder / "street.mp4", shot_lengths=(10, 8, 12), size=(64, 48), seed=2)
    synthetic.static_scene_with_rare_object(folder / "yard.mkv", n_frames=20, rare_frames=(5,), size=(64, 48), seed=3)
    return folder


def run_args(videos: Path, workspace: Path, config: Path) -> list[str]:
    return ["run", "--input", str(videos), "--out", str(workspace), "--config", str(config), "--no-report"]


def assert_not_corrupt(workspace: Path) -> None:
    """What a kill may leave: a consistent catalog and only complete PNGs under their real names."""
    catalog = workspace / "catalog.sqlite"
    if catalog.exists():
        with sqlite3.connect(catalog) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    for png in (workspace / "frames").glob("*.png") if (workspace / "frames").exists() else []:
        with Image.open(png) as image:
            image.load()  # raises on a truncated file
    for npy in (workspace / "embeddings").rglob("*.npy") if (workspace / "embeddings").exists() else []:
        if not npy.name.startswith("."):
            np.load(npy)  # raises on a truncated file


def run_finished(workspace: Path) -> bool:
    """Whether a run of this workspace is marked done (the last step of `framesift run`)."""
    catalog = workspace / "catalog.sqlite"
    if not catalog.exists():
        return False
    with sqlite3.connect(catalog) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        return "runs" in tables and conn.execute("SELECT 1 FROM runs WHERE status = 'done'").fetchone() is not None


def _rows(conn: sqlite3.Connection, table: str) -> list[dict[str, Any]]:
    conn.row_factory = sqlite3.Row
    rows = []
    for row in conn.execute(f"SELECT * FROM {table} ORDER BY rowid"):
        item = {k: row[k] for k in row.keys() if k not in VOLATILE_COLUMNS}  # noqa: SIM118 (sqlite3.Row)
        if table == "runs" and item.get("stats"):
            item["stats"] = {k: v for k, v in json.loads(item["stats"]).items() if k not in VOLATILE_STATS}
        rows.append(item)
    return rows


def snapshot(workspace: Path) -> dict[str, Any]:
    """Everything the run produced, minus wall-clock facts; temp files of killed writes listed apart."""
    with sqlite3.connect(workspace / "catalog.sqlite") as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        data: dict[str, Any] = {f"table {t}": _rows(conn, t) for t in tables}
    files: dict[str, Any] = {}
    leftovers: list[str] = []
    for path in sorted(workspace.rglob("*")):
        rel = path.relative_to(workspace).as_posix()
        if path.is_dir() or rel.startswith("catalog.sqlite"):
            continue
        if path.name.startswith(".") and path.name.endswith(".tmp"):
            leftovers.append(rel)  # an atomic write cut short by the kill: never read by anything
        elif path.suffix == ".npy":
            files[rel] = np.load(path).tolist()
        elif path.name == "selection.json":
            document = json.loads(path.read_text())
            files[rel] = {k: v for k, v in document.items() if k not in ("created_at", "frames_dir")}
        else:
            files[rel] = path.read_bytes()
    data["files"] = files
    data["dirs"] = sorted(p.relative_to(workspace).as_posix() for p in workspace.rglob("*") if p.is_dir())
    return {"data": data, "leftovers": leftovers}


def differences(expected: dict[str, Any], actual: dict[str, Any]) -> list[str]:
    """Readable list of what differs between two snapshots' data (empty when equal)."""
    out = []
    for key in sorted(set(expected) | set(actual)):
        if key == "files":
            a, b = expected.get(key, {}), actual.get(key, {})
            out += [f"file {name}: {'missing' if name not in b else 'extra' if name not in a else 'differs'}"
                    for name in sorted(set(a) | set(b)) if a.get(name) != b.get(name)]
        elif expected.get(key) != actual.get(key):
            out.append(f"{key}: {expected.get(key)!r:.300} != {actual.get(key)!r:.300}")
    return out
