import numpy as np
import pytest

from framesift.report import metrics


def _brute(points, centers, metric):
    if metric == "euclidean":
        d = np.linalg.norm(points[:, None, :] - centers[None, :, :], axis=2)
    else:
        pn = points / np.linalg.norm(points, axis=1, keepdims=True)
        cn = centers / np.linalg.norm(centers, axis=1, keepdims=True)
        d = 1.0 - pn @ cn.T
    return d.min(axis=1)


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_nearest_distances_match_brute_force_across_chunks(metric):
    rng = np.random.default_rng(1)
    points = rng.normal(size=(157, 9)).astype(np.float32)
    centers = rng.normal(size=(23, 9)).astype(np.float32)
    got = metrics.nearest_distances(points, centers, metric=metric, chunk_rows=16, chunk_cols=5)
    np.testing.assert_allclose(got, _brute(points, centers, metric), atol=1e-6)
    # a point that is itself a center is at distance 0 (no cancellation error)
    assert metrics.nearest_distances(centers[:3], centers, metric=metric) == pytest.approx([0, 0, 0], abs=1e-12)


def test_nearest_distances_without_centers_is_infinite_and_unknown_metric_fails():
    assert np.isinf(metrics.nearest_distances(np.ones((4, 2)), np.zeros((0, 2)))).all()
    with pytest.raises(ValueError, match="metric"):
        metrics.nearest_distances(np.ones((1, 2)), np.ones((1, 2)), metric="manhattan")


def test_summarize_distances():
    s = metrics.summarize_distances(np.arange(11, dtype=float))
    assert (s.n, s.mean, s.p50, s.p90, s.max) == (11, 5.0, 5.0, 9.0, 10.0)
    assert np.isinf(metrics.summarize_distances(np.array([1.0, np.inf])).max)


def test_shared_histogram_uses_common_edges_and_counts_every_finite_value():
    edges, counts = metrics.shared_histogram({"a": np.array([0.0, 1.0, 2.0]), "b": np.array([4.0, np.inf])}, bins=4)
    np.testing.assert_allclose(edges, [0, 1, 2, 3, 4])
    assert counts["a"].tolist() == [1, 1, 1, 0] and counts["b"].tolist() == [0, 0, 0, 1]


def test_random_selection_is_seeded_distinct_and_within_candidates():
    candidates = np.zeros(100, bool)
    candidates[::3] = True
    a = metrics.random_selection(100, 10, seed=7, candidates=candidates)
    b = metrics.random_selection(100, 10, seed=7, candidates=candidates)
    c = metrics.random_selection(100, 10, seed=8, candidates=candidates)
    assert a.tolist() == b.tolist() and a.tolist() != c.tolist()
    assert len(set(a.tolist())) == 10 and all(i % 3 == 0 for i in a)
    assert len(metrics.random_selection(5, 10)) == 5


def test_uniform_time_selection_splits_by_duration_and_spaces_evenly():
    # video 1: 10 s at 10 fps (100 frames), video 2: 5 s at 10 fps (50 frames)
    vid = np.array([1] * 100 + [2] * 50)
    t = np.concatenate([np.arange(100) / 10, np.arange(50) / 10])
    picks = metrics.uniform_time_selection(vid, t, 6)
    assert len(picks) == 6 and len(set(picks.tolist())) == 6
    assert (vid[picks] == 1).sum() == 4 and (vid[picks] == 2).sum() == 2
    # evenly spaced: instants (j + 0.5) / k of the span -> 1.2375 s apart in video 1
    np.testing.assert_allclose(t[picks][vid[picks] == 1], [1.2, 3.7, 6.2, 8.7], atol=0.051)
    np.testing.assert_allclose(t[picks][vid[picks] == 2], [1.2, 3.7], atol=0.051)


def test_uniform_time_selection_respects_candidates_and_small_videos():
    vid = np.array([1] * 3 + [2] * 40)
    t = np.concatenate([np.array([0.0, 30.0, 60.0]), np.arange(40) / 10])
    picks = metrics.uniform_time_selection(vid, t, 10)
    assert (vid[picks] == 1).sum() == 3  # long video, but only 3 frames: the rest goes to video 2
    assert (vid[picks] == 2).sum() == 7 and len(set(picks.tolist())) == 10
    candidates = np.ones(43, bool)
    candidates[3:13] = False
    picks = metrics.uniform_time_selection(vid, t, 5, candidates=candidates)
    assert candidates[picks].all()
    assert len(metrics.uniform_time_selection(vid, t, 100)) == 43


def test_apportion_sums_to_total_and_respects_caps():
    quota = metrics.apportion(np.array([1.0, 1.0, 8.0]), 10, np.array([5, 5, 3]))
    assert quota.tolist()[2] == 3 and quota.sum() == 10 and (quota <= [5, 5, 3]).all()
    assert metrics.apportion(np.array([1.0, 2.0]), 3, np.array([10, 10])).tolist() == [1, 2]


def test_target_distribution_modes():
    cats = ["car", "bus", "bike"]
    inp = {"car": 0.7, "bus": 0.2, "bike": 0.1}
    assert metrics.target_distribution(cats, inp, target={"car": 0.5}) == {"car": 0.5, "bus": 0.25, "bike": 0.25}
    assert metrics.target_distribution(cats, inp, distribution="UNIFORM") == pytest.approx(
        {"car": 1 / 3, "bus": 1 / 3, "bike": 1 / 3})
    assert metrics.target_distribution(cats, inp, distribution="input") == inp
    assert metrics.target_distribution(cats, inp) is None


def test_count_values_and_fractions():
    counts = metrics.count_values(np.array(["a", "b", "a", None], dtype=object))
    assert counts == {"a": 2, "b": 1, "missing": 1}
    assert metrics.fractions(counts) == {"a": 0.5, "b": 0.25, "missing": 0.25}


def test_top_contributors_uses_rank_within_each_strategy():
    objectives = [
        {"DIVERSITY": 0.9, "WEIGHTS": 0.10},  # top diversity, lowest weight
        {"DIVERSITY": 0.5, "WEIGHTS": 0.95},  # top weight
        {"DIVERSITY": 0.1, "WEIGHTS": 0.50},  # middle weight beats lowest diversity
    ]
    assert metrics.top_contributors(objectives) == ["DIVERSITY", "WEIGHTS", "WEIGHTS"]
    assert metrics.top_contributors([{}, {}]) == [None, None]


def test_downsample_max_keeps_spikes():
    y = np.zeros(10_000)
    y[4321] = 5.0
    x = np.arange(10_000)
    xs, ys = metrics.downsample_max(x, y, 100)
    assert len(xs) == 100 and 4321 in xs.tolist() and ys.max() == 5.0
    assert metrics.downsample_max(x[:50], y[:50], 100)[0].tolist() == list(range(50))
