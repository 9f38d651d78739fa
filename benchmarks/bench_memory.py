"""Peak memory of ingest, embed and select on long videos, and its growth per frame.

Generates long low-resolution synthetic videos (160x120 at 30 fps: scenes that change every
10 s with a moving object), then runs each stage in a fresh child process that samples its own
RSS every 50 ms in a thread (psutil; with ``--engine ray`` the Ray processes it started are
added). Two or more video lengths give the memory growth per indexed frame of each stage; the
100-hour figures are an EXTRAPOLATION from that slope, not a measurement.

    .venv/bin/python benchmarks/bench_memory.py                          # 10 and 40 minutes, local engine
    .venv/bin/python benchmarks/bench_memory.py --minutes 5 20 --engine ray
    .venv/bin/python benchmarks/bench_memory.py --minutes 10 180 --stages ingest    # a 3-hour video
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

FPS = 30
SIZE = (160, 120)
HOURS_TARGET = 100
STAGES = ("ingest", "embed", "select")
SELECTION = {"n_samples": 100, "strategies": [{"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY"}}]}


# -- the long video -------------------------------------------------------------------------
def make_long_video(path: Path, minutes: float) -> int:
    """Scenes of 10 s (one of 8 textured backgrounds) with a box crossing them; a few seconds of encoding per minute."""
    from framesift.video import synthetic

    width, height = SIZE
    backgrounds = [synthetic.textured_background(height, width, seed=s) for s in range(8)]
    n = int(minutes * 60 * FPS)

    def frames():  # type: ignore[no-untyped-def]
        for i in range(n):
            scene = (i // (10 * FPS)) * 5 % len(backgrounds)
            image = backgrounds[scene].copy()
            synthetic.draw_box(image, (i * 3) % (width - 20), 20 + (i // 7) % (height - 40), 20, 16, (230, 40, 40))
            yield image

    return synthetic.write_video(path, frames(), fps=FPS, quality=28)


# -- one stage in a child process ------------------------------------------------------------
class RssSampler:
    """RSS of this process (plus Ray's processes when asked) every ``interval`` seconds, in a thread."""

    def __init__(self, interval: float = 0.05, children: bool = False):
        import psutil

        self.process = psutil.Process()
        self.children = children
        self.interval = interval
        self.samples: list[tuple[float, int]] = []
        self.own_peak = 0  # this process alone (the driver, with --engine ray)
        # this process's anonymous memory (RSS minus file-backed pages such as memory-mapped
        # embeddings, which the kernel can drop and re-read): what really has to fit in RAM
        self.anon_peak = 0
        self._start = time.perf_counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def now(self) -> float:
        return time.perf_counter() - self._start

    def rss(self) -> int:
        info = self.process.memory_info()
        total = info.rss
        self.own_peak = max(self.own_peak, total)
        self.anon_peak = max(self.anon_peak, info.rss - info.shared)
        if self.children:
            for child in self.process.children(recursive=True):
                with contextlib.suppress(Exception):  # a worker may exit between listing and reading
                    total += child.memory_info().rss
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append((self.now(), self.rss()))
            self._stop.wait(self.interval)

    def window(self, start: float, end: float) -> np.ndarray:
        return np.array([rss for t, rss in self.samples if start <= t <= end])

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.samples.append((self.now(), self.rss()))


def run_stage(stage: str, video: Path, workspace: Path, engine: str) -> list[dict]:
    """Run one stage (as one or more phases) on a workspace holding the earlier stages."""
    from framesift.util.progress import set_progress

    set_progress(False)
    from framesift.config.loader import load_config
    from framesift.workspace import Workspace

    config = load_config({"selection_config": SELECTION, "framesift": {"embedder": "pixels", "embed_batch_size": 64,
                                                                        "engine": engine, "extract": False}})
    ws = Workspace.open(workspace)
    uses_ray = engine == "ray" and stage != "select"
    if uses_ray:
        import ray

        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    records = []
    with RssSampler(children=uses_ray) as sampler:
        for name, body in _phases(stage, ws, video, config):
            gc.collect()
            sampler.own_peak = sampler.anon_peak = 0
            before, start = sampler.rss(), sampler.now()
            anon_before = sampler.anon_peak
            frames, result = body()  # the result stays alive until measured: short phases end between samples
            end, after = sampler.now(), sampler.rss()
            del result
            rss = np.append(sampler.window(start, end), [before, after])
            times = np.linspace(start, end, len(rss))
            quarters = [int(rss[times <= start + q * (end - start)].max()) for q in (0.25, 0.5, 0.75, 1.0)]
            records.append({"stage": name, "frames": frames, "seconds": end - start, "baseline": before,
                            "peak": int(rss.max()), "peak_by_quarter": quarters, "driver_peak": sampler.own_peak,
                            "anon_before": anon_before, "anon_peak": sampler.anon_peak})
    return records


def _phases(stage: str, ws, video: Path, config) -> list:  # type: ignore[no-untyped-def]
    from framesift.embed import get_embedder

    embedder = get_embedder("pixels")
    if stage == "ingest":
        from framesift.pipeline.run import RunSummary, ingest_input

        def ingest() -> tuple[int, object]:
            summary = RunSummary(ws.root)
            ingest_input(ws, str(video), config, summary)
            return summary.ingest.frames_indexed, None

        return [("ingest", ingest)]
    if stage == "embed":
        if config.framesift.engine == "ray":
            from framesift.distributed.ray_engine import embed_stage

            return [("embed", lambda: (embed_stage(ws, embedder, config.framesift, {}).embedded_frames, None))]
        from framesift.pipeline.embed import embed_videos

        return [("embed", lambda: (embed_videos(ws, embedder, batch_size=64).embedded_frames, None))]
    from framesift.pipeline.frames import load_frame_table
    from framesift.pipeline.select import run_selection
    from framesift.store.embeddings import EmbeddingStore

    def table() -> tuple[int, object]:
        frames = load_frame_table(ws.catalog)
        return len(frames), frames

    def embeddings() -> tuple[int, object]:
        matrix = EmbeddingStore(ws, embedder.key).load(load_frame_table(ws.catalog).frame_id,
                                                       scratch_dir=ws.scratch_dir)  # as run_selection
        return len(matrix), matrix

    def selection() -> tuple[int, object]:
        outcome = run_selection(ws, config, embedder_key=embedder.key)
        return int(outcome.stats["n_input"]), outcome

    return [("select: load_frame_table", table), ("select: EmbeddingStore.load", embeddings),
            ("select: run_selection", selection)]


# -- driver ---------------------------------------------------------------------------------
def child(stage: str, video: Path, workspace: Path, engine: str) -> list[dict]:
    cmd = [sys.executable, __file__, "--child", stage, "--video", str(video), "--workspace", str(workspace),
           "--engine", engine]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])  # list of phase records


def mb(value: float) -> str:
    return f"{value / 2**20:,.0f}"


def report(results: dict[float, dict[str, dict]], engine: str) -> list[str]:
    minutes = sorted(results)
    lines = [f"engine: {engine}; video {SIZE[0]}x{SIZE[1]} at {FPS} fps; RSS in MiB"
             + (" (driver + the Ray processes it started)" if engine == "ray" else ""), "",
             "| stage | video | frames | time | frames/s | RSS before | peak RSS | peak − before | peak at 25/50/75/100 % of the stage "
             "| driver process peak | driver anonymous before → peak |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for m in minutes:
        for stage, r in results[m].items():
            quarters = " / ".join(mb(q) for q in r["peak_by_quarter"])
            lines.append(f"| {stage} | {m:g} min | {r['frames']:,} | {r['seconds']:.1f} s | {r['frames'] / r['seconds']:,.0f} "
                         f"| {mb(r['baseline'])} | {mb(r['peak'])} | {mb(r['peak'] - r['baseline'])} | {quarters} "
                         f"| {mb(r['driver_peak'])} | {mb(r['anon_before'])} → {mb(r['anon_peak'])} |")
    short, long_ = results[minutes[0]], results[minutes[-1]]
    frames_100h = HOURS_TARGET * 3600 * FPS
    lines += ["", f"EXTRAPOLATION to {HOURS_TARGET} h of video ({frames_100h:,} frames at {FPS} fps), linear in the "
              f"growth measured between {minutes[0]:g} and {minutes[-1]:g} min:", "",
              "| stage | growth per frame | extrapolated peak RSS at 100 h | anonymous growth per frame "
              "| extrapolated anonymous peak at 100 h | time at the measured rate, this machine |", "|---|---|---|---|---|---|"]
    for stage in short:
        a, b = short[stage], long_[stage]
        slope = ((b["peak"] - b["baseline"]) - (a["peak"] - a["baseline"])) / max(1, b["frames"] - a["frames"])
        extrapolated = b["peak"] + max(slope, 0.0) * (frames_100h - b["frames"])
        anon_slope = ((b["anon_peak"] - b["anon_before"]) - (a["anon_peak"] - a["anon_before"])) / max(1, b["frames"] - a["frames"])
        anon_100h = b["anon_peak"] + max(anon_slope, 0.0) * (frames_100h - b["frames"])
        hours = f"{frames_100h / (b['frames'] / b['seconds']) / 3600:,.1f} h" if stage in ("ingest", "embed") else "–"
        lines.append(f"| {stage} | {slope:,.0f} B | {extrapolated / 2**30:,.1f} GiB | {anon_slope:,.0f} B "
                     f"| {anon_100h / 2**30:,.1f} GiB | {hours} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, nargs="+", default=[10.0, 40.0], help="video lengths (two or more)")
    parser.add_argument("--engine", choices=["local", "ray"], default="local")
    parser.add_argument("--stages", choices=STAGES, nargs="+", default=list(STAGES), help="stages to run, in order")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "framesift-bench-memory",
                        help="where the generated videos are kept between runs")
    parser.add_argument("--child", choices=STAGES, help=argparse.SUPPRESS)
    parser.add_argument("--video", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--workspace", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_stage(args.child, args.video, args.workspace, args.engine)))  # read by child()
        return
    if len(args.minutes) < 2:
        parser.error("--minutes needs two lengths or more to measure growth")
    args.cache.mkdir(parents=True, exist_ok=True)
    results: dict[float, dict[str, dict]] = {}
    for minutes in args.minutes:
        video = args.cache / f"long-{minutes:g}min.mp4"
        if not video.exists():
            start = time.perf_counter()
            tmp = video.with_suffix(".part.mp4")
            n = make_long_video(tmp, minutes)
            os.replace(tmp, video)
            print(f"generated {video} ({n} frames) in {time.perf_counter() - start:.0f}s", file=sys.stderr)
        workspace = Path(tempfile.mkdtemp(prefix="bench-memory-"))
        try:
            results[minutes] = {}
            for stage in args.stages:
                for record in child(stage, video, workspace, args.engine):
                    results[minutes][record["stage"]] = record
                    print(f"{minutes:g} min: {record}", file=sys.stderr)
        finally:
            shutil.rmtree(workspace, ignore_errors=True)
    print("\n".join(report(results, args.engine)))


if __name__ == "__main__":
    main()
