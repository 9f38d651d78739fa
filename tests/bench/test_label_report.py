"""Aggregation, goal checks and the classification-loop pieces of the label-efficiency benchmark."""

from __future__ import annotations

import math

import numpy as np
import pytest
from benchmarks.label_efficiency import report
from benchmarks.label_efficiency.classification import Collection, concept_curves, holdout_split, loop_curve
from benchmarks.label_efficiency.coverage import Result
from benchmarks.label_efficiency.detection_curve import time_split


def _result(clip: str, budget: float, method: str, seed: int, **values: float) -> Result:
    return Result(clip, budget, 10, method, seed, dict(values))


def test_summary_cells_and_goal_checks_on_hand_made_results():
    results = [
        _result("a", 0.05, "uniform-fps", 0, tracks=0.4, tracks_n=4.0),
        _result("a", 0.05, "uniform-fps", 1, tracks=0.6, tracks_n=6.0),
        _result("a", 0.05, "mine", 0, tracks=0.8, tracks_n=8.0),
        _result("a", 0.2, "uniform-fps", 0, tracks=0.9, tracks_n=9.0),
        _result("a", 0.2, "mine", 0, tracks=0.85, tracks_n=8.5),
        _result("b", 0.05, "uniform-fps", 0, box_recall=0.05),  # no tracks: box recall decides
        _result("b", 0.05, "mine", 0, box_recall=0.05),
    ]
    summary = report.summarize(results)
    cell = summary[("a", 0.05, "uniform-fps")]["tracks"]
    assert (cell.mean, cell.std, cell.n) == (pytest.approx(0.5), pytest.approx(0.1), 2)
    assert cell.text(2) == "0.50 ± 0.10"
    assert summary[("a", 0.05, "mine")]["tracks"].text(3) == "0.800"
    (check,) = report.goal_checks(summary, ["mine"], ["a"])
    assert (check.wins, check.cells) == (2, 3)  # loses a at 20 %, ties b (counts as >=)
    assert check.losses == ["a 20% (tracks 0.850 < 0.900)"]
    assert check.ratios == {"a": pytest.approx(1.6)}
    assert not check.goal_a and check.goal_b()
    assert report.track_ceiling(summary, "a", 0.05) == pytest.approx(2.0)
    assert math.isnan(report.track_ceiling(summary, "b", 0.05))


def test_time_split_leaves_a_gap_between_pool_and_test():
    split = time_split(100, pool=0.65, gap=0.05)
    assert (split.pool[0], split.pool[-1], split.test[0], split.test[-1]) == (0, 64, 70, 99)


def test_holdout_split_takes_the_fraction_of_every_video():
    video = np.array([0] * 10 + [1] * 4)
    held = holdout_split(video, 0.3, np.random.default_rng(0))
    assert held[:10].sum() == 3 and held[10:].sum() == 1


def _blobs(n_per: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two well separated unit-vector clusters; class 1 is the second (20 % of the frames)."""
    rng = np.random.default_rng(seed)
    n_pos = n_per // 4
    a = np.array([1.0, 0, 0]) + rng.normal(0, 0.05, (n_per, 3))
    b = np.array([0, 1.0, 0]) + rng.normal(0, 0.05, (n_pos, 3))
    x = np.vstack([a, b]).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x, np.r_[np.zeros(n_per), np.ones(n_pos)].astype(np.int64)


def test_loop_on_separable_concept_reaches_perfect_ap_and_without_a_positive_reports_prevalence():
    x, y = _blobs(40)
    ex, ey = _blobs(20, seed=1)
    negatives_first = np.r_[np.flatnonzero(y == 0), np.flatnonzero(y == 1)]
    ap = loop_curve(negatives_first, x, y, ex, ey, (8, 16, 24), seed_labels=8, per_feed=2, seed=0)
    # 8 negatives: no model, AP = prevalence; the next round again takes the seed order (negatives)
    assert ap[0] == pytest.approx(ey.mean()) and ap[1] == pytest.approx(ey.mean())
    similar_first = np.r_[np.flatnonzero(y == 1)[:1], np.flatnonzero(y == 0)]
    ap = loop_curve(similar_first, x, y, ex, ey, (8, 16), seed_labels=8, per_feed=2, seed=0)
    assert ap == [1.0, 1.0]


def test_concept_curves_return_one_curve_per_method_with_the_requested_steps():
    x, y = _blobs(60)
    video = np.arange(len(y)) % 3
    collection = Collection("toy", x, video, {"b": y.astype(bool)})
    curves = concept_curves(collection, "b", 0, (8, 16))
    assert [c.method for c in curves] == ["random", "diversity", "similarity", "loop (random seed)",
                                          "loop (similarity seed)"]
    assert all(len(c.ap) == 2 and all(0.0 <= v <= 1.0 for v in c.ap) for c in curves)
    by_method = {c.method: c.ap for c in curves}
    assert by_method["loop (similarity seed)"][1] == 1.0
