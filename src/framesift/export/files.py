"""Files every export shares: the images folder (hard links when possible) and manifest.json,
which keeps each image's frame identity next to the tool-specific files."""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from framesift import __version__
from framesift.errors import FramesiftError
from framesift.export.model import IDENTITY_KEYS, ExportSet
from framesift.util.atomic import atomic_path, write_json
from framesift.util.progress import bar

MANIFEST = "manifest.json"
IMAGES = "images"
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".gif", ".tif", ".tiff"}


def place_images(export: ExportSet, out_dir: Path) -> Path:
    """Put every selected PNG under out_dir/images/<file name> (link, else copy)."""
    images_dir = out_dir / IMAGES
    with bar(total=len(export.frames), desc="export images", unit="image") as progress:
        for frame in export.frames:
            target = images_dir / frame.file_name
            if not _same_file(frame.source_path, target):
                with atomic_path(target) as tmp:
                    tmp.unlink()
                    try:
                        os.link(frame.source_path, tmp)
                    except OSError:
                        shutil.copyfile(frame.source_path, tmp)
            progress.update(1)
    return images_dir


def make_readable(out_dir: Path) -> None:
    """Atomic writes leave 0600 files; a labeling server running as another user must read them."""
    umask = os.umask(0)
    os.umask(umask)
    for path in out_dir.rglob("*"):
        if path.is_file():
            path.chmod(0o666 & ~umask)


def _same_file(source: Path, target: Path) -> bool:
    try:
        a, b = source.stat(), target.stat()
    except FileNotFoundError:
        return False
    return (a.st_ino, a.st_dev) == (b.st_ino, b.st_dev) or (a.st_size == b.st_size and a.st_mtime <= b.st_mtime)


def manifest_document(export: ExportSet, fmt: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    document: dict[str, Any] = {
        "framesift_version": __version__,
        "format": fmt,
        "run": export.run_name,
        "workspace": str(export.workspace),
        "task": export.task,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "categories": [{"id": c.id, "name": c.name} for c in export.categories],
        "images": [
            {"file_name": f.file_name, "width": f.width, "height": f.height, **f.identity()} for f in export.frames
        ],
    }
    document.update(extra or {})
    return document


def write_manifest(export: ExportSet, out_dir: Path, fmt: str, extra: dict[str, Any] | None = None) -> Path:
    """Write manifest.json; files a previous export here listed but this one does not are removed."""
    path = out_dir / MANIFEST
    old = read_manifest(path)
    if old is not None:
        keep = {f.file_name for f in export.frames}
        for item in old["images"]:
            name = item.get("file_name")
            if name and name not in keep:
                for stale in (out_dir / IMAGES / name, out_dir / "labels" / Path(name).with_suffix(".txt")):
                    stale.unlink(missing_ok=True)
    write_json(path, manifest_document(export, fmt, extra))
    return path


def read_manifest(path: Path) -> dict[str, Any] | None:
    """A framesift manifest, or None when the file is missing or is not one."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(document, dict) or "framesift_version" not in document or not isinstance(
        document.get("images"), list
    ):
        return None
    return document


class ManifestIndex:
    """Identity of images by file name, by name under images/, and by base name when unique."""

    def __init__(self, document: dict[str, Any] | None):
        self.by_name: dict[str, dict[str, Any]] = {}
        self.sizes: dict[str, tuple[int, int]] = {}
        self.names: list[str] = []
        base_counts: dict[str, int] = {}
        for item in (document or {}).get("images", []):
            name = item.get("file_name")
            if not name:
                continue
            self.names.append(name)
            identity = {k: item[k] for k in IDENTITY_KEYS if item.get(k) is not None}
            base = name.rsplit("/", 1)[-1]
            base_counts[base] = base_counts.get(base, 0) + 1
            for key in (name, f"{IMAGES}/{name}", base):
                self.by_name.setdefault(key, identity)
            if item.get("width") and item.get("height"):
                self.sizes[name] = (int(item["width"]), int(item["height"]))
        for base, count in base_counts.items():
            if count > 1:
                self.by_name.pop(base, None)

    def identity(self, name: str) -> dict[str, Any]:
        for key in (name, name.rsplit("/", 1)[-1]):
            if key in self.by_name:
                return dict(self.by_name[key])
        return {}

    @classmethod
    def near(cls, path: Path, explicit: Path | None = None) -> ManifestIndex:
        """The manifest passed explicitly, else manifest.json beside (or inside) the labels path."""
        if explicit is not None:
            document = read_manifest(explicit)
            if document is None:
                raise FramesiftError(f"{explicit}: not a framesift manifest.json; pass the manifest.json of the export")
            return cls(document)
        return cls(read_manifest(path / MANIFEST if path.is_dir() else path.parent / MANIFEST))
