import numpy as np
import pytest
from sklearn.metrics import average_precision_score

from framesift.loop.annotator import (
    ConceptClassifier,
    TrainingError,
    average_precision,
    estimate_ap,
    train_classifier,
)
from framesift.loop.feeds import build_feeds, evenly_spaced, review_order


def _blobs(n_pos: int, n_neg: int, dim: int = 16, gap: float = 3.0, seed: int = 0):
    rng = np.random.default_rng(seed)
    centre = np.zeros(dim)
    centre[0] = gap
    x = np.concatenate([rng.normal(size=(n_pos, dim)) + centre, rng.normal(size=(n_neg, dim)) - centre])
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    y = np.r_[np.ones(n_pos, int), np.zeros(n_neg, int)]
    return x.astype(np.float32), y


def test_classifier_separates_concept_and_round_trips_json():
    x, y = _blobs(10, 200)
    model = train_classifier(x, y, embedder="pixels")
    scores = model.score(x)
    assert scores[y == 1].min() > scores[y == 0].max()
    assert (model.n_pos, model.n_neg, model.embedder) == (10, 200, "pixels")
    again = ConceptClassifier.from_json(model.to_json())
    np.testing.assert_allclose(again.score(x), scores, rtol=1e-6)


def test_class_balancing_keeps_rare_positives_above_the_boundary():
    # 5 positives among 500: an unbalanced fit pushes them all below 0.5; balanced keeps them above.
    x, y = _blobs(5, 500, gap=1.0, seed=3)
    scores = train_classifier(x, y).score(x)
    assert (scores[y == 1] >= 0.5).all()


def test_training_needs_both_classes():
    x, y = _blobs(4, 0)
    with pytest.raises(TrainingError, match="at least one positive and one negative"):
        train_classifier(x, y)
    with pytest.raises(TrainingError):
        train_classifier(x[:2], np.array([1, 2]))


def test_average_precision_matches_sklearn_without_ties():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 50)
    s = rng.random(50)
    assert average_precision(y, s) == pytest.approx(average_precision_score(y, s))
    assert average_precision([1, 0, 1], [0.5, 0.5, 0.1]) == pytest.approx((1 / 2 + 2 / 3) / 2)


def test_heldout_ap_is_high_for_separable_and_near_prevalence_for_noise():
    x, y = _blobs(15, 60, gap=3.0)
    good = estimate_ap(x, y, n_repeats=2)
    assert good.ap is not None and good.ap > 0.95
    assert good.n_folds == 10 and np.isfinite(good.oof_scores).all()
    rng = np.random.default_rng(5)
    noise = rng.normal(size=(75, 16)).astype(np.float32)
    bad = estimate_ap(noise, y, n_repeats=2)
    assert bad.ap is not None and bad.ap < 0.5
    assert bad.prevalence == pytest.approx(15 / 75)


def test_heldout_ap_needs_two_labels_per_class():
    x, y = _blobs(1, 10)
    est = estimate_ap(x, y)
    assert est.ap is None and "at least 2" in est.reason and np.isnan(est.oof_scores).all()


def test_feeds_rank_unlabeled_frames():
    scores = np.array([0.9, 0.1, 0.52, 0.99, 0.35, 0.48, 0.05, 0.7])
    labeled = np.zeros(8, bool)
    labeled[3] = True
    feeds = build_feeds(scores, labeled, n=3, seed=1)
    assert feeds["positive"].tolist() == [0, 7, 2]
    assert feeds["negative"].tolist() == [6, 1, 4]
    assert feeds["borderline"].tolist() == [2, 5, 4]
    assert 3 not in feeds["random"] and len(set(feeds["random"].tolist())) == 3
    assert build_feeds(scores, labeled, n=3, seed=1)["random"].tolist() == feeds["random"].tolist()
    with pytest.raises(ValueError):
        build_feeds(scores, labeled[:4])


def test_review_puts_disagreements_first_worst_first():
    values = np.array([1, 0, 1, 0, 1])
    scores = np.array([0.9, 0.7, 0.2, 0.05, np.nan])
    order = review_order(values, scores)
    assert [i.position for i in order] == [2, 1, 0, 3, 4]
    assert [i.disagrees for i in order] == [True, True, False, False, False]


def test_evenly_spaced_covers_both_ends():
    assert evenly_spaced(0, 99, 5).tolist() == [0, 25, 50, 74, 99]
    assert evenly_spaced(3, 5, 10).tolist() == [3, 4, 5]
    assert evenly_spaced(5, 3, 10).tolist() == []
