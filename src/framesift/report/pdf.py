"""The PDF report: the same sections as the HTML, drawn with matplotlib on A4 landscape pages.

Figures are built with ``matplotlib.figure.Figure`` (no pyplot state), so building a report
never opens a window or changes the caller's backend.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from framesift.report.coverage import CoverageSection, TimelineSection
from framesift.report.html import CURVE_COLORS, OTHER_COLOR, SELECTED_COLOR, SERIES_COLORS, SHOT_COLOR
from framesift.report.images import decode_jpeg
from framesift.report.sections import (
    ConfigSection,
    Distribution,
    DistributionSection,
    ExampleSection,
    MapsSection,
    SummarySection,
)
from framesift.util.atomic import atomic_path

PAGE = (11.69, 8.27)  # A4 landscape, inches
LINES_PER_PAGE = 57
TIMELINES_PER_PAGE = 6
DISTRIBUTIONS_PER_PAGE = 4


def _page(title: str) -> Any:
    from matplotlib.figure import Figure

    fig = Figure(figsize=PAGE)
    fig.suptitle(title, x=0.03, y=0.975, ha="left", fontsize=14, fontweight="bold")
    return fig


def _text_pages(title: str, lines: list[str], *, fontsize: float = 7.5) -> Iterator[Any]:
    per_page = int(LINES_PER_PAGE * 7.5 / fontsize)
    width = int(150 * 7.5 / fontsize)
    wrapped = [part for line in lines for part in (textwrap.wrap(line, width, subsequent_indent="    ") or [""])]
    for start in range(0, max(len(wrapped), 1), per_page):
        fig = _page(title if start == 0 else f"{title} (continued)")
        fig.text(0.03, 0.93, "\n".join(wrapped[start : start + per_page]), va="top", ha="left",
                 family="monospace", fontsize=fontsize)
        yield fig


def summary_pages(title: str, summary: SummarySection, notes: list[str]) -> Iterator[Any]:
    lines = [title, ""]
    width = max(len(label) for label in summary.labels.values())
    lines += [f"{summary.labels[k]:<{width}}  {v:,}" if isinstance(v, int) else f"{summary.labels[k]:<{width}}  {v}"
              for k, v in summary.counts.items()]
    lines += ["", f"blank/corrupt frames: {summary.corrupt_reason}"]
    lines += [f"  removed by {label}: {count:,}" for label, count in summary.filtered.items()]
    lines += [f"  {v} frame {i} at {t:.2f}s (uniform-row ratio {r:.3f})" for v, i, t, r in summary.corrupt_examples]
    lines += ["", "videos skipped:"] + ([f"  {p}: {r}" for p, r in summary.skipped_videos] or ["  none"])
    lines += ["", "time per stage:"] + ([f"  {k:<10} {v:8.2f} s" for k, v in summary.timings.items()] or ["  not recorded"])
    if notes:
        lines += ["", "notes:"] + [f"  {n}" for n in notes]
    yield from _text_pages("1 Dataset summary", lines, fontsize=10)


def map_page(section: MapsSection) -> Iterator[Any]:
    fig = _page("2 Embedding maps (selected frames in red)")
    maps = section.maps.maps if section.maps else []
    if not maps:
        fig.text(0.05, 0.85, "\n".join(section.notes) or "no maps", va="top", fontsize=10)
        yield fig
        return
    axes = fig.subplots(1, len(maps), squeeze=False)[0]
    for ax, emb_map in zip(axes, maps, strict=True):
        other = ~section.selected
        ax.scatter(emb_map.coords[other, 0], emb_map.coords[other, 1], s=4, c=OTHER_COLOR, alpha=0.5,
                   label="not selected", linewidths=0)
        ax.scatter(emb_map.coords[section.selected, 0], emb_map.coords[section.selected, 1], s=12,
                   c=SELECTED_COLOR, label="selected", linewidths=0)
        ax.set_title(f"{emb_map.method} ({emb_map.detail})", fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
    axes[0].legend(loc="best", fontsize=8)
    if section.notes:
        fig.text(0.03, 0.03, "; ".join(section.notes), fontsize=8, color="#555")
    yield fig


def timeline_pages(section: TimelineSection) -> Iterator[Any]:
    videos = section.videos
    if not videos:
        yield from _text_pages("3 Video sampling density", ["no videos", *section.notes])
        return
    for start in range(0, len(videos), TIMELINES_PER_PAGE):
        chunk = videos[start : start + TIMELINES_PER_PAGE]
        fig = _page("3 Video sampling density (red: selected, dashed: shot boundary)")
        axes = fig.subplots(len(chunk), 1, squeeze=False)[:, 0]
        for ax, video in zip(axes, chunk, strict=True):
            for k, curve in enumerate(video.curves):
                ax.plot(curve.x, curve.y, lw=0.9, label=curve.label, color=CURVE_COLORS[k % len(CURVE_COLORS)])
            for t, _ in video.picks:
                ax.axvline(t, color=SELECTED_COLOR, lw=0.8, alpha=0.8)
            for t in video.shots:
                ax.axvline(t, color=SHOT_COLOR, lw=0.8, ls="--")
            ax.set_xlim(0, max(video.end_s, 1e-3))
            ax.set_title(f"{video.name}: {len(video.picks)} picks, {len(video.shots) + 1} shots", fontsize=9, loc="left")
            ax.tick_params(labelsize=7)
            if video.curves:
                ax.legend(loc="upper right", fontsize=6)
        axes[-1].set_xlabel("time (s)", fontsize=8)
        if start == 0 and section.notes:
            fig.text(0.03, 0.01, "; ".join(section.notes), fontsize=7, color="#555")
        fig.subplots_adjust(hspace=0.6, top=0.92, bottom=0.07)
        yield fig


def distribution_pages(section: DistributionSection) -> Iterator[Any]:
    items: list[Distribution] = section.classes + section.metadata
    for start in range(0, len(items), DISTRIBUTIONS_PER_PAGE):
        chunk = items[start : start + DISTRIBUTIONS_PER_PAGE]
        fig = _page("4 Class and metadata distribution: input vs selected vs target")
        axes = fig.subplots(len(chunk), 1, squeeze=False)[:, 0]
        for ax, dist in zip(axes, chunk, strict=True):
            series = [("input", dist.fractions(dist.input_counts)), ("selected", dist.fractions(dist.selected_counts))]
            if dist.target is not None:
                series.append(("target", dist.target))
            x = np.arange(len(dist.categories))
            width = 0.8 / len(series)
            for k, (name, values) in enumerate(series):
                ax.bar(x + (k - (len(series) - 1) / 2) * width, values, width, label=name, color=SERIES_COLORS[name])
            ax.set_xticks(x, [c[:18] for c in dist.categories], fontsize=7, rotation=30 if len(x) > 6 else 0)
            ax.set_title(dist.title + (f" — {dist.note}" if dist.note else ""), fontsize=9, loc="left")
            ax.tick_params(axis="y", labelsize=7)
            ax.legend(fontsize=7)
        if start == 0 and section.notes:
            fig.text(0.03, 0.01, "; ".join(section.notes), fontsize=8, color="#555")
        fig.subplots_adjust(hspace=0.7, top=0.9, bottom=0.08)
        yield fig
    if section.numeric:
        fig = _page("4 Frame statistics: share of frames per bin, input vs selected")
        cols = min(4, len(section.numeric))
        rows = -(-len(section.numeric) // cols)
        axes = fig.subplots(rows, cols, squeeze=False).ravel()
        for ax, dist in zip(axes, section.numeric, strict=False):
            centers = (dist.edges[:-1] + dist.edges[1:]) / 2
            ax.step(centers, dist.input_fraction, where="mid", color=SERIES_COLORS["input"], label="input")
            ax.step(centers, dist.selected_fraction, where="mid", color=SERIES_COLORS["selected"], label="selected")
            ax.set_title(dist.title, fontsize=9)
            ax.tick_params(labelsize=7)
        for ax in axes[len(section.numeric) :]:
            ax.set_visible(False)
        axes[0].legend(fontsize=7)
        fig.subplots_adjust(hspace=0.5)
        yield fig
    if not items and not section.numeric:
        yield from _text_pages("4 Class and metadata distribution", section.notes or ["nothing to show"])


def coverage_page(section: CoverageSection) -> Iterator[Any]:
    fig = _page(f"5 What the selection bought: distance to the nearest selected frame ({section.metric})")
    if not section.methods:
        fig.text(0.05, 0.85, "\n".join(section.notes), va="top", fontsize=10)
        yield fig
        return
    ax = fig.add_axes((0.06, 0.42, 0.88, 0.48))
    centers = (section.edges[:-1] + section.edges[1:]) / 2
    for name, counts in section.counts.items():
        ax.step(centers, counts, where="mid", lw=2.5 if name == "this selection" else 1.2, label=name)
    ax.set_xlabel("distance")
    ax.set_ylabel("frames")
    ax.legend(fontsize=8)
    table_ax = fig.add_axes((0.06, 0.06, 0.88, 0.26))
    table_ax.axis("off")
    rows = [[name, f"{s.n:,}", f"{s.mean:.4g}", f"{s.p50:.4g}", f"{s.p90:.4g}", f"{s.max:.4g}"]
            for name, s in section.methods.items()]
    table = table_ax.table(cellText=rows, colLabels=["method", "frames", "mean", "median", "p90", "max (covering radius)"],
                           loc="upper center", cellLoc="right")
    table.auto_set_font_size(False)
    table.set_fontsize(8)
    fig.text(0.06, 0.015, f"{section.n_picks:,} picks per method. " + " ".join(section.notes), fontsize=7, color="#555")
    yield fig


def example_pages(section: ExampleSection) -> Iterator[Any]:
    if not section.groups:
        yield from _text_pages("6 Examples of selected frames", section.notes or ["no examples"])
        return
    for label, examples in section.groups.items():
        fig = _page(f"6 Examples: {label} ({section.group_sizes[label]:,} picks)")
        cols = 3
        rows = max(1, -(-len(examples) // cols))
        axes = fig.subplots(rows, cols, squeeze=False).ravel()
        for ax, example in zip(axes, examples, strict=False):
            ax.imshow(decode_jpeg(example.jpeg))
            ax.set_title("\n".join(textwrap.wrap(example.caption, 60)[:2]), fontsize=7)
            ax.axis("off")
        for ax in axes[len(examples) :]:
            ax.set_visible(False)
        if section.notes:
            fig.text(0.03, 0.01, "; ".join(section.notes), fontsize=7, color="#555")
        yield fig


def config_pages(config: ConfigSection) -> Iterator[Any]:
    lines = [f"framesift version: {config.version}"] + [f"{k}: {v}" for k, v in config.run.items()]
    yield from _text_pages("7 Config and version", [*lines, "", "exact config used:", *config.config_json.splitlines()])


def write_pdf(
    path: Path, *, title: str, summary: SummarySection, maps: MapsSection, timelines: TimelineSection,
    distributions: DistributionSection, coverage: CoverageSection, examples: ExampleSection,
    config: ConfigSection, notes: list[str],
) -> None:
    from matplotlib.backends.backend_pdf import PdfPages

    pages = [summary_pages(title, summary, notes), map_page(maps), timeline_pages(timelines),
             distribution_pages(distributions), coverage_page(coverage), example_pages(examples), config_pages(config)]
    metadata = {"Title": title, "Creator": f"framesift {config.version}"}
    with atomic_path(path) as tmp, PdfPages(tmp, metadata=metadata) as pdf:
        for generator in pages:
            for fig in generator:
                pdf.savefig(fig)
