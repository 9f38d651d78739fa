"""YOLO datasets: images/, labels/<stem>.txt with ``class cx cy w h`` normalised, data.yaml.

YOLO files have no room for frame identity, so it lives in the Lightly file names and in the
export's manifest.json. Class indices are positions in the category list (sorted by id).
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import yaml

from framesift.errors import FramesiftError
from framesift.export.files import IMAGE_SUFFIXES, IMAGES, ManifestIndex
from framesift.export.model import ExportSet, ImportedBox, ImportedImage, px_to_norm
from framesift.util.atomic import write_text

LABELS = "labels"
DATA_YAML = "data.yaml"


def write_yolo(export: ExportSet, out_dir: Path) -> Path:
    index = {c.id: i for i, c in enumerate(export.categories)}
    for frame in export.frames:
        lines = []
        for box in frame.boxes:
            cx = px_to_norm(Fraction(box.x) + Fraction(box.w) / 2, frame.width)
            cy = px_to_norm(Fraction(box.y) + Fraction(box.h) / 2, frame.height)
            w, h = px_to_norm(box.w, frame.width), px_to_norm(box.h, frame.height)
            lines.append(f"{index[box.category_id]} {cx!r} {cy!r} {w!r} {h!r}\n")
        write_text(out_dir / LABELS / Path(frame.file_name).with_suffix(".txt"), "".join(lines))
    data = {
        "path": str(out_dir.resolve()),
        "train": IMAGES,
        "val": IMAGES,
        "nc": len(export.categories),
        "names": {i: c.name for i, c in enumerate(export.categories)},
    }
    path = out_dir / DATA_YAML
    write_text(path, yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    return path


def read_yolo(path: Path, manifest: ManifestIndex) -> list[ImportedImage]:
    """Read a dataset folder (or its data.yaml): every image in the manifest / images folder, with its labels."""
    root = path.parent if path.is_file() else path
    data_yaml = path if path.is_file() else root / DATA_YAML
    if not data_yaml.exists():
        raise FramesiftError(f"{root}: no {DATA_YAML}; pass the YOLO dataset folder that holds data.yaml")
    names = _names(data_yaml)
    labels_dir = root / LABELS
    images_dir = root / IMAGES
    file_names = _image_names(root, manifest)
    if not file_names:
        raise FramesiftError(f"{root}: no images found (no manifest.json, {IMAGES}/ or {LABELS}/*.txt)")
    images = []
    for name in file_names:
        label_file = labels_dir / Path(name).with_suffix(".txt")
        width_height = manifest.sizes.get(name) or _image_size(images_dir / name)
        image = ImportedImage(name=name, identity=manifest.identity(name), units="norm")
        if width_height:
            image.width, image.height = width_height
        if label_file.exists():
            image.boxes = _read_label_file(label_file, names)
        images.append(image)
    return images


def _names(data_yaml: Path) -> dict[int, str]:
    try:
        data: Any = yaml.safe_load(data_yaml.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise FramesiftError(f"{data_yaml}: cannot read ({err})") from None
    names = data.get("names") if isinstance(data, dict) else None
    if isinstance(names, list):
        return dict(enumerate(str(n) for n in names))
    if isinstance(names, dict):
        return {int(k): str(v) for k, v in names.items()}
    raise FramesiftError(f"{data_yaml}: key 'names' missing; list the class names (names: [car, person])")


def _image_names(root: Path, manifest: ManifestIndex) -> list[str]:
    names = set(manifest.names)
    if not names and (root / IMAGES).is_dir():
        names = {p.relative_to(root / IMAGES).as_posix() for p in (root / IMAGES).rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES}
    if not names and (root / LABELS).is_dir():
        names = {p.relative_to(root / LABELS).with_suffix(".png").as_posix() for p in (root / LABELS).rglob("*.txt")}
    return sorted(names)


def _image_size(path: Path) -> tuple[int, int] | None:
    if not path.exists():
        return None  # the frame's own size is used after matching
    from PIL import Image

    with Image.open(path) as image:
        return image.size


def _read_label_file(path: Path, names: dict[int, str]) -> list[ImportedBox]:
    boxes = []
    for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        parts = line.split()
        if not parts:
            continue
        where = f"{path}:{line_no}"
        try:
            cls = int(parts[0])
            values = [Fraction(v) for v in parts[1:]]
        except ValueError:
            raise FramesiftError(f"{where}: expected 'class cx cy w h', got {line.strip()!r}") from None
        if cls not in names:
            raise FramesiftError(f"{where}: class {cls} is not in data.yaml names; add it or fix the line")
        attributes: dict[str, Any] = {}
        if len(values) in (4, 5):
            cx, cy, w, h = values[:4]
            if len(values) == 5:
                attributes["score"] = float(values[4])
        elif len(values) >= 6 and len(values) % 2 == 0:  # a segment: polygon points → its bounding box
            xs, ys = values[0::2], values[1::2]
            cx, cy, w, h = (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2, max(xs) - min(xs), max(ys) - min(ys)
            attributes["polygon"] = [float(v) for v in values]
        else:
            raise FramesiftError(f"{where}: expected 'class cx cy w h', got {len(values)} numbers")
        boxes.append(ImportedBox(names[cls], cx - w / 2, cy - h / 2, w, h, attributes=attributes))
    return boxes
