"""Scores against values computed by hand from the definitions (see framesift.scores docs)."""

import math

import numpy as np
import pytest

from framesift.scores import (
    TaskPredictions,
    classification_scores,
    detection_scores,
    object_frequency,
    task_scores,
)


def test_classification_scores_three_classes_by_hand():
    scores = classification_scores(np.array([[0.7, 0.2, 0.1], [1 / 3, 1 / 3, 1 / 3], [0.0, 1.0, 0.0]]))
    # least confidence: (1 - 0.7) / (1 - 1/3) = 0.45
    assert scores["uncertainty_least_confidence"] == pytest.approx([0.45, 1.0, 0.0])
    # margin: 1 - (0.7 - 0.2) = 0.5
    assert scores["uncertainty_margin"] == pytest.approx([0.5, 1.0, 0.0])
    h = -(0.7 * math.log2(0.7) + 0.2 * math.log2(0.2) + 0.1 * math.log2(0.1))
    assert h == pytest.approx(1.1567796)
    assert scores["uncertainty_entropy"] == pytest.approx([h / math.log2(3), 1.0, 0.0])


def test_single_column_is_binary():
    scores = classification_scores(np.array([[0.8]]))
    assert scores["uncertainty_least_confidence"] == pytest.approx([0.4])  # 0.2 / 0.5
    assert scores["uncertainty_margin"] == pytest.approx([0.4])  # 1 - (0.8 - 0.2)
    assert scores["uncertainty_entropy"] == pytest.approx([0.7219281])  # H(0.8) in bits, log2(2) = 1


def _three_frames():
    # frame 0: two class-0 boxes (0.9, 0.5); frame 1: one class-1 box (0.2); frame 2: no boxes
    return np.array([0, 0, 1]), np.array([0.9, 0.5, 0.2]), np.array([0, 0, 1])


def test_detection_scores_by_hand():
    frame, score, category = _three_frames()
    out = detection_scores(frame, score, category, 3)
    assert out["objectness_least_confidence"] == pytest.approx([1 - 0.7, 1 - 0.2, 0.0])
    # penalised counts 1.25, 1, 0 -> [0.9, 1] linearly
    assert out["object_frequency"] == pytest.approx([1.0, 0.9 + 0.1 * (1 / 1.25), 0.9])
    # box uncertainty 1 - |2s - 1|: 0.2, 1.0, 0.4
    assert out["box_uncertainty_mean"] == pytest.approx([0.6, 0.4, 0.0])
    assert out["box_uncertainty_max"] == pytest.approx([1.0, 0.4, 0.0])
    assert out["low_confidence_count"] == pytest.approx([0, 1, 0])
    assert "uncertainty_entropy" not in out  # no box carries probabilities


def test_detection_box_probabilities_take_the_max_over_boxes():
    frame, score, category = _three_frames()
    probs = np.array([[0.6, 0.4], [np.nan, np.nan], [0.5, 0.5]])
    out = detection_scores(frame, score, category, 3, probabilities=probs)
    assert out["uncertainty_least_confidence"] == pytest.approx([0.8, 1.0, 0.0])
    assert out["uncertainty_margin"] == pytest.approx([0.8, 1.0, 0.0])


def test_object_frequency_penalises_repeats_and_is_flat_when_equal():
    # frame 0: 4 cars -> 1 + 3 * 0.25 = 1.75; frame 1: car + person -> 2
    values = object_frequency(np.array([0, 0, 0, 0, 1, 1]), np.array([5, 5, 5, 5, 5, 7]), 2)
    assert values == pytest.approx([0.9, 1.0])
    assert object_frequency(np.array([0, 1]), np.array([3, 3]), 2) == pytest.approx([1.0, 1.0])


def test_task_scores_classification_frames_without_probabilities_score_zero():
    probs = np.array([[0.5, 0.5], [np.nan, np.nan]])
    out = task_scores(TaskPredictions("classification", 2, np.zeros(0, int), np.zeros(0), np.zeros(0, int),
                                      frame_probabilities=probs))
    assert out["uncertainty_entropy"] == pytest.approx([1.0, 0.0])
    assert set(out) == {"uncertainty_least_confidence", "uncertainty_margin", "uncertainty_entropy"}
