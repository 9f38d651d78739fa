"""The label-efficiency metrics on tiny hand-made cases with exact answers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from benchmarks.label_efficiency import metrics as m
from benchmarks.label_efficiency.datasets import Event
from benchmarks.label_efficiency.methods import min_gap_for, uniform_fps_selection
from benchmarks.label_efficiency.stress import rare_event_recall

# 4 frames, 6 boxes, 4 tracks: frame 0 has tracks 0 and 1, frame 1 track 1, frame 2 tracks 2 and 0, frame 3 track 3
FRAME = np.array([0, 0, 1, 2, 2, 3])
TRACK = np.array([0, 1, 1, 2, 0, 3])


def mask(*frames: int, n: int = 4) -> np.ndarray:
    return m.selected_mask(list(frames), n)


def test_selected_mask_ignores_duplicates_and_rejects_frames_outside_the_clip():
    assert m.selected_mask([2, 2, 0], 4).tolist() == [True, False, True, False]
    assert m.selected_mask(np.array([], np.int64), 3).tolist() == [False, False, False]
    with pytest.raises(ValueError, match="outside"):
        m.selected_mask([4], 4)
    with pytest.raises(ValueError, match="outside"):
        m.selected_mask([-1], 4)


def test_track_coverage_counts_distinct_tracks_once():
    assert m.track_coverage(FRAME, TRACK, mask(0)) == 0.5  # tracks 0, 1
    assert m.track_coverage(FRAME, TRACK, mask(0, 2)) == 0.75  # 0, 1, 2 (track 0 twice)
    assert m.track_coverage(FRAME, TRACK, mask(0, 1, 2, 3)) == 1.0
    assert m.track_coverage(FRAME, TRACK, mask()) == 0.0
    assert m.tracks_covered(FRAME, TRACK, mask(1, 3)) == 2
    assert math.isnan(m.track_coverage(np.zeros(0, int), np.zeros(0, int), mask()))


def test_boxes_per_frame_and_box_recall():
    assert m.boxes_per_frame(FRAME, mask(0, 3)) == 1.5  # 2 + 1 boxes on 2 frames
    assert m.boxes_per_frame(FRAME, mask(2)) == 2.0
    assert math.isnan(m.boxes_per_frame(FRAME, mask()))
    assert m.box_recall(FRAME, mask(0, 3)) == 0.5  # 3 of 6 boxes
    assert m.box_recall(FRAME, mask(1)) == pytest.approx(1 / 6)
    assert math.isnan(m.box_recall(np.zeros(0, int), mask()))


def test_size_buckets_use_cocos_area_thresholds():
    boxes = np.array([[0, 0, 31, 33], [0, 0, 32, 32], [5, 5, 95, 97], [0, 0, 96, 96], [0, 0, 1, 1]], float)
    # 1023 < 32^2 small; 1024 medium; 9215 < 96^2 medium; 9216 large
    assert m.size_bucket(boxes).tolist() == [0, 1, 1, 2, 0]


def test_class_size_coverage_per_cell_with_tracks_and_with_boxes():
    frame = np.array([0, 0, 1, 1, 2])
    cls = np.array([0, 0, 0, 1, 0])
    xywh = np.array([[0, 0, 10, 10], [0, 0, 40, 40], [0, 0, 12, 12], [0, 0, 100, 100], [0, 0, 50, 50]], float)
    track = np.array([0, 1, 0, 2, 1])
    # cells: (0, small) tracks {0}; (0, medium) tracks {1}; (1, large) tracks {2}
    mean, cells = m.class_size_coverage(frame, cls, xywh, mask(0, n=3), track)
    assert cells == {(0, 0): 1.0, (0, 1): 1.0, (1, 2): 0.0}
    assert mean == pytest.approx(2 / 3)
    # without tracks every box is an instance: (0, small) has 2 boxes, one on frame 0
    mean, cells = m.class_size_coverage(frame, cls, xywh, mask(0, n=3))
    assert cells == {(0, 0): 0.5, (0, 1): 0.5, (1, 2): 0.0}
    assert mean == pytest.approx(1 / 3)
    # a track seen only at another size does not count for this cell
    _, cells = m.class_size_coverage(frame, cls, xywh, mask(2, n=3), track)
    assert cells[(0, 1)] == 1.0 and cells[(0, 0)] == 0.0


def test_event_recall_and_idle_share():
    events = [(0, 2), (5, 5), (8, 9)]
    assert m.event_recall(events, mask(2, 9, n=10)) == pytest.approx(2 / 3)
    assert m.event_recall(events, mask(3, 4, 6, 7, n=10)) == 0.0
    assert m.event_recall(events, mask(1, 5, 8, n=10)) == 1.0
    assert math.isnan(m.event_recall([], mask(1, n=10)))
    idle = np.array([False, True, True, False])
    assert m.idle_share(idle, mask(0, 1, 2)) == pytest.approx(2 / 3)
    assert math.isnan(m.idle_share(idle, mask()))


def test_rare_event_recall_per_kind():
    events = [Event("rare:bus", 0, 1), Event("rare:bus", 6, 7), Event("lighting", 3, 4), Event("active", 0, 9)]
    got = rare_event_recall(events, mask(1, 4, n=10))
    assert got == {"rare:bus": 0.5, "lighting": 1.0, "all": pytest.approx(2 / 3)}


def test_mean_std_skips_nan_and_budget_rounds_half_up():
    assert m.mean_std([1.0, 3.0, float("nan")]) == (2.0, 1.0)
    assert all(math.isnan(v) for v in m.mean_std([float("nan")]))
    assert m.budget_frames(71, 0.05) == 4  # 3.55
    assert m.budget_frames(90, 0.05) == 5  # 4.5 rounds up, not to even
    assert m.budget_frames(10, 0.05) == 1  # 0.5
    assert m.budget_frames(10, 0.001) == 1  # never zero


def test_uniform_fps_is_evenly_spaced_with_a_seeded_phase():
    phase = np.random.default_rng(3).random()
    got = uniform_fps_selection(10, 5, seed=3)
    assert got.tolist() == [int(np.floor((j + phase) * 2)) for j in range(5)]
    assert np.diff(got).tolist() == [2, 2, 2, 2]
    assert uniform_fps_selection(7, 7, seed=1).tolist() == list(range(7))
    assert uniform_fps_selection(7, 0).tolist() == []
    picks = uniform_fps_selection(100, 3, seed=0)
    assert len(set(picks.tolist())) == 3 and picks.max() < 100
    assert min_gap_for(100, 5) == 10 and min_gap_for(10, 20) == 1
