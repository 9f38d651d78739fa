"""`framesift export` and `framesift import-labels`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from framesift.errors import FramesiftError


def export_cmd(
    run_path: Annotated[str, typer.Argument(help="Run folder WORKSPACE/runs/NAME, or a run name with --workspace.")],
    format: Annotated[str, typer.Option("--format", "-f", help="coco | yolo | cvat | labelstudio | encord")],
    workspace: Annotated[str | None, typer.Option(help="Workspace, when RUN is a name.")] = None,
    to: Annotated[Path | None, typer.Option("--to", help="Output folder (default WORKSPACE/runs/NAME/export/FORMAT).")] = None,
    task: Annotated[str | None, typer.Option(help="Prediction task for pre-annotations (default: the only one).")] = None,
    no_predictions: Annotated[bool, typer.Option("--no-predictions", help="Images only, no pre-annotations.")] = False,
    labels: Annotated[str | None, typer.Option(help="Extra label names, comma separated (e.g. car,person).")] = None,
    min_score: Annotated[float, typer.Option(help="Drop predicted boxes scoring below this.")] = 0.0,
    image_url_prefix: Annotated[str | None, typer.Option(
        help="Label Studio: image URL = PREFIX + file name (default: a local-files URL).")] = None,
    upload: Annotated[bool, typer.Option("--upload", help="Send to the server (cvat, labelstudio, encord).")] = False,
    server: Annotated[str | None, typer.Option(
        help="CVAT / Label Studio URL (implies --upload; env CVAT_URL / LABEL_STUDIO_URL); Encord: API domain.")] = None,
    user: Annotated[str | None, typer.Option(help="CVAT user name (env CVAT_USERNAME).")] = None,
    password: Annotated[str | None, typer.Option(help="CVAT password (env CVAT_PASSWORD).")] = None,
    token: Annotated[str | None, typer.Option(
        help="CVAT access token (env CVAT_ACCESS_TOKEN) or Label Studio token (env LABEL_STUDIO_API_KEY).")] = None,
    project_id: Annotated[int | None, typer.Option(help="Existing CVAT / Label Studio project to add to.")] = None,
    name: Annotated[str | None, typer.Option(help="Name of the CVAT task / Label Studio project / Encord dataset.")] = None,
    ssh_key_file: Annotated[Path | None, typer.Option(help="Encord SSH private key (env ENCORD_SSH_KEY_FILE).")] = None,
) -> None:
    """Write a run's selected frames (+ predictions as pre-annotations) for a labeling tool."""
    from framesift.export.exporter import export_run
    from framesift.pipeline.runs import resolve_run_path

    fmt = format.lower().replace("-", "").replace("_", "")
    wants_upload = upload or (server is not None and fmt in ("cvat", "labelstudio"))
    uploader = _uploader(fmt, server, user, password, token, project_id, name, ssh_key_file) if wants_upload else None
    ws, run = resolve_run_path(run_path, workspace)
    result = export_run(
        ws, run, fmt,
        out_dir=to,
        task=task,
        predictions=not no_predictions,
        labels=tuple(n.strip() for n in (labels or "").split(",") if n.strip()),
        min_score=min_score,
        image_url_prefix=image_url_prefix,
        dataset_title=name,
        upload=uploader,
    )
    typer.echo("\n".join(result.lines()))


def _uploader(fmt: str, server: str | None, user: str | None, password: str | None, token: str | None,
              project_id: int | None, name: str | None, ssh_key_file: Path | None):  # type: ignore[no-untyped-def]
    from framesift.export.exporter import Uploader

    if fmt == "cvat":
        from framesift.export.upload_cvat import CvatServer

        return Uploader(CvatServer.resolve(server, user, password, token, project_id, name))
    if fmt == "labelstudio":
        from framesift.export.upload_labelstudio import LabelStudioServer

        return Uploader(LabelStudioServer.resolve(server, token, project_id, name))
    if fmt == "encord":
        from framesift.export.upload_encord import EncordCredentials

        return Uploader(EncordCredentials.resolve(ssh_key_file, server))
    raise FramesiftError(f"--format {fmt}: no server upload; drop --upload/--server (works with cvat, labelstudio, encord)")


def import_labels_cmd(
    path: Annotated[Path, typer.Argument(help="COCO JSON, CVAT XML/zip, Label Studio JSON export, or YOLO dataset folder.")],
    workspace: Annotated[Path | None, typer.Option(
        help="Workspace whose catalog gets the labels (default: the workspace PATH lies in).")] = None,
    format: Annotated[str | None, typer.Option("--format", "-f", help="coco | yolo | cvat | labelstudio (default: guess).")] = None,
    source: Annotated[str | None, typer.Option(help="Label source name (default FORMAT:ABSOLUTE_PATH); re-import replaces it.")] = None,
    manifest: Annotated[Path | None, typer.Option(help="framesift manifest.json of the export (default: next to PATH).")] = None,
    allow_unmatched: Annotated[bool, typer.Option(
        "--allow-unmatched", help="Skip images that match no catalog frame instead of failing.")] = False,
) -> None:
    """Import labels from a labeling tool as ground truth, matched to frames by identity."""
    from framesift.export import IMPORT_FORMATS
    from framesift.export.importer import import_labels
    from framesift.workspace import Workspace

    fmt = format.lower().replace("-", "").replace("_", "") if format else None
    if fmt is not None and fmt not in IMPORT_FORMATS:
        raise FramesiftError(f"--format {format!r}: use one of {', '.join(IMPORT_FORMATS)}")
    ws = Workspace.open(workspace if workspace is not None else _workspace_of(path), create=False)
    summary = import_labels(ws.catalog, path, fmt=fmt, source=source, manifest_path=manifest,
                            allow_unmatched=allow_unmatched)
    typer.echo("\n".join(summary.lines()))


def _workspace_of(path: Path) -> Path:
    from framesift.workspace import CATALOG_NAME

    for folder in path.expanduser().resolve().parents:
        if (folder / CATALOG_NAME).exists():
            return folder
    raise FramesiftError(f"{path}: not inside a workspace; pass --workspace WORKSPACE")


def register(app: typer.Typer) -> None:
    app.command("export")(export_cmd)
    app.command("import-labels")(import_labels_cmd)
