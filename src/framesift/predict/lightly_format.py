"""LightlyOne's ``.lightly/predictions`` and ``.lightly/metadata`` folders: read and write.

Layout (LightlyOne docs, "Prediction Format" / "Metadata Format")::

    DATASOURCE/.lightly/predictions/tasks.json            ["task_a", ...]
    DATASOURCE/.lightly/predictions/<task>/schema.json    {"task_type", "categories": [{"id", "name"}]}
    DATASOURCE/.lightly/predictions/<task>/<sub>/<video>-<frame:0Nd>-<ext>.json
        {"file_name": "<sub>/<video>-<frame>-<ext>.png", "predictions": [singleton, ...]}
    DATASOURCE/.lightly/metadata/schema.json              [{"name", "path", "defaultValue", "valueDataType"}]
    DATASOURCE/.lightly/metadata/<sub>/<video>.json       {"file_name", "type": "video", "metadata": {...}}
    DATASOURCE/.lightly/metadata/<sub>/<video>-<frame>-<ext>.json   ... "type": "frame"

Singletons follow COCO results without ``image_id``: ``category_id``, ``bbox`` [x, y, w, h] in
pixels, ``score``, optional ``probabilities`` in category-id order; a classification singleton
has ``category_id`` and ``probabilities``. N = len(str(frames in the video)).
Older schemas name the type ``task_description``; both are read, ``task_type`` is written.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from framesift.errors import FramesiftError
from framesift.predict.base import TASK_TYPES, Category, FramePrediction
from framesift.util.atomic import write_json

METADATA_TYPES = ("NUMERIC_INT", "NUMERIC_FLOAT", "CATEGORICAL_STRING", "CATEGORICAL_INT", "CATEGORICAL_BOOLEAN")


def lightly_root(path: str | Path) -> Path | None:
    """The ``.lightly`` folder of a datasource folder (or the folder itself), or None."""
    path = Path(path).expanduser()
    if path.name == ".lightly" and path.is_dir():
        return path
    if (path / ".lightly").is_dir():
        return path / ".lightly"
    return None


# -- predictions: read ----------------------------------------------------------------------
@dataclass
class LightlyTask:
    name: str
    task_type: str
    categories: list[Category]
    directory: Path


def _load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise FramesiftError(f"{path}: file not found") from err
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise FramesiftError(f"{path}: not valid JSON ({err}); fix or remove the file") from err


def read_tasks(predictions_dir: Path) -> list[LightlyTask]:
    """The tasks listed in ``tasks.json``, each with its validated ``schema.json``."""
    tasks_file = predictions_dir / "tasks.json"
    names = _load_json(tasks_file)
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise FramesiftError(f"{tasks_file}: must be a JSON list of task names, e.g. [\"my_task\"]")
    return [read_schema(predictions_dir / name, name) for name in names]


def read_schema(task_dir: Path, name: str) -> LightlyTask:
    schema_file = task_dir / "schema.json"
    if not schema_file.exists():
        raise FramesiftError(f"{schema_file}: missing; every task listed in tasks.json needs a schema.json "
                             "with task_type and categories")
    schema = _load_json(schema_file)
    if not isinstance(schema, dict):
        raise FramesiftError(f"{schema_file}: must be an object with task_type and categories")
    task_type = schema.get("task_type", schema.get("task_description"))
    if task_type not in TASK_TYPES:
        raise FramesiftError(f"{schema_file}: task_type {task_type!r} must be one of {', '.join(TASK_TYPES)}")
    raw = schema.get("categories")
    if not isinstance(raw, list) or not raw:
        raise FramesiftError(f"{schema_file}: categories must be a non-empty list of {{\"id\": int, \"name\": str}}")
    categories: list[Category] = []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("id"), int) or "name" not in item:
            raise FramesiftError(f"{schema_file}: category {item!r} needs an integer id and a name")
        categories.append({"id": int(item["id"]), "name": str(item["name"])})
    if len({c["id"] for c in categories}) != len(categories):
        raise FramesiftError(f"{schema_file}: category ids must be unique")
    return LightlyTask(name, task_type, sorted(categories, key=lambda c: c["id"]), task_dir)


def iter_json_files(directory: Path, skip_root: Iterable[str] = ("schema.json",)) -> Iterator[tuple[str, Path]]:
    """(relative stem with '/' separators, path) of every .json below ``directory``, sorted."""
    skip = set(skip_root)
    found: list[tuple[str, Path]] = []
    for folder, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        rel_folder = Path(folder).relative_to(directory)
        for name in files:
            if not name.endswith(".json") or name.startswith("."):
                continue
            if rel_folder == Path(".") and name in skip:
                continue
            stem = (rel_folder / name[: -len(".json")]).as_posix()
            found.append((stem[2:] if stem.startswith("./") else stem, Path(folder) / name))
    yield from sorted(found)


def iter_task_predictions(task: LightlyTask) -> Iterator[tuple[str, FramePrediction]]:
    """(relative frame stem, prediction) per prediction file of a task."""
    ids = {c["id"] for c in task.categories}
    for stem, path in iter_json_files(task.directory):
        data = _load_json(path)
        if not isinstance(data, dict) or not isinstance(data.get("predictions"), list):
            raise FramesiftError(f"{path}: must be an object with file_name and a predictions list")
        yield stem, parse_singletons(data["predictions"], task, ids, path)


def parse_singletons(items: list[Any], task: LightlyTask, ids: set[int], path: Path) -> FramePrediction:
    n_classes = len(task.categories)
    order = sorted(ids)
    nan_row = [np.nan] * n_classes
    cats, scores, boxes, probs = [], [], [], []
    any_probs = False
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("category_id"), int):
            raise FramesiftError(f"{path}: every prediction needs an integer category_id, got {item!r}")
        if item["category_id"] not in ids:
            raise FramesiftError(f"{path}: category_id {item['category_id']} is not in {task.name}/schema.json")
        p = item.get("probabilities")
        if p is not None and (not isinstance(p, list) or len(p) != n_classes):
            raise FramesiftError(f"{path}: probabilities must list one value per category ({n_classes}) in id order")
        cats.append(item["category_id"])
        score = item.get("score")
        if score is None and task.task_type == "classification" and p is not None:
            score = p[order.index(item["category_id"])]
        scores.append(np.nan if score is None else score)
        any_probs = any_probs or p is not None
        probs.append(nan_row if p is None else p)
        boxes.append(_box(item, task.task_type, path))
    box_array = None
    if task.task_type != "classification" and any(b is not None for b in boxes):
        box_array = np.array([b if b is not None else [np.nan] * 4 for b in boxes], np.float64).reshape(-1, 4)
    elif task.task_type == "object-detection":
        box_array = np.zeros((0, 4))
    prob_array = np.array(probs, np.float64).reshape(-1, n_classes) if any_probs else None
    try:
        score_array = np.array(scores, np.float64)
    except (TypeError, ValueError) as err:
        raise FramesiftError(f"{path}: every score must be a number") from err
    return FramePrediction(np.array(cats, np.int64), score_array, box_array, prob_array)


def _box(item: dict[str, Any], task_type: str, path: Path) -> list[float] | None:
    bbox = item.get("bbox")
    if bbox is None and task_type == "keypoint-detection" and item.get("keypoints"):
        points = np.asarray(item["keypoints"], np.float64).reshape(-1, 3)
        visible = points[points[:, 2] > 0] if (points[:, 2] > 0).any() else points
        x0, y0 = visible[:, 0].min(), visible[:, 1].min()
        return [x0, y0, visible[:, 0].max() - x0, visible[:, 1].max() - y0]
    if bbox is None:
        if task_type == "object-detection":
            raise FramesiftError(f"{path}: object-detection predictions need bbox [x, y, width, height] in pixels")
        return None
    if not isinstance(bbox, list) or len(bbox) != 4 or not all(isinstance(v, (int, float)) for v in bbox):
        raise FramesiftError(f"{path}: bbox must be [x, y, width, height] in pixels, got {bbox!r}")
    return bbox


# -- predictions: write ---------------------------------------------------------------------
def singleton_dicts(prediction: FramePrediction, task_type: str) -> list[dict[str, Any]]:
    out = []
    for k in range(len(prediction)):
        item: dict[str, Any] = {"category_id": int(prediction.category_ids[k])}
        if task_type != "classification" and prediction.boxes is not None and not np.isnan(prediction.boxes[k]).any():
            item["bbox"] = [float(v) for v in prediction.boxes[k]]
        if task_type != "classification" and not np.isnan(prediction.scores[k]):  # classification: probabilities only
            item["score"] = float(prediction.scores[k])
        if prediction.probabilities is not None and not np.isnan(prediction.probabilities[k]).any():
            item["probabilities"] = [float(v) for v in prediction.probabilities[k]]
        out.append(item)
    return out


def write_task(
    datasource: Path, name: str, task_type: str, categories: list[Category],
    frames: Iterable[tuple[str, FramePrediction]],
) -> tuple[Path, int]:
    """Write one task under ``datasource/.lightly/predictions``; returns (task folder, files written).

    The task folder is built next to its final place and swapped in, so a crash never leaves a
    half-written task; ``tasks.json`` keeps the other tasks listed there.
    """
    predictions_dir = datasource / ".lightly" / "predictions"
    predictions_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=".tmp", dir=predictions_dir))
    count = 0
    try:
        for stem, prediction in frames:
            target = staging / f"{stem}.json"
            target.parent.mkdir(parents=True, exist_ok=True)
            payload = {"file_name": f"{stem}.png", "predictions": singleton_dicts(prediction, task_type)}
            target.write_text(json.dumps(payload), encoding="utf-8")
            count += 1
        write_json(staging / "schema.json", {"task_type": task_type, "categories": list(categories)})
        final = predictions_dir / name
        old = None
        if final.exists():
            old = predictions_dir / f".{name}.old"
            if old.exists():
                shutil.rmtree(old)
            final.rename(old)
        staging.rename(final)
        if old is not None:
            shutil.rmtree(old)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    tasks_file = predictions_dir / "tasks.json"
    names = _load_json(tasks_file) if tasks_file.exists() else []
    if not isinstance(names, list):
        names = []
    if name not in names:
        names.append(name)
    write_json(tasks_file, names)
    return final, count


# -- metadata -------------------------------------------------------------------------------
@dataclass
class MetadataField:
    name: str
    path: str  # dotted path into the "metadata" object; also the METADATA key in selection configs
    default: Any
    value_type: str


def read_metadata_schema(metadata_dir: Path) -> list[MetadataField]:
    schema_file = metadata_dir / "schema.json"
    raw = _load_json(schema_file)
    if not isinstance(raw, list):
        raise FramesiftError(f"{schema_file}: must be a JSON list of {{name, path, defaultValue, valueDataType}}")
    fields = []
    for entry in raw:
        if not isinstance(entry, dict) or not entry.get("path") or entry.get("valueDataType") not in METADATA_TYPES:
            raise FramesiftError(
                f"{schema_file}: entry {entry!r} needs a path and valueDataType one of {', '.join(METADATA_TYPES)}"
            )
        fields.append(MetadataField(str(entry.get("name") or entry["path"]), str(entry["path"]),
                                    entry.get("defaultValue"), entry["valueDataType"]))
    return fields


def iter_metadata_files(metadata_dir: Path) -> Iterator[tuple[str, Path, dict[str, Any]]]:
    for stem, path in iter_json_files(metadata_dir):
        data = _load_json(path)
        if not isinstance(data, dict) or not isinstance(data.get("metadata"), dict):
            raise FramesiftError(f"{path}: must be an object with file_name, type and a metadata object")
        yield stem, path, data


def lookup(data: dict[str, Any], dotted: str) -> Any:
    """``data['a']['b']`` for path ``a.b``; None when a key is missing."""
    value: Any = data
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def convert_value(value: Any, value_type: str, where: str) -> tuple[float | None, str | None]:
    """(value_num, value_text) for the metadata table; categorical values are compared as text."""
    try:
        if value_type == "NUMERIC_INT":
            return float(int(value)), None
        if value_type == "NUMERIC_FLOAT":
            return float(value), None
        if value_type == "CATEGORICAL_INT":
            return float(int(value)), str(int(value))
        if value_type == "CATEGORICAL_BOOLEAN":
            flag = value if isinstance(value, bool) else str(value).strip().lower() in ("true", "1", "yes")
            return float(flag), "true" if flag else "false"
        return None, str(value)
    except (TypeError, ValueError) as err:
        raise FramesiftError(f"{where}: value {value!r} is not {value_type}") from err
