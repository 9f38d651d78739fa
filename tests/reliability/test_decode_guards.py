"""Inputs the decoder must refuse early with a clear one-line reason."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest
from reliability_corpus import HUGE_SIDE, VFR_PTS, claimed_size, gop_clip, jpeg_bytes, mjpeg_clip

from framesift.errors import VideoError
from framesift.pipeline.ingest import ingest_videos
from framesift.store.videos import SamplingKey, register_videos
from framesift.video import synthetic
from framesift.video.decode import iter_frames
from framesift.video.discover import discover_videos
from framesift.workspace import Workspace


def _ingest(tmp_path, folder):
    ws = Workspace.open(tmp_path / "ws")
    files = discover_videos(str(folder))
    ids, _ = register_videos(ws.catalog, files, SamplingKey(None, None))
    return files, ingest_videos(ws.catalog, ids)


def test_symlink_loops_and_dangling_links_are_skipped_with_their_reason(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    synthetic.static_scene_with_rare_object(folder / "real.mp4", n_frames=8, rare_frames=(2,), size=(64, 48))
    os.symlink("loop_b.mp4", folder / "loop_a.mp4")
    os.symlink("loop_a.mp4", folder / "loop_b.mp4")
    os.symlink("self.mp4", folder / "self.mp4")
    os.symlink("missing.mp4", folder / "dangling.mp4")
    os.symlink("real.mp4", folder / "alias.mp4")  # a good link is followed
    (folder / "sub").mkdir()
    os.symlink("..", folder / "sub" / "up")  # a directory loop is not walked into
    files, summary = _ingest(tmp_path, folder)
    assert sorted(f.name for f in files) == ["alias", "dangling", "loop_a", "loop_b", "real", "self"]
    assert len(summary.ingested) == 2  # real.mp4 and alias.mp4 (discovery stores the link's target)
    reasons = {p.rsplit("/", 1)[-1]: r for p, r in summary.failed.items()}
    assert sorted(reasons) == ["dangling.mp4", "loop_a.mp4", "loop_b.mp4", "self.mp4"]
    for reason in reasons.values():
        assert reason.endswith("broken or looping symbolic link; point it at a video or remove it")
        assert "\n" not in reason
    shutil.rmtree(folder)


def test_frames_above_the_pixel_limit_are_refused_before_they_are_decoded(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    side = HUGE_SIDE
    mjpeg_clip(folder / "bomb.mkv", [jpeg_bytes(side, side)] * 3, side, side)  # 81 MP frames, a few KB each
    claimed_size(folder / "claims_16000.mkv", 16000)  # headers of a 320x256 clip patched to claim 16000x16000
    claimed_size(folder / "claims_30000.mkv", 30000)  # FFmpeg itself rejects this size
    with pytest.raises(VideoError, match=f"frame size {side}x{side} is above the 67-megapixel limit"):
        next(iter_frames(str(folder / "bomb.mkv")))
    # a stream that switches to huge frames midway keeps the frames before the switch
    small = [jpeg_bytes(320, 240, grey) for grey in (40, 80, 120, 160)]
    mjpeg_clip(folder / "grows.mkv", [*small, jpeg_bytes(side, side)], 320, 240)
    _, summary = _ingest(tmp_path, folder)
    reasons = {p.rsplit("/", 1)[-1]: r for p, r in summary.failed.items()}
    assert sorted(reasons) == ["bomb.mkv", "claims_16000.mkv", "claims_30000.mkv"]
    assert "frame size 16000x16000 is above the 67-megapixel limit" in reasons["claims_16000.mkv"]
    assert "no decodable frame" in reasons["claims_30000.mkv"]
    assert [p.rsplit("/", 1)[-1] for p in summary.ingested] == ["grows.mkv"]
    (warning,) = summary.warnings.values()
    assert "decoding stopped after frame 3" in warning and f"frame size {side}x{side}" in warning


def test_a_file_cut_between_packets_is_indexed_with_a_truncation_warning(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    gop_clip(tmp_path / "full.mkv", 60, seed=3, gop=10)
    data = (tmp_path / "full.mkv").read_bytes()
    (folder / "cut.mkv").write_bytes(data[: len(data) * 55 // 100])  # decodes without any error, ends early
    synthetic.write_video(folder / "vfr.mkv", (np.full((48, 64, 3), 15 * i, np.uint8) for i in range(len(VFR_PTS))),
                          fps=10, pts=VFR_PTS, time_base=(1, 10))
    synthetic.static_scene_with_rare_object(folder / "whole.mp4", n_frames=20, rare_frames=(3,), size=(64, 48))
    shutil.copy(tmp_path / "full.mkv", folder / "whole.mkv")
    _, summary = _ingest(tmp_path, folder)
    decodable = sum(1 for _ in iter_frames(str(folder / "cut.mkv")))
    assert 0 < decodable < 60 and len(summary.ingested) == 4 and summary.frames_indexed == decodable + 15 + 20 + 60
    (path, warning), = summary.warnings.items()  # only the cut file: no false alarm on VFR or complete files
    assert path.endswith("/cut.mkv")
    assert warning == f"frames end at {decodable / 10:.1f} s of the 6.0 s the container announces (file truncated?)"
