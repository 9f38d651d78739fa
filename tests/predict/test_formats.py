"""COCO results and YOLO txt imports land on the right frames, in original pixels."""

from __future__ import annotations

import json

import pytest
from predict_support import frame_ids

from framesift.errors import FramesiftError
from framesift.pipeline.predictions_import import import_task
from framesift.predict.coco import read_coco
from framesift.predict.yolo_txt import read_yolo_txt


def _rows(ws, task):
    ids = {v: k for k, v in frame_ids(ws).items()}
    rows = ws.catalog.query("SELECT frame_id, category_id, score, x, y, w, h FROM predictions WHERE task = ? ORDER BY id",
                            (task,))
    return [(ids[r[0]], *r[1:]) for r in rows]


def test_coco_results_by_image_id_with_images_list(workspace, tmp_path):
    images = {"images": [{"id": 10, "file_name": "cam1/street-03-mp4.png"}, {"id": 11, "file_name": "cam1/street-04-mp4.png"}],
              "categories": [{"id": 1, "name": "car"}, {"id": 2, "name": "person"}]}
    results = [{"image_id": 10, "category_id": 2, "bbox": [1.5, 2, 30, 40], "score": 0.25}]
    (tmp_path / "gt.json").write_text(json.dumps(images))
    (tmp_path / "results.json").write_text(json.dumps(results))
    summary = import_task(workspace, read_coco(tmp_path / "results.json", task="coco", images_file=tmp_path / "gt.json"))
    assert (summary.frames, summary.boxes) == (2, 1)  # frame 4 was predicted and had nothing
    assert _rows(workspace, "coco") == [(3, 2, 0.25, 1.5, 2.0, 30.0, 40.0)]
    assert workspace.catalog.scalar("SELECT COUNT(*) FROM predicted_frames WHERE task = 'coco'") == 2


def test_coco_results_without_images_list_need_one(workspace, tmp_path):
    (tmp_path / "results.json").write_text(json.dumps([{"image_id": 10, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 1}]))
    with pytest.raises(FramesiftError, match="pass --images"):
        read_coco(tmp_path / "results.json")


def test_yolo_txt_from_ultralytics_video_labels_and_frame_names(workspace, tmp_path):
    labels = tmp_path / "predict" / "labels"
    labels.mkdir(parents=True)
    (labels / "street_8.txt").write_text("1 0.5 0.5 0.25 0.5 0.61\n")  # ultralytics counts video frames from 1
    (labels / "street-09-mp4.txt").write_text("0 0.25 0.25 0.1 0.1\n")
    (tmp_path / "predict" / "classes.txt").write_text("car\nperson\n")
    imported = read_yolo_txt(labels)
    assert imported.name == "predict" and imported.categories == [{"id": 0, "name": "car"}, {"id": 1, "name": "person"}]
    import_task(workspace, imported)
    rows = sorted(_rows(workspace, "predict"))
    # the clip is 160 x 120: (cx, cy, w, h) = (0.5, 0.5, 0.25, 0.5) -> x = 60, y = 30, w = 40, h = 60
    assert rows[0][:3] == (7, 1, 0.61) and rows[0][3:] == pytest.approx((60.0, 30.0, 40.0, 60.0))
    assert rows[1][0] == 9 and rows[1][2] is None and rows[1][3:] == pytest.approx((32.0, 24.0, 16.0, 12.0))


def test_yolo_txt_unknown_video_is_an_error(workspace, tmp_path):
    (tmp_path / "other_3.txt").write_text("0 0.5 0.5 0.1 0.1 0.9\n")
    with pytest.raises(FramesiftError, match=r"1 of 1 files match no indexed video frame.*other_3"):
        import_task(workspace, read_yolo_txt(tmp_path))
