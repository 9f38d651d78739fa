"""Label-efficiency benchmark: ``python -m benchmarks.label_efficiency [--quick] [--parts 1,2,3,4]``.

Prints markdown tables (with the command, seeds and machine) and writes them, plus every
selection's frames and metrics as JSON, to ``--out``. See README.md in this folder.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

from threadpoolctl import threadpool_limits

from framesift.util.progress import set_progress

from . import report
from .classification import Curve, collection_from_workspace, concept_curves
from .coverage import Result, evaluate
from .datasets import DATA_ROOT, REAL_CLIPS, Clip, expand_ground_truth, load_real_clip, with_idle_stretches
from .detection_curve import CurvePoint, learning_curve, sub_clip, time_split
from .detector import DetectorModel, simulate
from .methods import DEFAULT_TASK, baseline_methods, framesift_methods
from .pipeline import PreparedClip, import_predictions, prepare_clip, prepare_folder
from .report import classification_table
from .stress import StressSpec, sparse_spec, stress_clip

DEFAULT_BUDGETS = (0.05, 0.10, 0.20)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks.label_efficiency", description=__doc__)
    p.add_argument("--quick", action="store_true", help="small smoke run (< 3 min): TUD, its idle composite, a short "
                                                        "stress video, pixel embeddings, 3 seeds")
    p.add_argument("--parts", default="1,3,4", help="comma list of parts to run (1 coverage, 2 detector learning "
                                                    "curve: opt-in, hours on CPU, 3 classification loop, 4 stress / "
                                                    "rare events)")
    p.add_argument("--curve-clip", default="tud-campus", help="part 2: the real clip to split in time")
    p.add_argument("--curve-budgets", default="0.1,0.2", help="part 2: budget fractions of the pool")
    p.add_argument("--curve-seeds", type=int, default=2, help="part 2: seeds of the random/uniform baselines")
    p.add_argument("--yolo-epochs", type=int, default=30, help="part 2: training epochs (fixed for every method)")
    p.add_argument("--yolo-imgsz", type=int, default=320, help="part 2: training and test resolution")
    p.add_argument("--seeds", type=int, default=None, help="seeds 0..N-1 for random/uniform baselines (default 5; "
                                                           "quick 3)")
    p.add_argument("--budgets", default=None, help="comma list of budget fractions (default 0.05,0.1,0.2)")
    p.add_argument("--clips", default=None, help="comma list of real clips (default: all of "
                                                 f"{', '.join(REAL_CLIPS)})")
    p.add_argument("--embedder", default=None, help="framesift embedder of the framesift methods (default "
                                                    "efficientnet_lite0; quick: pixels)")
    p.add_argument("--stress-frames", type=int, default=None, help="frames of the stress video (default 900; quick 300)")
    p.add_argument("--data", type=Path, default=DATA_ROOT, help="the shared data folder")
    p.add_argument("--workdir", type=Path, default=None, help="keep videos and workspaces here (default: a temp dir)")
    p.add_argument("--out", type=Path, default=None, help="write results.md and results.json here")
    p.add_argument("--progress", action="store_true", help="show framesift's progress bars")
    return p.parse_args(argv)


def machine_line() -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    import torch

    return (f"{platform.platform()}, {os.cpu_count()} CPU cores ({platform.processor() or platform.machine()}), "
            f"torch {torch.__version__} with {torch.get_num_threads()} threads, load average {load:.1f} at start, "
            f"no GPU used")


def git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True,
                              cwd=Path(__file__).parent).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


class Printer:
    """Prints to stdout and keeps the text for results.md; every table is followed by its command and seeds."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.stamp = ""

    def __call__(self, text: str = "") -> None:
        print(text, flush=True)
        self.lines.append(text)

    def table(self, text: str, seeds: list[int]) -> None:
        self(text)
        self()
        self(f"_`{self.stamp}`, seeds {seeds}_")


def build_clips(args: argparse.Namespace) -> list[Clip]:
    names = args.clips.split(",") if args.clips else (["tud-campus"] if args.quick else list(REAL_CLIPS))
    clips = []
    for name in names:
        base = load_real_clip(name, args.data)
        clips.append(base)
        if base.has_tracks:  # idle composites only where distinct tracks can be counted
            clips.append(with_idle_stretches(base, segments=3, idle_ratio=2.0, seed=0))
    frames = args.stress_frames or (300 if args.quick else 900)
    clips.append(stress_clip(StressSpec(n_frames=frames, seed=0)))
    clips.append(stress_clip(sparse_spec(n_frames=frames * 2 // 3, seed=0), name="stress-sparse"))
    return clips


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    set_progress(args.progress)
    parts = {int(p) for p in args.parts.split(",") if p.strip()}
    seeds = list(range(args.seeds or (3 if args.quick else 5)))
    budgets = tuple(float(b) for b in args.budgets.split(",")) if args.budgets else DEFAULT_BUDGETS
    embedder = args.embedder or ("pixels" if args.quick else "efficientnet_lite0")
    out = Printer()
    command = "python -m benchmarks.label_efficiency " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
    out.stamp = command.strip()
    out("## Label efficiency run")
    out()
    out(f"- command: `{command.strip()}` (framesift commit {git_commit()})")
    out(f"- seeds: {seeds} for uniform-fps (random phase) and random; framesift methods are deterministic "
        "(random_seed 0)")
    out(f"- machine: {machine_line()}")
    out(f"- budgets: {', '.join(f'{b:.0%}' for b in budgets)} of each clip's frames; framesift embedder: {embedder}")
    out()
    started = time.perf_counter()
    # One BLAS thread for numpy/scipy/scikit-learn (PyTorch keeps its own threads): the arrays here are
    # small, and with 2 BLAS threads on a busy 2-core machine a classifier fit took ~200 ms instead of ~6 ms.
    with threadpool_limits(limits=1, user_api="blas"), tempfile.TemporaryDirectory(prefix="label-eff-") as tmp:
        work = args.workdir or Path(tmp)
        payload: dict[str, object] = {"command": command, "seeds": seeds, "budgets": budgets, "embedder": embedder}
        prepared: list[PreparedClip] = []
        if parts & {1, 4}:
            results, prepared = run_coverage(args, work, seeds, budgets, embedder, out)
            payload["coverage"] = [asdict(r) for r in results]
            payload["clips"] = {p.clip.name: {"frames": p.clip.n_frames, "about": p.clip.about,
                                              "tracks": p.clip.tracks, "timings": p.timings,
                                              "decode_check": p.decode_check} for p in prepared}
        if 2 in parts:
            points = run_detection_curve(args, work, seeds, embedder, out)
            payload["detection_curve"] = [asdict(c) for c in points]
        if 3 in parts:
            stress = next((p for p in prepared if p.clip.name == "stress"), None)
            curves = run_classification(args, work, seeds, embedder, out, stress)
            payload["classification"] = [asdict(c) for c in curves]
    out(f"total time: {time.perf_counter() - started:.0f} s")
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "results.md").write_text("\n".join(out.lines) + "\n", encoding="utf-8")
        (args.out / "results.json").write_text(json.dumps(payload, indent=1, default=float), encoding="utf-8")
    return 0


def run_coverage(args: argparse.Namespace, work: Path, seeds: list[int], budgets: tuple[float, ...], embedder: str,
                 out: Printer) -> tuple[list[Result], list[PreparedClip]]:
    """Parts 1 and 4: prepare every clip, run every method, print one table per clip and the goal checks."""
    clips = build_clips(args)
    cheap = None if embedder == "pixels" else "pixels"
    embedders = [embedder] + ([cheap] if cheap else [])
    methods = baseline_methods() + framesift_methods(embedder, cheap_embedder=cheap)
    detector = DetectorModel()
    results: list[Result] = []
    prepared_all: list[PreparedClip] = []
    for clip in clips:
        start = time.perf_counter()
        prepared = prepare_clip(clip, work / clip.name.replace("+", "_"), embedders)
        size = _frame_size(prepared)
        predictions = simulate(clip.gt, size, seed=0, model=detector, visibility=clip.visibility)
        import_predictions(prepared, DEFAULT_TASK, clip.gt.categories, predictions, detector.name)
        prepared.timings["predictions"] = time.perf_counter() - start - sum(prepared.timings.values())
        results += evaluate(prepared, budgets, methods, seeds, log=print)
        prepared.timings["total"] = time.perf_counter() - start
        prepared_all.append(prepared)
    summary = report.summarize(results)
    names = [m.name for m in methods]
    out("### Clips")
    out()
    out("| clip | frames | content | tracks | decode check | time |")
    out("|---|---|---|---|---|---|")
    for p in prepared_all:
        out(f"| {p.clip.name} | {p.clip.n_frames} | {p.clip.about} | {p.clip.tracks} | "
            f"max {p.decode_check:.2f} grey levels | {p.timings['total']:.0f} s |")
    out()
    out(f"Uncertainty/balance methods use the **simulated detector** ({detector.name}) imported as task "
        f"`{DEFAULT_TASK}`; its scores come from framesift's scorer (objectness_least_confidence).")
    out()
    for p in prepared_all:
        ks = {b: r.k for r in results if r.clip == p.clip.name for b in [r.budget]}
        out(f"### {p.clip.name}")
        out()
        out.table(report.coverage_table(summary, p.clip.name, names, ks), seeds)
        out()
    stress = [p.clip.name for p in prepared_all if p.clip.events and p.clip.name.startswith("stress")]
    if stress:
        out(f"### Part 4: rare-event recall at a fixed budget ({min(budgets):.0%})")
        out()
        out.table(report.rare_event_table(summary, stress, names, min(budgets)), seeds)
        out()
    idle = [p.clip.name for p in prepared_all if p.clip.has_idle and p.clip.has_tracks]
    checks = report.goal_checks(summary, [m.name for m in methods if m.kind == "framesift"], idle)
    ceilings = {p.clip.name: report.track_ceiling(summary, p.clip.name, min(budgets)) for p in prepared_all
                if p.clip.name in idle}
    out("### Goals")
    out()
    out.table("\n".join(report.goal_lines(checks, min(budgets), ceilings)), seeds)
    out()
    return results, prepared_all


def run_detection_curve(args: argparse.Namespace, work: Path, seeds: list[int], embedder: str,
                        out: Printer) -> list[CurvePoint]:
    """Part 2: YOLO nano trained on each method's pool frames, mAP@0.5 on the clip's held-out end."""
    base = load_real_clip(args.curve_clip, args.data)
    split = time_split(base.n_frames)
    pool = sub_clip(base, split.pool, f"{base.name}-pool")
    prepared = prepare_clip(pool, work / "curve", [embedder])
    detector = DetectorModel()
    size = _frame_size(prepared)
    import_predictions(prepared, DEFAULT_TASK, pool.gt.categories,
                       simulate(pool.gt, size, seed=0, model=detector), detector.name)
    test_gt = expand_ground_truth(base.gt, split.test)
    wanted = {"uniform-fps", "random", "diversity", "div+uncertainty"}
    methods = [m for m in baseline_methods() + framesift_methods(embedder, cheap_embedder=None) if m.name in wanted]
    budgets = [float(b) for b in args.curve_budgets.split(",")]
    curve_seeds = seeds[: args.curve_seeds]
    os.environ.setdefault("YOLO_VERBOSE", "False")  # ultralytics reads it on import: no per-epoch bars
    start = time.perf_counter()
    points = learning_curve(prepared, base.images or [], test_gt, int(split.test[0]), methods, budgets, curve_seeds,
                            work / "curve" / "yolo", epochs=args.yolo_epochs, imgsz=args.yolo_imgsz, log=print)
    out("### Part 2: detector learning curve (YOLO nano from scratch, CPU)")
    out()
    out(f"{base.name}: selection pool = frames 0-{split.pool[-1]} (own video, {embedder}), test = frames "
        f"{split.test[0]}-{split.test[-1]} ({len(split.test)} frames, {len(test_gt.frame)} boxes). yolov8n.yaml "
        f"(random init), imgsz {args.yolo_imgsz}, {args.yolo_epochs} epochs, batch 8, training seed 0, via "
        f"framesift.loop.train_yolo; baselines over seeds {curve_seeds}. {time.perf_counter() - start:.0f} s.")
    out()
    out.table(report.curve_table(points), curve_seeds)
    out()
    return points


CLASSIFICATION_STEPS = (8, 16, 32, 64, 128)


def run_classification(args: argparse.Namespace, work: Path, seeds: list[int], embedder: str, out: Printer,
                       stress: PreparedClip | None) -> list[Curve]:
    """Part 3: AP vs labels on the ASL clips and the stress video's concepts; one table per collection."""
    stride = 6 if args.quick else 3
    start = time.perf_counter()
    asl = prepare_folder(args.data / "intel-sample-videos" / "asl_gestures", work / "asl", [embedder],
                         frame_stride=stride)
    asl_collection = collection_from_workspace(
        "asl", asl.workspace, asl.embedders[embedder],
        lambda names, _: {str(w): names == w for w in sorted(set(names.tolist()))})
    if stress is None or embedder not in stress.embedders:
        clip = stress_clip(StressSpec(n_frames=args.stress_frames or (300 if args.quick else 900), seed=0))
        stress = prepare_clip(clip, work / "stress", [embedder])
    truths = stress.clip.concepts
    stress_collection = collection_from_workspace(
        "stress", stress.workspace, stress.embedders[embedder],
        lambda _, index: {name: truth[index] for name, truth in truths.items()})
    prep_seconds = time.perf_counter() - start
    steps = CLASSIFICATION_STEPS[:3] if args.quick else CLASSIFICATION_STEPS
    curves: list[Curve] = []
    start = time.perf_counter()
    for collection in (asl_collection, stress_collection):
        cache: dict = {}
        for concept in collection.concepts:
            for seed in seeds:
                curves += concept_curves(collection, concept, seed, steps, cache=cache)
    out("### Part 3: frame classification, AP vs labels (simulated annotator)")
    out()
    out(f"ASL: {len(asl_collection.video)} frames (1 frame in {stride} of the 20 clips, {embedder} embeddings), "
        f"20 concepts (one per clip); stress: {len(stress_collection.video)} frames, concepts "
        f"{', '.join(truths)}. Held-out AP (30 % of each video's frames per seed), mean over concepts, "
        f"± std over seeds {seeds}. Loop: 8 seed labels, then 2 labels from each of the 4 feeds per round. "
        f"Prepare {prep_seconds:.0f} s, curves {time.perf_counter() - start:.0f} s.")
    out()
    for collection in (asl_collection, stress_collection):
        out(f"**{collection.name}**")
        out()
        out.table(classification_table(curves, collection.name, steps), seeds)
        out()
    return curves


def _frame_size(prepared: PreparedClip) -> tuple[int, int]:
    row = prepared.workspace.catalog.query_one("SELECT width, height FROM videos")
    return int(row["width"]), int(row["height"])


if __name__ == "__main__":
    sys.exit(main())
