"""LightlyOne .lightly folders: hand-written per the docs -> catalog -> export -> identical files."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from predict_support import (
    CATEGORIES,
    expected_objectness,
    frame_ids,
    ingest_folder,
    write_lightly_predictions,
)

from framesift.errors import FramesiftError
from framesift.pipeline.predictions_import import import_task, sync_lightly_dir
from framesift.predict.coco import read_coco
from framesift.predict.export import export_task
from framesift.workspace import Workspace


def _scores(ws, task, name):
    ids = frame_ids(ws)
    rows = ws.catalog.query("SELECT frame_id, value FROM scores WHERE task = ? AND name = ?", (task, name))
    by_index = {index: fid for index, fid in ids.items()}
    values = {fid: v for fid, v in rows}
    return np.array([values[by_index[i]] for i in sorted(by_index)])


def test_lightly_folder_is_matched_to_frames_with_pixel_boxes_and_scores(workspace, datasource, boxes_video):
    _, truth = boxes_video
    write_lightly_predictions(datasource, truth)
    notes = sync_lightly_dir(workspace, datasource)
    assert notes == ["lightly task detector: 40 frames, 40 predictions imported; scores: box_uncertainty_max, "
                     "box_uncertainty_mean, low_confidence_count, object_frequency, objectness_least_confidence"]
    task = workspace.catalog.query_one("SELECT task_type, categories FROM tasks WHERE name = 'detector'")
    assert task["task_type"] == "object-detection" and json.loads(task["categories"]) == CATEGORIES
    ids = frame_ids(workspace)
    rows = workspace.catalog.query("SELECT frame_id, category_id, score, x, y, w, h FROM predictions ORDER BY id")
    got = {fid: (c, s, x, y, w, h) for fid, c, s, x, y, w, h in rows}
    for index, boxes in enumerate(truth.boxes):
        assert got[ids[index]] == pytest.approx(boxes[0])
    assert _scores(workspace, "detector", "objectness_least_confidence") == pytest.approx(expected_objectness(truth))
    # one box per frame everywhere: the penalised counts are all equal, so Lightly's scaling gives 1.0
    assert _scores(workspace, "detector", "object_frequency") == pytest.approx(np.ones(40))
    low = np.array([float(b[0][1] < 0.5) for b in truth.boxes])
    assert _scores(workspace, "detector", "low_confidence_count") == pytest.approx(low)


def test_export_then_import_round_trips_exactly(workspace, datasource, boxes_video, tmp_path):
    _, truth = boxes_video
    original = write_lightly_predictions(datasource, truth)
    sync_lightly_dir(workspace, datasource)
    folder, count = export_task(workspace, "detector", tmp_path / "back")
    assert count == 40
    written = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.json"))
    expected = sorted(p.relative_to(original).as_posix() for p in original.rglob("*.json"))
    assert written == expected  # same names: cam1/street-07-mp4.json (padding = digits of 40)
    for name in expected:
        a = json.loads((original / name).read_text())
        b = json.loads((folder / name).read_text())
        if name == "schema.json":
            assert a == b
        else:
            assert b["file_name"] == a["file_name"]
            assert b["predictions"] == a["predictions"]  # bbox, score, category_id unchanged
    assert json.loads((tmp_path / "back" / ".lightly" / "predictions" / "tasks.json").read_text()) == ["detector"]
    # and the exported folder imports into a fresh workspace with the same rows
    ws2 = Workspace.open(tmp_path / "ws2")
    ingest_folder(ws2, datasource)
    sync_lightly_dir(ws2, tmp_path / "back")
    q = "SELECT f.frame_index, p.category_id, p.score, p.x, p.y, p.w, p.h FROM predictions p JOIN frames f ON f.id = p.frame_id ORDER BY 1"
    assert [tuple(r) for r in ws2.catalog.query(q)] == [tuple(r) for r in workspace.catalog.query(q)]


def test_rerun_imports_again_only_when_files_change(workspace, datasource, boxes_video):
    _, truth = boxes_video
    task_dir = write_lightly_predictions(datasource, truth)
    sync_lightly_dir(workspace, datasource)
    assert sync_lightly_dir(workspace, datasource) == ["lightly task detector: unchanged since last import"]
    target = task_dir / "cam1" / "street-03-mp4.json"
    data = json.loads(target.read_text())
    data["predictions"][0]["score"] = 0.05
    target.write_text(json.dumps(data))
    os.utime(target, ns=(1, 1))
    assert "40 frames, 40 predictions imported" in sync_lightly_dir(workspace, datasource)[0]
    fid = frame_ids(workspace)[3]
    assert workspace.catalog.scalar("SELECT score FROM predictions WHERE frame_id = ?", (fid,)) == 0.05
    assert workspace.catalog.scalar("SELECT COUNT(*) FROM predictions") == 40  # replaced, not appended


def test_predictions_matching_no_frame_fail_with_names_unless_allowed(workspace, datasource, boxes_video):
    _, truth = boxes_video
    task_dir = write_lightly_predictions(datasource, truth)
    (task_dir / "cam1" / "other-07-mp4.json").write_text(json.dumps({"file_name": "x", "predictions": []}))
    (task_dir / "cam1" / "street-93-mp4.json").write_text(json.dumps({"file_name": "y", "predictions": []}))
    with pytest.raises(FramesiftError) as err:
        sync_lightly_dir(workspace, datasource)
    message = str(err.value)
    assert "2 of 42 files match no indexed video frame" in message
    assert "cam1/other-07-mp4" in message and "cam1/street-93-mp4" in message and "--allow-unmatched" in message
    assert "\n" not in message
    notes = sync_lightly_dir(workspace, datasource, allow_unmatched=True)
    assert "40 frames, 40 predictions imported" in notes[0] and "2 matching no video frame skipped" in notes[0]


def test_frames_not_indexed_by_sampling_are_skipped_and_counted(tmp_path, datasource, boxes_video):
    _, truth = boxes_video
    ws = Workspace.open(tmp_path / "ws_stride")
    ingest_folder(ws, datasource, stride=4)
    write_lightly_predictions(datasource, truth)
    notes = sync_lightly_dir(ws, datasource)
    assert "10 frames, 10 predictions imported; 30 for frames not indexed (frame sampling) skipped" in notes[0]


def test_classification_task_probabilities_scores_and_export(workspace, datasource, tmp_path):
    root = datasource / ".lightly" / "predictions"
    (root / "weather").mkdir(parents=True)
    (root / "tasks.json").write_text(json.dumps(["weather"]))
    cats = [{"id": 0, "name": "sunny"}, {"id": 1, "name": "clouded"}, {"id": 2, "name": "rainy"}]
    (root / "weather" / "schema.json").write_text(json.dumps({"task_type": "classification", "categories": cats}))
    probs = {0: [0.7, 0.2, 0.1], 1: [1 / 3, 1 / 3, 1 / 3], 2: [0.0, 1.0, 0.0]}
    for i, p in probs.items():
        item = {"file_name": f"cam1/street-0{i}-mp4.png", "predictions": [{"category_id": int(np.argmax(p)), "probabilities": p}]}
        (root / "weather" / "cam1").mkdir(exist_ok=True)
        (root / "weather" / "cam1" / f"street-0{i}-mp4.json").write_text(json.dumps(item))
    sync_lightly_dir(workspace, datasource)
    ids = frame_ids(workspace)
    stored = {r[0]: json.loads(r[1]) for r in workspace.catalog.query("SELECT frame_id, probabilities FROM predicted_frames")}
    assert stored == {ids[i]: pytest.approx(p) for i, p in probs.items()}
    values = dict(workspace.catalog.query(
        "SELECT frame_id, value FROM scores WHERE task = 'weather' AND name = 'uncertainty_least_confidence'"))
    assert [values[ids[i]] for i in range(3)] == pytest.approx([0.45, 1.0, 0.0])
    folder, _ = export_task(workspace, "weather", tmp_path / "back")
    for i, p in probs.items():
        exported = json.loads((folder / "cam1" / f"street-0{i}-mp4.json").read_text())
        assert exported["predictions"] == [{"category_id": int(np.argmax(p)), "probabilities": pytest.approx(p)}]


def test_metadata_video_level_frame_override_and_defaults(workspace, datasource):
    meta = datasource / ".lightly" / "metadata"
    (meta / "cam1").mkdir(parents=True)
    schema = [
        {"name": "Weather", "path": "weather.description", "defaultValue": "unknown", "valueDataType": "CATEGORICAL_STRING"},
        {"name": "Speed", "path": "speed", "defaultValue": 0.0, "valueDataType": "NUMERIC_FLOAT"},
        {"name": "Night", "path": "is_night", "defaultValue": False, "valueDataType": "CATEGORICAL_BOOLEAN"},
    ]
    (meta / "schema.json").write_text(json.dumps(schema))
    (meta / "cam1" / "street.json").write_text(json.dumps(
        {"file_name": "cam1/street.mp4", "type": "video", "metadata": {"weather": {"description": "sunny"}, "speed": 3.5}}))
    (meta / "cam1" / "street-07-mp4.json").write_text(json.dumps(
        {"file_name": "cam1/street-07-mp4.png", "type": "frame", "metadata": {"weather": {"description": "rain"}}}))
    notes = sync_lightly_dir(workspace, datasource)
    assert notes == ["lightly metadata: 3 keys (weather.description, speed, is_night) from 1 video and 1 frame files"]
    rows = {(r["frame_id"], r["key"]): (r["value_num"], r["value_text"], r["value_type"])
            for r in workspace.catalog.query("SELECT * FROM metadata")}
    assert rows[(None, "weather.description")] == (None, "sunny", "CATEGORICAL_STRING")
    assert rows[(None, "speed")] == (3.5, None, "NUMERIC_FLOAT")
    assert rows[(None, "is_night")] == (0.0, "false", "CATEGORICAL_BOOLEAN")  # default from schema.json
    assert rows[(frame_ids(workspace)[7], "weather.description")] == (None, "rain", "CATEGORICAL_STRING")
    assert len(rows) == 4


def test_moved_lightly_folder_replaces_its_task_but_other_sources_are_protected(workspace, datasource, boxes_video,
                                                                                tmp_path):
    _, truth = boxes_video
    write_lightly_predictions(datasource, truth)
    sync_lightly_dir(workspace, datasource)
    moved = tmp_path / "moved"
    write_lightly_predictions(moved, truth, frames=range(10))
    assert "10 frames, 10 predictions imported" in sync_lightly_dir(workspace, moved, allow_unmatched=True)[0]
    assert workspace.catalog.scalar("SELECT COUNT(*) FROM predicted_frames WHERE task = 'detector'") == 10
    (tmp_path / "coco.json").write_text(json.dumps({"images": [], "annotations": [], "categories": CATEGORIES}))
    with pytest.raises(FramesiftError, match="already holds predictions from lightly:"):
        import_task(workspace, read_coco(tmp_path / "coco.json", task="detector"))
