"""`framesift report RUN`: (re)build the HTML and PDF report of a run."""

from __future__ import annotations

from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    app.command("report")(report)


def report(
    run_path: Annotated[str, typer.Argument(help="Run folder WORKSPACE/runs/NAME, or a run name with --workspace.")],
    workspace: Annotated[str | None, typer.Option(help="Workspace, when RUN is a name.")] = None,
    maps: Annotated[str, typer.Option(
        help="Embedding maps: auto (PCA + t-SNE, UMAP from 1,000 frames on), or a comma separated subset of "
        "pca,umap,tsne, or none.")] = "auto",
    no_pdf: Annotated[bool, typer.Option("--no-pdf", help="Write only report.html.")] = False,
    no_html: Annotated[bool, typer.Option("--no-html", help="Write only report.pdf.")] = False,
) -> None:
    """Write report.html (self-contained, opens offline) and report.pdf into the run folder."""
    from framesift.errors import FramesiftError
    from framesift.pipeline.runs import resolve_run_path
    from framesift.report.build import build_report
    from framesift.report.projection import MAP_METHODS

    methods: str | list[str] = [m.strip().lower().replace("-", "") for m in maps.split(",") if m.strip()]
    if methods in (["auto"], []):
        methods = "auto"
    elif methods == ["none"]:
        methods = []
    unknown = [m for m in methods if m not in MAP_METHODS] if methods != "auto" else []
    if unknown:
        raise FramesiftError(f"--maps {maps}: unknown map {unknown[0]!r}; use auto, none or a comma separated "
                             "subset of pca,umap,tsne")
    if no_pdf and no_html:
        raise FramesiftError("--no-pdf and --no-html together leave nothing to write; drop one of them")
    ws, run = resolve_run_path(run_path, workspace)
    for path in build_report(ws, run["name"], maps=methods, html=not no_html, pdf=not no_pdf):
        typer.echo(f"report: {path} ({path.stat().st_size / 1e6:.1f} MB)")
