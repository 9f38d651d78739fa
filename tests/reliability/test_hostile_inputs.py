"""A folder of hostile inputs: each file is processed correctly or skipped with a one-line reason.

`framesift run` goes over the whole corpus (reliability_corpus.py) in one go, as a user would
run it on a messy folder; then the files it processed are run again on their own, and the
selection, PNGs and embeddings must come out the same: the bad files change nothing.
"""

from __future__ import annotations

import itertools
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
from crash_support import CONFIG, snapshot
from reliability_corpus import NON_UTF8_NAME, VFR_PTS, build_corpus

from framesift.video.decode import iter_frames, local_path
from framesift.video.extract import read_frames

MAX_RSS_MB = 400  # measured 164 MB; 524 MB before frames above 67 MP were refused


def _unprivileged_prefix() -> list[str] | None:
    """How to run the CLI so file modes are enforced: as is for a normal user, root without DAC override."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    probe = subprocess.run([setpriv, "--bounding-set=-dac_override,-dac_read_search", "true"], capture_output=True)
    return [setpriv, "--bounding-set=-dac_override,-dac_read_search"] if probe.returncode == 0 else None


# The CLI, reporting its own peak RSS (VmHWM) at exit: getrusage would count the pages a forked
# child shares with the (large) pytest process before it execs.
CLI_WITH_PEAK_RSS = (
    "import atexit, os\n"
    "atexit.register(lambda: open(os.environ['RELIABILITY_HWM_FILE'], 'w').write(\n"
    "    [line.split()[1] for line in open('/proc/self/status') if line.startswith('VmHWM:')][0]))\n"
    "from framesift.cli import main\n"
    "main()\n"
)


def run_cli(folder: Path, workspace: Path, config: Path, prefix: list[str]) -> tuple[int, str, str, float]:
    """`framesift run` on ``folder``; returns (exit code, stdout, stderr, peak RSS of the process in MB)."""
    with tempfile.TemporaryDirectory() as tmp:
        hwm = Path(tmp) / "hwm"
        env = dict(os.environ, FRAMESIFT_PROGRESS="0", OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
                   RELIABILITY_HWM_FILE=str(hwm))
        result = subprocess.run([*prefix, sys.executable, "-c", CLI_WITH_PEAK_RSS, "run", "--input", str(folder),
                                 "--out", str(workspace), "--config", str(config), "--no-report"],
                                capture_output=True, env=env, timeout=600)
        peak = int(hwm.read_text()) / 1024 if hwm.exists() else float("nan")
    return result.returncode, result.stdout.decode("utf-8"), result.stderr.decode("utf-8"), peak


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    prefix = _unprivileged_prefix()
    cases = build_corpus(root / "corpus", unprivileged=prefix is not None)
    config = root / "config.yaml"
    config.write_text(CONFIG)
    code, out, err, rss = run_cli(root / "corpus", root / "ws", config, prefix or [])
    assert code == 0, err
    return root, cases, out, rss, config, prefix or []


def _lines(out: str, kind: str) -> dict[str, str]:
    """{file name: reason} of the summary's '  skipped:' / '  warning:' lines."""
    found = {}
    for line in out.splitlines():
        if line.startswith(f"  {kind}: "):
            path, reason = line[len(kind) + 4 :].split(": ", 1)
            name = os.fsdecode(os.path.basename(os.fsencode(local_path(path))))
            assert name not in found, f"two {kind} lines for {name}"
            found[name] = reason
    return found


def test_each_input_is_processed_or_skipped_with_a_one_line_reason(corpus_run):
    root, cases, out, rss, _, _ = corpus_run
    skipped, warnings = _lines(out, "skipped"), _lines(out, "warning")
    expected_skips = {c.file: c.reason for c in cases if c.outcome == "skipped"}
    assert sorted(skipped) == sorted(expected_skips)
    for name, reason in expected_skips.items():
        assert reason in skipped[name], (name, skipped[name])
    assert set(warnings) == {"truncated_mid_gop.mkv"} and "file truncated" in warnings["truncated_mid_gop.mkv"]
    assert rss < MAX_RSS_MB, f"peak RSS {rss:.0f} MB"
    with sqlite3.connect(root / "ws" / "catalog.sqlite") as conn:
        conn.row_factory = sqlite3.Row
        videos = {os.fsdecode(os.path.basename(os.fsencode(local_path(r["path"])))): r
                  for r in conn.execute("SELECT * FROM videos")}
        for case in cases:
            row = videos[case.file]
            assert row["status"] == ("ingested" if case.outcome == "processed" else "failed"), case.file
            if case.frames is not None:
                assert row["n_indexed"] == row["n_frames"] == case.frames, case.file
        assert videos[os.fsdecode(NON_UTF8_NAME)]["name"] == "caf%E9 cr%E8me"
        assert videos["line\nbreak.mp4"]["name"] == "line%0Abreak"
        assert 0 < videos["truncated_mid_gop.mkv"]["n_indexed"] < 60
        assert (videos["rotated_90.mp4"]["width"], videos["rotated_90.mp4"]["height"]) == (96, 64)
        assert (videos["wide_16384x16.mkv"]["width"], videos["wide_16384x16.mkv"]["height"]) == (16384, 16)
        times = [r[0] for r in conn.execute("SELECT time_s FROM frames WHERE video_id = ? ORDER BY frame_index",
                                            (videos["variable_rate.mkv"]["id"],))]
        assert times == pytest.approx([p / 10 for p in VFR_PTS])
        picked = {r[0] for r in conn.execute("SELECT v.name FROM selections s JOIN frames f ON f.id = s.frame_id "
                                             "JOIN videos v ON v.id = f.video_id")}
        assert "uniform_grey" not in picked  # blank frames are never selected
        blank = conn.execute("SELECT stats FROM runs").fetchone()[0]
        assert '"corrupt_skipped": 15' in blank  # 10 grey frames + 5 single-colour 16384x16 frames
    # every line of the summary is one line (file names with newlines are escaped) and valid UTF-8
    assert all(not line.startswith(("\t", "break")) for line in out.splitlines())


def test_rotated_and_restarted_videos_give_the_right_pixels(corpus_run):
    root, *_ = corpus_run
    folder = root / "corpus"
    upright = next(iter(iter_frames(str(folder / "rotated_90.mp4")))).to_rgb()
    assert upright.shape == (64, 96, 3)
    # the moving square of the first frame is at x = 4..18, y = 21..35 of the upright picture
    assert upright[24:32, 6:16, 0].mean() > 180 and upright[24:32, 6:16, 2].mean() < 80
    restart = str(folder / "timestamps_restart.ts")
    decoded = list(iter_frames(restart))
    pts = [f.pts for f in decoded]
    assert len(decoded) == 40 and any(b < a for a, b in itertools.pairwise(pts))  # timestamps go back
    targets = [(i, pts[i]) for i in (3, 19, 20, 21, 39)]  # around the restart: pts repeat across the two halves
    images = dict(read_frames(restart, targets))
    for index, _ in targets:
        assert np.array_equal(images[index], decoded[index].to_rgb())


def test_skipped_files_leave_the_selection_of_the_others_unchanged(corpus_run):
    root, cases, _, _, config, prefix = corpus_run
    clean = root / "clean"
    clean.mkdir()
    for case in cases:
        if case.outcome == "processed":
            source = os.path.join(os.fsencode(root / "corpus"), os.fsencode(case.file))
            shutil.copy2(source, os.path.join(os.fsencode(clean), os.fsencode(case.file)))
    code, _, err, _ = run_cli(clean, root / "ws-clean", config, prefix)
    assert code == 0, err
    hostile, alone = snapshot(root / "ws"), snapshot(root / "ws-clean")

    def picks(shot):
        frames = {f["id"]: f for f in shot["data"]["table frames"]}
        videos = {v["id"]: v["name"] for v in shot["data"]["table videos"]}
        return [(videos[frames[s["frame_id"]]["video_id"]], frames[s["frame_id"]]["frame_index"], s["objectives"])
                for s in sorted(shot["data"]["table selections"], key=lambda s: s["rank"])]

    assert picks(hostile) == picks(alone)
    pngs = {k: v for k, v in hostile["data"]["files"].items() if k.startswith("frames/")}
    assert pngs and pngs == {k: v for k, v in alone["data"]["files"].items() if k.startswith("frames/")}
