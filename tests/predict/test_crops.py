"""Crops of predicted boxes for a run's selected frames hold exactly the boxed object."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from predict_support import COLORS, frame_ids, write_lightly_predictions

from framesift.errors import FramesiftError
from framesift.pipeline.crops import write_crops
from framesift.pipeline.extract import extract_run, frame_path, selected_frame_rows
from framesift.pipeline.predictions_import import sync_lightly_dir
from framesift.pipeline.runs import create_run, finish_run, save_selection


def _run(ws, indices):
    ids = frame_ids(ws)
    run_id, _ = create_run(ws.catalog, "picks", {}, None)
    save_selection(ws.catalog, run_id, [ids[i] for i in indices], [{} for _ in indices])
    finish_run(ws.catalog, run_id, {})
    return run_id


def test_crops_of_selected_frames_from_pngs_or_video(workspace, datasource, boxes_video):
    _, truth = boxes_video
    write_lightly_predictions(datasource, truth)
    sync_lightly_dir(workspace, datasource)
    run_id = _run(workspace, [0, 7, 13])
    extract_run(workspace, run_id)
    frame_path(workspace, selected_frame_rows(workspace, run_id)[1]).unlink()  # frame 7 must be decoded again
    summary = write_crops(workspace, run_id, "detector")
    assert (summary.written, summary.existing, summary.frames) == (3, 0, 3)
    folder = workspace.root / "crops" / "detector"
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.png")) == [
        "cam1/street-00-mp4-0.png", "cam1/street-07-mp4-0.png", "cam1/street-13-mp4-0.png"]
    for index in (0, 7, 13):
        cls, _, _, _, w, h = truth.boxes[index][0]
        crop = np.asarray(Image.open(folder / f"cam1/street-{index:02d}-mp4-0.png"))
        assert crop.shape == (h, w, 3)
        inner = crop[3:-3, 3:-3].reshape(-1, 3).mean(axis=0)  # yuv420 blurs colour edges by a pixel or two
        assert np.abs(inner - COLORS[cls]).max() < 12  # the drawn square
    assert write_crops(workspace, run_id, "detector").existing == 3  # rerun: nothing rewritten


def test_padding_grows_crops_and_clips_at_the_border(workspace, datasource, boxes_video):
    _, truth = boxes_video
    write_lightly_predictions(datasource, truth)
    sync_lightly_dir(workspace, datasource)
    run_id = _run(workspace, [0])
    write_crops(workspace, run_id, "detector", padding=0.5)
    _, _, x, y, w, h = truth.boxes[0][0]  # (10, 20, 24, 20): half a box each side -> x from -2 (clipped to 0)
    crop = np.asarray(Image.open(workspace.root / "crops" / "detector" / "cam1" / "street-00-mp4-0.png"))
    assert crop.shape == (min(y + h + h // 2, 120) - max(y - h // 2, 0), x + w + w // 2 - max(x - w // 2, 0), 3)
    with pytest.raises(FramesiftError, match="task 'nope' not found"):
        write_crops(workspace, run_id, "nope")
