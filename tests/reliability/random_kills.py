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
from crash_support import CONFIG, assert_not_corrupt, cli, differences, run_args, run_finished, snapshot

from framesift.video import synthetic


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
    videos = root / "videos"
    synthetic.static_scene_with_rare_object(videos / "lobby.mp4", n_frames=30, rare_frames=(9, 10, 22),
                                            size=(64, 48), seed=1)
    synthetic.multi_shot_video(videos / "street.mp4", shot_lengths=(10, 8, 12), size=(64, 48), seed=2)
    synthetic.static_scene_with_rare_object(videos / "yard.mkv", n_frames=20, rare_frames=(5,), size=(64, 48), seed=3)
    config = root / "config.yaml"
    config.write_text(CONFIG)
    # calibrate on warm runs: the first one pays for cold caches and would put many kills after the end
    runs = [cli(run_args(videos, root / f"unbroken{k}", config), watch=root / f"unbroken{k}" / "catalog.sqlite")
            for k in range(3)]
    expected = snapshot(root / "unbroken0")["data"]
    assert all(differences(expected, snapshot(root / f"unbroken{k}")["data"]) == [] for k in (1, 2))
    start = sorted(r.appeared_s or 0.0 for r in runs)[1]
    end = min(r.seconds for r in runs[1:])
    print(f"unbroken run {end:.2f} s, catalog created at {start:.2f} s; kills drawn uniformly in between")
    equal = kills = 0
    for seed in range(n):
        rng = random.Random(seed)
        ws = root / f"ws{seed}"
        where = []
        for _ in range(2):
            attempt = cli(run_args(videos, ws, config), kill_after=rng.uniform(start, end))
            assert_not_corrupt(ws)
            kills += attempt.returncode == -9
            where.append(("killed in " if attempt.returncode == -9 else "finished: ") + stage(ws))
            if run_finished(ws):
                break
        else:
            assert cli(run_args(videos, ws, config)).returncode == 0
        diff = differences(expected, snapshot(ws)["data"])
        equal += not diff
        print(seed, " | ".join(where), "| equal" if not diff else f"| DIFFERS: {diff[:3]}")
    print(f"{kills} kills in {n} workspaces; {equal}/{n} final workspaces equal the unbroken run")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
