"""Labels back into the catalog: match every image to a frame by identity, then replace the
labels of this source in one transaction.

Matching: explicit identity fields (video + frame_index, checked against pts) when the file or
its manifest kept them, else the Lightly file name ``{video}-{frame}-{ext}``. Any image that
matches no frame stops the import with one error naming them (nothing is written), unless the
caller allows unmatched images, which are then skipped and counted.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from framesift.errors import FramesiftError
from framesift.export.files import ManifestIndex
from framesift.export.model import EMPTY_FRAME, ImportedImage, to_frame_px
from framesift.store.catalog import Catalog
from framesift.util.userfile import reads_user_file
from framesift.video.naming import parse_frame_stem

UPLOAD_PREFIX = re.compile(r"^[0-9a-f]{8}-")  # Label Studio prefixes uploaded file names with 8 hex digits


@dataclass
class FrameRef:
    frame_id: int
    width: int
    height: int


@dataclass
class ImportSummary:
    source: str
    images: int = 0
    matched: int = 0
    unlabeled: int = 0  # images the tool has but nobody labeled yet (Label Studio tasks without annotations)
    unmatched: list[tuple[str, str]] = field(default_factory=list)  # (image name, reason), when allowed
    boxes: int = 0
    frame_labels: int = 0
    empty_frames: int = 0
    replaced: int = 0
    skipped_regions: Counter = field(default_factory=Counter)

    def lines(self) -> list[str]:
        lines = [
            f"{self.source}: {self.matched} of {self.images} images matched; {self.boxes} boxes, "
            f"{self.frame_labels} frame labels, {self.empty_frames} frames with no objects"
            + (f"; replaced {self.replaced} labels of an earlier import" if self.replaced else "")
        ]
        if self.unlabeled:
            lines.append(f"  {self.unlabeled} images not labeled yet (no annotation): nothing recorded for them")
        if self.unmatched:
            lines.append(f"  skipped {len(self.unmatched)} unmatched images (--allow-unmatched), first: "
                         f"{self.unmatched[0][0]} ({self.unmatched[0][1]})")
        if self.skipped_regions:
            kinds = ", ".join(f"{n} {k}" for k, n in sorted(self.skipped_regions.items()))
            lines.append(f"  not imported (neither boxes nor frame tags): {kinds}")
        return lines


class FrameMatcher:
    """Finds the catalog frame of an imported image (identity fields, manifest, then file name)."""

    def __init__(self, catalog: Catalog, manifest: ManifestIndex):
        self.catalog = catalog
        self.manifest = manifest
        self.videos: dict[tuple[str, str], tuple[int, int, int]] = {}
        self.by_name: dict[str, list[str]] = {}
        for r in catalog.query("SELECT id, name, ext, width, height FROM videos"):
            self.videos[(r["name"], r["ext"])] = (int(r["id"]), int(r["width"] or 0), int(r["height"] or 0))
            self.by_name.setdefault(r["name"], []).append(r["ext"])

    def match(self, image: ImportedImage) -> FrameRef | str:
        """The frame, or the reason there is none."""
        identity = image.identity or self.manifest.identity(image.name)
        if identity.get("video") is not None and identity.get("frame_index") is not None:
            return self._by_identity(identity)
        return self._by_name(image.name)

    def _by_identity(self, identity: dict[str, Any]) -> FrameRef | str:
        video, ext = str(identity["video"]), identity.get("video_ext")
        if ext is None:
            exts = self.by_name.get(video, [])
            if len(exts) != 1:
                return f"video {video!r} " + ("not in the catalog" if not exts else "is ambiguous; add video_ext")
            ext = exts[0]
        try:  # identity fields come from a file a person may have edited
            frame_index = int(identity["frame_index"])
            pts = None if identity.get("pts") is None else int(identity["pts"])
        except (TypeError, ValueError, OverflowError):
            return f"frame_index {identity['frame_index']!r} and pts {identity.get('pts')!r} must be integers"
        return self._frame(video, str(ext), frame_index, pts)

    def _by_name(self, name: str) -> FrameRef | str:
        parsed = parse_frame_stem(name)
        base = name.rsplit("/", 1)[-1]
        if parsed is None and UPLOAD_PREFIX.match(base):
            parsed = parse_frame_stem(UPLOAD_PREFIX.sub("", base))
        if parsed is None:
            return "name is not {video}-{frame}-{ext} and the file keeps no frame identity"
        video, frame_index, ext = parsed
        candidates = _path_suffixes(video)
        if UPLOAD_PREFIX.match(candidates[-1]):
            candidates.append(UPLOAD_PREFIX.sub("", candidates[-1]))
        for candidate in candidates:  # longest first: 'export/images/sub/clip' → 'sub/clip' → 'clip'
            if (candidate, ext) in self.videos:
                return self._frame(candidate, ext, frame_index, None)
        return f"video {candidates[-1]!r} ({ext}) not in the catalog"

    def _frame(self, video: str, ext: str, frame_index: int, pts: Any) -> FrameRef | str:
        known = self.videos.get((video, ext))
        if known is None:
            return f"video {video!r} ({ext}) not in the catalog"
        video_id, width, height = known
        row = self.catalog.query_one(
            "SELECT id, pts FROM frames WHERE video_id = ? AND frame_index = ?", (video_id, frame_index)
        )
        if row is None:
            return f"frame {frame_index} of {video!r} is not indexed"
        if pts is not None and row["pts"] is not None and int(pts) != int(row["pts"]):
            return f"frame {frame_index} of {video!r} has pts {row['pts']} in the catalog, {pts} in the file (frame drift)"
        return FrameRef(int(row["id"]), width, height)


def _path_suffixes(video: str) -> list[str]:
    parts = video.split("/")
    return ["/".join(parts[i:]) for i in range(len(parts))]


def import_images(
    catalog: Catalog,
    images: list[ImportedImage],
    source: str,
    *,
    manifest: ManifestIndex | None = None,
    allow_unmatched: bool = False,
    origin: str = "",
) -> ImportSummary:
    summary = ImportSummary(source=source, images=len(images))
    matcher = FrameMatcher(catalog, manifest or ManifestIndex(None))
    rows: list[tuple[Any, ...]] = []
    unmatched: list[tuple[str, str]] = []
    for image in images:
        summary.skipped_regions.update(image.skipped)
        found = matcher.match(image)
        if isinstance(found, str):
            unmatched.append((image.name, found))
            continue
        summary.matched += 1
        if not image.labeled:
            summary.unlabeled += 1
            continue
        rows.extend(_label_rows(image, found, source, summary))
    if unmatched and not allow_unmatched:
        first = ", ".join(name for name, _ in unmatched[:3])
        raise FramesiftError(
            f"{origin or source}: {len(unmatched)} of {len(images)} images match no frame in the catalog "
            f"(first: {first}; {unmatched[0][1]}); nothing was imported — check --workspace, or pass "
            "--allow-unmatched to import the rest"
        )
    summary.unmatched = unmatched
    with catalog.transaction() as conn:
        summary.replaced = conn.execute("DELETE FROM labels WHERE source = ?", (source,)).rowcount
        conn.executemany(
            "INSERT INTO labels (frame_id, source, category, x, y, w, h, attributes) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
    return summary


def _label_rows(image: ImportedImage, frame: FrameRef, source: str, summary: ImportSummary) -> list[tuple[Any, ...]]:
    if not image.boxes:
        summary.empty_frames += 1
        return [(frame.frame_id, source, EMPTY_FRAME, None, None, None, None, json.dumps({"image": image.name}))]
    size = (image.width, image.height) if image.width and image.height else None
    rows = []
    for box in image.boxes:
        attributes = json.dumps({"image": image.name, **box.attributes}, default=str)
        if box.is_frame_level:
            summary.frame_labels += 1
            rows.append((frame.frame_id, source, box.category, None, None, None, None, attributes))
            continue
        x, y, w, h = to_frame_px(box, image.units, size, (frame.width, frame.height))
        summary.boxes += 1
        rows.append((frame.frame_id, source, box.category, x, y, w, h, attributes))
    return rows


@reads_user_file("labeling-tool export")
def read_labels(path: Path, fmt: str, manifest: ManifestIndex) -> list[ImportedImage]:
    from framesift.export.coco import read_coco
    from framesift.export.cvat import read_cvat
    from framesift.export.labelstudio import read_labelstudio
    from framesift.export.yolo import read_yolo

    if fmt == "coco":
        return read_coco(path)
    if fmt == "yolo":
        return read_yolo(path, manifest)
    if fmt == "cvat":
        return read_cvat(path)
    if fmt == "labelstudio":
        return read_labelstudio(path)
    raise FramesiftError(f"--format {fmt!r}: use coco, yolo, cvat or labelstudio")


def detect_format(path: Path) -> str:
    """Guess the format from the path: folder/data.yaml → yolo, .xml/.zip → cvat, JSON by its shape."""
    if path.is_dir() or path.name.endswith((".yaml", ".yml")):
        return "yolo"
    if path.suffix.lower() in (".xml", ".zip"):
        return "cvat"
    if path.suffix.lower() == ".json":
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise FramesiftError(f"{path}: cannot read JSON ({err})") from None
        if isinstance(document, dict) and "images" in document and "annotations" in document:
            return "coco"
        if isinstance(document, list):
            return "labelstudio"
    raise FramesiftError(f"{path}: cannot tell the format; pass --format coco|yolo|cvat|labelstudio")


def import_labels(
    catalog: Catalog,
    path: Path,
    *,
    fmt: str | None = None,
    source: str | None = None,
    manifest_path: Path | None = None,
    allow_unmatched: bool = False,
) -> ImportSummary:
    """Read a labeling tool's export and store its labels as ground truth (source: '<fmt>:<abs path>')."""
    path = path.expanduser().resolve()
    if not path.exists():
        raise FramesiftError(f"{path}: not found; pass the exported labels file (or YOLO dataset folder)")
    fmt = fmt or detect_format(path)
    if fmt == "yolo" and path.is_file():
        path = path.parent  # the dataset folder names the source, whichever file was passed
    manifest = ManifestIndex.near(path, manifest_path)
    images = read_labels(path, fmt, manifest)
    return import_images(
        catalog, images, source or f"{fmt}:{path}", manifest=manifest, allow_unmatched=allow_unmatched, origin=str(path)
    )
