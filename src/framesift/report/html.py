"""The self-contained HTML report: plotly figures with plotly.js inlined, images as data URIs.

Nothing is loaded from the network, so the file opens offline and can be mailed around.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from framesift.report.coverage import CoverageSection, TimelineSection
from framesift.report.images import data_uri
from framesift.report.sections import (
    ConfigSection,
    Distribution,
    DistributionSection,
    ExampleSection,
    MapsSection,
    NumericDistribution,
    SummarySection,
)

TEMPLATES = Path(__file__).with_name("templates")
SELECTED_COLOR = "#d62728"
OTHER_COLOR = "#9aa5b1"
SHOT_COLOR = "#7f7f7f"
SERIES_COLORS = {"input": "#9aa5b1", "selected": SELECTED_COLOR, "target": "#2ca02c"}
CURVE_COLORS = ["#1f77b4", "#ff7f0e", "#9467bd", "#8c564b", "#17becf", "#bcbd22", "#e377c2"]  # no red: red = picks
PLOT_CONFIG = {"displaylogo": False, "responsive": True}


def _fig_html(fig: Any) -> str:
    import plotly.io as pio

    fig.update_layout(template="none", margin={"l": 50, "r": 20, "t": 50, "b": 40}, font={"size": 12},
                      title={"x": 0.01, "xanchor": "left"})
    return pio.to_html(fig, full_html=False, include_plotlyjs=False, config=PLOT_CONFIG)


def map_figures(section: MapsSection) -> list[str]:
    import plotly.graph_objects as go

    out = []
    if section.maps is None:
        return out
    index = np.arange(len(section.positions))
    hover = np.array(section.hover, dtype=object)
    for emb_map in section.maps.maps:
        fig = go.Figure()
        for mask, name, color, size in ((~section.selected, "not selected", OTHER_COLOR, 5),
                                        (section.selected, "selected", SELECTED_COLOR, 8)):
            if mask.any():
                fig.add_trace(go.Scatter(
                    x=emb_map.coords[mask, 0], y=emb_map.coords[mask, 1], mode="markers", name=name,
                    marker={"color": color, "size": size, "opacity": 0.9 if name == "selected" else 0.5},
                    customdata=index[mask], hovertext=hover[mask], hoverinfo="text"))
        fig.update_layout(title=f"{emb_map.method} ({emb_map.detail})", height=460,
                          xaxis={"showticklabels": False, "zeroline": False},
                          yaxis={"showticklabels": False, "zeroline": False})
        out.append(_fig_html(fig))
    return out


def timeline_figures(section: TimelineSection) -> list[str]:
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    out = []
    for video in section.videos:
        fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.25, 0.75], vertical_spacing=0.04)
        x_pick, y_pick = _segments([t for t, _ in video.picks], 0.0, 1.0)
        fig.add_trace(go.Scatter(x=x_pick, y=y_pick, mode="lines", name="selected frame",
                                 line={"color": SELECTED_COLOR, "width": 1.5}, hoverinfo="skip"), row=1, col=1)
        fig.add_trace(go.Scatter(
            x=[t for t, _ in video.picks], y=[0.5] * len(video.picks), mode="markers", showlegend=False,
            marker={"color": SELECTED_COLOR, "size": 4}, hoverinfo="text",
            hovertext=[f"pick #{r + 1} at {t:.2f}s" for t, r in video.picks]), row=1, col=1)
        x_shot, y_shot = _segments(video.shots, 0.0, 1.0)
        fig.add_trace(go.Scatter(x=x_shot, y=y_shot, mode="lines", name="shot boundary",
                                 line={"color": SHOT_COLOR, "width": 1, "dash": "dash"}, hoverinfo="skip"),
                      row=1, col=1)
        for k, curve in enumerate(video.curves):
            fig.add_trace(go.Scatter(x=curve.x, y=curve.y, mode="lines", name=curve.label,
                                     line={"width": 1.2, "color": CURVE_COLORS[k % len(CURVE_COLORS)]}), row=2, col=1)
        fig.update_yaxes(showticklabels=False, range=[0, 1], row=1, col=1)
        fig.update_xaxes(title_text="time (s)", range=[0, max(video.end_s, 1e-3)], row=2, col=1)
        fig.update_layout(title=f"{video.name}: {len(video.picks)} picks, {len(video.shots) + 1} shots",
                          height=260, legend={"orientation": "h", "y": -0.3})
        out.append(_fig_html(fig))
    return out


def _segments(xs: list[float], y0: float, y1: float) -> tuple[list[float | None], list[float | None]]:
    """Vertical lines as one trace: x, x, None per line (compact for thousands of picks)."""
    x: list[float | None] = []
    y: list[float | None] = []
    for value in xs:
        x += [value, value, None]
        y += [y0, y1, None]
    return x, y


def distribution_figure(dist: Distribution) -> str:
    import plotly.graph_objects as go

    fig = go.Figure()
    series = [("input", dist.fractions(dist.input_counts), dist.input_counts),
              ("selected", dist.fractions(dist.selected_counts), dist.selected_counts)]
    if dist.target is not None:
        series.append(("target", dist.target, None))
    for name, values, counts in series:
        text = [f"{c:,}" for c in counts] if counts is not None else None
        fig.add_trace(go.Bar(x=dist.categories, y=values, name=name, marker_color=SERIES_COLORS[name],
                             hovertext=text, hovertemplate="%{x}: %{y:.1%} %{hovertext}<extra>" + name + "</extra>"))
    fig.update_layout(title=dist.title, barmode="group", height=320, yaxis={"tickformat": ".0%"})
    return _fig_html(fig)


def numeric_figure(dist: NumericDistribution) -> str:
    import plotly.graph_objects as go

    centers = (dist.edges[:-1] + dist.edges[1:]) / 2
    fig = go.Figure()
    for name, values in (("input", dist.input_fraction), ("selected", dist.selected_fraction)):
        fig.add_trace(go.Scatter(x=centers, y=values, name=name, mode="lines", line={"shape": "hvh", "width": 2,
                                                                                     "color": SERIES_COLORS[name]}))
    fig.update_layout(title=dist.title, height=260, yaxis={"tickformat": ".0%"})
    return _fig_html(fig)


def coverage_figure(section: CoverageSection) -> str:
    import plotly.graph_objects as go

    fig = go.Figure()
    centers = (section.edges[:-1] + section.edges[1:]) / 2
    for name, counts in section.counts.items():
        width = 3 if name == "this selection" else 1.5
        fig.add_trace(go.Scatter(x=centers, y=counts, mode="lines", name=name, line={"shape": "hvh", "width": width}))
    fig.update_layout(title=f"distance of every frame to its nearest selected frame ({section.metric})",
                      xaxis={"title": {"text": "distance"}}, yaxis={"title": {"text": "frames"}}, height=380)
    return _fig_html(fig)


def render_html(
    *, title: str, summary: SummarySection, maps: MapsSection, timelines: TimelineSection,
    distributions: DistributionSection, coverage: CoverageSection, examples: ExampleSection,
    config: ConfigSection, notes: list[str],
) -> str:
    import jinja2
    from plotly.offline import get_plotlyjs

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined)
    env.filters["num"] = _num
    template = env.get_template("report.html")
    return template.render(
        title=title,
        plotly_js=get_plotlyjs(),
        summary=summary,
        maps=maps,
        map_figures=map_figures(maps),
        thumbs_json=json.dumps({str(k): v for k, v in maps.thumbs.items()}).replace("</", "<\\/"),
        timelines=timelines,
        timeline_figures=timeline_figures(timelines),
        distributions=distributions,
        class_figures=[(d, distribution_figure(d)) for d in distributions.classes],
        metadata_figures=[(d, distribution_figure(d)) for d in distributions.metadata],
        numeric_figures=[numeric_figure(d) for d in distributions.numeric],
        coverage=coverage,
        coverage_figure=coverage_figure(coverage) if coverage.methods else "",
        examples=examples,
        example_images={label: [(e, data_uri(e.jpeg)) for e in group] for label, group in examples.groups.items()},
        config=config,
        notes=notes,
    )


def _num(value: Any, digits: int = 3) -> str:
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    if isinstance(value, float | np.floating):
        if math.isnan(value):
            return "n/a"
        if math.isinf(value):
            return "∞"
        return f"{value:.{digits}g}"
    return str(value)
