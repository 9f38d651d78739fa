"""What a killed process leaves in run records and embedding folders, and how the next run takes over."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import framesift.pipeline.run as pipeline_run
from framesift.config.loader import load_config
from framesift.embed.pixels import PixelEmbedder
from framesift.errors import FramesiftError
from framesift.pipeline.embed import embed_videos
from framesift.pipeline.ingest import ingest_videos
from framesift.pipeline.runs import create_run
from framesift.store.videos import SamplingKey, register_videos
from framesift.video import synthetic
from framesift.video.discover import discover_videos
from framesift.workspace import Workspace

HOLD_RUN = textwrap.dedent("""
    import os, signal, sys
    from framesift.pipeline.runs import create_run
    from framesift.workspace import Workspace
    catalog = Workspace.open(sys.argv[1]).catalog
    print(create_run(catalog, sys.argv[2] or None, {}, None)[1], flush=True)
    if sys.argv[3] == "die":
        os.kill(os.getpid(), signal.SIGKILL)
    sys.stdin.read()  # hold the run until the test closes stdin
""")


def _start_run(ws, name, mode):
    proc = subprocess.Popen([sys.executable, "-c", HOLD_RUN, str(ws.root), name, mode], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    created = proc.stdout.readline().strip()
    if mode == "die":
        proc.wait()
    return proc, created


def test_a_run_left_running_by_a_killed_process_is_taken_over_under_its_name(tmp_path):
    ws = Workspace.open(tmp_path / "ws")
    _, name = _start_run(ws, "", "die")
    assert name == "run-1"
    run_id, again = create_run(ws.catalog, None, {"k": 1}, None)
    assert again == "run-1"
    rows = ws.catalog.query("SELECT id, name, status, config FROM runs")
    assert [(r["id"], r["name"], r["status"], json.loads(r["config"])) for r in rows] == [(run_id, "run-1", "running",
                                                                                           {"k": 1})]


def test_a_run_another_live_process_is_writing_is_left_alone(tmp_path):
    ws = Workspace.open(tmp_path / "ws")
    proc, name = _start_run(ws, "shared", "hold")
    assert name == "shared"
    try:
        with pytest.raises(FramesiftError, match=r"run 'shared' is being written by process \d+"):
            create_run(ws.catalog, "shared", {}, None)
        assert create_run(ws.catalog, None, {}, None)[1] == "run-2"  # a new name, the live run keeps its own
    finally:
        proc.communicate("")
    assert create_run(ws.catalog, "shared", {}, None)[1] == "shared"  # its process is gone: taken over


@pytest.fixture()
def videos(tmp_path):
    folder = tmp_path / "videos"
    synthetic.static_scene_with_rare_object(folder / "a.mp4", n_frames=20, rare_frames=(4,), size=(64, 48), seed=1)
    synthetic.multi_shot_video(folder / "b.mp4", shot_lengths=(8, 8), size=(64, 48), seed=2)
    return folder


def test_embedding_chunks_left_by_a_kill_after_the_catalog_said_done_are_removed(tmp_path, videos):
    ws = Workspace.open(tmp_path / "ws")
    ids, _ = register_videos(ws.catalog, discover_videos(str(videos)), SamplingKey(None, None))
    ingest_videos(ws.catalog, ids)
    embed_videos(ws, PixelEmbedder(), batch_size=8)
    root = ws.embeddings_dir("pixels")
    matrix = np.load(root / f"{ids[0]}.npy")
    (root / f"{ids[0]}.parts").mkdir()
    np.save(root / f"{ids[0]}.parts" / "000000.npy", np.zeros((8, 5)))  # what embed.finalized leaves behind
    summary = embed_videos(ws, PixelEmbedder(), batch_size=8)
    assert summary.videos_skipped == 2 and summary.embedded_frames == 0
    assert sorted(p.name for p in root.iterdir()) == sorted(f"{i}{s}" for i in ids for s in (".npy", ".ids.npy"))
    assert np.array_equal(np.load(root / f"{ids[0]}.npy"), matrix)


CONFIG = {"selection_config": {"n_samples": 5, "strategies": [{"input": {"type": "EMBEDDINGS"},
                                                                "strategy": {"type": "DIVERSITY"}}]},
          "framesift": {"embedder": "pixels", "embed_batch_size": 8}}


def test_a_pipeline_run_stays_unfinished_until_its_frames_and_files_are_written(tmp_path, videos, monkeypatch):
    config = load_config(CONFIG)
    write_files = pipeline_run.write_selection_files

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt("killed while writing selection.json")

    monkeypatch.setattr(pipeline_run, "write_selection_files", interrupted)
    with pytest.raises(KeyboardInterrupt):
        pipeline_run.run_pipeline(str(videos), tmp_path / "ws", config, report=False)
    ws = Workspace.open(tmp_path / "ws")
    first = ws.catalog.query("SELECT r.name, r.status, s.frame_id FROM runs r JOIN selections s ON s.run_id = r.id "
                             "ORDER BY s.rank")
    assert {(r["name"], r["status"]) for r in first} == {("run-1", "running")}  # not 'done': a rerun redoes it
    monkeypatch.setattr(pipeline_run, "write_selection_files", write_files)
    summary = pipeline_run.run_pipeline(str(videos), tmp_path / "ws", config, report=False)
    assert summary.selection.run_name == "run-1" and summary.extract.existing == 5 and summary.extract.written == 0
    runs = ws.catalog.query("SELECT name, status FROM runs")
    assert [(r["name"], r["status"]) for r in runs] == [("run-1", "done")]
    again = ws.catalog.query("SELECT frame_id FROM selections ORDER BY rank")
    assert [r["frame_id"] for r in again] == [r["frame_id"] for r in first]
    assert (ws.root / "selection.json").exists() and (ws.run_dir("run-1") / "selection.csv").exists()


def test_a_temp_file_left_in_the_chunk_folder_by_a_kill_goes_with_the_folder(tmp_path, videos):
    ws = Workspace.open(tmp_path / "ws")
    ids, _ = register_videos(ws.catalog, discover_videos(str(videos)), SamplingKey(None, None))
    ingest_videos(ws.catalog, ids)
    parts = ws.embeddings_dir("pixels") / f"{ids[0]}.parts"
    parts.mkdir(parents=True)
    (parts / ".000000.npy.k3j2x_.tmp").write_bytes(b"\x93NUMPY half written")  # atomic write cut by a kill
    embed_videos(ws, PixelEmbedder(), batch_size=8)
    assert not parts.exists()

