import shutil

import numpy as np
import pytest

from framesift.embed.pixels import PixelEmbedder
from framesift.pipeline.embed import embed_videos
from framesift.pipeline.ingest import ingest_videos
from framesift.store.embeddings import EmbeddingStore
from framesift.store.videos import SamplingKey, register_videos
from framesift.video import synthetic
from framesift.video.decode import iter_frames
from framesift.video.discover import discover_videos
from framesift.workspace import Workspace


def _ingest(ws, folder, stride=None):
    ids, notes = register_videos(ws.catalog, discover_videos(str(folder)), SamplingKey(stride, None))
    return ingest_videos(ws.catalog, ids, frame_stride=stride), notes


@pytest.fixture()
def folder(tmp_path, rare_video, shots_video):
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(rare_video[0], folder / "rare.mp4")
    shutil.copy(shots_video[0], folder / "shots.mp4")
    return folder


def test_ingest_writes_one_row_per_frame_with_identity_and_stats(tmp_path, folder, rare_video, shots_video):
    ws = Workspace.open(tmp_path / "ws")
    summary, _ = _ingest(ws, folder)
    assert sorted(p.rsplit("/", 1)[-1] for p in summary.ingested) == ["rare.mp4", "shots.mp4"]
    rows = ws.catalog.query(
        "SELECT f.frame_index, f.pts, f.time_s, f.shot_id, f.sharpness FROM frames f JOIN videos v ON v.id = f.video_id "
        "WHERE v.name = 'rare' ORDER BY f.frame_index"
    )
    decoded = list(iter_frames(str(folder / "rare.mp4")))
    assert [(r["frame_index"], r["pts"]) for r in rows] == [(f.index, f.pts) for f in decoded]
    assert [r["time_s"] for r in rows] == pytest.approx([f.time_s for f in decoded])
    assert all(r["sharpness"] > 0 for r in rows)
    video = ws.catalog.query_one("SELECT * FROM videos WHERE name = 'shots'")
    assert (video["n_frames"], video["width"], video["height"], video["codec"]) == (60, 160, 120, "h264")
    assert video["fps"] == pytest.approx(10.0) and video["duration_s"] == pytest.approx(6.0, abs=0.11)
    shots = ws.catalog.query("SELECT start_frame, end_frame FROM shots WHERE video_id = ? ORDER BY shot_id", (video["id"],))
    assert [(s[0], s[1]) for s in shots] == [(0, 19), (20, 34), (35, 59)]


def test_frame_stride_indexes_a_subset(tmp_path, folder):
    ws = Workspace.open(tmp_path / "ws")
    _ingest(ws, folder, stride=4)
    indices = [r[0] for r in ws.catalog.query(
        "SELECT frame_index FROM frames f JOIN videos v ON v.id = f.video_id WHERE v.name = 'rare' ORDER BY 1")]
    assert indices == list(range(0, 60, 4))
    assert ws.catalog.scalar("SELECT n_frames FROM videos WHERE name = 'rare'") == 60


def test_rerun_skips_done_videos_and_new_video_is_processed_alone(tmp_path, folder, video_dir):
    ws = Workspace.open(tmp_path / "ws")
    _ingest(ws, folder)
    embed_videos(ws, PixelEmbedder())
    first_ids = ws.catalog.query("SELECT id FROM frames ORDER BY id")
    again, _ = _ingest(ws, folder)
    assert again.ingested == [] and len(again.skipped) == 2
    synthetic.static_scene_with_rare_object(folder / "new.mp4", n_frames=15, rare_frames=(3,), seed=5)
    third, _ = _ingest(ws, folder)
    assert [p.rsplit("/", 1)[-1] for p in third.ingested] == ["new.mp4"]
    summary = embed_videos(ws, PixelEmbedder())
    assert summary.embedded_frames == 15 and summary.videos_skipped == 2
    # earlier frame rows are untouched
    assert ws.catalog.query("SELECT id FROM frames WHERE id <= ? ORDER BY id", (first_ids[-1][0],)) == first_ids


def test_changed_video_is_reindexed(tmp_path, folder):
    ws = Workspace.open(tmp_path / "ws")
    _ingest(ws, folder)
    synthetic.static_scene_with_rare_object(folder / "rare.mp4", n_frames=30, rare_frames=(3,), seed=9)
    summary, notes = _ingest(ws, folder)
    assert any("changed on disk" in n for n in notes)
    assert [p.rsplit("/", 1)[-1] for p in summary.ingested] == ["rare.mp4"]
    assert ws.catalog.scalar("SELECT n_frames FROM videos WHERE name = 'rare'") == 30


def test_unreadable_videos_are_reported_and_skipped(tmp_path, folder):
    (folder / "zero.mp4").write_bytes(b"")
    (folder / "junk.avi").write_bytes(b"\x00junk" * 100)
    ws = Workspace.open(tmp_path / "ws")
    summary, _ = _ingest(ws, folder)
    assert len(summary.ingested) == 2
    reasons = {p.rsplit("/", 1)[-1]: r for p, r in summary.failed.items()}
    assert set(reasons) == {"zero.mp4", "junk.avi"}
    assert "zero-byte" in reasons["zero.mp4"] and all("\n" not in r for r in reasons.values())
    # a rerun reports them again without retrying, and keeps the good work
    again, _ = _ingest(ws, folder)
    assert set(p.rsplit("/", 1)[-1] for p in again.failed) == {"zero.mp4", "junk.avi"}
    assert ws.catalog.scalar("SELECT COUNT(*) FROM frames") == 120


class FlakyEmbedder(PixelEmbedder):
    """Dies after a number of batches, like a process killed mid-embedding."""

    def __init__(self, fail_after: int | None):
        self.fail_after = fail_after
        self.calls = 0
        self.frames = 0

    def embed(self, images):
        if self.fail_after is not None and self.calls >= self.fail_after:
            raise KeyboardInterrupt("killed")
        self.calls += 1
        self.frames += len(images)
        return super().embed(images)


def test_interrupted_embedding_resumes_without_redoing_batches(tmp_path, folder):
    ws = Workspace.open(tmp_path / "ws")
    _ingest(ws, folder)
    flaky = FlakyEmbedder(fail_after=5)
    with pytest.raises(KeyboardInterrupt):
        embed_videos(ws, flaky, batch_size=8, chunk_frames=16)
    assert flaky.frames == 40  # two chunks of 16 stored, the half chunk in memory lost
    resumed = FlakyEmbedder(fail_after=None)
    embed_videos(ws, resumed, batch_size=8, chunk_frames=16)
    assert resumed.frames == 120 - 32  # only what was missing
    matrix = EmbeddingStore(ws, "pixels").load()
    # equal to an uninterrupted run
    ws2 = Workspace.open(tmp_path / "ws2")
    _ingest(ws2, folder)
    embed_videos(ws2, PixelEmbedder(), batch_size=8)
    clean = EmbeddingStore(ws2, "pixels").load()
    assert np.array_equal(matrix.frame_ids, clean.frame_ids)
    assert np.allclose(matrix.vectors, clean.vectors)
    assert not list((ws.root / "embeddings" / "pixels").glob("*.parts/*"))  # chunks joined and removed


def test_fsspec_url_input_is_ingested_and_embedded(tmp_path, rare_video):
    import fsspec

    fs = fsspec.filesystem("memory")
    fs.pipe("/bucket/cams/rare.mp4", rare_video[0].read_bytes())
    fs.pipe("/bucket/cams/notes.txt", b"not a video")
    videos = discover_videos("memory://bucket")
    assert [(v.name, v.ext) for v in videos] == [("cams/rare", "mp4")]
    ws = Workspace.open(tmp_path / "ws")
    ids, _ = register_videos(ws.catalog, videos, SamplingKey(None, None))
    summary = ingest_videos(ws.catalog, ids)
    assert summary.frames_indexed == 60 and not summary.failed
    embed_videos(ws, PixelEmbedder())
    assert len(EmbeddingStore(ws, "pixels").load()) == 60


def test_rotated_video_is_indexed_with_display_size(tmp_path):
    folder = tmp_path / "phone"
    stored = [np.full((40, 64, 3), 30 * i, np.uint8) for i in range(6)]
    synthetic.write_video(folder / "portrait.mp4", stored, fps=5, rotation=90)
    ws = Workspace.open(tmp_path / "ws")
    _ingest(ws, folder)
    video = ws.catalog.query_one("SELECT width, height, rotation, n_frames FROM videos")
    assert (video["width"], video["height"], video["rotation"], video["n_frames"]) == (40, 64, 90, 6)


class CountingEmbedder(PixelEmbedder):
    """A CPU embedder without its own batch preference, counting model calls."""

    preferred_batch_size = None
    device = "cpu"

    def __init__(self):
        self.batches: list[int] = []

    def embed(self, images):
        self.batches.append(len(images))
        return super().embed(images)


def test_default_cpu_batches_are_small_but_stored_chunks_are_not(tmp_path, folder, monkeypatch):
    from framesift.embed.base import CPU_BATCH_SIZE, GPU_BATCH_SIZE, default_batch_size

    ws = Workspace.open(tmp_path / "ws")
    _ingest(ws, folder)
    embedder = CountingEmbedder()
    assert default_batch_size(embedder) == CPU_BATCH_SIZE == 4
    embedder.device = "cuda"
    assert default_batch_size(embedder) == GPU_BATCH_SIZE
    embedder.device = "cpu"
    chunks: list[int] = []
    write_chunk = EmbeddingStore.write_chunk
    monkeypatch.setattr(EmbeddingStore, "write_chunk",
                        lambda self, video_id, ids, vectors: chunks.append(len(ids)) or write_chunk(self, video_id, ids, vectors))
    embed_videos(ws, embedder)  # 2 videos x 60 frames
    assert embedder.batches == [4] * 30
    assert chunks == [32, 28] * 2  # one file + transaction per 32 frames, not per model call
    matrix = EmbeddingStore(ws, "pixels").load()
    ws2 = Workspace.open(tmp_path / "ws2")
    _ingest(ws2, folder)
    embed_videos(ws2, PixelEmbedder(), batch_size=64)
    assert np.array_equal(matrix.frame_ids, EmbeddingStore(ws2, "pixels").load().frame_ids)
    assert np.allclose(matrix.vectors, EmbeddingStore(ws2, "pixels").load().vectors)
