"""Embeddings reorganised for fast exact k-center: blocks, sub-blocks and lower-bound coordinates.

Why: k-center greedy spends all its time deciding, for every frame ``x`` and every new pick
``p``, whether ``|x - p|`` is below ``x``'s current nearest-pick distance. Three tools make
most of those decisions cheap *and exact*:

* **Lower-bound coordinates.** With a PCA basis ``P`` (r columns) fitted on a sample,
  ``a(x) = [P^T (x - mu), |(I - P P^T)(x - mu)|]`` satisfies ``|a(x) - a(p)| <= |x - p|``
  (Pythagoras on the PCA part, reverse triangle inequality on the residual). Comparing in
  r + 1 = 129 dimensions instead of 512 settles most pairs; only pairs whose lower bound is
  below the current distance are recomputed exactly in full space. Per-frame noise, spread
  over all directions, lands almost entirely in the single residual coordinate, so frames of
  one shot sit very close together in these coordinates.
* **Sub-blocks** (~48 rows, compact; 48 measured fastest among 8-64 at 1M frames): the triangle inequality on the lower-bound
  coordinates skips whole sub-blocks that are provably too far from a pick.
* **Blocks** (~1000 rows, a k-means cell in the leading PCA directions): the unit of lazy
  work. A block absorbs the picks it has not seen only when it could hold the next pick, many
  at once (matrix products).

Partition quality and the PCA basis only affect speed, never results: every bound is a true
bound and every distance that decides anything is exact.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

_CHUNK = 32768  # rows per chunk when streaming over (possibly memory-mapped) embeddings


@dataclass
class BlockIndex:
    """Rows of the embedding matrix reordered so that blocks and sub-blocks are contiguous slices."""

    rows: np.ndarray  # (n,) id of the row at each sorted position (source row unless remapped)
    source: np.ndarray  # (N, d) the embedding matrix (unit rows; float16/memmap allowed), not copied
    src_rows: np.ndarray  # (n,) source row at each sorted position
    starts: np.ndarray  # (M + 1,) block boundaries into sorted positions
    centroids: np.ndarray  # (M, r + 1) float32 block centroids in lower-bound coordinates
    radius: np.ndarray  # (M,) float32 block radius in lower-bound coordinates
    block_of: np.ndarray  # (n,) int32 block of each sorted position
    sub_starts: np.ndarray  # (S + 1,) sub-block boundaries (nested in blocks)
    block_subs: np.ndarray  # (M + 1,) first sub-block of every block
    sub_of: np.ndarray  # (n,) int32 sub-block of each sorted position
    lb_mean: np.ndarray  # (d,) float32 PCA mean
    lb_basis: np.ndarray  # (d, r) float32 PCA basis
    A: np.ndarray  # (n, r + 1) float32 lower-bound coordinates of the rows
    sub_centroids: np.ndarray  # (S, r + 1) float32 sub-block centroids in lower-bound coordinates
    sub_radius: np.ndarray  # (S,) float32 sub-block radius in lower-bound coordinates
    to_sub: np.ndarray  # (n,) float32 distance of each row to its sub-block centroid (lower-bound coords)

    @property
    def n_blocks(self) -> int:
        return len(self.starts) - 1

    def position_of(self, n_source: int) -> np.ndarray:
        """Inverse permutation: source row -> sorted position (-1 for rows not indexed)."""
        pos = np.full(n_source, -1, dtype=np.int64)
        pos[self.rows] = np.arange(len(self.rows))
        return pos

    def vectors(self, pos: np.ndarray | int) -> np.ndarray:
        """float32 unit vectors of the rows at sorted positions ``pos`` (gathered from the source)."""
        return np.asarray(self.source[self.src_rows[pos]], dtype=np.float32)

    def lower_bound_coords(self, vecs: np.ndarray) -> np.ndarray:
        """Lower-bound coordinates of unit vectors (queries or picks), see module docstring."""
        if not hasattr(self, "_lb_shift"):
            self._lb_shift = self.lb_mean @ self.lb_basis
        return lower_bound_coords(np.atleast_2d(vecs), self.lb_mean, self.lb_basis, self._lb_shift)


def lower_bound_coords(
    vecs: np.ndarray, mean: np.ndarray, basis: np.ndarray, shift: np.ndarray | None = None
) -> np.ndarray:
    """``[P^T (x - mu), |(I - P P^T)(x - mu)|]`` per row, without materialising ``x - mu``."""
    x = np.asarray(vecs, dtype=np.float32)
    z = x @ basis  # contiguous output keeps this on the BLAS path
    z -= mean @ basis if shift is None else shift
    out = np.empty((len(x), basis.shape[1] + 1), dtype=np.float32)
    out[:, :-1] = z
    centred2 = np.einsum("ij,ij->i", x, x) - 2.0 * (x @ mean) + float(mean @ mean)
    out[:, -1] = np.sqrt(np.maximum(centred2 - np.einsum("ij,ij->i", z, z), 0.0))
    return out


def _unit_source(embeddings: np.ndarray) -> np.ndarray:
    """The embeddings themselves when their rows are unit (the contract), else a normalised float32 copy.

    Checked on a sample of rows plus a full pass in chunks only if the sample is off.
    """
    n = embeddings.shape[0]
    probe = np.asarray(embeddings[:: max(1, n // 2048)], dtype=np.float32)
    if np.abs(np.einsum("ij,ij->i", probe, probe) - 1.0).max(initial=0.0) <= 1e-3:
        return embeddings
    out = np.empty(embeddings.shape, dtype=np.float32)
    for lo in range(0, n, _CHUNK):
        part = np.asarray(embeddings[lo : lo + _CHUNK], dtype=np.float32)
        norms = np.sqrt(np.einsum("ij,ij->i", part, part))
        norms[norms == 0] = 1.0
        out[lo : lo + _CHUNK] = part / norms[:, None]
    return out


def _group_sums(x: np.ndarray, labels: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-label row sums and counts via a sparse indicator product (np.add.at is ~20x slower)."""
    indicator = sparse.csr_matrix(
        (np.ones(len(labels), dtype=x.dtype), (labels, np.arange(len(labels)))), shape=(m, len(labels))
    )
    return np.asarray(indicator @ x), np.bincount(labels, minlength=m)


def _pca_basis(embeddings: np.ndarray, rows: np.ndarray, dims: int, rng: np.random.Generator):
    sample = np.sort(rng.choice(rows, size=min(len(rows), 20000), replace=False))
    s = np.array(embeddings[sample], dtype=np.float32)
    s /= np.maximum(np.linalg.norm(s, axis=1, keepdims=True), 1e-12)
    mean = s.mean(axis=0)
    s -= mean
    _, vecs = np.linalg.eigh(s.T @ s)  # (d, d): cheaper than an SVD of the sample
    k = min(dims, vecs.shape[1])
    return mean.astype(np.float32), np.ascontiguousarray(vecs[:, ::-1][:, :k]).astype(np.float32)


def _nearest(z: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """Index of the nearest center for every row (squared Euclidean, chunked)."""
    c2 = np.einsum("ij,ij->i", centers, centers)
    out = np.empty(len(z), dtype=np.int32)
    for lo in range(0, len(z), _CHUNK):
        part = z[lo : lo + _CHUNK]
        out[lo : lo + _CHUNK] = np.argmin(c2[None, :] - 2.0 * (part @ centers.T), axis=1)
    return out


def _nearest_tree(z: np.ndarray, centers: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Nearest center via two levels (groups of centers, then centers of the row's group).

    About sqrt(M) times cheaper than comparing every row with all M centers; the answer can
    miss the true nearest center near group borders, which only makes a block a little wider.
    """
    m = len(centers)
    if m <= 64:
        return _nearest(z, centers)
    g = int(np.ceil(np.sqrt(m)))
    group_centers = _kmeans(centers, g, rng, sample_size=m)
    group_of_center = _nearest(centers, group_centers)
    group_of_row = _nearest(z, group_centers)
    out = np.empty(len(z), dtype=np.int32)
    order = np.argsort(group_of_row, kind="stable")
    bounds = np.searchsorted(group_of_row[order], np.arange(g + 1))
    for j in range(g):
        members = np.flatnonzero(group_of_center == j)
        rows = order[bounds[j] : bounds[j + 1]]
        if len(rows) == 0:
            continue
        if len(members) == 0:  # empty group: fall back to all centers
            out[rows] = _nearest(z[rows], centers)
        else:
            out[rows] = members[_nearest(z[rows], centers[members])]
    return out


def _kmeans(
    z: np.ndarray, m: int, rng: np.random.Generator, iters: int = 8, sample_size: int | None = None
) -> np.ndarray:
    """Lloyd iterations on a sample; returns centers. Cheap: only the partition quality matters."""
    size = sample_size if sample_size is not None else max(20 * m, 20000)
    sample = z[rng.choice(len(z), size=min(len(z), size), replace=False)]
    centers = sample[rng.choice(len(sample), size=m, replace=False)].copy()
    for _ in range(iters):
        sums, counts = _group_sums(sample, _nearest(sample, centers), m)
        live = counts > 0
        centers[live] = sums[live] / counts[live, None]
        dead = np.flatnonzero(~live)
        if len(dead):  # re-seed empty clusters on random sample points
            centers[dead] = sample[rng.choice(len(sample), size=len(dead), replace=False)]
    return centers


def _split_oversized(labels: np.ndarray, z: np.ndarray, max_size: int) -> np.ndarray:
    """Split clusters larger than ``max_size`` into slabs along their main axis (bounds work per block)."""
    counts = np.bincount(labels)
    next_label = len(counts)
    labels = labels.copy()
    for lab in np.flatnonzero(counts > max_size):
        members = np.flatnonzero(labels == lab)
        zc = z[members] - z[members].mean(axis=0)
        axis = np.linalg.svd(zc[: min(len(zc), 4096)], full_matrices=False)[2][0]
        order = members[np.argsort(zc @ axis, kind="stable")]
        for part in np.array_split(order, int(np.ceil(len(members) / max_size)))[1:]:
            labels[part] = next_label
            next_label += 1
    return labels


def _sub_clusters(a: np.ndarray, size: int, rng: np.random.Generator, iters: int = 3) -> np.ndarray:
    """Labels of ~``size``-row compact groups inside one block (Lloyd from random rows)."""
    m = int(np.ceil(len(a) / size))
    if m <= 1:
        return np.zeros(len(a), dtype=np.int64)
    centers = a[rng.choice(len(a), size=m, replace=False)].copy()
    for it in range(iters + 1):
        lab = np.argmin(np.einsum("ij,ij->i", centers, centers)[None, :] - 2.0 * (a @ centers.T), axis=1)
        if it == iters:
            break
        sums, counts = _group_sums(a, lab, m)
        live = counts > 0
        centers[live] = sums[live] / counts[live, None]
    _, lab = np.unique(lab, return_inverse=True)
    return lab


def _centroids_radii(x: np.ndarray, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, max member distance and per-row distance for contiguous groups ``x[starts[i]:starts[i+1]]``."""
    counts = np.diff(starts)
    member = np.repeat(np.arange(len(counts)), counts)
    sums, _ = _group_sums(x, member, len(counts))
    cent = (sums / counts[:, None]).astype(np.float32)
    dist = np.empty(len(x), dtype=np.float32)
    for lo in range(0, len(x), _CHUNK):
        diff = x[lo : lo + _CHUNK] - cent[member[lo : lo + _CHUNK]]
        dist[lo : lo + _CHUNK] = np.sqrt(np.einsum("ij,ij->i", diff, diff))
    return cent, np.maximum.reduceat(dist, starts[:-1]), dist


def build_block_index(
    embeddings: np.ndarray,
    rows: np.ndarray | None = None,
    *,
    block_size: int = 1024,
    sub_size: int = 48,
    sort_keys: list[np.ndarray] | None = None,
    seed: int = 0,
    lb_dims: int = 128,
    cluster_dims: int = 32,
) -> BlockIndex:
    """Index ``embeddings[rows]`` (all rows by default) for :class:`~.coverage.Coverage`.

    ``sort_keys`` (arrays aligned with ``rows``) order rows *inside* a sub-block so that rows
    sharing all keys (e.g. a BALANCE class) form contiguous runs ("segments").
    """
    rows = np.arange(embeddings.shape[0]) if rows is None else np.asarray(rows, dtype=np.int64)
    n = len(rows)
    if n == 0:
        raise ValueError("build_block_index needs at least one row")
    rng = np.random.default_rng(seed)
    mean, basis = _pca_basis(embeddings, rows, min(lb_dims, embeddings.shape[1]), rng)

    # Lower-bound coordinates of all rows; the first ``cluster_dims`` of them (the leading
    # PCA directions) drive the clustering: cheap, and close to the distances that matter.
    source = _unit_source(embeddings)
    A = np.empty((n, basis.shape[1] + 1), dtype=np.float32)
    contiguous = bool(len(rows) == source.shape[0])
    for lo in range(0, n, _CHUNK):
        part = source[lo : lo + _CHUNK] if contiguous else source[rows[lo : lo + _CHUNK]]
        A[lo : lo + _CHUNK] = lower_bound_coords(part, mean, basis)

    m = max(1, round(n / block_size))
    if m == 1:
        labels = np.zeros(n, dtype=np.int64)
    else:
        z = np.ascontiguousarray(A[:, : min(cluster_dims, A.shape[1] - 1)])
        labels = _nearest_tree(z, _kmeans(z, m, rng), rng)
        labels = _split_oversized(labels, z, 4 * block_size)
        del z
    _, labels = np.unique(labels, return_inverse=True)
    order = np.lexsort([rows, labels])
    rows, labels, A = rows[order], labels[order], A[order]
    keys = [np.array(np.asarray(k)[order]) for k in (sort_keys or [])]
    starts = np.concatenate([[0], np.cumsum(np.bincount(labels))]).astype(np.int64)
    n_blocks = len(starts) - 1

    # Sub-blocks inside each block; rows inside a block reordered by (sub, keys..., source row).
    sub_of = np.empty(n, dtype=np.int64)
    block_subs = np.zeros(n_blocks + 1, dtype=np.int64)
    next_sub = 0
    for b in range(n_blocks):
        lo, hi = starts[b], starts[b + 1]
        lab = _sub_clusters(A[lo:hi], sub_size, rng)
        local = np.lexsort([rows[lo:hi], *[k[lo:hi] for k in reversed(keys)], lab])
        A[lo:hi] = A[lo:hi][local]
        rows[lo:hi] = rows[lo:hi][local]
        sub_of[lo:hi] = lab[local] + next_sub
        next_sub += int(lab.max()) + 1
        block_subs[b + 1] = next_sub
    sub_starts = np.concatenate([[0], np.cumsum(np.bincount(sub_of, minlength=next_sub))]).astype(np.int64)

    centroids, radius, _ = _centroids_radii(A, starts)
    sub_centroids, sub_radius, to_sub = _centroids_radii(A, sub_starts)
    # Rounding slack so that the triangle-inequality tests stay conservative in float32.
    slack = np.float32(1e-4)
    return BlockIndex(
        rows=rows.copy(),
        source=source,
        src_rows=rows,
        starts=starts,
        centroids=centroids,
        radius=radius + slack,
        block_of=labels.astype(np.int32),
        sub_starts=sub_starts,
        block_subs=block_subs,
        sub_of=sub_of.astype(np.int32),
        lb_mean=mean,
        lb_basis=basis,
        A=A,
        sub_centroids=sub_centroids,
        sub_radius=sub_radius + slack,
        to_sub=to_sub + slack,
    )
