"""Predictions at scale: score computation, LightlyOne folder import, YOLO on decoded video.

1. scores: ``framesift.scores.detection_scores`` on synthetic flat arrays (1M frames, 5M boxes).
2. import: the NGSIM US-101 clip (177 frames, 6292 COCO car boxes, ../shared/data) encoded to an
   mp4, its boxes written as a LightlyOne ``.lightly/predictions`` folder (one JSON per frame), the
   clip copied ``--copies`` times; then ingest + ``sync_lightly_dir`` (match, store, score) timed.
3. predict: a random-weight YOLOv8n (built from its yaml, ``--imgsz``) on the same clip through
   ``predict_videos`` (decode + resize + model + catalog), against a plain decode of the clip.

    .venv/bin/python benchmarks/bench_predict.py
    .venv/bin/python benchmarks/bench_predict.py --copies 20 --predict-frames 64 --device cuda
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from framesift.util.progress import set_progress

set_progress(False)
NGSIM = Path(__file__).resolve().parents[2] / "shared" / "data" / "ngsim-us101-cars" / "sequence1"


def bench_scores(n_frames: int, n_boxes: int, n_prob_boxes: int) -> None:
    from framesift.scores import detection_scores

    rng = np.random.default_rng(0)
    frame = np.sort(rng.integers(0, n_frames, n_boxes))
    score = rng.uniform(0.1, 1.0, n_boxes)
    category = rng.integers(0, 80, n_boxes)
    start = time.perf_counter()
    detection_scores(frame, score, category, n_frames)
    plain = time.perf_counter() - start
    probs = np.full((n_boxes, 10), np.nan)
    probs[:n_prob_boxes] = rng.dirichlet(np.ones(10), n_prob_boxes)
    start = time.perf_counter()
    detection_scores(frame, score, category % 10, n_frames, probabilities=probs)
    with_probs = time.perf_counter() - start
    print(f"scores: {n_frames:,} frames, {n_boxes:,} boxes: {plain:.2f} s; with 10-class probabilities on "
          f"{n_prob_boxes:,} boxes: {with_probs:.2f} s")


def ngsim_clip(folder: Path) -> tuple[Path, dict]:
    from PIL import Image

    from framesift.video import synthetic

    coco = json.loads((NGSIM / "GT_coco.json").read_text())
    order = sorted(coco["images"], key=lambda im: int(Path(im["file_name"]).stem))
    frames = (np.asarray(Image.open(NGSIM / "images" / im["file_name"]).convert("RGB")) for im in order)
    path = folder / "ngsim.mp4"
    synthetic.write_video(path, frames, fps=3, quality=20)
    boxes: dict[int, list] = {i: [] for i in range(len(order))}
    position = {im["id"]: i for i, im in enumerate(order)}
    for ann in coco["annotations"]:
        boxes[position[ann["image_id"]]].append(ann["bbox"])
    return path, boxes


def write_lightly(root: Path, videos: list[str], boxes: dict[int, list]) -> int:
    task = root / ".lightly" / "predictions" / "cars"
    task.mkdir(parents=True)
    (root / ".lightly" / "predictions" / "tasks.json").write_text('["cars"]')
    (task / "schema.json").write_text(json.dumps({"task_type": "object-detection",
                                                  "categories": [{"id": 3, "name": "car"}]}))
    pad = len(str(len(boxes)))
    rng = np.random.default_rng(1)
    count = 0
    for video in videos:
        for i, frame_boxes in boxes.items():
            preds = [{"category_id": 3, "bbox": b, "score": float(rng.uniform(0.1, 1))} for b in frame_boxes]
            name = f"{video}-{i:0{pad}d}-mp4"
            (task / f"{name}.json").write_text(json.dumps({"file_name": f"{name}.png", "predictions": preds}))
            count += 1
    return count


def bench_import(tmp: Path, copies: int) -> None:
    from framesift.pipeline.ingest import ingest_videos
    from framesift.pipeline.predictions_import import sync_lightly_dir
    from framesift.store.videos import SamplingKey, register_videos
    from framesift.video.discover import discover_videos
    from framesift.workspace import Workspace

    clip, boxes = ngsim_clip(tmp)
    source = tmp / "in"
    source.mkdir(parents=True)
    names = [f"ngsim{k:02d}" for k in range(copies)]
    for name in names:
        shutil.copy(clip, source / f"{name}.mp4")
    n_files = write_lightly(source, names, boxes)
    ws = Workspace.open(tmp / "ws")
    ids, _ = register_videos(ws.catalog, discover_videos(str(source)), SamplingKey(None, None))
    ingest_videos(ws.catalog, ids)
    n_boxes = sum(len(b) for b in boxes.values()) * copies
    start = time.perf_counter()
    notes = sync_lightly_dir(ws, source)
    first = time.perf_counter() - start
    start = time.perf_counter()
    sync_lightly_dir(ws, source)
    again = time.perf_counter() - start
    print(f"import: {n_files:,} Lightly files, {n_boxes:,} boxes: {first:.2f} s ({n_files / first:,.0f} files/s, "
          f"{n_boxes / first:,.0f} boxes/s incl. scores); unchanged rerun {again * 1000:.0f} ms")
    print(f"  {notes[0]}")
    ws.close()


def bench_predict(tmp: Path, n_frames: int, sizes: list[int], batches: list[int], device: str | None) -> None:
    """predict_videos frames/s by model input size and batch size (a fresh task per setting)."""
    import av

    from framesift.pipeline.ingest import ingest_videos
    from framesift.predict.base import get_predictor
    from framesift.predict.video import predict_videos
    from framesift.store.videos import SamplingKey, register_videos
    from framesift.video.discover import discover_videos
    from framesift.workspace import Workspace

    clip, _ = ngsim_clip(tmp)
    source = tmp / "pin"
    source.mkdir(parents=True)
    shutil.copy(clip, source / "ngsim.mp4")
    ws = Workspace.open(tmp / "pws")
    stride = max(1, 177 // n_frames)
    ids, _ = register_videos(ws.catalog, discover_videos(str(source)), SamplingKey(stride, None))
    ingest_videos(ws.catalog, ids, frame_stride=stride)
    start = time.perf_counter()
    with av.open(str(source / "ngsim.mp4")) as container:
        decoded = sum(1 for _ in container.decode(video=0))
    decode_s = time.perf_counter() - start
    print(f"predict: YOLOv8n (random weights), device {device or 'auto'}, torch threads "
          f"{__import__('torch').get_num_threads()}; decoding all {decoded} frames alone: {decode_s:.2f} s")
    print("| imgsz | batch | frames | seconds | frames/s |\n|---|---|---|---|---|")
    for imgsz in sizes:
        predictor = get_predictor("yolov8n.yaml", imgsz=imgsz, **({"device": device} if device else {}))
        predictor.predict([np.zeros((480, 640, 3), np.uint8)])  # warm-up (model fuse, first allocation)
        for batch in batches:
            start = time.perf_counter()
            summary = predict_videos(ws, predictor, task=f"yolo_{imgsz}_{batch}", batch_size=batch)
            seconds = time.perf_counter() - start
            print(f"| {imgsz} | {batch} | {summary.frames} | {seconds:.2f} | {summary.frames / seconds:.1f} |")
    ws.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=1_000_000)
    parser.add_argument("--boxes", type=int, default=5_000_000)
    parser.add_argument("--prob-boxes", type=int, default=1_000_000)
    parser.add_argument("--copies", type=int, default=10, help="copies of the NGSIM clip to import")
    parser.add_argument("--predict-frames", type=int, default=45)
    parser.add_argument("--imgsz", type=int, nargs="+", default=[640])
    parser.add_argument("--batch", type=int, nargs="+", default=[16])
    parser.add_argument("--only-predict", action="store_true", help="skip the scores and import benchmarks")
    parser.add_argument("--device", default=None)
    args = parser.parse_args()
    if not args.only_predict:
        bench_scores(args.frames, args.boxes, args.prob_boxes)
    if not NGSIM.exists():
        print(f"{NGSIM} not found: import and predict benchmarks skipped")
        return
    with tempfile.TemporaryDirectory() as tmp:
        if not args.only_predict:
            bench_import(Path(tmp) / "imp", args.copies)
        bench_predict(Path(tmp) / "pred", args.predict_frames, args.imgsz, args.batch, args.device)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs visible")


if __name__ == "__main__":
    main()
