"""The Ray engine writes the same catalog, embeddings, predictions and selection as the local one.

Embeddings of the ``pixels`` embedder are compared bitwise: it is plain numpy on identical
batches (same frames, same batch boundaries), so any difference is a bug. YOLO outputs are
compared to 1e-5: PyTorch on a 1-thread Ray actor and on the multi-threaded driver may sum
convolutions in another order (last-bit float differences), which is not an engine error.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
from catalog_compare import catalog_snapshot, embedding_files
from typer.testing import CliRunner

from framesift.cli import app
from framesift.config.loader import load_config
from framesift.distributed.cluster import ClusterOptions
from framesift.distributed.ray_engine import frame_targets, predict_videos_ray
from framesift.embed.pixels import PixelEmbedder
from framesift.pipeline.embed import embed_frames
from framesift.pipeline.ingest import begin_video, insert_frames
from framesift.pipeline.run import run_pipeline
from framesift.predict.base import get_predictor
from framesift.predict.video import predict_videos
from framesift.store.embeddings import EmbeddingStore
from framesift.store.videos import SamplingKey, register_videos
from framesift.video.discover import discover_videos
from framesift.workspace import Workspace

pytestmark = [pytest.mark.ray, pytest.mark.timeout(240)]

CONFIG = {
    "selection_config": {
        "n_samples": 12,
        "strategies": [
            {"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY"}},
            {"input": {"type": "METADATA", "key": "video_name"}, "strategy": {"type": "BALANCE", "distribution": "UNIFORM"}},
        ],
    },
    "framesift": {"embedder": "pixels", "embed_batch_size": 8, "embed_fps": 5.0, "extract": False},
}
N_FRAMES = 60 + 60  # shots clip (shots of 20, 15, 25 frames) + rare-object clip, both 10 fps
N_EMBEDDED = 30 + 30  # embed_fps 5: every other frame
KEY, KEY_DIR = "pixels@5fps", "pixels_5fps"  # embedding set and its folder


@pytest.fixture(scope="module")
def engines(tmp_path_factory, input_dir, ray_cluster):
    """The same input run once with each engine."""
    root = tmp_path_factory.mktemp("engines")
    summaries = {}
    for engine in ("local", "ray"):
        config = load_config({**CONFIG, "framesift": {**CONFIG["framesift"], "engine": engine}})
        summaries[engine] = run_pipeline(str(input_dir), root / engine, config, report=False)
    return summaries


def test_ray_run_writes_the_local_catalog_embeddings_and_selection(engines, input_dir):
    local, ray_ = engines["local"], engines["ray"]
    assert ray_.ingest.frames_indexed == local.ingest.frames_indexed == N_FRAMES
    assert ray_.ingest.ingested == local.ingest.ingested and len(local.ingest.ingested) == 2
    assert ray_.ingest.failed == local.ingest.failed
    assert [p.rsplit("/", 1)[-1] for p in ray_.ingest.failed] == ["c_broken.mp4"]
    assert "not a readable video" in next(iter(ray_.ingest.failed.values()))
    assert (ray_.embed.embedded_frames, ray_.embed.batches) == (local.embed.embedded_frames, local.embed.batches) \
        == (N_EMBEDDED, 1 + 1)  # 30 frames a clip: model batches of 8, one stored chunk (<= 32 frames) a clip
    ws_local, ws_ray = Workspace.open(local.workspace), Workspace.open(ray_.workspace)
    a, b = catalog_snapshot(ws_local), catalog_snapshot(ws_ray)
    assert a.keys() == b.keys()
    for table in a:
        assert a[table] == b[table], f"table {table} differs"
    assert len(a["frames"]) == N_FRAMES and len(a["shots"]) == 3 + 1 and len(a["selections"]) == 12
    picked_videos = {r[1] for r in ws_ray.catalog.query(
        "SELECT s.frame_id, f.video_id FROM selections s JOIN frames f ON f.id = s.frame_id")}
    assert len(picked_videos) == 2  # BALANCE over video_name reached both clips
    local_npy, ray_npy = embedding_files(ws_local), embedding_files(ws_ray)
    assert sorted(ray_npy) == sorted(local_npy) == [f"{KEY_DIR}/{n}" for n in ("1.ids.npy", "1.npy", "2.ids.npy", "2.npy")]
    for name, matrix in local_npy.items():
        assert matrix.dtype == ray_npy[name].dtype and np.array_equal(matrix, ray_npy[name]), name


@pytest.fixture(scope="session")
def random_yolo(tmp_path_factory) -> str:
    """A random-weight YOLOv8n: boxes and scores vary from frame to frame, which makes identity meaningful."""
    torch = pytest.importorskip("torch")
    from ultralytics.nn.tasks import DetectionModel

    torch.manual_seed(7)
    model = DetectionModel("yolov8n.yaml", nc=2, verbose=False)
    model.names = {0: "car", 1: "person"}
    for branch in model.model[-1].cv3:  # class logits around 0 instead of the rare-object prior: scores ~0.5
        branch[-1].bias.data[:] = 0.0
    path = tmp_path_factory.mktemp("ray_yolo") / "random.pt"
    torch.save({"model": model, "train_args": {"imgsz": 64}}, path)
    return str(path)


def test_ray_predict_stores_the_local_predictions_and_scores(engines, random_yolo, monkeypatch):
    pytest.importorskip("ultralytics")
    monkeypatch.setenv("YOLO_OFFLINE", "1")
    options = {"conf": 0.05, "imgsz": 64, "max_det": 4}
    ws_local, ws_ray = Workspace.open(engines["local"].workspace), Workspace.open(engines["ray"].workspace)
    local = predict_videos(ws_local, get_predictor(random_yolo, **options), batch_size=8, frame_stride=3)
    ray_ = predict_videos_ray(ws_ray, get_predictor(random_yolo, **options),
                              functools.partial(get_predictor, random_yolo, **options), batch_size=8, frame_stride=3,
                              cluster=ClusterOptions(cpus_per_worker=2))  # one actor: one ultralytics import
    assert (ray_.frames, ray_.boxes, ray_.scores) == (local.frames, local.boxes, local.scores)
    assert local.frames == N_FRAMES // 3 and local.boxes > local.frames  # several boxes on most frames
    a, b = catalog_snapshot(ws_local), catalog_snapshot(ws_ray)
    assert a["tasks"] == b["tasks"] and a["predicted_frames"] == b["predicted_frames"]
    for table in ("predictions", "scores"):
        rows_a, rows_b = a[table], b[table]
        assert [r[:3] for r in rows_a] == [r[:3] for r in rows_b], table  # ids, tasks, frames, categories
        numbers = [np.array([[np.nan if v is None else v for v in r if not isinstance(v, str)] for r in rows], float)
                   for rows in (rows_a, rows_b)]
        assert np.allclose(numbers[0], numbers[1], atol=1e-5, equal_nan=True), table
    boxes = np.array(ws_ray.catalog.query("SELECT x, y, w, h FROM predictions"), float)
    assert boxes[:, 0].min() >= 0 and (boxes[:, 0] + boxes[:, 2]).max() <= 160 + 1e-3  # display pixels, 160 x 120
    again = predict_videos_ray(ws_ray, get_predictor(random_yolo, **options),
                               functools.partial(get_predictor, random_yolo, **options), frame_stride=3,
                               cluster=ClusterOptions(cpus_per_worker=2))
    assert (again.frames, again.videos_skipped) == (0, 2)


def test_predict_cli_engine_ray_stores_what_the_local_engine_stores(engines, random_yolo, monkeypatch):
    """`framesift predict --engine ray` and plain `framesift predict`: same frames, classes and boxes."""
    pytest.importorskip("ultralytics")
    monkeypatch.setenv("YOLO_OFFLINE", "1")
    ws = Workspace.open(engines["ray"].workspace)
    runner = CliRunner()
    common = ["predict", "--out", str(ws.root), "--model", random_yolo, "--imgsz", "64", "--conf", "0.3",
              "--frame-stride", "6", "--batch-size", "5"]
    for task, extra in (("cli_local", []), ("cli_ray", ["--engine", "ray"])):
        result = runner.invoke(app, [*common, "--task", task, *extra])
        assert result.exit_code == 0, result.output
        assert f"task {task}" in result.output and f"{N_FRAMES // 6} frames" in result.output
    rows = {task: ws.catalog.query("SELECT frame_id, category_id, x, y, w, h, score FROM predictions WHERE task = ? "
                                   "ORDER BY frame_id, score DESC, x, y", (task,)) for task in ("cli_local", "cli_ray")}
    assert rows["cli_local"] and [r[:2] for r in rows["cli_local"]] == [r[:2] for r in rows["cli_ray"]]
    assert np.allclose(np.array([r[2:] for r in rows["cli_local"]], float), np.array([r[2:] for r in rows["cli_ray"]], float),
                       atol=1e-4)


def test_killed_ray_ingest_and_embed_resume_through_the_cli(tmp_path, input_dir, engines):
    """A run killed mid-ingest and mid-embed finishes with `--engine ray` exactly like the local engine."""
    ws = Workspace.open(tmp_path / "ws")
    ids, _ = register_videos(ws.catalog, discover_videos(str(input_dir)), SamplingKey(None, None))
    begin_video(ws.catalog, ids[0])  # killed while indexing the first clip: two rows of junk committed
    insert_frames(ws.catalog, ids[0], [(i, i, i / 10, 0, 1.0, 1.0, 1.0, 0.0, 0) for i in range(2)])
    runner = CliRunner()
    result = runner.invoke(app, ["ingest", "--input", str(input_dir), "--out", str(ws.root), "--engine", "ray"])
    assert result.exit_code == 0, result.output
    assert "2 ingested now" in result.output and f"{N_FRAMES} frames indexed now" in result.output

    store = EmbeddingStore(ws, KEY)  # killed while embedding the first clip, after two stored batches
    path = ws.catalog.scalar("SELECT path FROM videos WHERE id = ?", (ids[0],))
    targets = frame_targets(ws.catalog, ids[0], embed_fps=5.0)
    assert targets[:4, 1].tolist() == [0, 2, 4, 6]
    for k, (frame_ids, vectors) in enumerate(embed_frames(path, targets.tolist(), PixelEmbedder(), 8, 8)):
        store.write_chunk(ids[0], frame_ids, vectors)
        if k == 1:
            break
    result = runner.invoke(app, ["embed", "--out", str(ws.root), "--embedder", "pixels", "--batch-size", "8",
                                 "--embed-fps", "5", "--engine", "ray"])
    assert result.exit_code == 0, result.output
    assert f"{KEY}: {N_EMBEDDED - 16} frames embedded" in result.output

    local = Workspace.open(engines["local"].workspace)
    a, b = catalog_snapshot(local), catalog_snapshot(ws)
    for table in ("videos", "frames", "shots", "embedding_sets", "embedding_chunks"):
        assert a[table] == b[table], f"table {table} differs"
    local_npy, resumed_npy = embedding_files(local), embedding_files(ws)
    assert sorted(local_npy) == sorted(resumed_npy)
    assert all(np.array_equal(local_npy[name], resumed_npy[name]) for name in local_npy)
