"""Many random kill -9s of `framesift run`: where each landed, and whether the resumed run equals an unbroken one.

    .venv/bin/python tests/reliability/random_kills.py 40

The figures in docs/reliability.md come from this script; the test suite runs three seeds of
the same procedure (test_crash_resume.py).
"""

from __future__ import annotations

import random
import sqlite3
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import crash_support as cs


def stage(ws: Path) -> str:
    """Which stage the workspace shows the run was in."""
    db = ws / "catalog.sqlite"
    if not db.exists():
        return "start-up (no catalog yet)"
    with sqlite3.connect(db) as conn:
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'videos'").fetchone():
            return "catalog creation (schema not committed)"
        ingested = conn.execute("SELECT COUNT(*) FROM videos WHERE status = 'ingested'").fetchone()[0]
        embedded = conn.execute("SELECT COUNT(*) FROM embedding_sets WHERE status = 'done'").fetchone()[0]
        runs = conn.execute("SELECT status FROM runs").fetchall()
    pngs = len(list((ws / "frames").glob("*.png"))) if (ws / "frames").exists() else 0
    if ingested < 3:
        return f"ingest ({ingested}/3 videos done)"
    if embedded < 3:
        return f"embed ({embedded}/3 videos done)"
    if not runs:
        return "select (no run record yet)"
    if runs[0][0] == "running":
        return f"select/extract/files (run open, {pngs}/8 PNGs)"
    return "after the run was marked done"


def main(n: int) -> None:
    root = Path(tempfile.mkdtemp())
    videos = cs.make_videos(root / "videos")
    config = root / "config.yaml"
    config.write_text(cs.CONFIG)
    # calibrate on warm runs: the first one pays for cold caches and would put many kills after the end
    runs = [cs.cli(cs.run_args(videos, root / f"unbroken{k}", config), watch=root / f"unbroken{k}" / "catalog.sqlite")
            for k in range(3)]
    expected = cs.snapshot(root / "unbroken0")["data"]
    assert all(cs.differences(expected, cs.snapshot(root / f"unbroken{k}")["data"]) == [] for k in (1, 2))
    start = sorted(r.appeared_s or 0.0 for r in runs)[1]
    end = min(r.seconds for r in runs[1:])
    print(f"unbroken run {end:.2f} s, catalog created at {start:.2f} s; kills drawn uniformly in between")
    equal = kills = 0
    for seed in range(n):
        rng = random.Random(seed)
        ws = root / f"ws{seed}"
        where = []
        for _ in range(2):
            attempt = cs.cli(cs.run_args(videos, ws, config), kill_after=rng.uniform(start, end))
            cs.assert_not_corrupt(ws)
            kills += attempt.returncode == -9
            where.append(("killed in " if attempt.returncode == -9 else "finished: ") + stage(ws))
            if cs.run_finished(ws):
                break
        else:
            assert cs.cli(cs.run_args(videos, ws, config)).returncode == 0
        diff = cs.differences(expected, cs.snapshot(ws)["data"])
        equal += not diff
        print(seed, " | ".join(where), "| equal" if not diff else f"| DIFFERS: {diff[:3]}")
    print(f"{kills} kills in {n} workspaces; {equal}/{n} final workspaces equal the unbroken run")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
