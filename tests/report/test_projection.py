import sys

import numpy as np
import pytest

from framesift.report.projection import build_maps, pca, resolve_methods, sample_rows


def _clusters(n_per: int = 30, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three well separated clusters in 20-D; labels per row."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(3, 20)) * 10
    labels = np.repeat(np.arange(3), n_per)
    return (centers[labels] + rng.normal(size=(len(labels), 20))).astype(np.float32), labels


def test_sample_rows_puts_priority_rows_first_and_caps():
    rows = sample_rows(100, np.array([50, 3, 50, 99]), cap=10, seed=1)
    assert rows[:3].tolist() == [50, 3, 99] and len(rows) == 10 and len(set(rows.tolist())) == 10
    assert sample_rows(5, np.array([], np.int64), cap=10).tolist() == [0, 1, 2, 3, 4]


def test_pca_separates_clusters_and_reports_variance():
    x, labels = _clusters()
    coords, ratio = pca(x)
    assert coords.shape == (90, 2) and 0.5 < ratio.sum() <= 1.0
    means = np.stack([coords[labels == k].mean(0) for k in range(3)])
    spread = max(coords[labels == k].std(0).max() for k in range(3))
    gaps = [np.linalg.norm(means[a] - means[b]) for a in range(3) for b in range(a + 1, 3)]
    assert min(gaps) > 3 * spread


def test_tsne_map_keeps_clusters_apart():
    x, labels = _clusters(n_per=15)
    result = build_maps(x, np.array([0, 15, 30]), ["tsne"])
    (tsne,) = result.maps
    assert tsne.method == "t-SNE" and tsne.coords.shape == (45, 2)
    coords = tsne.coords[np.argsort(result.rows)]  # back to row order
    centroid = np.stack([coords[labels == k].mean(0) for k in range(3)])
    nearest = np.argmin(np.linalg.norm(coords[:, None] - centroid[None], axis=2), axis=1)
    assert (nearest == labels).mean() > 0.95


def test_missing_libraries_give_notes_not_errors(monkeypatch):
    monkeypatch.setitem(sys.modules, "umap", None)
    monkeypatch.setitem(sys.modules, "sklearn.manifold", None)
    x, _ = _clusters()
    result = build_maps(x, np.array([0]), ["pca", "umap", "tsne"])
    assert [m.method for m in result.maps] == ["PCA"]
    assert any(n.startswith("UMAP skipped") and "not installed" in n for n in result.notes)
    assert any(n.startswith("t-SNE skipped") and "not installed" in n for n in result.notes)


def test_too_few_points_skip_umap_and_tsne():
    x = np.random.default_rng(0).normal(size=(6, 8)).astype(np.float32)
    result = build_maps(x, np.array([0]), ["pca", "umap", "tsne"])
    assert [m.method for m in result.maps] == ["PCA"]
    assert sum("skipped: 6 points" in n for n in result.notes) == 2


def test_auto_leaves_umap_out_of_small_samples_only():
    assert resolve_methods("auto", 999)[0] == ["pca", "tsne"] and "UMAP left out" in resolve_methods("auto", 999)[1][0]
    assert resolve_methods("auto", 1000) == (["pca", "umap", "tsne"], [])
    with pytest.raises(ValueError, match="unknown map"):
        resolve_methods(["pca", "isomap"], 10)


@pytest.mark.slow
def test_umap_map_runs_when_installed():
    pytest.importorskip("umap")
    x, labels = _clusters(n_per=20)
    result = build_maps(x, np.array([0]), ["umap"])
    (umap_map,) = result.maps
    coords = umap_map.coords[np.argsort(result.rows)]
    assert umap_map.method == "UMAP" and np.isfinite(coords).all()
    centroid = np.stack([coords[labels == k].mean(0) for k in range(3)])
    nearest = np.argmin(np.linalg.norm(coords[:, None] - centroid[None], axis=2), axis=1)
    assert (nearest == labels).mean() > 0.95
