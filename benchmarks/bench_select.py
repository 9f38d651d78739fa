"""Selection benchmark: exact k-center greedy vs framesift's fast k-center vs the full engine.

Run (2 CPU cores; numpy/BLAS may use both)::

    .venv/bin/python benchmarks/bench_select.py --n 1000000 --d 512 --k 10000

All rows run in one process on the same synthetic data and print one markdown table:

1. ``exact k-center greedy`` -- the plain algorithm (one pass over all N rows per pick). At
   full scale it is timed for ``--exact-k`` picks and its time is extrapolated linearly to
   k (its per-pick cost is constant); the row says so.
2. ``fast k-center, cap=None`` -- framesift's pruned algorithm in exact mode: it makes the
   same picks as the plain algorithm (the script checks the first ``--exact-k``), so its
   covering radius is the exact greedy radius every other row is compared with.
3. ``fast k-center, cap=auto`` -- the default: distance cap estimated from a medoid pilot.
4. ``engine: DIVERSITY + WEIGHTS + BALANCE`` -- ``framesift.select.select`` with a
   LightlyOne config: DIVERSITY, WEIGHTS on an uncertainty score, BALANCE (UNIFORM) over a
   20-class scene label (default ``diversity_cap: auto``).
5. ``engine ..., diversity_cap=None`` -- the same config in exact mode: the picks of plain
   greedy on the product objective. WEIGHTS and BALANCE trade coverage for uncertainty and
   class balance on purpose, so the engine's radius is compared with this row (the
   ``radius / exact`` column of rows 4 and 5 uses row 5), not with pure k-center.

Columns: wall time (data generation and radius measurement excluded), covering radius (max
distance of any frame to its nearest pick, computed exactly), ratio to the exact greedy
radius, peak resident memory of the process during the row (input embeddings included).

Data (synthetic, no download):
Video-like synthetic embeddings for the selection benchmark (no real data needed).

The generator imitates frame embeddings of a video collection, not uniform noise (which has
no structure and is the worst case for any pruning):

* every video belongs to one of ``n_concepts`` scene concepts (a shared direction),
* every video has its own direction (same place, same people across its shots),
* a video is cut into shots; every shot has its own direction,
* inside a shot the embedding moves along a smooth random trajectory (three sinusoids with
  periods of 2..20 s in random directions),
* every frame gets a little independent noise (sensor noise, compression),
* everything shares a common direction (real embeddings are anisotropic).

Directions are drawn from a Gaussian whose covariance has a power-law spectrum
``lambda_i ~ 1 / (i + 5)`` in a random basis, like the PCA spectrum of real image
embeddings. Each row is the energy-weighted sum of its components, L2-normalised.

Two motion profiles set the energies (common, concept, video, shot, trajectory, noise):

* ``"video"`` (default): (0.30, 0.22, 0.12, 0.23, 0.12, 0.01). Typical cosine similarity:
  consecutive frames ~0.99, same shot ~0.9, same video ~0.65, same concept ~0.5, unrelated
  ~0.3 -- the redundancy of real footage at full frame rate.
* ``"high-motion"``: (0.28, 0.25, 0.0, 0.20, 0.25, 0.02): shots drift far (same shot ~0.84,
  consecutive ~0.975) and videos share nothing beyond their concept. A stress case: a 1 %
  selection then has a covering radius close to the distance between unrelated shots, where
  no triangle-inequality bound can prune much.
"""

from __future__ import annotations

import argparse
import os
import sys


def _early_threads() -> None:
    """--threads must be applied before numpy loads BLAS."""
    if "--threads" in sys.argv:
        n = sys.argv[sys.argv.index("--threads") + 1]
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = n


_early_threads()

import platform  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402

import numpy as np  # noqa: E402

from framesift.config.selection import SelectionConfig  # noqa: E402
from framesift.select import (  # noqa: E402
    SelectionInputs,
    covering_radius,
    exact_kcenter_greedy,
    kcenter_greedy,
    select,
)

# --------------------------------------------------------------------------------------------
# Synthetic video-like embeddings

PROFILES = {
    "video": (0.30, 0.22, 0.12, 0.23, 0.12, 0.01),
    "high-motion": (0.28, 0.25, 0.0, 0.20, 0.25, 0.02),
}


@dataclass
class SyntheticVideos:
    embeddings: np.ndarray  # (N, d) float32, unit rows
    video_ids: np.ndarray  # (N,) int64
    frame_index: np.ndarray  # (N,) int64
    time_s: np.ndarray  # (N,) float64
    shot_ids: np.ndarray  # (N,) int64, unique across videos
    scene: np.ndarray  # (N,) object array of str: the concept name, a categorical metadata
    uncertainty: np.ndarray  # (N,) float64 in [0, 1], smooth inside a shot


def _unit_rows(rng: np.random.Generator, n: int, d: int, scale: np.ndarray | None) -> np.ndarray:
    """Random unit rows; ``scale`` (d, d) shapes their distribution before normalisation."""
    v = rng.standard_normal((n, d), dtype=np.float32)
    if scale is not None:
        v = v @ scale
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    return v


def _spectrum_scale(rng: np.random.Generator, d: int) -> np.ndarray:
    lam = 1.0 / (np.arange(d) + 5.0)
    q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    return (np.sqrt(lam / lam.mean())[:, None] * q.T).astype(np.float32)


def make_video_embeddings(
    n: int,
    d: int = 512,
    *,
    frames_per_video: int = 1000,
    n_concepts: int = 64,
    mean_shots_per_video: float = 7.0,
    fps: float = 30.0,
    profile: str = "video",
    seed: int = 0,
) -> SyntheticVideos:
    """Generate ``n`` frames of video-like embeddings (see module docstring)."""
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {sorted(PROFILES)}, got {profile!r}")
    e_common, e_concept, e_video, e_shot, e_path, e_noise = PROFILES[profile]
    rng = np.random.default_rng(seed)
    n_videos = max(1, int(np.ceil(n / frames_per_video)))
    video_len = np.full(n_videos, frames_per_video)
    video_len[-1] = n - frames_per_video * (n_videos - 1)

    scale = _spectrum_scale(rng, d)
    common = _unit_rows(rng, 1, d, None)[0]
    concepts = _unit_rows(rng, n_concepts, d, scale)
    video_concept = rng.integers(0, n_concepts, n_videos)

    out = np.empty((n, d), dtype=np.float32)
    video_ids = np.empty(n, dtype=np.int64)
    frame_index = np.empty(n, dtype=np.int64)
    shot_ids = np.empty(n, dtype=np.int64)
    uncertainty = np.empty(n, dtype=np.float64)
    base = np.sqrt(e_common) * common

    pos = 0
    shot_id = 0
    for v in range(n_videos):
        length = int(video_len[v])
        n_shots = int(min(length, 1 + rng.poisson(mean_shots_per_video - 1)))
        cuts = np.sort(rng.choice(np.arange(1, length), size=n_shots - 1, replace=False)) if n_shots > 1 else []
        bounds = np.concatenate([[0], cuts, [length]]).astype(int)
        video_vec = base + np.sqrt(e_concept) * concepts[video_concept[v]]
        video_vec = video_vec + np.sqrt(e_video) * _unit_rows(rng, 1, d, scale)[0]
        for s in range(len(bounds) - 1):
            lo, hi = pos + bounds[s], pos + bounds[s + 1]
            m = hi - lo
            t = np.arange(m, dtype=np.float32) / fps
            shot_vec = np.sqrt(e_shot) * _unit_rows(rng, 1, d, scale)[0]
            dirs = _unit_rows(rng, 3, d, scale)
            periods = rng.uniform(2.0, 20.0, 3).astype(np.float32)
            phase = rng.uniform(0, 2 * np.pi, 3).astype(np.float32)
            coef = np.sin(2 * np.pi * t[:, None] / periods[None, :] + phase[None, :]) * np.sqrt(e_path / 1.5)
            block = coef @ dirs
            block += video_vec + shot_vec
            block += rng.standard_normal((m, d), dtype=np.float32) * np.float32(np.sqrt(e_noise / d))
            out[lo:hi] = block
            shot_ids[lo:hi] = shot_id
            u0 = rng.beta(2.0, 5.0)
            uncertainty[lo:hi] = np.clip(u0 + 0.05 * np.sin(t / 3.0 + phase[0]), 0.0, 1.0)
            shot_id += 1
        video_ids[pos : pos + length] = v
        frame_index[pos : pos + length] = np.arange(length)
        pos += length

    out /= np.linalg.norm(out, axis=1, keepdims=True)
    concept_of_frame = np.repeat(video_concept, video_len)
    scene = np.array([f"scene_{c % 20:02d}" for c in range(n_concepts)], dtype=object)[concept_of_frame]
    return SyntheticVideos(
        embeddings=out,
        video_ids=video_ids,
        frame_index=frame_index,
        time_s=frame_index / fps,
        shot_ids=shot_ids,
        scene=scene,
        uncertainty=uncertainty,
    )

# --------------------------------------------------------------------------------------------
# Measurement


class PeakRSS:
    """Samples the process resident set size in a background thread (Linux /proc)."""

    def __init__(self, interval: float = 0.05):
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._page = os.sysconf("SC_PAGE_SIZE")

    def _rss(self) -> int:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * self._page

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._rss())
            time.sleep(self.interval)

    def __enter__(self) -> PeakRSS:
        self.peak = self._rss()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._rss())


@dataclass
class Row:
    method: str
    n: int
    k: int
    seconds: float
    radius: float
    rss: int
    note: str = ""
    reference: str = "kcenter"  # which exact radius the ratio uses: "kcenter" or "engine"


def timed(fn):
    with PeakRSS() as mem:
        t0 = time.perf_counter()
        out = fn()
        secs = time.perf_counter() - t0
    return out, secs, mem.peak


def engine_config(k: int) -> SelectionConfig:
    return SelectionConfig.model_validate(
        {
            "n_samples": k,
            "strategies": [
                {"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY"}},
                {
                    "input": {"type": "SCORES", "task": "detector", "score": "uncertainty_entropy"},
                    "strategy": {"type": "WEIGHTS"},
                },
                {"input": {"type": "METADATA", "key": "scene"}, "strategy": {"type": "BALANCE", "distribution": "UNIFORM"}},
            ],
        }
    )


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    threads = os.environ.get("OPENBLAS_NUM_THREADS", "default")
    return (
        f"{cpu}, {os.cpu_count()} cores, BLAS threads {threads}, numpy {np.__version__}, "
        f"Python {platform.python_version()}, load average at start {load:.1f}"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=1_000_000, help="frames")
    ap.add_argument("--d", type=int, default=512, help="embedding dimension")
    ap.add_argument("--k", type=int, default=10_000, help="frames to pick")
    ap.add_argument("--profile", choices=sorted(PROFILES), default="video", help="motion profile of the data")
    ap.add_argument("--exact-k", type=int, default=300, help="picks timed for the plain exact greedy (0 = all k)")
    ap.add_argument("--skip-exact-mode", action="store_true", help="skip the fast exact-mode row (slow on hard data)")
    ap.add_argument("--skip-engine", action="store_true")
    ap.add_argument("--skip-engine-exact", action="store_true", help="skip the exact-mode engine row")
    ap.add_argument("--threads", type=str, default=None, help="BLAS threads (set before numpy loads)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    print(f"# machine: {machine()}", flush=True)
    t0 = time.perf_counter()
    data = make_video_embeddings(args.n, args.d, profile=args.profile, seed=args.seed)
    x = data.embeddings
    print(f"# data: {args.n} x {args.d} float32 ({x.nbytes / 2**30:.2f} GiB), profile {args.profile}, "
          f"{int(data.shot_ids.max()) + 1} shots in {int(data.video_ids.max()) + 1} videos, "
          f"generated in {time.perf_counter() - t0:.0f} s", flush=True)
    rows: list[Row] = []
    engine_ref = float("nan")

    # 1. plain exact greedy (timed on a prefix at full scale, extrapolated).
    k_exact = args.k if args.exact_k <= 0 else min(args.exact_k, args.k)
    exact_prefix, secs, rss = timed(lambda: exact_kcenter_greedy(x, k_exact))
    note = "" if k_exact == args.k else f"time extrapolated from {k_exact} picks"
    exact_radius = covering_radius(x, exact_prefix) if k_exact == args.k else float("nan")
    rows.append(Row("exact k-center greedy (plain numpy)", args.n, args.k, secs * args.k / k_exact, exact_radius, rss, note))
    print(f"# exact: {secs:.1f} s for {k_exact} picks", flush=True)

    # 2. fast, exact mode: the reference radius.
    ref_radius = exact_radius
    if not args.skip_exact_mode:
        picks, secs, rss = timed(lambda: kcenter_greedy(x, args.k, cap=None))
        same = bool(np.array_equal(picks[:k_exact], exact_prefix))
        ref_radius = covering_radius(x, picks)
        rows.append(Row("fast k-center, cap=None (exact mode)", args.n, args.k, secs, ref_radius, rss,
                        f"first {k_exact} picks identical to plain: {same}"))
        print(f"# fast exact mode: {secs:.1f} s, radius {ref_radius:.4f}", flush=True)

    # 3. fast, default cap.
    picks, secs, rss = timed(lambda: kcenter_greedy(x, args.k, cap="auto"))
    rows.append(Row("fast k-center, cap=auto (default)", args.n, args.k, secs, covering_radius(x, picks), rss))
    print(f"# fast auto: {secs:.1f} s", flush=True)

    # 4. the engine.
    if not args.skip_engine:
        inputs = SelectionInputs(
            video_ids=data.video_ids,
            frame_index=data.frame_index,
            time_s=data.time_s,
            shot_ids=data.shot_ids,
            embeddings=x,
            scores={("detector", "uncertainty_entropy"): data.uncertainty},
            metadata={"scene": data.scene},
        )
        res, secs, rss = timed(lambda: select(engine_config(args.k), inputs))
        engine_row = Row("engine: DIVERSITY + WEIGHTS + BALANCE", args.n, args.k, secs,
                         covering_radius(x, res.indices), rss, res.stop_reason, reference="engine")
        rows.append(engine_row)
        print(f"# engine: {secs:.1f} s, radius {engine_row.radius:.4f}", flush=True)
        if not args.skip_engine_exact:
            exact_cfg = engine_config(args.k).model_copy(update={"diversity_cap": None})
            res, secs, rss = timed(lambda: select(exact_cfg, inputs))
            radius = covering_radius(x, res.indices)
            engine_ref = radius
            rows.append(Row("engine: DIVERSITY + WEIGHTS + BALANCE, diversity_cap=None (exact)", args.n, args.k,
                            secs, radius, rss, res.stop_reason, reference="engine"))
            print(f"# engine exact: {secs:.1f} s, radius {radius:.4f}", flush=True)

    print()
    print("| method | N | d | k | wall time | covering radius | radius / exact | peak RSS | note |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        ref = engine_ref if r.reference == "engine" else ref_radius
        ratio = r.radius / ref if np.isfinite(ref) and np.isfinite(r.radius) else float("nan")
        radius = f"{r.radius:.4f}" if np.isfinite(r.radius) else "n/a"
        print(f"| {r.method} | {r.n:,} | {args.d} | {r.k:,} | {r.seconds:.1f} s | {radius} | "
              f"{ratio:.3f} | {r.rss / 2**30:.2f} GiB | {r.note} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
