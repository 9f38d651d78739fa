"""Table-by-table snapshots of a workspace, minus what legitimately differs between two runs."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np

from framesift.workspace import Workspace

# wall-clock columns, and the run config (it names the engine); run stats are compared without timings
VOLATILE = {"added_at", "ingested_at", "updated_at", "created_at", "finished_at", "done_at", "config"}
TIMING_KEYS = {"timings", "select_seconds"}


def catalog_snapshot(ws: Workspace) -> dict[str, list[tuple]]:
    conn = sqlite3.connect(ws.catalog_path)
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    snapshot = {}
    for table in tables:
        columns = [r[1] for r in conn.execute(f"PRAGMA table_info({table})") if r[1] not in VOLATILE]
        rows = conn.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY {', '.join(columns)}").fetchall()
        if table == "runs":
            stats = columns.index("stats")
            rows = [(*r[:stats], _without_timings(r[stats]), *r[stats + 1 :]) for r in rows]
        snapshot[table] = rows
    conn.close()
    return snapshot


def _without_timings(stats: str | None) -> str | None:
    if stats is None:
        return None
    return json.dumps({k: v for k, v in json.loads(stats).items() if k not in TIMING_KEYS}, sort_keys=True)


def embedding_files(ws: Workspace) -> dict[str, np.ndarray]:
    root = ws.root / "embeddings"
    return {str(p.relative_to(root)): np.load(p) for p in sorted(Path(root).rglob("*.npy"))}
