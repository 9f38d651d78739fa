"""CVAT for images 1.1: annotations.xml (+ a dataset archive with the images) and its reader.

CVAT's importer reads, per ``<image>``: ``id`` and ``name`` (matched to the task's frames), and
per ``<box>``: ``label`` (must be a task label), ``occluded``, ``xtl ytl xbr ybr``, and optionally
``source``, ``z_order``, ``group_id`` and ``<attribute name>`` children. The writer emits exactly
that, with image ids in the name order CVAT uses for a lexicographically sorted task.
"""

from __future__ import annotations

import colorsys
import tempfile
import xml.etree.ElementTree as ET
import zipfile
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

from framesift.errors import FramesiftError
from framesift.export.files import IMAGES
from framesift.export.model import ExportSet, ImportedBox, ImportedImage
from framesift.util.atomic import atomic_path

XML_NAME = "annotations.xml"
ARCHIVE_NAME = "cvat_task.zip"
IMPORT_FORMAT = "CVAT 1.1"  # the name of CVAT's XML importer (server and SDK)


def label_color(index: int) -> str:
    r, g, b = colorsys.hsv_to_rgb((index * 0.618034) % 1.0, 0.65, 0.95)
    return f"#{int(r * 255):02x}{int(g * 255):02x}{int(b * 255):02x}"


def build_xml(export: ExportSet) -> ET.Element:
    now = datetime.now(UTC).isoformat(timespec="seconds")
    root = ET.Element("annotations")
    ET.SubElement(root, "version").text = "1.1"
    meta = ET.SubElement(root, "meta")
    task = ET.SubElement(meta, "task")
    for key, value in (
        ("name", f"framesift {export.run_name}"),
        ("size", str(len(export.frames))),
        ("mode", "annotation"),
        ("overlap", "0"),
        ("bugtracker", ""),
        ("created", now),
        ("updated", now),
        ("subset", "default"),
        ("start_frame", "0"),
        ("stop_frame", str(max(0, len(export.frames) - 1))),
        ("frame_filter", ""),
    ):
        ET.SubElement(task, key).text = value
    labels = ET.SubElement(task, "labels")
    for i, category in enumerate(export.categories):
        label = ET.SubElement(labels, "label")
        ET.SubElement(label, "name").text = category.name
        ET.SubElement(label, "color").text = label_color(i)
        ET.SubElement(label, "type").text = "rectangle"
        ET.SubElement(label, "attributes")
    ET.SubElement(meta, "dumped").text = now
    for image_id, frame in enumerate(export.frames):  # frames are sorted by file name
        image = ET.SubElement(
            root, "image",
            {"id": str(image_id), "name": frame.file_name, "width": str(frame.width), "height": str(frame.height)},
        )
        for box in frame.boxes:
            ET.SubElement(
                image, "box",
                {
                    "label": box.category,
                    "source": "auto",
                    "occluded": "0",
                    "xtl": repr(box.x),
                    "ytl": repr(box.y),
                    "xbr": repr(box.x + box.w),
                    "ybr": repr(box.y + box.h),
                    "z_order": "0",
                },
            )
    ET.indent(root)
    return root


def write_cvat(export: ExportSet, out_dir: Path) -> tuple[Path, Path]:
    """annotations.xml, and cvat_task.zip = annotations.xml + images/ (CVAT's own dataset layout)."""
    xml_path = out_dir / XML_NAME
    with atomic_path(xml_path) as tmp:
        ET.ElementTree(build_xml(export)).write(tmp, encoding="utf-8", xml_declaration=True)
    archive = out_dir / ARCHIVE_NAME
    with atomic_path(archive) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as zf:
        zf.write(xml_path, XML_NAME)
        for frame in export.frames:
            zf.write(out_dir / IMAGES / frame.file_name, f"{IMAGES}/{frame.file_name}")
    return xml_path, archive


def images_archive(export: ExportSet, images_dir: Path, folder: Path) -> Path:
    """A zip of the images alone, named as in the XML: the task data for an upload."""
    path = folder / "images.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for frame in export.frames:
            zf.write(images_dir / frame.file_name, frame.file_name)
    return path


def read_cvat(path: Path) -> list[ImportedImage]:
    """Parse a CVAT for images 1.1 annotations.xml, or a CVAT export .zip that contains one."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf, tempfile.TemporaryDirectory() as tmp:
            members = sorted((n for n in zf.namelist() if n.endswith(".xml")), key=lambda n: (n.count("/"), n))
            if not members:
                raise FramesiftError(f"{path}: no .xml in the archive; export the task as 'CVAT for images 1.1'")
            return _parse(Path(zf.extract(members[0], tmp)), label=str(path))
    return _parse(path, label=str(path))


def _parse(xml_path: Path, label: str) -> list[ImportedImage]:
    try:
        root = ET.parse(xml_path).getroot()
    except (OSError, ET.ParseError) as err:
        raise FramesiftError(f"{label}: not readable XML ({err})") from None
    if root.tag != "annotations":
        raise FramesiftError(f"{label}: root element is <{root.tag}>, expected <annotations> (CVAT for images 1.1)")
    if root.find("track") is not None:
        raise FramesiftError(f"{label}: this is 'CVAT for video' (tracks); export the task as 'CVAT for images 1.1'")
    images = []
    for element in root.iter("image"):
        name = element.get("name")
        if not name:
            raise FramesiftError(f"{label}: <image id={element.get('id')!r}> has no name attribute")
        image = ImportedImage(name=name, width=_num(element.get("width")), height=_num(element.get("height")))
        for child in element:
            _add_shape(image, child, label)
        images.append(image)
    return images


def _add_shape(image: ImportedImage, el: ET.Element, label: str) -> None:
    attributes: dict[str, Any] = {k: el.get(k) for k in ("source", "occluded", "z_order", "group_id") if el.get(k)}
    named = {a.get("name"): a.text or "" for a in el.findall("attribute")}
    if named:
        attributes["attributes"] = named
    category = el.get("label")
    if not category:
        raise FramesiftError(f"{label}: <{el.tag}> in image {image.name!r} has no label attribute")
    if el.tag == "box":
        x0, y0, x1, y1 = (_coord(el, k, label) for k in ("xtl", "ytl", "xbr", "ybr"))
    elif el.tag in ("polygon", "polyline", "points"):
        points = [Fraction(v) for pair in (el.get("points") or "").split(";") if pair for v in pair.split(",")]
        if len(points) < 2:
            raise FramesiftError(f"{label}: <{el.tag}> in image {image.name!r} has no points")
        xs, ys = points[0::2], points[1::2]
        x0, y0, x1, y1 = min(xs), min(ys), max(xs), max(ys)
        attributes.update(shape=el.tag, points=el.get("points"))
    elif el.tag == "ellipse":
        cx, cy, rx, ry = (_coord(el, k, label) for k in ("cx", "cy", "rx", "ry"))
        x0, y0, x1, y1 = cx - rx, cy - ry, cx + rx, cy + ry
        attributes["shape"] = "ellipse"
    elif el.tag == "tag":
        image.boxes.append(ImportedBox(category, attributes=attributes))
        return
    else:
        image.skipped.append(el.tag)
        return
    image.boxes.append(ImportedBox(category, x0, y0, x1 - x0, y1 - y0, attributes=attributes))


def _coord(el: ET.Element, key: str, label: str) -> Fraction:
    value = el.get(key)
    try:
        return Fraction(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise FramesiftError(f"{label}: <{el.tag}> attribute {key}={value!r} is not a number") from None


def _num(value: str | None) -> Fraction | None:
    return None if value in (None, "") else Fraction(value)
