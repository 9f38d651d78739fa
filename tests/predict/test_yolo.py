"""The ultralytics backend on real video frames, with a random-weight YOLOv8n built in the test.

The detection head's class biases are set so class 0 ("car") fires everywhere with ~1.0
confidence and class 1 never: boxes then cover the whole frame (clipped), which makes the
coordinate contract checkable exactly: boxes come back in the video's display pixels, not in
the size the model ran at.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import torch
from predict_support import ingest_folder

from framesift.errors import FramesiftError
from framesift.predict.base import get_predictor
from framesift.predict.video import predict_videos
from framesift.video import synthetic
from framesift.workspace import Workspace

pytest.importorskip("ultralytics")


@pytest.fixture(scope="session")
def tiny_yolo(tmp_path_factory) -> str:
    os.environ.setdefault("YOLO_OFFLINE", "1")
    from ultralytics.nn.tasks import DetectionModel

    torch.manual_seed(0)
    model = DetectionModel("yolov8n.yaml", nc=2, verbose=False)
    model.names = {0: "car", 1: "person"}
    for branch in model.model[-1].cv3:  # last conv of each class branch: one output channel per class
        branch[-1].bias.data[:] = -10.0
        branch[-1].bias.data[0] = 8.0
    path = tmp_path_factory.mktemp("yolo") / "tiny.pt"
    torch.save({"model": model, "train_args": {"imgsz": 64}}, path)
    return str(path)


def _boxes(ws, task):
    return np.array([tuple(r) for r in ws.catalog.query(
        "SELECT category_id, score, x, y, w, h FROM predictions WHERE task = ? ORDER BY id", (task,))], float)


def test_yolo_predicts_every_indexed_frame_in_display_pixels_and_resumes(workspace, tiny_yolo):
    predictor = get_predictor(tiny_yolo, conf=0.1, imgsz=64, max_det=3)
    assert predictor.name == "tiny" and predictor.task_type == "object-detection"
    assert predictor.input_size(160, 120) == (64, 48)  # the model sees a 64 x 48 frame ...
    summary = predict_videos(workspace, predictor, batch_size=8)
    assert (summary.task, summary.frames, summary.boxes) == ("tiny", 40, 120)
    assert workspace.catalog.scalar("SELECT COUNT(*) FROM predicted_frames WHERE task = 'tiny'") == 40
    boxes = _boxes(workspace, "tiny")
    assert set(boxes[:, 0]) == {0.0} and boxes[:, 1].min() > 0.99
    assert boxes[:, 2:] == pytest.approx(np.tile([0, 0, 160, 120], (120, 1)))  # ... boxes are in 160 x 120 pixels
    assert summary.scores == ["box_uncertainty_max", "box_uncertainty_mean", "low_confidence_count",
                              "object_frequency", "objectness_least_confidence"]
    assert workspace.catalog.scalar("SELECT COUNT(*) FROM scores WHERE task = 'tiny'") == 200
    again = predict_videos(workspace, predictor)
    assert (again.frames, again.videos_skipped) == (0, 1)


def test_classes_filter_and_frame_stride(workspace, tiny_yolo):
    predictor = get_predictor(tiny_yolo, classes=["person"], imgsz=64)
    assert predictor.categories == [{"id": 1, "name": "person"}]
    summary = predict_videos(workspace, predictor, task="people", frame_stride=10)
    assert (summary.frames, summary.boxes) == (4, 0)  # frames 0, 10, 20, 30; no person fires
    indices = [r[0] for r in workspace.catalog.query(
        "SELECT f.frame_index FROM predicted_frames p JOIN frames f ON f.id = p.frame_id WHERE p.task = 'people' ORDER BY 1")]
    assert indices == [0, 10, 20, 30]
    with pytest.raises(FramesiftError, match="--classes bus: not a class"):
        get_predictor(tiny_yolo, classes=["bus"])
    with pytest.raises(FramesiftError, match="already holds predictions"):
        predict_videos(workspace, get_predictor(tiny_yolo, imgsz=64), task="people")


def test_rotated_phone_video_boxes_are_upright(tmp_path, tiny_yolo):
    folder = tmp_path / "in"
    frames = [synthetic.textured_background(120, 160, seed=i) for i in range(4)]
    synthetic.write_video(folder / "phone.mp4", frames, fps=5, rotation=90)
    ws = Workspace.open(tmp_path / "ws")
    ingest_folder(ws, folder)
    assert (ws.catalog.scalar("SELECT width FROM videos"), ws.catalog.scalar("SELECT height FROM videos")) == (120, 160)
    predict_videos(ws, get_predictor(tiny_yolo, imgsz=64, max_det=1), task="t")
    assert _boxes(ws, "t")[:, 2:] == pytest.approx(np.tile([0, 0, 120, 160], (4, 1)))


def test_missing_weights_are_never_downloaded(tmp_path):
    with pytest.raises(FramesiftError, match=r"file not found.*never downloads"):
        get_predictor(str(tmp_path / "nope" / "best.pt"))


def test_classification_model_stores_frame_probabilities_and_uncertainty(workspace, tmp_path):
    from ultralytics.nn.tasks import ClassificationModel

    torch.manual_seed(0)
    model = ClassificationModel("yolov8n-cls.yaml", nc=3, verbose=False)
    model.names = {0: "sunny", 1: "clouded", 2: "rainy"}
    path = tmp_path / "weather.pt"
    torch.save({"model": model, "train_args": {"imgsz": 32, "task": "classify"}}, path)
    predictor = get_predictor(str(path))
    assert (predictor.task_type, predictor.imgsz) == ("classification", 32)
    summary = predict_videos(workspace, predictor, frame_stride=8)
    assert (summary.task, summary.frames) == ("weather", 5)
    assert summary.scores == ["uncertainty_entropy", "uncertainty_least_confidence", "uncertainty_margin"]
    rows = workspace.catalog.query("SELECT p.probabilities, s.value FROM predicted_frames p JOIN scores s "
                                   "ON s.frame_id = p.frame_id AND s.task = p.task AND s.name = 'uncertainty_least_confidence'")
    for probabilities, least_confidence in rows:
        probs = np.array(json.loads(probabilities))
        assert probs.shape == (3,) and probs.sum() == pytest.approx(1.0, abs=1e-4)
        assert least_confidence == pytest.approx((1 - probs.max()) / (2 / 3))


def test_empty_workspace_says_ingest_first(tmp_path, tiny_yolo):
    with pytest.raises(FramesiftError, match="no ingested videos; run `framesift ingest"):
        predict_videos(Workspace.open(tmp_path / "empty"), get_predictor(tiny_yolo, imgsz=64))
