"""COCO predictions: a results list (``[{image_id, category_id, bbox, score}]``) or a full COCO dict.

Frames are named by the images' ``file_name`` (``clip-0042-mp4.png``, as framesift and
LightlyOne name extracted frames). A bare results list refers to images by id, so it needs the
images list of a COCO file (``images_file``), unless its ``image_id`` values are file names.
Every image in the images list counts as predicted, with or without boxes.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from framesift.errors import FramesiftError
from framesift.predict.base import Category, FramePrediction
from framesift.predict.imported import ImportedTask
from framesift.util.userfile import reads_user_file


def _load(path: Path) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise FramesiftError(f"{path}: file not found") from err
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise FramesiftError(f"{path}: not valid JSON ({err})") from err


@reads_user_file("COCO results file")
def read_coco(path: Path, *, task: str | None = None, images_file: Path | None = None) -> ImportedTask:
    data = _load(path)
    extra = _load(images_file) if images_file else {}
    if isinstance(data, dict):
        annotations = data.get("annotations")
        images, categories = data.get("images") or extra.get("images"), data.get("categories") or extra.get("categories")
    elif isinstance(data, list):
        annotations, images, categories = data, extra.get("images"), extra.get("categories")
    else:
        raise FramesiftError(f"{path}: expected a COCO results list or a COCO object with annotations")
    if not isinstance(annotations, list):
        raise FramesiftError(f"{path}: no annotations list found")
    names: dict[Any, str] = {}
    if images:
        for image in images:
            if not isinstance(image, dict) or "id" not in image or "file_name" not in image:
                raise FramesiftError(f"{images_file or path}: every image needs id and file_name")
            names[image["id"]] = str(image["file_name"])
    by_frame: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for name in names.values():
        by_frame.setdefault(name, [])  # listed images were predicted even when they have no boxes
    for ann in annotations:
        if not isinstance(ann, dict) or "image_id" not in ann or "category_id" not in ann or "bbox" not in ann:
            raise FramesiftError(f"{path}: every result needs image_id, category_id and bbox, got {ann!r}"[:300])
        image_id = ann["image_id"]
        if image_id in names:
            by_frame[names[image_id]].append(ann)
        elif isinstance(image_id, str):
            by_frame[image_id].append(ann)
        else:
            raise FramesiftError(
                f"{path}: image_id {image_id!r} has no file name; pass --images with the COCO file whose images "
                "list maps ids to file names"
            )
    cats = _categories(categories, annotations, path)
    frames = [(name, _prediction(anns)) for name, anns in sorted(by_frame.items())]
    return ImportedTask(task or Path(path).stem, "object-detection", cats, f"coco:{Path(path).resolve()}", frames)


def _categories(categories: Any, annotations: list[dict[str, Any]], path: Path) -> list[Category]:
    if categories:
        try:
            return sorted(({"id": int(c["id"]), "name": str(c["name"])} for c in categories), key=lambda c: c["id"])
        except (KeyError, TypeError, ValueError) as err:
            raise FramesiftError(f"{path}: categories need id and name") from err
    ids = sorted({int(a["category_id"]) for a in annotations})
    return [{"id": i, "name": str(i)} for i in ids]


def _prediction(anns: list[dict[str, Any]]) -> FramePrediction:
    if not anns:
        return FramePrediction.empty()
    return FramePrediction(
        np.array([int(a["category_id"]) for a in anns], np.int64),
        np.array([float(a["score"]) if a.get("score") is not None else np.nan for a in anns]),
        np.array([[float(v) for v in a["bbox"]] for a in anns], np.float64).reshape(-1, 4),
    )
