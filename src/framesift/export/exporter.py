"""`framesift export`: a run's selected frames → one labeling-tool format (+ optional upload)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from framesift.errors import FramesiftError
from framesift.export import FORMATS
from framesift.export.collect import collect_export_set
from framesift.export.files import make_readable, place_images, write_manifest
from framesift.export.model import ExportSet
from framesift.util.atomic import write_json
from framesift.workspace import Workspace

UPLOADABLE = ("cvat", "labelstudio", "encord")


@dataclass
class ExportResult:
    fmt: str
    out_dir: Path
    export: ExportSet
    files: list[Path] = field(default_factory=list)
    upload: dict[str, Any] | None = None

    def lines(self) -> list[str]:
        lines = [
            f"{self.fmt}: {len(self.export.frames)} images, {self.export.n_boxes} pre-annotation boxes"
            + (f" from task {self.export.task!r}" if self.export.task else "")
            + f" → {self.out_dir}"
        ]
        lines += [f"  {p.relative_to(self.out_dir) if p.is_relative_to(self.out_dir) else p}" for p in self.files]
        if self.upload:
            where = self.upload.get("task_url") or self.upload.get("project_url") or self.upload.get("dataset_hash")
            lines.append(f"  uploaded: {where}")
        return lines


@dataclass
class Uploader:
    """Server target of one format (CvatServer, LabelStudioServer, EncordCredentials) and, for tests,
    the factory that builds the SDK client (None: the real SDK)."""

    target: Any
    client_factory: Any = None


def default_out_dir(workspace: Workspace, run: Any, fmt: str) -> Path:
    return workspace.run_dir(run["name"]) / "export" / fmt


def export_run(
    workspace: Workspace,
    run: Any,
    fmt: str,
    *,
    out_dir: Path | None = None,
    task: str | None = None,
    predictions: bool = True,
    labels: tuple[str, ...] = (),
    min_score: float = 0.0,
    image_url_prefix: str | None = None,
    dataset_title: str | None = None,
    upload: Uploader | None = None,
) -> ExportResult:
    if fmt not in FORMATS:
        raise FramesiftError(f"--format {fmt!r}: use one of {', '.join(FORMATS)}")
    if upload is not None and fmt not in UPLOADABLE:
        raise FramesiftError(f"--format {fmt}: no server upload; upload options work with {', '.join(UPLOADABLE)}")
    export = collect_export_set(workspace, run, task=task, predictions=predictions, labels=labels, min_score=min_score)
    in_project = upload is not None and getattr(upload.target, "project_id", None) is not None
    if fmt in ("cvat", "labelstudio") and not export.categories and not in_project:
        raise FramesiftError(f"--format {fmt} needs label names: pass --task (its categories) or --labels car,person")
    out = (out_dir or default_out_dir(workspace, run, fmt)).expanduser().resolve()
    out.mkdir(parents=True, exist_ok=True)
    manifest = write_manifest(export, out, fmt)
    images_dir = place_images(export, out)
    result = ExportResult(fmt, out, export, files=[images_dir, manifest])
    result.files += _write_format(export, out, images_dir, fmt, image_url_prefix, dataset_title)
    make_readable(out)
    if upload is not None:
        result.upload = _upload(export, out, images_dir, fmt, upload)
        write_json(out / "upload.json", {"format": fmt, **result.upload})
        result.files.append(out / "upload.json")
    return result


def _write_format(
    export: ExportSet, out: Path, images_dir: Path, fmt: str, url_prefix: str | None, dataset_title: str | None
) -> list[Path]:
    if fmt == "coco":
        from framesift.export.coco import write_coco

        return [write_coco(export, out)]
    if fmt == "yolo":
        from framesift.export.yolo import LABELS, write_yolo

        return [write_yolo(export, out), out / LABELS]
    if fmt == "cvat":
        from framesift.export.cvat import write_cvat

        return list(write_cvat(export, out))
    if fmt == "labelstudio":
        from framesift.export.labelstudio import write_labelstudio

        return list(write_labelstudio(export, out, images_dir, url_prefix))
    from framesift.export.encord import write_encord

    return [write_encord(export, out, images_dir, dataset_title)]


def _upload(export: ExportSet, out: Path, images_dir: Path, fmt: str, upload: Uploader) -> dict[str, Any]:
    factory = {"client_factory": upload.client_factory} if upload.client_factory else {}
    if fmt == "cvat":
        from framesift.export.upload_cvat import upload_cvat

        return upload_cvat(export, out, upload.target, **factory)
    if fmt == "labelstudio":
        from framesift.export.labelstudio import CONFIG, TASKS
        from framesift.export.upload_labelstudio import upload_labelstudio

        tasks = json.loads((out / TASKS).read_text(encoding="utf-8"))
        config = (out / CONFIG).read_text(encoding="utf-8")
        return upload_labelstudio(export, tasks, config, images_dir, upload.target, **factory)
    from framesift.export.encord import PLAN
    from framesift.export.upload_encord import upload_encord

    return upload_encord(json.loads((out / PLAN).read_text(encoding="utf-8")), upload.target, **factory)
