"""Timelines: per-video score curves as CSV + PNG, and the series API for the report and the app."""

from __future__ import annotations

import csv

import numpy as np
from PIL import Image
from typer.testing import CliRunner

from framesift.analytics import store
from framesift.analytics.faces import face_count_scores
from framesift.analytics.timelines import smooth, timeline_png_path, timeline_series
from framesift.cli import app


def test_smooth_is_a_centred_moving_average_in_time():
    t = np.array([0.0, 1.0, 2.0, 3.0, 10.0])
    v = np.array([0.0, 3.0, 6.0, 9.0, 1.0])
    assert smooth(t, v, 2.0).tolist() == [1.5, 3.0, 6.0, 7.5, 1.0]  # +-1 s windows; 10 s stands alone
    assert smooth(t, v, 0.0).tolist() == v.tolist()


def test_timeline_cli_writes_face_counts_and_extra_scores_per_video(smile_set):
    ws = smile_set.workspace
    face_count_scores(ws)  # from the drawn boxes of task faces
    result = CliRunner().invoke(app, ["timeline", "--out", str(ws.root), "--scores",
                                      "analytics/face_count,analytics/second_person", "--smooth", "1.0"])
    assert result.exit_code == 0, result.output
    for video in store.videos(ws.catalog):
        truth = smile_set.truths[video.name]
        path = ws.root / "analytics" / "timelines" / f"{video.name}.csv"
        rows = list(csv.DictReader(path.open()))
        frames = store.frame_rows(ws.catalog, video.id)
        assert [float(r["time_s"]) for r in rows] == frames.time_s.round(6).tolist()
        counts = [len(b) for b in truth.boxes]
        assert [int(float(r["face_count"])) for r in rows] == counts
        assert [int(float(r["second_person"])) for r in rows] == [int(c >= 2) for c in counts]
        series = timeline_series(ws, video.id)
        assert set(series) >= {"face_count", "second_person"}
        t, values = series["face_count"]
        assert t.tolist() == frames.time_s.tolist() and values.tolist() == counts
        png = timeline_png_path(ws, video.id)
        assert png == path.with_suffix(".png") and Image.open(png).size[0] >= 600


def test_timeline_series_names_other_tasks_with_their_task(smile_set):
    ws = smile_set.workspace
    video = store.videos(ws.catalog)[0]
    frames = store.frame_rows(ws.catalog, video.id)
    store.write_scores(ws.catalog, "score", [video.id], frames.frame_id[:3], np.array([0.1, 0.2, 0.3]),
                       task="concept:smiling")
    series = timeline_series(ws, video.id, ["concept:smiling/score"])
    assert list(series) == ["concept:smiling/score"]
    assert series["concept:smiling/score"][0].tolist() == frames.time_s[:3].tolist()
    missing = CliRunner().invoke(app, ["timeline", "--out", str(ws.root), "--scores", "analytics/nothing"])
    assert missing.exit_code != 0 and "analytics/nothing not found" in str(missing.exception)
