"""select(): combination rules, video constraints, datapool, determinism and errors, on small arrays."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from select_helpers import DIVERSITY, config, make_inputs, unit, weights

from framesift.errors import ConfigError
from framesift.select import PredictionArrays, SelectionInputs, exact_kcenter_greedy, select

FAST = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def scored(values, **kw) -> SelectionInputs:
    inp = make_inputs(**kw)
    inp.scores = {("t", "s"): np.asarray(values, dtype=float)}
    return inp


# --------------------------------------------------------------------------- combination


def test_diversity_alone_is_exact_kcenter_greedy():
    inp = make_inputs(n_videos=5, per_video=60, d=12)
    res = select(config(25, DIVERSITY), inp)
    assert res.indices.tolist() == exact_kcenter_greedy(inp.embeddings, 25).tolist()
    assert res.stop_reason == "n_samples reached"
    assert res.min_distance is not None and res.min_distance > 0
    obj = res.objectives["DIVERSITY(EMBEDDINGS)"]
    assert obj[0] == 1.0 and np.all(np.diff(obj[1:]) <= 1e-6)  # farthest-first: non-increasing


def test_weights_alone_pick_highest_first():
    vals = np.random.default_rng(0).random(200)
    res = select(config(10, weights()), scored(vals))
    assert res.indices.tolist() == np.argsort(-vals, kind="stable")[:10].tolist()
    assert np.allclose(res.objectives["WEIGHTS(SCORES:t/s)"], np.sort(vals)[::-1][:10] / vals.max())


def test_negative_strength_inverts_the_objective():
    vals = np.random.default_rng(1).random(200) + 0.01
    res = select(config(10, weights(strength=-1.0)), scored(vals))
    assert res.indices.tolist() == np.argsort(vals, kind="stable")[:10].tolist()


def test_strength_zero_disables_a_strategy():
    inp = scored(np.random.default_rng(2).random(200))
    inp.metadata = {"cam": np.array(["a", "b"] * 100, dtype=object)}
    off_w = {**weights(), "strategy": {"type": "WEIGHTS", "strength": 0}}
    off_b = {"input": {"type": "METADATA", "key": "cam"}, "strategy": {"type": "BALANCE", "target": {"a": 1.0}, "strength": 0}}
    base = select(config(15, DIVERSITY), inp)
    res = select(config(15, DIVERSITY, off_w, off_b), inp)
    assert res.indices.tolist() == base.indices.tolist()
    assert set(res.objectives) == {"DIVERSITY(EMBEDDINGS)"}


def test_product_of_objectives_trades_diversity_against_weights():
    # Two tight clusters; weights favour cluster B strongly. DIVERSITY x WEIGHTS must still
    # visit cluster A once it has covered B, and the first pick is the heaviest frame.
    x = unit(np.r_[np.tile([1.0, 0.0], (50, 1)), np.tile([0.0, 1.0], (50, 1))] + 0.01 * np.random.default_rng(3).standard_normal((100, 2)))
    inp = scored(np.r_[np.full(50, 0.2), np.linspace(0.9, 1.0, 50)], n_videos=2, per_video=50, d=2)
    inp.embeddings = x
    res = select(config(2, DIVERSITY, weights()), inp)
    assert res.indices[0] == 99 and res.indices[1] < 50


@FAST
@given(
    thr=st.floats(0.0, 1.0),
    op=st.sampled_from(["SMALLER", "SMALLER_EQUAL", "BIGGER", "BIGGER_EQUAL"]),
    seed=st.integers(0, 1000),
    n=st.integers(0, 60),
)
def test_threshold_never_lets_a_filtered_frame_through(thr, op, seed, n):
    rng = np.random.default_rng(seed)
    vals = np.round(rng.random(120), 2)
    vals[rng.random(120) < 0.1] = np.nan  # missing values never pass
    inp = scored(np.zeros(120), n_videos=3, per_video=40, d=6, seed=seed)
    inp.metadata = {"lightly.sharpness": vals}
    thr_s = {"input": {"type": "METADATA", "key": "lightly.sharpness"}, "strategy": {"type": "THRESHOLD", "threshold": thr, "operation": op}}
    res = select(config(n, DIVERSITY, weights(), thr_s), inp)
    v = vals[res.indices]
    ok = {"SMALLER": v < thr, "SMALLER_EQUAL": v <= thr, "BIGGER": v > thr, "BIGGER_EQUAL": v >= thr}[op]
    assert ok.all()
    passing = int({"SMALLER": vals < thr, "SMALLER_EQUAL": vals <= thr, "BIGGER": vals > thr, "BIGGER_EQUAL": vals >= thr}[op].sum())
    assert res.n_candidates == passing
    assert res.filtered["THRESHOLD(METADATA:lightly.sharpness)"] == 120 - passing
    assert len(res.indices) == min(n, passing)


# --------------------------------------------------------------------------- BALANCE


@pytest.mark.parametrize(
    "target",
    [{"a": 0.5, "b": 0.3, "c": 0.2}, {"a": 0.1, "b": 0.1}, {"c": 0.75}],
)
@pytest.mark.parametrize("n", [10, 37])
def test_balance_hits_target_within_one_sample(target, n):
    inp = make_inputs(n_videos=4, per_video=60, d=8)
    cls = np.array(list("abcd"))[np.random.default_rng(4).integers(0, 4, inp.n)]
    inp.metadata = {"weather": cls.astype(object)}
    bal = {"input": {"type": "METADATA", "key": "weather"}, "strategy": {"type": "BALANCE", "target": target}}
    res = select(config(n, DIVERSITY, bal), inp)
    counts = Counter(cls[res.indices].tolist())
    for c, frac in target.items():
        assert abs(counts[c] - frac * n) <= 1, (c, counts)
    rest = n - sum(counts[c] for c in target)
    assert abs(rest - (1 - sum(target.values())) * n) <= 1  # unlisted classes share the remainder


def test_balance_uniform_over_videos_and_input_distribution():
    inp = make_inputs(n_videos=3, per_video=80, d=8)
    inp.metadata = {"video_name": np.array([f"v{v}" for v in inp.video_ids], dtype=object)}
    uni = {"input": {"type": "METADATA", "key": "video_name"}, "strategy": {"type": "BALANCE", "distribution": "UNIFORM"}}
    res = select(config(30, DIVERSITY, uni), inp)
    assert sorted(Counter(inp.video_ids[res.indices]).values()) == [10, 10, 10]
    skew = np.where(np.arange(inp.n) < 180, "x", "y").astype(object)  # 75 % x
    inp.metadata = {"k": skew}
    inp_s = {"input": {"type": "METADATA", "key": "k"}, "strategy": {"type": "BALANCE", "distribution": "INPUT"}}
    res = select(config(20, DIVERSITY, inp_s), inp)
    assert Counter(skew[res.indices].tolist())["x"] == 15


def test_balance_on_detection_class_distribution():
    inp = make_inputs(n_videos=2, per_video=100, d=8)
    rng = np.random.default_rng(5)
    counts = np.zeros((inp.n, 3))
    counts[np.arange(inp.n), rng.choice(3, inp.n, p=[0.6, 0.3, 0.1])] = rng.integers(1, 4, inp.n)
    has = rng.random(inp.n) > 0.1
    inp.predictions = {"det": PredictionArrays(["car", "person", "bike"], counts, has)}
    bal = {"input": {"type": "PREDICTIONS", "task": "det", "name": "CLASS_DISTRIBUTION"}, "strategy": {"type": "BALANCE", "distribution": "UNIFORM"}}
    res = select(config(30, bal), inp)
    picked = counts[res.indices].sum(axis=0)
    share = picked / picked.sum()
    assert share.max() - share.min() < 0.1  # input is 60/30/10 (objects); selection close to uniform
    assert np.all(res.objectives["BALANCE(PREDICTIONS:det/CLASS_DISTRIBUTION)"] <= 1.0)


def test_balance_never_prefers_frames_without_objects():
    """Once the rare class is used up, frames of the over-represented class beat empty frames."""
    inp = make_inputs(n_videos=2, per_video=100, d=8)
    counts = np.zeros((inp.n, 2))
    counts[:100, 0] = 1.0  # 100 car frames
    counts[100:103, 1] = 1.0  # 3 bike frames; frames 103..199 have no objects
    inp.predictions = {"det": PredictionArrays(["car", "bike"], counts, np.ones(inp.n, bool))}
    bal = {"input": {"type": "PREDICTIONS", "task": "det", "name": "CLASS_DISTRIBUTION"},
           "strategy": {"type": "BALANCE", "distribution": "UNIFORM"}}
    res = select(config(20, bal), inp)
    picked = set(res.indices.tolist())
    assert {100, 101, 102} <= picked
    assert all(i < 103 for i in picked)  # no empty frame while car frames remain


def test_balance_counts_preselected_frames():
    inp = make_inputs(n_videos=2, per_video=50, d=8)
    cls = np.where(np.arange(inp.n) % 2 == 0, "a", "b").astype(object)
    inp.metadata = {"c": cls}
    pre = np.zeros(inp.n, bool)
    pre[np.flatnonzero(cls == "a")[:10]] = True  # ten "a" already labeled
    inp.preselected = pre
    bal = {"input": {"type": "METADATA", "key": "c"}, "strategy": {"type": "BALANCE", "target": {"a": 0.5, "b": 0.5}}}
    res = select(config(10, DIVERSITY, bal), inp)
    assert Counter(cls[res.indices].tolist()) == {"b": 10}  # brings the pool to 10/10


# --------------------------------------------------------------------------- video constraints


@FAST
@given(
    gap=st.integers(1, 15),
    n=st.integers(1, 40),
    seed=st.integers(0, 1000),
    seq=st.sampled_from([1, 3]),
)
def test_min_frame_gap_holds(gap, n, seed, seq):
    inp = make_inputs(n_videos=3, per_video=50, d=6, seed=seed)
    res = select(config(n, DIVERSITY, min_frame_gap=gap, selected_sequence_length=seq), inp)
    first = res.indices.reshape(-1, seq)
    for a in range(len(first)):
        for b in range(a + 1, len(first)):
            if inp.video_ids[first[a][0]] == inp.video_ids[first[b][0]]:
                fa, fb = inp.frame_index[first[a]], inp.frame_index[first[b]]
                assert max(fb.min() - fa.max(), fa.min() - fb.max()) >= gap


def test_min_time_gap_and_max_per_shot_hold():
    inp = make_inputs(n_videos=3, per_video=100, d=6, fps=10.0, shot_len=25)
    res = select(config(60, DIVERSITY, min_time_gap=1.5, max_per_shot=2), inp)
    assert res.stop_reason.startswith("no candidates left")
    t, v = inp.time_s[res.indices], inp.video_ids[res.indices]
    for video in np.unique(v):
        ts = np.sort(t[v == video])
        assert np.all(np.diff(ts) >= 1.5 - 1e-9)
    assert max(Counter(inp.shot_ids[res.indices].tolist()).values()) <= 2


def test_constraints_respect_preselected_frames():
    inp = make_inputs(n_videos=1, per_video=100, d=6)
    pre = np.zeros(100, bool)
    pre[[10, 50]] = True
    inp.preselected = pre
    res = select(config(100, DIVERSITY, min_frame_gap=5), inp)
    assert not np.any(np.abs(inp.frame_index[res.indices][:, None] - np.array([10, 50])[None, :]) < 5)


# --------------------------------------------------------------------------- datapool


def test_datapool_seeds_diversity_and_never_reselects():
    inp = make_inputs(n_videos=4, per_video=60, d=10)
    pre = np.zeros(inp.n, bool)
    pre[np.random.default_rng(6).choice(inp.n, 12, replace=False)] = True
    exc = np.zeros(inp.n, bool)
    exc[::7] = True
    inp.preselected, inp.excluded = pre, exc
    res = select(config(20, DIVERSITY), inp)
    assert not (pre | exc)[res.indices].any()
    # Same picks as exact k-center greedy seeded with the earlier picks, among allowed frames.
    x = inp.embeddings
    seeds = pre.copy()
    mind = np.full(inp.n, np.inf)
    for s in np.flatnonzero(seeds):
        mind = np.minimum(mind, np.linalg.norm(x - x[s], axis=1))
    expected = []
    allowed = ~(pre | exc)
    for _ in range(20):
        p = int(np.argmax(np.where(allowed, mind, -1)))
        expected.append(p)
        allowed[p] = False
        mind = np.minimum(mind, np.linalg.norm(x - x[p], axis=1))
    assert res.indices.tolist() == expected


def test_process_all_means_no_masks():
    inp = make_inputs(n_videos=2, per_video=40, d=6)
    assert select(config(80, DIVERSITY), inp).indices.size == 80


# --------------------------------------------------------------------------- sequences


def test_sequence_selection_returns_whole_chunks():
    inp = make_inputs(n_videos=3, per_video=43, d=8)  # 43 = 10 * 4 + 3: tail of 3 frames dropped
    res = select(config(25, DIVERSITY, selected_sequence_length=4), inp)
    assert len(res.indices) == 24  # n_samples counts frames, rounded down to whole chunks
    chunks = res.indices.reshape(-1, 4)
    for c in chunks:
        assert len(set(inp.video_ids[c])) == 1
        f = inp.frame_index[c]
        assert f.tolist() == list(range(f[0], f[0] + 4)) and f[0] % 4 == 0 and f[-1] < 40
    assert all(len(v) == 24 for v in res.objectives.values())


# --------------------------------------------------------------------------- stopping, determinism


def test_minimum_distance_stops_selection():
    inp = make_inputs(n_videos=2, per_video=100, d=8)
    strat = {"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY", "stopping_condition_minimum_distance": 0.5}}
    res = select(config(None, strat), inp)
    assert res.stop_reason == "DIVERSITY stopping_condition_minimum_distance"
    x = inp.embeddings[res.indices]
    d = np.linalg.norm(x[:, None] - x[None], axis=2) + np.eye(len(x)) * 9
    assert d.min() >= 0.5 - 1e-5
    assert len(res.indices) < inp.n


def test_weights_max_sum_stops_selection():
    vals = np.full(200, 0.5)
    strat = {"input": {"type": "SCORES", "task": "t", "score": "s"}, "strategy": {"type": "WEIGHTS", "stopping_condition_max_sum": 3.0}}
    res = select(config(100, DIVERSITY, strat), scored(vals))
    assert len(res.indices) == 6 and res.stop_reason == "WEIGHTS stopping_condition_max_sum"


def test_random_weights_are_deterministic_per_seed():
    inp = make_inputs()
    rand = lambda s: {"input": {"type": "RANDOM", "random_seed": s}, "strategy": {"type": "WEIGHTS"}}  # noqa: E731
    a = select(config(20, rand(1)), inp).indices
    assert select(config(20, rand(1)), inp).indices.tolist() == a.tolist()
    assert select(config(20, rand(2)), inp).indices.tolist() != a.tolist()
    glob = {"input": {"type": "RANDOM"}, "strategy": {"type": "WEIGHTS"}}
    b = select(config(20, glob, random_seed=7), inp).indices
    assert select(config(20, glob, random_seed=7), inp).indices.tolist() == b.tolist()


def test_similarity_prefers_frames_near_the_query():
    inp = make_inputs(n_videos=2, per_video=50, d=8)
    q = inp.embeddings[[17]]
    inp.similarity_queries = {0: q}
    sim = {"input": {"type": "EMBEDDINGS", "query_frames": ["f17"]}, "strategy": {"type": "SIMILARITY"}}
    res = select(config(5, sim), inp)
    d = np.linalg.norm(inp.embeddings - q, axis=1)
    assert res.indices.tolist() == np.argsort(d, kind="stable")[:5].tolist()


def test_typicality_prefers_dense_regions():
    rng = np.random.default_rng(8)
    dense = unit(np.array([1.0, 0, 0]) + 0.02 * rng.standard_normal((80, 3)))
    sparse = unit(rng.standard_normal((20, 3)))
    inp = make_inputs(n_videos=1, per_video=100, d=3)
    inp.embeddings = np.r_[dense, sparse].astype(np.float32)
    typ = {"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "TYPICALITY", "num_nearest_neighbors": 5}}
    res = select(config(10, typ), inp)
    assert np.all(res.indices < 80)


def test_category_count_threshold():
    inp = make_inputs(n_videos=1, per_video=60, d=4)
    counts = np.zeros((60, 2))
    counts[:, 0] = np.arange(60) % 4  # cars
    inp.predictions = {"det": PredictionArrays(["car", "person"], counts, np.ones(60, bool))}
    strat = {
        "input": {"type": "PREDICTIONS", "task": "det", "name": "CATEGORY_COUNT", "categories": ["car"]},
        "strategy": {"type": "THRESHOLD", "threshold": 3, "operation": "BIGGER_EQUAL"},
    }
    res = select(config(100, DIVERSITY, strat), inp)
    assert sorted(res.indices.tolist()) == list(range(3, 60, 4))


# --------------------------------------------------------------------------- errors


def test_missing_score_lists_the_available_ones():
    inp = scored(np.ones(200))
    inp.scores = {("t", "s"): np.ones(200), ("det", "uncertainty_margin"): np.ones(200)}
    with pytest.raises(ConfigError) as info:
        select(config(5, weights("det", "uncertainty_entropy")), inp)
    assert str(info.value) == (
        "strategies[0].input: no score 'det/uncertainty_entropy' in the input; available: det/uncertainty_margin, t/s"
    )


def test_unknown_balance_class_names_class_and_known_ones():
    inp = make_inputs()
    inp.metadata = {"weather": np.array(["sunny", "rainy"] * 100, dtype=object)}
    bal = {"input": {"type": "METADATA", "key": "weather"}, "strategy": {"type": "BALANCE", "target": {"snowy": 0.5}}}
    with pytest.raises(ConfigError, match=r"strategies\[0\].strategy.target: class 'snowy' does not occur in the input; known: rainy, sunny"):
        select(config(5, bal), inp)


def test_missing_metadata_and_text_metadata_for_weights():
    inp = make_inputs()
    inp.metadata = {"cam": np.array(["a"] * 200, dtype=object)}
    w = {"input": {"type": "METADATA", "key": "lightly.sharpness"}, "strategy": {"type": "WEIGHTS"}}
    with pytest.raises(ConfigError, match=r"no metadata .lightly\.sharpness.; available: cam"):
        select(config(5, w), inp)
    w["input"]["key"] = "cam"
    with pytest.raises(ConfigError, match="metadata 'cam' is text"):
        select(config(5, w), inp)


def test_n_samples_larger_than_candidates_selects_all():
    inp = make_inputs(n_videos=1, per_video=30, d=4)
    res = select(config(100, DIVERSITY), inp)
    assert sorted(res.indices.tolist()) == list(range(30))
    assert res.stop_reason == "no candidates left (asked for 100, selected all 30 candidates)"


def test_progress_is_reported():
    seen = []
    select(config(20, DIVERSITY), make_inputs(), progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (20, 20) and all(t == 20 for _, t in seen)


def test_two_diversity_strategies_add_their_strengths():
    inp = scored(np.random.default_rng(13).random(200))
    half = {"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY", "strength": 0.5}}
    two = select(config(15, half, half, weights()), inp)
    one = select(config(15, DIVERSITY, weights()), inp)
    assert two.indices.tolist() == one.indices.tolist()
    assert set(two.objectives) == {"DIVERSITY(EMBEDDINGS)", "DIVERSITY(EMBEDDINGS)#2", "WEIGHTS(SCORES:t/s)"}


def test_negative_diversity_strength_prefers_frames_near_earlier_picks():
    inp = make_inputs(n_videos=2, per_video=60, d=8)
    near = {"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY", "strength": -1.0}}
    res = select(config(5, near, diversity_cap=0.3), inp)  # a cap must not change a negative strength
    x = inp.embeddings
    for j in range(1, 5):
        d = np.linalg.norm(x - x[res.indices[j]], axis=1)
        prev = np.linalg.norm(x[:, None] - x[res.indices[:j]][None], axis=2).min(axis=1)
        allowed = np.ones(inp.n, bool)
        allowed[res.indices[:j]] = False
        assert prev[res.indices[j]] <= prev[allowed].min() + 1e-5
        assert d[res.indices[j]] == 0
