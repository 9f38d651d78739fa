"""Content of the report sections, computed once and rendered by both the HTML and PDF writers.

1 summary, 2 embedding maps, 4 distributions, 6 examples, 7 config live here; 3 timelines and
5 coverage in :mod:`framesift.report.coverage`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from framesift import __version__
from framesift.report import metrics
from framesift.report.coverage import corruption_threshold
from framesift.report.data import ReportData, load_boxes
from framesift.report.images import data_uri, draw_boxes, frame_jpegs
from framesift.report.projection import MapSet, build_maps

MAX_THUMBS = 1500
THUMB_WIDTH = 96
EXAMPLE_WIDTH = 320
EXAMPLES_PER_GROUP = 6
MAX_CATEGORIES = 20
STAGES = ("ingest", "embed", "select", "extract")


# -- 1 summary --------------------------------------------------------------------------------
@dataclass
class SummarySection:
    counts: dict[str, Any]  # key -> value, also written into the HTML as data-key attributes
    labels: dict[str, str]
    skipped_videos: list[tuple[str, str]]  # (path, reason)
    corrupt_reason: str
    corrupt_examples: list[tuple[str, int, float, float]]  # (video, frame_index, time_s, uniform_row_ratio)
    filtered: dict[str, int]
    timings: dict[str, float]


def summary_section(data: ReportData) -> SummarySection:
    stats = data.run.stats
    table = data.table
    threshold = corruption_threshold(data.run.config)
    corrupt = np.flatnonzero(table.stats["uniform_row_ratio"] > threshold)
    skipped: dict[str, str] = {v["path"]: v["error"] or "unreadable" for v in data.videos if v["status"] == "failed"}
    for path, reason in (stats.get("ingest_failed") or {}).items():
        skipped.setdefault(path, str(reason))
    counts: dict[str, Any] = {
        "videos": sum(1 for v in data.videos if v["status"] == "ingested"),
        "videos_skipped": len(skipped),
        "frames_indexed": len(table),
        "frames_embedded": len(data.embedded),
        "corrupt_skipped": int(stats.get("corrupt_skipped", len(corrupt))),
        "labeled_excluded": int(stats.get("labeled_excluded", 0)),
        "preselected": int(stats.get("preselected", len(data.earlier))),
        "n_input": stats.get("n_input", "n/a"),
        "n_candidates": stats.get("n_candidates", "n/a"),
        "frames_selected": len(data.selected) + data.missing_selected,
        "stop_reason": stats.get("stop_reason") or "n/a",
    }
    labels = {
        "videos": "videos indexed",
        "videos_skipped": "videos skipped (unreadable)",
        "frames_indexed": "frames indexed",
        "frames_embedded": f"frames embedded ({data.run.embedder or 'no embedder'})",
        "corrupt_skipped": "frames skipped as blank/corrupt",
        "labeled_excluded": "frames skipped as already labeled",
        "preselected": "frames picked by earlier runs",
        "n_input": "frames given to the selection",
        "n_candidates": "candidates after filters",
        "frames_selected": "frames selected",
        "stop_reason": "stop reason",
    }
    timings = {k: float(v) for k, v in (stats.get("timings") or {}).items() if isinstance(v, int | float)}
    if "select" not in timings and isinstance(stats.get("select_seconds"), int | float):
        timings["select"] = float(stats["select_seconds"])
    ordered = {k: timings[k] for k in STAGES if k in timings} | {k: v for k, v in timings.items() if k not in STAGES}
    return SummarySection(
        counts=counts,
        labels=labels,
        skipped_videos=sorted(skipped.items()),
        corrupt_reason=f"uniform-row ratio above {threshold:g} (blank, frozen or half-decoded frame)",
        corrupt_examples=[
            (table.video_names[int(table.video_id[p])], int(table.frame_index[p]), float(table.time_s[p]),
             float(table.stats["uniform_row_ratio"][p]))
            for p in corrupt[:20]
        ],
        filtered={str(k): int(v) for k, v in (stats.get("filtered") or {}).items()},
        timings=ordered,
    )


# -- 2 maps -----------------------------------------------------------------------------------
@dataclass
class MapsSection:
    maps: MapSet | None
    positions: np.ndarray  # frame-table position of every drawn point
    selected: np.ndarray  # bool per drawn point
    hover: list[str]  # text per drawn point
    thumbs: dict[int, str] = field(default_factory=dict)  # drawn point -> data URI
    notes: list[str] = field(default_factory=list)


def maps_section(
    data: ReportData, methods: str | Sequence[str] = "auto", *, thumbnails: bool = True
) -> MapsSection:
    empty = np.zeros(0, np.int64)
    if data.embeddings is None or len(data.embedded) == 0:
        return MapsSection(None, empty, np.zeros(0, bool), [], notes=["no embeddings: no maps"])
    row_of = np.full(len(data.table), -1, np.int64)
    row_of[data.embedded] = np.arange(len(data.embedded))
    picks = row_of[data.selected]
    maps = build_maps(data.embeddings, picks[picks >= 0], methods)
    positions = data.embedded[maps.rows]
    rank = np.full(len(data.table), -1, np.int64)
    rank[data.selected] = np.arange(len(data.selected))
    table = data.table
    hover = [
        f"{table.video_names[int(table.video_id[p])]} frame {int(table.frame_index[p])} "
        f"t={table.time_s[p]:.2f}s" + (f" · pick #{rank[p] + 1}" if rank[p] >= 0 else "")
        for p in positions
    ]
    section = MapsSection(maps, positions, rank[positions] >= 0, hover, notes=list(maps.notes))
    if thumbnails and maps.maps:
        shown = list(range(min(MAX_THUMBS, len(positions))))  # selected frames come first in the sample
        jpegs, notes = frame_jpegs(data, [int(positions[i]) for i in shown], THUMB_WIDTH, quality=65)
        section.thumbs = {i: data_uri(jpegs[int(positions[i])]) for i in shown if int(positions[i]) in jpegs}
        section.notes.extend(notes)
        if len(positions) > MAX_THUMBS:
            section.notes.append(f"hover thumbnails for {MAX_THUMBS:,} of {len(positions):,} points")
    return section


# -- 4 distributions --------------------------------------------------------------------------
@dataclass
class Distribution:
    title: str
    categories: list[str]
    input_counts: list[int]
    selected_counts: list[int]
    target: list[float] | None  # fraction per category, when a BALANCE strategy sets one
    note: str = ""

    def fractions(self, counts: Sequence[float]) -> list[float]:
        total = float(sum(counts))
        return [c / total if total else 0.0 for c in counts]


@dataclass
class NumericDistribution:
    title: str
    edges: np.ndarray
    input_fraction: np.ndarray
    selected_fraction: np.ndarray


@dataclass
class DistributionSection:
    classes: list[Distribution]
    metadata: list[Distribution]
    numeric: list[NumericDistribution]
    notes: list[str] = field(default_factory=list)


def balance_targets(config: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """BALANCE strategies of the run's selection_config: ('PREDICTIONS', task) / ('METADATA', key) -> strategy."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    selection = config.get("selection_config") or config
    for item in selection.get("strategies") or []:
        strategy = item.get("strategy") or {}
        source = item.get("input") or {}
        if str(strategy.get("type", "")).upper() != "BALANCE":
            continue
        kind = str(source.get("type", "")).upper()
        key = source.get("task") if kind == "PREDICTIONS" else source.get("key")
        if key is not None:
            out[(kind, str(key))] = strategy
    return out


def distribution_section(data: ReportData) -> DistributionSection:
    targets = balance_targets(data.run.config)
    selected = np.zeros(len(data.table), bool)
    selected[data.selected] = True
    section = DistributionSection([], [], [])
    for task in data.predictions:
        in_sel = selected[task.positions]
        unit = "boxes" if task.task_type != "classification" else "frames"
        note = (f"{unit} per class; {int(task.predicted.sum()):,} of {len(data.table):,} frames have predictions, "
                f"{int((task.predicted & selected).sum()):,} of {int(selected.sum()):,} selected")
        section.classes.append(_distribution(
            f"{task.name} ({task.task_type})", task.classes, task.classes[in_sel],
            targets.get(("PREDICTIONS", task.name)), task.categories, note))
    if not data.predictions:
        section.notes.append("no predictions in the catalog: no class distribution "
                             "(run `framesift predict` or import predictions)")
    table = data.table
    video_names = np.array([table.video_names[int(v)] for v in table.video_id], dtype=object)
    categorical = {"video_name": video_names} | {
        k: v for k, v in data.metadata.items() if v.dtype == object
    }
    for key, values in categorical.items():
        strategy = targets.get(("METADATA", key)) or (targets.get(("METADATA", "lightly.video_name"))
                                                      if key == "video_name" else None)
        section.metadata.append(_distribution(key, values, values[selected], strategy, None, ""))
    numeric = {k: table.stats[k] for k in ("sharpness", "brightness", "contrast", "uniform_row_ratio")}
    numeric |= {k: v.astype(np.float64) for k, v in data.metadata.items() if v.dtype != object}
    for key, values in list(numeric.items())[:8]:
        finite = np.isfinite(values)
        if not finite.any():
            continue
        lo, hi = float(values[finite].min()), float(values[finite].max())
        edges = np.linspace(lo, hi if hi > lo else lo + 1.0, 21)
        all_hist = np.histogram(values[finite], edges)[0]
        sel_hist = np.histogram(values[finite & selected], edges)[0]
        section.numeric.append(NumericDistribution(
            key, edges, all_hist / max(all_hist.sum(), 1), sel_hist / max(sel_hist.sum(), 1)))
    return section


def _distribution(
    title: str, values: np.ndarray, selected_values: np.ndarray, strategy: dict[str, Any] | None,
    categories: list[str] | None, note: str,
) -> Distribution:
    input_counts = metrics.count_values(values)
    selected_counts = metrics.count_values(selected_values)
    names = list(input_counts) + [c for c in (categories or []) if c not in input_counts]
    target = None
    if strategy is not None:
        target = metrics.target_distribution(
            names, metrics.fractions(input_counts), target=strategy.get("target"),
            distribution=strategy.get("distribution"))
        if target is None:
            note = (note + "; " if note else "") + "BALANCE strategy without a target"
    if len(names) > MAX_CATEGORIES:  # keep the most frequent, merge the rest
        head, tail = names[: MAX_CATEGORIES - 1], names[MAX_CATEGORIES - 1 :]
        other = f"other ({len(tail)})"
        merged_in = {c: input_counts.get(c, 0) for c in head} | {other: sum(input_counts.get(c, 0) for c in tail)}
        merged_sel = {c: selected_counts.get(c, 0) for c in head} | {
            other: sum(selected_counts.get(c, 0) for c in tail)}
        if target is not None:
            target = {c: target.get(c, 0.0) for c in head} | {other: sum(target.get(c, 0.0) for c in tail)}
        names, input_counts, selected_counts = [*head, other], merged_in, merged_sel
    return Distribution(
        title=title,
        categories=names,
        input_counts=[int(input_counts.get(c, 0)) for c in names],
        selected_counts=[int(selected_counts.get(c, 0)) for c in names],
        target=[float(target.get(c, 0.0)) for c in names] if target is not None else None,
        note=note,
    )


# -- 6 examples -------------------------------------------------------------------------------
@dataclass
class Example:
    position: int
    rank: int
    caption: str
    n_boxes: int
    jpeg: bytes


@dataclass
class ExampleSection:
    groups: dict[str, list[Example]]  # strategy label -> examples, best ranks first
    group_sizes: dict[str, int]  # strategy label -> number of picks it contributed most to
    notes: list[str] = field(default_factory=list)


def example_section(data: ReportData, per_group: int = EXAMPLES_PER_GROUP) -> ExampleSection:
    contributors = metrics.top_contributors(data.objectives)
    by_group: dict[str, list[int]] = {}
    for i, label in enumerate(contributors):
        by_group.setdefault(label or "no objectives recorded", []).append(i)
    by_group = dict(sorted(by_group.items(), key=lambda kv: -len(kv[1])))
    section = ExampleSection({}, {k: len(v) for k, v in by_group.items()})
    if not len(data.selected):
        section.notes.append("the run selected no frames")
        return section
    chosen = {label: picks[:per_group] for label, picks in by_group.items()}
    wanted = [int(data.selected[i]) for picks in chosen.values() for i in picks]
    jpegs, notes = frame_jpegs(data, wanted, EXAMPLE_WIDTH, quality=85, desc="examples")
    section.notes.extend(notes)
    table = data.table
    boxes = load_boxes(data.catalog, [int(table.frame_id[p]) for p in wanted])
    if not data.predictions:
        section.notes.append("no predictions: frames are shown without boxes")
    for label, picks in chosen.items():
        examples = []
        for i in picks:
            p = int(data.selected[i])
            if p not in jpegs:
                continue
            frame_boxes = boxes.get(int(table.frame_id[p]), [])
            video = data.video(int(table.video_id[p]))
            image = draw_boxes(jpegs[p], frame_boxes, int(video["width"] or EXAMPLE_WIDTH)) if frame_boxes else jpegs[p]
            scores = ", ".join(f"{k} {v:.3g}" for k, v in data.objectives[i].items())
            caption = (f"#{i + 1} {video['name']} frame {int(table.frame_index[p])} t={table.time_s[p]:.2f}s"
                       + (f" · {len(frame_boxes)} boxes" if frame_boxes else "") + (f" · {scores}" if scores else ""))
            examples.append(Example(p, i, caption, len(frame_boxes), image))
        section.groups[label] = examples
    return section


# -- 7 config ---------------------------------------------------------------------------------
@dataclass
class ConfigSection:
    version: str
    run: dict[str, Any]
    config_json: str


def config_section(data: ReportData) -> ConfigSection:
    run = data.run
    return ConfigSection(
        version=__version__,
        run={"name": run.name, "status": run.status, "created": run.created_at, "finished": run.finished_at,
             "embedder": run.embedder, "workspace": str(data.workspace.root)},
        config_json=json.dumps(run.config, indent=2, sort_keys=True),
    )
