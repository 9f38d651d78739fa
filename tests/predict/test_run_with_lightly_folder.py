"""`framesift run` on a LightlyOne datasource folder: predictions picked up, BALANCE/SCORES/METADATA honoured."""

from __future__ import annotations

import json

import numpy as np
import pytest
from predict_support import write_lightly_predictions

from framesift.config.loader import load_config
from framesift.pipeline.frames import load_frame_table
from framesift.pipeline.predictions_import import sync_lightly_dir
from framesift.pipeline.run import run_pipeline
from framesift.pipeline.select import load_metadata, load_predictions


def _picked(ws_root, run_name):
    selection = json.loads((ws_root / "runs" / run_name / "selection.json").read_text())
    frames = selection["frames"] if isinstance(selection, dict) else selection
    return sorted(int(f["frame_index"]) for f in frames)


def _config(strategies, n, **framesift):
    return load_config({"selection_config": {"n_samples": n, "strategies": strategies},
                        "framesift": {"embedder": "pixels", **framesift}})


def test_balance_on_class_distribution_reaches_the_target_ratio(tmp_path, datasource, boxes_video):
    _, truth = boxes_video  # a person in every 5th frame (8 of 40), a car in all others
    write_lightly_predictions(datasource, truth)
    config = _config([
        {"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY"}},
        {"input": {"type": "PREDICTIONS", "task": "detector", "name": "CLASS_DISTRIBUTION"},
         "strategy": {"type": "BALANCE", "target": {"person": 0.5, "car": 0.5}}},
    ], 8, crops={"task": "detector"}, run_name="balanced")
    summary = run_pipeline(str(datasource), tmp_path / "ws", config, report=False)
    assert any("lightly task detector: 40 frames, 40 predictions imported" in n for n in summary.notes)
    picked = _picked(tmp_path / "ws", "balanced")
    persons = [i for i in picked if i % 5 == 0]
    assert len(picked) == 8 and len(persons) == 4  # 50 % persons, against 20 % in the input
    crops = sorted(p.name for p in (tmp_path / "ws" / "crops" / "detector").rglob("*.png"))
    assert crops == [f"street-{i:02d}-mp4-0.png" for i in picked]

    # the second run does not import again; SCORES: WEIGHTS on objectness picks the least confident frames
    config = _config([{"input": {"type": "SCORES", "task": "detector", "score": "objectness_least_confidence"},
                       "strategy": {"type": "WEIGHTS"}}], 3, run_name="uncertain")
    config.worker.datasource.process_all = True
    summary = run_pipeline(str(datasource), tmp_path / "ws", config, report=False)
    assert "lightly task detector: unchanged since last import" in summary.notes
    lowest = np.argsort([b[0][1] for b in truth.boxes], kind="stable")[:3]
    assert _picked(tmp_path / "ws", "uncertain") == sorted(int(i) for i in lowest)


def test_separate_lightly_dir_metadata_balance(tmp_path, datasource, boxes_video):
    lightly = tmp_path / "lightly_ds"
    meta = lightly / ".lightly" / "metadata" / "cam1"
    meta.mkdir(parents=True)
    (meta.parent / "schema.json").write_text(json.dumps(
        [{"name": "Lane", "path": "lane", "defaultValue": "left", "valueDataType": "CATEGORICAL_STRING"}]))
    for i in range(30, 40):  # the last 10 frames are on the right lane
        (meta / f"street-{i:02d}-mp4.json").write_text(json.dumps(
            {"file_name": f"cam1/street-{i:02d}-mp4.png", "type": "frame", "metadata": {"lane": "right"}}))
    config = _config([{"input": {"type": "METADATA", "key": "lane"},
                       "strategy": {"type": "BALANCE", "target": {"left": 0.5, "right": 0.5}}}], 10,
                     lightly_dir=str(lightly), run_name="lanes")
    summary = run_pipeline(str(datasource), tmp_path / "ws", config, report=False)
    assert "lightly metadata: 1 keys (lane) from 0 video and 10 frame files" in summary.notes
    picked = _picked(tmp_path / "ws", "lanes")
    assert len([i for i in picked if i >= 30]) == 5


def test_select_loaders_read_what_the_imports_wrote(workspace, datasource, boxes_video):
    _, truth = boxes_video
    write_lightly_predictions(datasource, truth)
    meta = datasource / ".lightly" / "metadata"
    (meta / "cam1").mkdir(parents=True)
    (meta / "schema.json").write_text(json.dumps(
        [{"name": "W", "path": "weather", "defaultValue": "unknown", "valueDataType": "CATEGORICAL_STRING"}]))
    (meta / "cam1" / "street.json").write_text(json.dumps({"type": "video", "metadata": {"weather": "sunny"}}))
    (meta / "cam1" / "street-07-mp4.json").write_text(json.dumps({"type": "frame", "metadata": {"weather": "rain"}}))
    sync_lightly_dir(workspace, datasource)
    table = load_frame_table(workspace.catalog)
    weather = load_metadata(workspace.catalog, table, "weather")
    assert list(weather) == ["rain" if i == 7 else "sunny" for i in table.frame_index]
    arrays = load_predictions(workspace.catalog, table, "detector")
    expected = np.zeros((40, 2))
    for i, boxes in enumerate(truth.boxes):
        for cls, *_ in boxes:
            expected[i, cls] += 1
    assert arrays.counts[np.argsort(table.frame_index)] == pytest.approx(expected)
