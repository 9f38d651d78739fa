"""Fast k-center greedy must make exactly the picks of the plain algorithm, and prune work."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from select_helpers import clustered, unit

from framesift.select import covering_radius, exact_kcenter_greedy, kcenter_greedy
from framesift.select.blocks import build_block_index, lower_bound_coords
from framesift.select.coverage import Coverage


def brute_radius(x: np.ndarray, picks: np.ndarray) -> float:
    d2 = 2.0 - 2.0 * (x @ x[picks].T)
    return float(np.sqrt(max(d2.min(axis=1).max(), 0.0)))


def test_exact_reference_on_a_hand_made_example():
    # Points on a line (embedded on the unit circle): farthest-first from 0 goes 0 -> 4 -> 2.
    angles = np.array([0.0, 0.1, 0.5, 0.9, 1.0])
    x = np.stack([np.cos(angles), np.sin(angles)], axis=1).astype(np.float32)
    assert exact_kcenter_greedy(x, 3).tolist() == [0, 4, 2]
    assert kcenter_greedy(x, 3).tolist() == [0, 4, 2]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fast_equals_exact_on_clustered_data(seed):
    x = clustered(3000, d=24, clusters=30, spread=0.12, seed=seed)
    exact = exact_kcenter_greedy(x, 150)
    fast = kcenter_greedy(x, 150, block_size=256)
    assert fast.tolist() == exact.tolist()
    assert covering_radius(x, fast) == pytest.approx(brute_radius(x, exact), abs=1e-5)


def test_fast_equals_exact_with_weights_and_seeds():
    x = clustered(2500, d=16, clusters=20, seed=5)
    rng = np.random.default_rng(5)
    w = rng.random(len(x))
    seeds = np.zeros(len(x), bool)
    seeds[rng.choice(len(x), 40, replace=False)] = True
    assert kcenter_greedy(x, 80, weights=w).tolist() == exact_kcenter_greedy(x, 80, weights=w).tolist()
    fast = kcenter_greedy(x, 80, seed_mask=seeds, block_size=200)
    assert fast.tolist() == exact_kcenter_greedy(x, 80, seed_mask=seeds).tolist()
    assert not seeds[fast].any()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(2, 400),
    d=st.integers(2, 12),
    k=st.integers(1, 40),
    seed=st.integers(0, 10_000),
    block=st.sampled_from([16, 64, 1024]),
)
def test_fast_equals_exact_property(n, d, k, seed, block):
    rng = np.random.default_rng(seed)
    x = unit(rng.standard_normal((n, d)))
    assert kcenter_greedy(x, k, block_size=block).tolist() == exact_kcenter_greedy(x, k).tolist()


def test_lower_bound_coordinates_never_exceed_true_distance():
    x = clustered(2000, d=64, clusters=8, seed=3)
    index = build_block_index(x, block_size=256, lb_dims=8)
    a = lower_bound_coords(x, index.lb_mean, index.lb_basis)
    rng = np.random.default_rng(0)
    i, j = rng.integers(0, len(x), (2, 5000))
    lb = np.linalg.norm(a[i] - a[j], axis=1)
    true = np.linalg.norm(x[i] - x[j], axis=1)
    assert np.all(lb <= true + 1e-5)
    assert np.mean(lb / np.maximum(true, 1e-9)) > 0.5  # and it is a useful bound


def test_lazy_coverage_is_exact_and_prunes_work():
    x = clustered(6000, d=32, clusters=40, spread=0.08, seed=4)
    index = build_block_index(x, block_size=300)
    cov = Coverage(index, capacity=200)
    picks = np.random.default_rng(1).choice(len(x), 200, replace=False)
    cov.add_centers(x[picks])
    cov.refresh_all()
    truth = np.sqrt(np.maximum(2.0 - 2.0 * (x[index.src_rows] @ x[picks].T), 0.0)).min(axis=1)
    assert np.allclose(cov.mind, truth, atol=1e-3)  # sqrt(2 - 2 cos) in float32 near 0
    assert cov.pairs_exact < 0.5 * len(x) * len(picks)


def test_covering_radius_pruned_path_matches_brute_force(monkeypatch):
    import framesift.select.kcenter as kc

    x = clustered(4000, d=16, clusters=25, seed=7)
    picks = kcenter_greedy(x, 60)
    monkeypatch.setattr(kc, "_BRUTE_FORCE_PAIRS", 0)
    assert covering_radius(x, picks) == pytest.approx(brute_radius(x, picks), abs=1e-4)


def test_k_larger_than_rows_returns_every_row_once():
    x = clustered(30, d=4, clusters=3, seed=0)
    out = kcenter_greedy(x, 100)
    assert sorted(out.tolist()) == list(range(30))


def test_cap_of_two_or_more_is_exact():
    x = clustered(2000, d=16, clusters=20, seed=9)
    assert kcenter_greedy(x, 60, cap=2.5).tolist() == exact_kcenter_greedy(x, 60).tolist()


@pytest.mark.parametrize("cap", [0.3, 0.45, 0.6])
def test_capped_greedy_keeps_the_packing_guarantee(cap):
    # Picks are pairwise >= the final covering radius R whenever the cap net completed,
    # which is what makes farthest-first a 2-approximation.
    x = clustered(3000, d=16, clusters=30, spread=0.1, seed=10)
    picks = kcenter_greedy(x, 150, cap=cap, block_size=300)
    r = covering_radius(x, picks)
    p = x[picks]
    pair = np.sqrt(np.maximum(2.0 - 2.0 * (p @ p.T), 0.0)) + 9 * np.eye(len(p))
    if r < cap:
        assert pair.min() >= r - 1e-4
    else:  # the net did not complete: every pick was still a "far" frame
        assert pair.min() >= cap - 1e-4


def test_auto_cap_stays_close_to_exact_radius(monkeypatch):
    import framesift.select.kcenter as kc

    monkeypatch.setattr(kc, "AUTO_CAP_MIN_ROWS", 0)
    monkeypatch.setattr(kc, "AUTO_CAP_MIN_PICKS", 0)
    x = clustered(6000, d=32, clusters=60, spread=0.1, seed=11)
    exact = covering_radius(x, exact_kcenter_greedy(x, 200))
    auto = covering_radius(x, kcenter_greedy(x, 200, cap="auto", block_size=400))
    assert auto <= 1.05 * exact


def test_float16_memmap_and_non_unit_inputs(tmp_path):
    x = clustered(1500, d=16, clusters=15, seed=12)
    half = x.astype(np.float16)
    expected = exact_kcenter_greedy(half.astype(np.float32), 40).tolist()
    assert kcenter_greedy(half, 40, block_size=200).tolist() == expected
    mm = np.lib.format.open_memmap(tmp_path / "emb.npy", mode="w+", dtype=np.float16, shape=half.shape)
    mm[:] = half
    mm.flush()
    assert kcenter_greedy(np.load(tmp_path / "emb.npy", mmap_mode="r"), 40, block_size=200).tolist() == expected
    # Rows that are not unit length are normalised (a copy), not trusted.
    assert kcenter_greedy(3.0 * x, 40).tolist() == exact_kcenter_greedy(x, 40).tolist()
