"""Report build time and size, and the coverage metric's throughput.

    .venv/bin/python benchmarks/bench_report.py small            # the 3-video test run (160 frames)
    .venv/bin/python benchmarks/bench_report.py scale --videos 8 --frames 1000
    .venv/bin/python benchmarks/bench_report.py distances --n 200000 --dim 512 --k 1000

``small`` builds the report of the synthetic run the tests use (3 readable videos + 1 broken,
pixel embeddings, 12 k-center picks, detection predictions) with the default maps (PCA + t-SNE),
again with the thumbnail cache warm, and once with UMAP forced. ``scale`` ingests generated
videos so the maps hit their 3,000-point cap and the hover thumbnails their 1,500 cap.
``distances`` times ``metrics.nearest_distances`` (exact nearest-pick distances, chunked).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "report"))

from report_fixtures import k_center, make_run  # noqa: E402

from framesift.embed.pixels import PixelEmbedder  # noqa: E402
from framesift.pipeline.embed import embed_videos  # noqa: E402
from framesift.pipeline.frames import load_frame_table  # noqa: E402
from framesift.pipeline.ingest import ingest_videos  # noqa: E402
from framesift.pipeline.runs import create_run, finish_run, save_selection  # noqa: E402
from framesift.report import build_report  # noqa: E402
from framesift.report.metrics import nearest_distances  # noqa: E402
from framesift.report.projection import build_maps  # noqa: E402
from framesift.store.embeddings import EmbeddingStore  # noqa: E402
from framesift.store.videos import SamplingKey, register_videos  # noqa: E402
from framesift.util.progress import set_progress  # noqa: E402
from framesift.video import synthetic  # noqa: E402
from framesift.video.discover import discover_videos  # noqa: E402
from framesift.workspace import Workspace  # noqa: E402


def _timed_build(ws: Workspace, run: str, label: str, **options: object) -> None:
    start, cpu = time.perf_counter(), time.process_time()
    files = build_report(ws, run, **options)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    sizes = ", ".join(f"{f.name} {f.stat().st_size / 1e6:.2f} MB" for f in files)
    print(f"{label}: {seconds:.2f} s wall, {cpu:.2f} s CPU ({sizes})")


def small(tmp: Path) -> None:
    videos = tmp / "src"
    videos.mkdir()
    rare = synthetic.static_scene_with_rare_object(videos / "rare.mp4", n_frames=60, rare_frames=(20, 21, 45))
    shots = synthetic.multi_shot_video(videos / "shots.mp4", shot_lengths=(20, 15, 25))
    run = make_run(tmp, (videos / "rare.mp4", rare), (videos / "shots.mp4", shots), predictions=True)
    frames = run.workspace.catalog.scalar("SELECT COUNT(*) FROM frames")
    print(f"3-video run: {frames} frames, 12 picks")
    _timed_build(run.workspace, run.run_name, "build, cold thumbnail cache (auto maps: PCA + t-SNE)")
    _timed_build(run.workspace, run.run_name, "rebuild, warm cache")
    _timed_build(run.workspace, run.run_name, "rebuild with UMAP forced (pca,umap,tsne)", maps=["pca", "umap", "tsne"])


def scale(tmp: Path, n_videos: int, n_frames: int, n_picks: int) -> None:
    folder = tmp / "videos"
    start = time.perf_counter()
    for v in range(n_videos):
        synthetic.multi_shot_video(folder / f"clip{v:02d}.mp4", shot_lengths=(n_frames // 4,) * 4, size=(96, 72), seed=v)
    ws = Workspace.open(tmp / "ws")
    ids, _ = register_videos(ws.catalog, discover_videos(str(folder)), SamplingKey(None, None))
    ingest_videos(ws.catalog, ids)
    embed_videos(ws, PixelEmbedder())
    table = load_frame_table(ws.catalog)
    vectors = EmbeddingStore(ws, "pixels").load(table.frame_id).vectors
    picks, gains = k_center(vectors, n_picks, np.ones(len(table), bool))
    run_id, name = create_run(ws.catalog, "scale", {"selection_config": {"n_samples": n_picks}}, "pixels")
    save_selection(ws.catalog, run_id, table.frame_id[picks], [{"DIVERSITY": g} for g in gains])
    finish_run(ws.catalog, run_id, {"n_selected": n_picks})
    print(f"{n_videos} videos, {len(table):,} frames, {n_picks} picks prepared in {time.perf_counter() - start:.1f} s")
    _timed_build(ws, name, "build, cold cache (auto maps: PCA + UMAP + t-SNE on 3,000 points)")
    _timed_build(ws, name, "rebuild, warm cache")
    _timed_build(ws, name, "rebuild, warm cache, PCA only", maps=["pca"])
    for method in ("pca", "tsne", "umap"):  # umap: its numba compilation was paid by the builds above
        start, cpu = time.perf_counter(), time.process_time()
        build_maps(vectors, np.asarray(picks), [method])
        print(f"  {method} map of 3,000 points: {time.perf_counter() - start:.2f} s wall, "
              f"{time.process_time() - cpu:.2f} s CPU")


def distances(n: int, dim: int, k: int) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, dim)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    centers = x[rng.choice(n, k, replace=False)]
    for metric in ("euclidean", "cosine"):
        start = time.perf_counter()
        nearest_distances(x, centers, metric=metric)
        seconds = time.perf_counter() - start
        print(f"nearest_distances {metric}: {n:,} x {k:,} (d={dim}) in {seconds:.2f} s "
              f"({n * k / seconds / 1e9:.2f} G pairs/s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["small", "scale", "distances"])
    parser.add_argument("--videos", type=int, default=8)
    parser.add_argument("--frames", type=int, default=1000)
    parser.add_argument("--picks", type=int, default=200)
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--k", type=int, default=1000)
    args = parser.parse_args()
    set_progress(False)
    with tempfile.TemporaryDirectory() as tmp:
        if args.what == "small":
            small(Path(tmp))
        elif args.what == "scale":
            scale(Path(tmp), args.videos, args.frames, args.picks)
        else:
            distances(args.n, args.dim, args.k)


if __name__ == "__main__":
    main()
