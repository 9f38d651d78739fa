"""YOLO txt predictions/labels: one ``<stem>.txt`` per frame, lines ``class cx cy w h [conf]`` (0..1).

Stems are framesift/Lightly frame names (``clip-0042-mp4``) or what ``yolo predict
save_txt=True`` writes for a video: ``clip_43`` (1-based frame counter). Segmentation lines
(``class x1 y1 x2 y2 ... [conf]``) count as the polygon's bounding box. Class names come from
``names`` (data.yaml, classes.txt or obj.names), else from such a file in or above the folder.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import yaml

from framesift.errors import FramesiftError
from framesift.predict.base import Category, FramePrediction
from framesift.predict.imported import ImportedTask
from framesift.util.userfile import reads_user_file

NAME_FILES = ("data.yaml", "dataset.yaml", "classes.txt", "obj.names")


def read_names(path: Path) -> dict[int, str]:
    if path.suffix.lower() in (".yaml", ".yml"):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        names = data.get("names") if isinstance(data, dict) else None
        if isinstance(names, list):
            return dict(enumerate(map(str, names)))
        if isinstance(names, dict):
            return {int(k): str(v) for k, v in names.items()}
        raise FramesiftError(f"{path}: no names list or mapping")
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    return dict(enumerate(line for line in lines if line))


def _find_names(directory: Path) -> dict[int, str] | None:
    for folder in (directory, directory.parent):
        for name in NAME_FILES:
            if (folder / name).is_file():
                return read_names(folder / name)
    return None


@reads_user_file("folder of YOLO txt predictions")
def read_yolo_txt(directory: Path, *, task: str | None = None, names_file: Path | None = None) -> ImportedTask:
    directory = Path(directory)
    if not directory.is_dir():
        raise FramesiftError(f"{directory}: not a folder of YOLO .txt files")
    files = sorted(p for p in directory.rglob("*.txt") if p.name not in NAME_FILES)
    if not files:
        raise FramesiftError(f"{directory}: no .txt files found")
    frames = []
    for path in files:
        stem = path.relative_to(directory).with_suffix("").as_posix()
        frames.append((stem, _parse(path)))
    names = read_names(names_file) if names_file else _find_names(directory)
    if names is None:
        seen = sorted({int(c) for _, p in frames for c in p.category_ids})
        names = {i: str(i) for i in seen}
    categories: list[Category] = [{"id": i, "name": n} for i, n in sorted(names.items())]
    known = set(names)
    for stem, prediction in frames:
        unknown = set(prediction.category_ids.tolist()) - known
        if unknown:
            raise FramesiftError(f"{directory / stem}.txt: class {min(unknown)} is not in the class names")
    name = task or (directory.parent.name if directory.name == "labels" else directory.name)
    return ImportedTask(name, "object-detection", categories, f"yolo-txt:{directory.resolve()}", frames, normalized=True)


def _parse(path: Path) -> FramePrediction:
    cats, scores, boxes = [], [], []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        parts = line.split()
        if not parts:
            continue
        try:
            values = [float(v) for v in parts]
        except ValueError as err:
            raise FramesiftError(f"{path}:{number}: not numbers: {line.strip()[:80]}") from err
        if len(values) in (5, 6):
            cx, cy, w, h = values[1:5]
            box = [cx - w / 2, cy - h / 2, w, h]
            conf = values[5] if len(values) == 6 else np.nan
        elif len(values) >= 7:
            coords = values[1:]
            conf = np.nan
            if len(coords) % 2 == 1:
                conf, coords = coords[-1], coords[:-1]
            xy = np.asarray(coords).reshape(-1, 2)
            box = [xy[:, 0].min(), xy[:, 1].min(), np.ptp(xy[:, 0]), np.ptp(xy[:, 1])]
        else:
            raise FramesiftError(f"{path}:{number}: expected 'class cx cy w h [conf]', got {line.strip()[:80]}")
        cats.append(int(values[0]))
        scores.append(conf)
        boxes.append(box)
    return FramePrediction(np.array(cats, np.int64), np.array(scores, np.float64), np.array(boxes, np.float64).reshape(-1, 4))
