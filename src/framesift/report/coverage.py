"""Section 5 (what the selection bought) and section 3 (where in time it picked).

Coverage compares the run's picks with a seeded random pick and a uniform-fps pick of the same
size: distance of every embedded frame to its nearest picked frame, as histogram and summary.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from framesift.report import metrics
from framesift.report.data import ReportData

MAX_EVAL_FRAMES = 200_000  # above this, distances are measured on a seeded sample of frames
MAX_TIMELINE_VIDEOS = 40
MAX_CURVE_POINTS = 1500

SELECTION = "this selection"
RANDOM = "random"
UNIFORM = "uniform fps"
BEFORE = "before (earlier runs)"


@dataclass
class CoverageSection:
    metric: str
    n_picks: int
    methods: dict[str, metrics.DistanceSummary] = field(default_factory=dict)
    edges: np.ndarray = field(default_factory=lambda: np.zeros(0))
    counts: dict[str, np.ndarray] = field(default_factory=dict)
    eval_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # embedding rows measured
    after: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))  # distances of eval_rows
    notes: list[str] = field(default_factory=list)


def corruption_threshold(config: dict) -> float:
    check = (config.get("worker_config") or {}).get("corruptness_check") or {}
    return float(check.get("corruption_threshold", 0.9))


def coverage_section(data: ReportData, *, metric: str = "euclidean", seed: int = 0) -> CoverageSection:
    section = CoverageSection(metric=metric, n_picks=0)
    if data.embeddings is None or len(data.embedded) == 0:
        section.notes.append("no embeddings for this run's embedder: coverage cannot be measured")
        return section
    table = data.table
    row_of = np.full(len(table), -1, np.int64)
    row_of[data.embedded] = np.arange(len(data.embedded))
    picks = row_of[data.selected]
    picks = picks[picks >= 0]
    earlier = row_of[data.earlier]
    earlier = np.setdiff1d(earlier[earlier >= 0], picks)
    section.n_picks = len(picks)
    if len(picks) == 0:
        section.notes.append("the run selected no embedded frames")
    n = len(data.embedded)
    corrupt = table.stats["uniform_row_ratio"][data.embedded] > corruption_threshold(data.run.config)
    eval_rows = np.flatnonzero(~corrupt)  # blank/corrupt frames can never be picked: measuring them says nothing
    if corrupt.any():
        section.notes.append(f"{int(corrupt.sum()):,} blank/corrupt frames are not measured (they cannot be picked)")
    if len(eval_rows) > MAX_EVAL_FRAMES:
        eval_rows = np.sort(np.random.default_rng(seed).choice(eval_rows, MAX_EVAL_FRAMES, replace=False))
        section.notes.append(f"distances measured on a random sample of {MAX_EVAL_FRAMES:,} of {n:,} frames")
    vid = table.video_id[data.embedded]
    t = table.time_s[data.embedded]
    pool = ~corrupt
    pool[earlier] = False
    k = len(picks)
    choices = {SELECTION: picks,
               RANDOM: metrics.random_selection(n, k, seed=seed, candidates=pool),
               UNIFORM: metrics.uniform_time_selection(vid, t, k, candidates=pool)}
    points = data.embeddings[eval_rows] if len(eval_rows) < n else data.embeddings
    series: dict[str, np.ndarray] = {}
    if len(earlier):
        series[BEFORE] = metrics.nearest_distances(points, data.embeddings[earlier], metric=metric)
    else:
        section.notes.append("no frames were selected before this run: before it, no frame was covered")
    for name, rows in choices.items():
        centers = np.concatenate([earlier, rows]) if len(earlier) else rows
        series[name] = metrics.nearest_distances(points, data.embeddings[np.sort(centers)], metric=metric)
    if len(earlier):
        section.notes.append(f"every method also keeps the {len(earlier):,} frames picked by earlier runs")
    section.methods = {name: metrics.summarize_distances(d) for name, d in series.items()}
    section.edges, section.counts = metrics.shared_histogram(series)
    section.eval_rows = eval_rows
    section.after = series[SELECTION]
    return section


@dataclass
class Curve:
    label: str
    x: np.ndarray
    y: np.ndarray


@dataclass
class VideoTimeline:
    video_id: int
    name: str
    end_s: float
    picks: list[tuple[float, int]]  # (time_s, rank)
    shots: list[float]  # start time of every shot after the first
    curves: list[Curve]


@dataclass
class TimelineSection:
    videos: list[VideoTimeline]
    notes: list[str] = field(default_factory=list)


def timeline_section(data: ReportData, coverage: CoverageSection) -> TimelineSection:
    table = data.table
    ranks = np.full(len(table), -1, np.int64)
    ranks[data.selected] = np.arange(len(data.selected))
    distance = np.full(len(table), np.nan)
    if len(coverage.after):
        distance[data.embedded[coverage.eval_rows]] = coverage.after
    video_ids = list(dict.fromkeys(table.video_id.tolist()))
    section = TimelineSection([])
    if len(video_ids) > MAX_TIMELINE_VIDEOS:
        counts = {v: int(np.sum(table.video_id[data.selected] == v)) for v in video_ids}
        video_ids = sorted(video_ids, key=lambda v: -counts[v])[:MAX_TIMELINE_VIDEOS]
        section.notes.append(f"timelines of the {MAX_TIMELINE_VIDEOS} videos with the most picks "
                             f"(of {len(counts)})")
    for v in video_ids:
        rows = np.flatnonzero(table.video_id == v)
        rows = rows[np.argsort(table.time_s[rows], kind="stable")]
        t = table.time_s[rows]
        shot = table.shot_id[rows]
        boundaries = [float(t[i]) for i in range(1, len(rows)) if shot[i] != shot[i - 1]]
        picked = rows[ranks[rows] >= 0]
        curves = []
        if np.isfinite(distance[rows]).any():
            curves.append(Curve(f"distance to nearest pick ({coverage.metric})",
                                *metrics.downsample_max(t, distance[rows], MAX_CURVE_POINTS)))
        for name, values in data.scores.items():
            if np.isfinite(values[rows]).any():
                curves.append(Curve(name, *metrics.downsample_max(t, values[rows], MAX_CURVE_POINTS)))
        section.videos.append(VideoTimeline(
            video_id=int(v), name=table.video_names[int(v)], end_s=float(t[-1]) if len(t) else 0.0,
            picks=sorted((float(table.time_s[p]), int(ranks[p])) for p in picked),
            shots=boundaries, curves=curves,
        ))
    if not data.scores:
        section.notes.append("no per-frame scores in the catalog (run `framesift predict` for uncertainty curves)")
    return section
