"""COCO detection datasets: images carry frame identity as extra fields, bbox is [x, y, w, h] px."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from framesift import __version__
from framesift.errors import FramesiftError
from framesift.export.model import IDENTITY_KEYS, ExportSet, ImportedBox, ImportedImage
from framesift.util.atomic import write_json

ANNOTATIONS = "annotations.json"


def write_coco(export: ExportSet, out_dir: Path) -> Path:
    images: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    for image_id, frame in enumerate(export.frames, start=1):
        images.append(
            {"id": image_id, "file_name": frame.file_name, "width": frame.width, "height": frame.height,
             **frame.identity()}
        )
        for box in frame.boxes:
            annotation: dict[str, Any] = {
                "id": len(annotations) + 1,
                "image_id": image_id,
                "category_id": box.category_id,
                "bbox": [box.x, box.y, box.w, box.h],
                "area": box.w * box.h,
                "iscrowd": 0,
                "segmentation": [],
            }
            if box.score is not None:
                annotation["score"] = box.score
            annotations.append(annotation)
    document = {
        "info": {
            "description": f"framesift run {export.run_name}" + (f", pre-annotations from {export.task}" if export.task else ""),
            "version": __version__,
            "date_created": datetime.now(UTC).isoformat(timespec="seconds"),
        },
        "licenses": [],
        "images": images,
        "annotations": annotations,
        "categories": [{"id": c.id, "name": c.name, "supercategory": ""} for c in export.categories],
    }
    path = out_dir / ANNOTATIONS
    write_json(path, document)
    return path


def read_coco(path: Path) -> list[ImportedImage]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise FramesiftError(f"{path}: cannot read COCO JSON ({err}); pass the dataset's annotations file") from None
    if not isinstance(document, dict) or not isinstance(document.get("images"), list):
        raise FramesiftError(f"{path}: not a COCO dataset (no 'images' list); export the dataset, not a results list")
    categories = {c["id"]: str(c["name"]) for c in document.get("categories", [])}
    images: dict[Any, ImportedImage] = {}
    for item in document["images"]:
        images[item["id"]] = ImportedImage(
            name=str(item["file_name"]),
            identity={k: item[k] for k in IDENTITY_KEYS if item.get(k) is not None},
            width=item.get("width"),
            height=item.get("height"),
            units="px",
        )
    for ann in document.get("annotations", []):
        where = f"{path}: annotation id {ann.get('id')}"
        if ann.get("image_id") not in images:
            raise FramesiftError(f"{where} refers to image_id {ann.get('image_id')} missing from 'images'; fix the file")
        if ann.get("category_id") not in categories:
            raise FramesiftError(f"{where} has category_id {ann.get('category_id')} missing from 'categories'; fix the file")
        bbox = ann.get("bbox")
        if not bbox or len(bbox) != 4:
            raise FramesiftError(f"{where} has no [x, y, w, h] bbox; only box annotations can be imported")
        attributes = {"coco_id": ann.get("id")}
        for key in ("score", "iscrowd", "attributes"):
            if ann.get(key) not in (None, 0, {}):
                attributes[key] = ann[key]
        images[ann["image_id"]].boxes.append(ImportedBox(categories[ann["category_id"]], *bbox, attributes=attributes))
    return list(images.values())
