"""Build report.html and report.pdf for one run: gather data once, compute every section, render twice."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path

from framesift.report.coverage import coverage_section, timeline_section
from framesift.report.data import load_report_data
from framesift.report.html import render_html
from framesift.report.pdf import write_pdf
from framesift.report.sections import (
    config_section,
    distribution_section,
    example_section,
    maps_section,
    summary_section,
)
from framesift.util.atomic import write_text
from framesift.workspace import Workspace

log = logging.getLogger(__name__)

HTML_NAME = "report.html"
PDF_NAME = "report.pdf"


def build_report(
    workspace: Workspace, run_name: str, *, maps: str | Sequence[str] = "auto", html: bool = True, pdf: bool = True,
) -> list[Path]:
    """Write the run's report files into its run folder; returns the paths written.

    ``maps``: "auto" (PCA + t-SNE, and UMAP from 1,000 points on) or a list of pca/umap/tsne.
    """
    start = time.perf_counter()
    data = load_report_data(workspace, run_name)
    notes = []
    if data.run.status != "done":
        notes.append(f"run status is '{data.run.status}': the report shows what was recorded")
    if data.missing_selected:
        notes.append(f"{data.missing_selected} selected frames are no longer indexed (video removed or reindexed)")
    title = f"framesift selection report: {data.run.name}"
    coverage = coverage_section(data)
    sections = {
        "summary": summary_section(data),
        "maps": maps_section(data, maps, thumbnails=html),
        "timelines": timeline_section(data, coverage),
        "distributions": distribution_section(data),
        "coverage": coverage,
        "examples": example_section(data),
        "config": config_section(data),
    }
    run_dir = workspace.run_dir(data.run.name)
    written = []
    if html:
        path = run_dir / HTML_NAME
        write_text(path, render_html(title=title, notes=notes, **sections))
        written.append(path)
    if pdf:
        path = run_dir / PDF_NAME
        write_pdf(path, title=title, notes=notes, **sections)
        written.append(path)
    log.info("report for %s built in %.1fs", data.run.name, time.perf_counter() - start)
    return written
