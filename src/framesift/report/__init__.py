"""Selection report: report.html (self-contained, offline) and report.pdf explaining a run's picks.

Import stays cheap (the CLI imports this package at start-up); plotting libraries load only
when a report is built.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from framesift.workspace import Workspace

__all__ = ["build_report"]


def build_report(workspace: Workspace, run_name: str, **options: Any) -> list[Path]:
    """Write ``report.html`` and ``report.pdf`` into ``WORKSPACE/runs/<run_name>/``; returns the paths."""
    from framesift.report.build import build_report as _build

    return _build(workspace, run_name, **options)
