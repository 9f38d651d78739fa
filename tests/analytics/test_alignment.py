"""Session alignment: exact interval math, and the CLI restricting a workspace's analysis to it."""

from __future__ import annotations

import numpy as np
import pytest
from analytics_support import PEOPLE, classroom_clip, ingest
from typer.testing import CliRunner

from framesift.analytics import store
from framesift.analytics.alignment import Recording, Window, local_window, session_overlap
from framesift.analytics.faces import detect
from framesift.analytics.timelines import timeline_series
from framesift.cli import app
from framesift.workspace import Workspace


def test_overlap_of_two_recordings_in_session_and_local_time():
    teacher = Recording("teacher", offset_s=12.5, duration_s=60.0)  # runs 12.5 .. 72.5 on the session clock
    student = Recording("student", offset_s=0.0, duration_s=50.0)  # runs 0 .. 50
    overlap = session_overlap([teacher, student])
    assert (overlap.start_s, overlap.end_s, overlap.duration_s) == (12.5, 50.0, 37.5)
    assert overlap.windows["teacher"] == Window(0.0, 37.5)
    assert overlap.windows["student"] == Window(12.5, 50.0)


def test_overlap_is_symmetric_and_handles_containment_and_three_recordings():
    a, b = Recording("a", 5.0, 10.0), Recording("b", 0.0, 100.0)  # a lies inside b
    assert session_overlap([a, b]) == session_overlap([b, a])
    overlap = session_overlap([a, b])
    assert overlap.windows == {"a": Window(0.0, 10.0), "b": Window(5.0, 15.0)}
    c = Recording("c", 8.0, 20.0)
    three = session_overlap([a, b, c])
    assert (three.start_s, three.end_s) == (8.0, 15.0)
    assert three.windows["c"] == Window(0.0, 7.0) and three.windows["a"] == Window(3.0, 10.0)


def test_disjoint_or_touching_recordings_have_no_overlap():
    assert session_overlap([Recording("a", 0.0, 10.0), Recording("b", 10.0, 5.0)]) is None
    assert session_overlap([Recording("a", 0.0, 10.0), Recording("b", 30.0, 5.0)]) is None
    with pytest.raises(ValueError, match="duration"):
        session_overlap([Recording("a", 0.0, 0.0), Recording("b", 0.0, 5.0)])


def test_window_is_half_open_in_local_time():
    window = local_window(Recording("a", 10.0, 30.0), 12.0, 100.0)
    assert window == Window(2.0, 30.0)
    times = np.array([1.9, 2.0, 29.9, 30.0])
    assert window.contains(times).tolist() == [False, True, True, False]


def test_align_cli_prints_and_stores_windows_that_restrict_timelines(tmp_path):
    folder = tmp_path / "in"
    smile = [True] * 20
    classroom_clip(folder / "teacher.mp4", PEOPLE[0], smile, fps=5)  # 4.0 s
    classroom_clip(folder / "student.mp4", PEOPLE[1], smile[:15], fps=5)  # 3.0 s
    ws = Workspace.open(tmp_path / "ws")
    ingest(ws, folder)
    runner = CliRunner()
    files = runner.invoke(app, ["align", "--a", str(folder / "teacher.mp4"), "--offset-a", "1.0",
                                "--b", str(folder / "student.mp4"), "--offset-b", "2.2"])
    assert files.exit_code == 0, files.output
    # teacher 1.0 .. 5.0, student 2.2 .. 5.2 on the session clock
    assert "session overlap: 2.200-5.000 s (2.800 s)" in files.output
    assert "A " + str(folder / "teacher.mp4") + ": local 1.200-4.000 s of 4.000 s" in files.output
    assert "local 0.000-2.800 s of 3.000 s" in files.output

    result = runner.invoke(app, ["align", "--out", str(ws.root), "--a", "teacher", "--offset-a", "1.0",
                                 "--b", "student", "--offset-b", "2.2"])
    assert result.exit_code == 0, result.output
    videos = {v.name: v.id for v in store.videos(ws.catalog)}
    windows = store.load_windows(ws.catalog)
    (teacher, teacher_offset), (student, student_offset) = windows[videos["teacher"]], windows[videos["student"]]
    assert (teacher.start_s, teacher.end_s, teacher_offset) == pytest.approx((1.2, 4.0, 1.0), abs=1e-9)
    assert (student.start_s, student.end_s, student_offset) == pytest.approx((0.0, 2.8, 2.2), abs=1e-9)
    # scores on every frame; the timeline keeps only frames inside the window
    for vid in videos.values():
        frames = store.frame_rows(ws.catalog, vid)
        store.write_scores(ws.catalog, "face_count", [vid], frames.frame_id, np.ones(len(frames)))
        t, _ = timeline_series(ws, vid)["face_count"]
        expected = [x for x in frames.time_s.tolist() if windows[vid][0].start_s - 1e-6 <= x < windows[vid][0].end_s - 1e-6]
        assert t.tolist() == expected and len(expected) == 14  # 1.2 .. 3.8 s and 0.0 .. 2.6 s at 5 fps
    # the face pass itself only decodes and predicts the frames inside the windows
    detect(ws)
    for vid in videos.values():
        predicted = {r[0] for r in ws.catalog.query(
            "SELECT p.frame_id FROM predicted_frames p JOIN frames f ON f.id = p.frame_id "
            "WHERE p.task = 'faces' AND f.video_id = ?", (vid,))}
        assert predicted == set(store.frame_rows(ws.catalog, vid, windows[vid][0]).frame_id.tolist())


def test_align_cli_rejects_recordings_that_never_overlap(tmp_path):
    classroom_clip(tmp_path / "a.mp4", PEOPLE[0], [True] * 5, fps=5)
    result = CliRunner().invoke(app, ["align", "--a", str(tmp_path / "a.mp4"), "--offset-a", "0",
                                      "--b", str(tmp_path / "a.mp4"), "--offset-b", "10"])
    assert result.exit_code != 0 and "never run at once" in str(result.exception)
