"""Derived tracks, composites with idle stretches, the stress generator and the simulated detector."""

from __future__ import annotations

import numpy as np
import pytest
from benchmarks.label_efficiency import tracks as t
from benchmarks.label_efficiency.datasets import Clip, GroundTruth, expand_ground_truth, with_idle_stretches
from benchmarks.label_efficiency.detector import DetectorModel, simulate
from benchmarks.label_efficiency.stress import CATEGORIES, StressSpec, stress_clip


def test_iou_matrix_exact_values():
    a = np.array([[0, 0, 10, 10], [100, 100, 5, 5]], float)
    b = np.array([[5, 0, 10, 10], [0, 0, 10, 10]], float)
    # overlap 5x10 = 50, union 150
    np.testing.assert_allclose(t.iou_matrix(a, b), [[1 / 3, 1.0], [0.0, 0.0]])


def _boxes(rows: list[tuple[int, float, float, float, float]]) -> tuple[np.ndarray, np.ndarray]:
    arr = np.array(rows, float)
    return arr[:, 0].astype(int), arr[:, 1:]


def test_link_tracks_follows_slow_and_fast_objects_and_splits_at_gaps():
    rows = []
    for f in range(5):
        rows.append((f, 10 + 2 * f, 10, 10, 10))  # slow: overlaps the previous frame
        rows.append((f, 100 + 15 * f, 50, 10, 10))  # lone fast object: 1.5 box sizes per frame
    rows.append((7, 18, 10, 10, 10))  # frame 5 and 6 missing: a new track after the gap
    frame, xywh = _boxes(rows)
    got = t.link_tracks(frame, xywh)
    assert len(set(got[0:10:2])) == 1 and len(set(got[1:10:2])) == 1
    assert got[0] != got[1]
    assert got[-1] not in set(got[:10].tolist())
    # without the far-jump pass the fast object starts a new track every frame
    assert len(set(t.link_tracks(frame, xywh, max_jump=0)[1:10:2].tolist())) == 5


def test_link_tracks_uses_the_scenes_flow_for_dense_fast_traffic():
    rows = []
    for f in range(4):
        for lane in range(3):
            for car in range(4):  # cars 25 px apart move 15 px per frame: no IoU with their previous box
                rows.append((f, 10 + 25 * car + 15 * f, 30 * lane, 12, 10))
    frame, xywh = _boxes(rows)
    got = t.link_tracks(frame, xywh)
    assert len(np.unique(got)) == 12  # each car one track, none swapped
    per_frame = got.reshape(4, 12)
    assert (per_frame == per_frame[0]).all()
    assert t.flow_modes(xywh[frame == 0], xywh[frame == 1])[0] == pytest.approx([15.0, 0.0])


def test_validate_tracker_reports_purity_and_completeness():
    frame = np.array([0, 1, 2, 3])
    xywh = np.array([[0, 0, 10, 10], [1, 0, 10, 10], [200, 0, 10, 10], [201, 0, 10, 10]], float)
    check = t.validate_tracker(frame, xywh, np.array([7, 7, 7, 7]))
    assert (check.true_tracks, check.derived_tracks) == (1, 2)
    assert check.purity == 1.0 and check.completeness == 0.5


def _tiny_clip() -> Clip:
    gt = GroundTruth(4, ["thing"], np.array([0, 1, 1, 3]), np.array([[0, 0, 4, 4]] * 4, float),
                     np.zeros(4, np.int64), np.array([0, 0, 1, 2]))
    frames = [np.full((8, 8, 3), 40 * i, np.uint8) for i in range(4)]
    return Clip("tiny", 10.0, gt, lambda: iter(frames), source_frames=np.arange(4))


def test_expand_ground_truth_copies_boxes_of_the_source_frames():
    gt = _tiny_clip().gt
    out = expand_ground_truth(gt, np.array([1, 1, 2, 0]))
    assert out.n_frames == 4
    assert out.frame.tolist() == [0, 0, 1, 1, 3]
    assert out.track.tolist() == [0, 1, 0, 1, 0]


def test_idle_stretches_freeze_the_last_frame_of_each_part_with_noise():
    clip = with_idle_stretches(_tiny_clip(), segments=2, idle_ratio=1.0, noise=2.0)
    # parts [0, 1] and [2, 3], each followed by a freeze of 2 frames of its last frame
    assert clip.source_frames.tolist() == [0, 1, 1, 1, 2, 3, 3, 3]
    assert clip.idle.tolist() == [False, False, True, True, False, False, True, True]
    assert clip.gt.frame.tolist() == [0, 1, 1, 2, 2, 3, 3, 5, 6, 7]
    assert clip.gt.track.tolist() == [0, 0, 1, 0, 1, 0, 1, 2, 2, 2]
    frames = list(clip.render())
    assert len(frames) == 8
    assert (frames[1] == 40).all()  # real frames unchanged
    assert not (frames[2] == 40).all() and abs(float(frames[2].mean()) - 40) < 1  # noisy freeze
    assert [e for e in clip.events if e.kind == "active"][1].start == 4


def test_stress_clip_ground_truth_is_consistent():
    clip = stress_clip(StressSpec(n_frames=300, seed=1))
    gt = clip.gt
    assert clip.n_frames == len(clip.idle) == len(clip.visibility)
    static = clip.idle & (clip.source_frames == np.arange(clip.n_frames))
    assert not np.isin(gt.frame, np.flatnonzero(static)).any()  # static stretches are empty
    for e in clip.events:
        if e.kind.startswith("rare:"):
            cls = CATEGORIES.index(e.kind[5:])
            on = np.unique(gt.frame[(gt.cls == cls) & (gt.frame >= e.start) & (gt.frame <= e.end)])
            assert on.tolist() == list(range(e.start, e.end + 1))  # visible on every frame of its event
    lighting = [e for e in clip.events if e.kind == "lighting"]
    assert len(lighting) == 2
    assert (clip.visibility[lighting[0].start:lighting[0].end + 1] == 0.45).all()
    assert clip.concepts["empty"][static].all() and not clip.concepts["empty"][gt.frame].any()
    frames = list(clip.render())
    assert len(frames) == clip.n_frames and frames[0].shape == (240, 320, 3)
    again = stress_clip(StressSpec(n_frames=300, seed=1))
    np.testing.assert_array_equal(again.gt.xywh, gt.xywh)


def test_simulated_detector_is_seeded_and_less_sure_of_small_objects():
    gt = GroundTruth(2, ["car"], np.array([0, 0]), np.array([[0, 0, 8, 8], [100, 100, 80, 80]], float),
                     np.zeros(2, np.int64), np.array([0, 1]))
    model = DetectorModel(noise=0.0, fp_rate=0.0, jitter=0.0)
    preds = simulate(gt, (640, 480), seed=0, model=model)
    assert len(preds) == 2 and len(preds[1]) == 0
    small, large = preds[0].scores
    assert small < 0.4 < 0.9 < large
    np.testing.assert_allclose(preds[0].boxes, gt.xywh)
    dark = simulate(gt, (640, 480), seed=0, model=model, visibility=np.array([0.5, 1.0]))
    np.testing.assert_allclose(dark[0].scores, preds[0].scores * 0.5)
    noisy = [simulate(gt, (640, 480), seed=s) for s in (3, 3, 4)]
    assert np.array_equal(noisy[0][0].scores, noisy[1][0].scores)
    assert not np.array_equal(noisy[0][0].boxes, noisy[2][0].boxes)
