import numpy as np

from framesift.embed.pixels import PixelEmbedder
from framesift.pipeline.embed import embed_videos
from framesift.pipeline.frames import fill_from_nearest_embedded, load_frame_table, nearest_in_group
from framesift.pipeline.ingest import ingest_videos
from framesift.store.embeddings import EmbeddingStore, embedding_key
from framesift.store.videos import SamplingKey, register_videos
from framesift.video.discover import discover_videos
from framesift.workspace import Workspace


def test_nearest_in_group_stays_inside_the_group_and_picks_the_closest_time():
    group = np.array([5, 5, 5, 5, 5, 9, 9, 9, 2, 2])
    time = np.array([0.0, 1.0, 2.0, 3.9, 4.0, 0.0, 1.0, 2.0, 0.0, 1.0])
    has = np.array([1, 0, 0, 0, 1, 0, 0, 1, 0, 0], bool)
    assert nearest_in_group(group, time, has).tolist() == [0, 0, 0, 4, 4, 7, 7, 7, -1, -1]


def test_embed_fps_embeds_a_subset_and_every_frame_stays_selectable(tmp_path, shots_video):
    path, truth = shots_video
    assert (truth.n_frames, truth.fps, truth.cuts) == (60, 10.0, [20, 35])
    ws = Workspace.open(tmp_path / "ws")
    ids, _ = register_videos(ws.catalog, discover_videos(str(path)), SamplingKey(None, None))
    ingest_videos(ws.catalog, ids)
    summary = embed_videos(ws, PixelEmbedder(), embed_fps=2.0)
    assert summary.model == embedding_key("pixels", 2.0) == "pixels@2fps"
    matrix = EmbeddingStore(ws, "pixels@2fps").load()
    table = load_frame_table(ws.catalog)
    embedded_index = table.frame_index[table.positions(matrix.frame_ids)]
    assert embedded_index.tolist() == list(range(0, 60, 5))  # one frame every 0.5 s
    filled = fill_from_nearest_embedded(table, matrix.frame_ids, matrix.vectors)
    assert filled.shape == (60, PixelEmbedder().dim)
    # frame 34 is the last frame of shot 1 (20..34): its nearest embedded frame in time is 35 (shot 2),
    # but the shot rule gives it frame 30 of its own shot
    row_30 = matrix.vectors[embedded_index.tolist().index(30)]
    row_35 = matrix.vectors[embedded_index.tolist().index(35)]
    assert np.allclose(filled[34], row_30) and not np.allclose(filled[34], row_35)
    assert np.allclose(filled[37], row_35)


def test_large_matrices_are_built_in_unlinked_scratch_files_with_the_same_values(tmp_path, shots_video, monkeypatch):
    from framesift.util import scratch

    path, _ = shots_video
    ws = Workspace.open(tmp_path / "ws")
    ids, _ = register_videos(ws.catalog, discover_videos(str(path)), SamplingKey(None, None))
    ingest_videos(ws.catalog, ids)
    embed_videos(ws, PixelEmbedder(), embed_fps=2.0)
    table = load_frame_table(ws.catalog)
    store = EmbeddingStore(ws, "pixels@2fps")
    in_ram = store.load(table.frame_id)  # 12 of the 60 frames have an embedding: the rest are dropped
    own = store.video_matrix(ids[0])
    assert np.array_equal(in_ram.frame_ids, own.frame_ids) and np.array_equal(in_ram.vectors, own.vectors)
    filled_ram = fill_from_nearest_embedded(table, in_ram.frame_ids, in_ram.vectors)
    monkeypatch.setattr(scratch, "SCRATCH_OVER_BYTES", 0)  # map everything
    folder = tmp_path / "scratch"
    mapped = store.load(table.frame_id, scratch_dir=folder)
    filled = fill_from_nearest_embedded(table, mapped.frame_ids, mapped.vectors, folder)
    assert isinstance(mapped.vectors, np.memmap) and isinstance(filled, np.memmap)
    assert np.array_equal(mapped.frame_ids, in_ram.frame_ids) and len(mapped) == 12
    assert np.array_equal(np.asarray(mapped.vectors), in_ram.vectors)  # compacted in place, same rows
    assert np.array_equal(np.asarray(filled), filled_ram)
    assert list(folder.iterdir()) == []  # unlinked as soon as mapped: nothing left behind
