"""File names SQLite and frame files cannot hold as they are: bytes that are not UTF-8, newlines."""

from __future__ import annotations

import os
import shutil

import numpy as np
from PIL import Image

from framesift.pipeline.extract import extract_run
from framesift.pipeline.ingest import ingest_videos
from framesift.pipeline.runs import create_run, finish_run, save_selection
from framesift.store.videos import SamplingKey, register_videos
from framesift.video import synthetic
from framesift.video.decode import iter_frames, local_path
from framesift.video.discover import discover_videos
from framesift.workspace import Workspace

NON_UTF8 = b"caf\xe9 cr\xe8me.mp4"


def _folder(tmp_path):
    source = tmp_path / "clip.mp4"
    synthetic.static_scene_with_rare_object(source, n_frames=12, rare_frames=(4,), size=(64, 48))
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(source, os.path.join(os.fsencode(folder), NON_UTF8))
    shutil.copy(source, folder / "line\nbreak.mp4")
    return folder


def test_undecodable_and_control_bytes_are_escaped_and_the_real_file_reopens(tmp_path):
    folder = _folder(tmp_path)
    ws = Workspace.open(tmp_path / "ws")
    ids, notes = register_videos(ws.catalog, discover_videos(str(folder)), SamplingKey(None, None))
    summary = ingest_videos(ws.catalog, ids)
    assert summary.failed == {} and len(summary.ingested) == 2 and notes == []
    rows = ws.catalog.query("SELECT id, name, path, n_frames FROM videos ORDER BY name")
    assert [r["name"] for r in rows] == ["caf%E9 cr%E8me", "line%0Abreak"]
    real = {os.fsencode(folder / "line\nbreak.mp4"), os.path.join(os.fsencode(folder), NON_UTF8)}
    assert {os.fsencode(local_path(r["path"])) for r in rows} == real
    for r in rows:
        r["path"].encode("utf-8")  # storable, printable on one line
        assert "\n" not in r["path"] and r["n_frames"] == 12

    # a rerun recognises both files: same ids, nothing re-indexed
    again, notes = register_videos(ws.catalog, discover_videos(str(folder)), SamplingKey(None, None))
    assert sorted(again) == sorted(ids) and notes == []

    # extraction writes valid file names with the pixels of the real file
    run_id, _ = create_run(ws.catalog, "names", {}, None)
    picks = ws.catalog.query("SELECT id FROM frames WHERE frame_index = 4 ORDER BY video_id")
    save_selection(ws.catalog, run_id, [p["id"] for p in picks], [{} for _ in picks])
    finish_run(ws.catalog, run_id, {})
    assert extract_run(ws, run_id).written == 2
    files = sorted(p.name for p in ws.frames_dir.iterdir())
    assert files == ["caf%E9 cr%E8me-04-mp4.png", "line%0Abreak-04-mp4.png"]
    expected = [f.to_rgb() for f in iter_frames(os.fsdecode(os.path.join(os.fsencode(folder), NON_UTF8)))][4]
    assert np.array_equal(np.asarray(Image.open(ws.frames_dir / files[0])), expected)
