"""Label Studio: tasks JSON with predictions in percent coordinates, a matching labeling config,
and the reader for Label Studio's JSON / JSON_MIN exports.

Percent values are ``100 * px / size`` computed exactly and rounded once (``px_to_percent``);
the reader converts back the same way, so boxes survive the round trip.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit
from xml.sax.saxutils import quoteattr

from framesift.errors import FramesiftError
from framesift.export.files import IMAGE_SUFFIXES
from framesift.export.model import (
    IDENTITY_KEYS,
    ExportFrame,
    ExportSet,
    ImportedBox,
    ImportedImage,
    px_to_percent,
)
from framesift.util.atomic import write_json, write_text

TASKS = "tasks.json"
CONFIG = "label_config.xml"
FROM_NAME = "label"  # the RectangleLabels control
TO_NAME = "image"  # the Image object; also the task data key
LOCAL_FILES = "/data/local-files/?d="
DOCUMENT_ROOT_ENV = "LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT"


def label_config(names: list[str]) -> str:
    labels = "\n".join(f"    <Label value={quoteattr(n)}/>" for n in names)
    return (
        "<View>\n"
        f'  <Image name="{TO_NAME}" value="${TO_NAME}"/>\n'
        f'  <RectangleLabels name="{FROM_NAME}" toName="{TO_NAME}">\n'
        f"{labels}\n"
        "  </RectangleLabels>\n"
        "</View>\n"
    )


def image_url(path: Path, url_prefix: str | None) -> str:
    """``url_prefix`` + name, or a Label Studio local-files URL relative to its document root."""
    if url_prefix:
        return url_prefix + quote(path.as_posix(), safe="/")
    root = Path(os.environ.get(DOCUMENT_ROOT_ENV) or path.anchor).resolve()
    try:
        relative = path.resolve().relative_to(root)
    except ValueError:
        raise FramesiftError(
            f"{path}: outside {DOCUMENT_ROOT_ENV}={root}; export with --to under it or pass --image-url-prefix"
        ) from None
    return LOCAL_FILES + quote(relative.as_posix(), safe="/")


def region(frame: ExportFrame, box_index: int) -> dict[str, Any]:
    box = frame.boxes[box_index]
    result: dict[str, Any] = {
        "id": f"fs{frame.frame_id}-{box_index}",
        "type": "rectanglelabels",
        "from_name": FROM_NAME,
        "to_name": TO_NAME,
        "original_width": frame.width,
        "original_height": frame.height,
        "image_rotation": 0,
        "value": {
            "x": px_to_percent(box.x, frame.width),
            "y": px_to_percent(box.y, frame.height),
            "width": px_to_percent(box.w, frame.width),
            "height": px_to_percent(box.h, frame.height),
            "rotation": 0,
            "rectanglelabels": [box.category],
        },
    }
    if box.score is not None:
        result["score"] = box.score
    return result


def build_tasks(export: ExportSet, images_dir: Path, url_prefix: str | None) -> list[dict[str, Any]]:
    tasks = []
    for frame in export.frames:
        relative = Path(frame.file_name)
        url = image_url(relative if url_prefix else images_dir / relative, url_prefix)
        task: dict[str, Any] = {"data": {TO_NAME: url, "file_name": frame.file_name, **frame.identity()}}
        if frame.boxes:
            scores = [b.score for b in frame.boxes if b.score is not None]
            prediction: dict[str, Any] = {
                "model_version": export.task or "framesift",
                "result": [region(frame, i) for i in range(len(frame.boxes))],
            }
            if scores:
                prediction["score"] = sum(scores) / len(scores)
            task["predictions"] = [prediction]
        tasks.append(task)
    return tasks


def write_labelstudio(export: ExportSet, out_dir: Path, images_dir: Path, url_prefix: str | None) -> tuple[Path, Path]:
    tasks_path, config_path = out_dir / TASKS, out_dir / CONFIG
    write_json(tasks_path, build_tasks(export, images_dir, url_prefix))
    write_text(config_path, label_config(export.category_names()))
    return tasks_path, config_path


# -- reader ---------------------------------------------------------------------------------
def read_labelstudio(path: Path) -> list[ImportedImage]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise FramesiftError(f"{path}: cannot read Label Studio JSON ({err}); export the project as JSON") from None
    if isinstance(document, dict):
        document = [document]
    if not isinstance(document, list):
        raise FramesiftError(f"{path}: expected a list of tasks (Label Studio JSON or JSON_MIN export)")
    return [_read_task(task, path) for task in document]


def _read_task(task: dict[str, Any], path: Path) -> ImportedImage:
    full = isinstance(task.get("data"), dict)
    data = task["data"] if full else task  # JSON_MIN is flat: data fields and regions side by side
    url = data.get(TO_NAME) or next(
        (v for v in data.values() if isinstance(v, str) and Path(url_file_name(v)).suffix.lower() in IMAGE_SUFFIXES),
        None,
    )
    if not url:
        raise FramesiftError(f"{path}: task id {task.get('id')} has no image URL in data.{TO_NAME}")
    image = ImportedImage(
        name=url_file_name(url), identity={k: data[k] for k in IDENTITY_KEYS if data.get(k) is not None}, units="percent"
    )
    if full:
        annotation = _chosen_annotation(task.get("annotations") or [])
        if annotation is None:
            image.labeled = False
            return image
        results = annotation.get("result") or []
        image_attrs = {"ls_task_id": task.get("id"), "ls_annotation_id": annotation.get("id"),
                       "completed_by": annotation.get("completed_by")}
    else:  # JSON_MIN: rectangle regions listed under their control name, without "type"
        results = [
            {"type": "rectanglelabels", "value": r, **r}
            for v in task.values() if isinstance(v, list) for r in v if isinstance(r, dict) and "rectanglelabels" in r
        ]
        image_attrs = {"ls_task_id": task.get("id"), "ls_annotation_id": task.get("annotation_id")}
    for result in results:
        _add_result(image, result, image_attrs)
    return image


def _chosen_annotation(annotations: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The ground-truth annotation, else the most recent one that was not cancelled (skipped)."""
    kept = [a for a in annotations if not a.get("was_cancelled")]
    if not kept:
        return None
    return max(kept, key=lambda a: (bool(a.get("ground_truth")), str(a.get("updated_at") or a.get("created_at") or ""),
                                    a.get("id") or 0))


def _add_result(image: ImportedImage, result: dict[str, Any], image_attrs: dict[str, Any]) -> None:
    kind = result.get("type")
    value = result.get("value") or {}
    attributes = {k: v for k, v in image_attrs.items() if v is not None}
    if result.get("id") is not None:
        attributes["ls_region_id"] = result["id"]
    if kind == "rectanglelabels":
        if image.width is None and result.get("original_width"):
            image.width, image.height = result["original_width"], result.get("original_height")
        if value.get("rotation"):
            attributes["rotation"] = value["rotation"]
        if result.get("score") is not None:
            attributes["score"] = result["score"]
        for name in value.get("rectanglelabels") or []:
            image.boxes.append(
                ImportedBox(str(name), value["x"], value["y"], value["width"], value["height"], attributes=dict(attributes))
            )
    elif kind == "choices":
        for name in value.get("choices") or []:
            image.boxes.append(ImportedBox(str(name), attributes=dict(attributes)))
    else:
        image.skipped.append(str(kind))


def url_file_name(url: str) -> str:
    """The file path inside a Label Studio image URL (local-files ``?d=``, uploads, http, s3)."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    if "d" in query:
        return query["d"][0]
    return unquote(parts.path)
