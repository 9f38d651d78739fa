"""What ``embed_fps`` saves and what it costs: embedding time vs selection quality.

With ``framesift.embed_fps: F`` only about F frames per second are embedded; every other
frame stays selectable and borrows the embedding of the nearest embedded frame in time of
its shot. This script measures, on real videos, in one process:

* embedding time (decode + resize + model) for all frames and for each F;
* the substitution error: mean / 95th percentile distance between a frame's own embedding
  and the one it borrows (unit vectors, so 0..2);
* selection quality: DIVERSITY picks ``--k`` frames from the borrowed embeddings; the mean
  and the max (covering radius) over all frames of the distance to the nearest pick are
  then measured with every frame's *own* embedding and compared with the picks made from
  the full embeddings, and with uniform sampling (every n-th frame, same k).

    .venv/bin/python benchmarks/bench_embed_fps.py                     # ../shared/data clips
    .venv/bin/python benchmarks/bench_embed_fps.py --videos a.mp4 --fps 10 5 2 1 --k 100
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench_ingest import DEFAULT_VIDEOS, SHARED  # the same clips (run as a script)
from framesift.config.selection import SelectionConfig
from framesift.embed import get_embedder
from framesift.embed.base import default_batch_size
from framesift.pipeline.embed import embed_videos
from framesift.pipeline.frames import FrameTable, fill_from_nearest_embedded, load_frame_table
from framesift.pipeline.ingest import ingest_videos
from framesift.select import SelectionInputs, select
from framesift.store.embeddings import EmbeddingStore, embedding_key
from framesift.store.videos import SamplingKey, register_videos
from framesift.util.progress import set_progress
from framesift.video.discover import discover_videos
from framesift.workspace import Workspace

set_progress(False)


def diversity_picks(table: FrameTable, embeddings: np.ndarray, k: int) -> np.ndarray:
    config = SelectionConfig.model_validate(
        {"n_samples": k, "strategies": [{"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY"}}]}
    )
    inputs = SelectionInputs(
        video_ids=table.video_id, frame_index=table.frame_index, time_s=table.time_s,
        shot_ids=table.shot_id, embeddings=embeddings,
    )
    return select(config, inputs).indices


def coverage(own: np.ndarray, picks: np.ndarray) -> tuple[float, float]:
    """(mean, max) over all frames of the distance to the nearest pick, with the frames' own embeddings."""
    d2 = 2.0 - 2.0 * (own @ own[picks].T)
    nearest = np.sqrt(np.maximum(d2.min(axis=1), 0.0))
    return float(nearest.mean()), float(nearest.max())


def uniform_picks(n: int, k: int) -> np.ndarray:
    return np.unique(np.linspace(0, n - 1, k).round().astype(np.int64))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--videos", nargs="*", type=Path)
    parser.add_argument("--fps", type=float, nargs="*", default=[10.0, 5.0, 2.0, 1.0])
    parser.add_argument("--k", type=int, default=100, help="frames to select")
    parser.add_argument("--embedder", default="efficientnet_lite0")
    parser.add_argument("--batch-size", type=int, default=None, help="frames per model call (default: framesift's)")
    args = parser.parse_args()
    videos = args.videos or [SHARED / v for v in DEFAULT_VIDEOS if (SHARED / v).exists()]
    if not videos:
        sys.exit("no videos: pass --videos or put the clips of ../shared/data in place")
    root = Path(tempfile.mkdtemp(prefix="bench-embed-fps-"))
    folder = root / "videos"
    folder.mkdir()
    for video in videos:  # one input folder, the files linked, not copied
        (folder / video.name).symlink_to(video.resolve())
    try:
        ws = Workspace.open(root / "ws")
        ids, _ = register_videos(ws.catalog, discover_videos(str(folder)), SamplingKey(None, None))
        ingest_videos(ws.catalog, ids)
        table = load_frame_table(ws.catalog)
        embedder = get_embedder(args.embedder)
        batch = args.batch_size or default_batch_size(embedder)
        n = len(table)
        seconds = float(sum(table.time_s[table.video_id == v].max() for v in np.unique(table.video_id)))

        start = time.perf_counter()
        embed_videos(ws, embedder, batch_size=args.batch_size)
        full_time = time.perf_counter() - start
        own = EmbeddingStore(ws, embedder.key).load(table.frame_id).vectors
        full_mean, full_radius = coverage(own, diversity_picks(table, own, args.k))

        print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
        print(f"machine: {os.cpu_count()} cores; embedder {embedder.key} (batch {batch}); "
              f"{len(videos)} videos, {n} frames, {seconds:.0f} s of video; k = {args.k}\n")
        print("| embedded frames | embedded | embed time | speed-up | substitution error mean / p95 | "
              "mean distance to nearest pick (÷ all frames) | covering radius (÷ all frames) |")
        print("|---|---|---|---|---|---|---|")
        print(f"| all frames | {n} (100 %) | {full_time:.1f} s | 1.0× | 0 / 0 | {full_mean:.4f} (1.000) | "
              f"{full_radius:.4f} (1.000) |")
        for fps in args.fps:
            start = time.perf_counter()
            embed_videos(ws, embedder, batch_size=args.batch_size, embed_fps=fps)
            secs = time.perf_counter() - start
            matrix = EmbeddingStore(ws, embedding_key(embedder.key, fps)).load(table.frame_id)
            borrowed = fill_from_nearest_embedded(table, matrix.frame_ids, matrix.vectors)
            error = np.linalg.norm(borrowed - own, axis=1)
            mean, radius = coverage(own, diversity_picks(table, borrowed, args.k))
            print(f"| `embed_fps: {fps:g}` | {len(matrix)} ({100 * len(matrix) / n:.1f} %) | {secs:.1f} s | "
                  f"{full_time / secs:.1f}× | {error.mean():.3f} / {np.percentile(error, 95):.3f} | "
                  f"{mean:.4f} ({mean / full_mean:.3f}) | {radius:.4f} ({radius / full_radius:.3f}) |")
        mean, radius = coverage(own, uniform_picks(n, args.k))
        print(f"| uniform sampling, no embedding (every {n / args.k:.0f}th frame) | – | – | – | – | "
              f"{mean:.4f} ({mean / full_mean:.3f}) | {radius:.4f} ({radius / full_radius:.3f}) |")
        ws.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
