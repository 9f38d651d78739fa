"""A simulated annotator: labels for selected frames, taken from a ground-truth file (COCO or MOT).

Ground truth is usually made for an image sequence; framesift works on the video made from it.
Each GT image is mapped to a video frame by, in this order:

1. framesift identity fields on a COCO image (``video``, ``frame_index``, optional ``video_ext``),
2. a LightlyOne frame name (``{video}-{frame}-{ext}.png``),
3. the number in the image name (``000042.jpg``, ``frame_42.png``; MOT: the frame column):
   ``frame_index = number - frame_offset``. The offset is the number of the image that became
   the video's first frame: 1 for MOT (its frames count from 1), and for COCO the smallest number
   among the images unless given. Such numbered frames belong to ``video`` (default: the only
   video of the workspace).

The oracle writes the labels of a round's frames as a COCO file carrying framesift identity and
imports it with ``framesift.export.importer``, exactly the path a human's labels take. A frame the
GT does not cover gets no label (and is counted); a covered frame without boxes is labeled empty.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from framesift.errors import FramesiftError
from framesift.export.importer import ImportSummary, import_labels
from framesift.store.catalog import Catalog
from framesift.util.atomic import write_json
from framesift.video.naming import frame_file_name, parse_frame_stem

FORMATS = ("coco", "mot")
MOT_PEDESTRIAN = 1  # MOT16/17/20 class column: only pedestrians are scored by MOTChallenge
_NUMBER = re.compile(r"(\d+)(?!.*\d)")

# (video name or None for "the oracle video", video ext or None, frame index)
FrameKey = tuple[str | None, str | None, int]


@dataclass
class GtBox:
    category: str
    x: float
    y: float
    w: float
    h: float


@dataclass
class GroundTruth:
    """Boxes per covered frame; a covered frame with no boxes is a labeled empty frame."""

    categories: list[str]
    frames: dict[FrameKey, list[GtBox]] = field(default_factory=dict)
    sizes: dict[FrameKey, tuple[int, int]] = field(default_factory=dict)  # GT image size, when the file has it
    path: str = ""

    def __len__(self) -> int:
        return len(self.frames)


def read_ground_truth(path: str | Path, fmt: str | None = None, *, frame_offset: int | None = None,
                      category: str = "pedestrian") -> GroundTruth:
    """Read COCO (.json) or MOT (gt.txt) ground truth into frame keys."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise FramesiftError(f"--oracle {path}: ground-truth file not found")
    fmt = (fmt or ("coco" if path.suffix.lower() == ".json" else "mot")).lower()
    if fmt == "coco":
        return read_coco_gt(path, frame_offset)
    if fmt == "mot":
        return read_mot_gt(path, 1 if frame_offset is None else frame_offset, category)
    raise FramesiftError(f"--oracle-format {fmt}: use one of {', '.join(FORMATS)}")


def read_coco_gt(path: Path, frame_offset: int | None = None) -> GroundTruth:
    """COCO through framesift's own reader; image keys by identity, Lightly name or number."""
    from framesift.export.coco import read_coco

    images = read_coco(path)
    numbers = [n for n in (_image_number(img.name, img.identity) for img in images) if n is not None]
    offset = frame_offset if frame_offset is not None else (min(numbers) if numbers else 0)
    truth = GroundTruth(categories=sorted({b.category for img in images for b in img.boxes}), path=str(path))
    for image in images:
        key = _coco_key(image.name, image.identity, offset)
        if key is None:
            raise FramesiftError(
                f"--oracle {path}: image {image.name!r} has no frame identity, no LightlyOne frame name "
                "and no frame number; name images by frame number or add video/frame_index fields"
            )
        if key[2] < 0:
            raise FramesiftError(f"--oracle {path}: image {image.name!r} maps to frame {key[2]} "
                                 f"(number - offset {offset}); pass --oracle-frame-offset")
        boxes = truth.frames.setdefault(key, [])
        boxes.extend(GtBox(b.category, float(b.x), float(b.y), float(b.w), float(b.h))  # type: ignore[arg-type]
                     for b in image.boxes)
        if image.width and image.height:
            truth.sizes[key] = (int(image.width), int(image.height))
    return truth


def read_mot_gt(path: Path, frame_offset: int = 1, category: str = "pedestrian") -> GroundTruth:
    """MOT ``frame,id,x,y,w,h[,conf|consider,...]``: frames 1..last are covered (frames without boxes are empty).

    MOT16/17/20 ground truth (9 columns) keeps boxes with consider=1 of class 1 (pedestrian), as
    MOTChallenge scores them; MOT15 (10 columns) and 6-7 column files keep every box.
    """
    truth = GroundTruth(categories=[category], path=str(path))
    last = 0
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        cols = [c.strip() for c in line.split(",")]
        try:
            values = [float(c) for c in cols]
        except ValueError:
            raise FramesiftError(f"--oracle {path}:{number}: not a MOT line (frame,id,x,y,w,h,...)") from None
        if len(values) < 6:
            raise FramesiftError(f"--oracle {path}:{number}: a MOT line has at least 6 columns")
        frame = int(values[0])
        last = max(last, frame)
        if len(values) >= 7 and values[6] == 0:  # MOT16+: 'consider' flag 0 = ignored box
            continue
        if len(values) == 9 and int(values[7]) != MOT_PEDESTRIAN:  # MOT16/17/20 class (MOT15's 10 columns: world xyz)
            continue
        truth.frames.setdefault((None, None, frame - frame_offset), []).append(GtBox(category, *values[2:6]))
    if last == 0:
        raise FramesiftError(f"--oracle {path}: no MOT lines")
    for frame in range(1, last + 1):
        if frame - frame_offset >= 0:
            truth.frames.setdefault((None, None, frame - frame_offset), [])
    truth.frames = {k: v for k, v in truth.frames.items() if k[2] >= 0}
    return truth


def _coco_key(name: str, identity: dict[str, Any], offset: int) -> FrameKey | None:
    if identity.get("video") is not None and identity.get("frame_index") is not None:
        return str(identity["video"]), identity.get("video_ext"), int(identity["frame_index"])
    parsed = parse_frame_stem(name)
    if parsed is not None:
        return parsed[0], parsed[2], parsed[1]
    number = _image_number(name, identity)
    return None if number is None else (None, None, number - offset)


def _image_number(name: str, identity: dict[str, Any]) -> int | None:
    if identity.get("frame_index") is not None or parse_frame_stem(name) is not None:
        return None
    match = _NUMBER.search(Path(name).stem)
    return int(match.group(1)) if match else None


@dataclass
class FrameRow:
    """A catalog frame to label (what the oracle needs of it)."""

    frame_id: int
    video: str
    video_ext: str
    frame_index: int
    pts: int | None
    width: int
    height: int
    n_frames: int

    @property
    def file_name(self) -> str:
        return frame_file_name(self.video, self.video_ext, self.frame_index, self.n_frames)


def frame_rows(catalog: Catalog, frame_ids: Sequence[int]) -> list[FrameRow]:
    rows = []
    for chunk in range(0, len(frame_ids), 500):
        ids = [int(i) for i in frame_ids[chunk:chunk + 500]]
        rows += catalog.query(
            "SELECT f.id, v.name, v.ext, f.frame_index, f.pts, v.width, v.height, v.n_frames FROM frames f "
            f"JOIN videos v ON v.id = f.video_id WHERE f.id IN ({','.join('?' * len(ids))})", ids)
    by_id = {int(r[0]): FrameRow(int(r[0]), r[1], r[2], int(r[3]), r[4], int(r[5] or 0), int(r[6] or 0),
                                  int(r[7] or 0)) for r in rows}
    return [by_id[int(i)] for i in frame_ids if int(i) in by_id]


class Oracle:
    """Answers label requests for catalog frames from a GroundTruth."""

    def __init__(self, truth: GroundTruth, catalog: Catalog, video: str | None = None):
        self.truth = truth
        self.video = self._oracle_video(catalog, video) if any(k[0] is None for k in truth.frames) else video

    @staticmethod
    def _oracle_video(catalog: Catalog, video: str | None) -> str:
        names = [r[0] for r in catalog.query("SELECT name FROM videos WHERE status = 'ingested' ORDER BY id")]
        if video is not None:
            if video not in names:
                raise FramesiftError(f"--oracle-video {video!r}: not an ingested video; videos: {', '.join(names) or 'none'}")
            return video
        if len(names) != 1:
            raise FramesiftError(
                f"--oracle-video: the ground truth names frames by number only and the workspace has {len(names)} "
                f"videos; name the one it belongs to ({', '.join(names[:5]) or 'none ingested'})"
            )
        return names[0]

    def key(self, row: FrameRow) -> FrameKey | None:
        """The GT key that covers this frame, or None."""
        for key in ((row.video, row.video_ext, row.frame_index), (row.video, None, row.frame_index)):
            if key in self.truth.frames:
                return key
        if row.video == self.video and (None, None, row.frame_index) in self.truth.frames:
            return None, None, row.frame_index
        return None

    def covered(self, rows: Sequence[FrameRow]) -> list[FrameRow]:
        return [r for r in rows if self.key(r) is not None]

    def coco_document(self, rows: Sequence[FrameRow]) -> dict[str, Any]:
        """COCO with framesift identity on each image, for the covered frames among ``rows``."""
        category_id = {name: i + 1 for i, name in enumerate(self.truth.categories)}
        images, annotations = [], []
        for row in rows:
            key = self.key(row)
            if key is None:
                continue
            width, height = self.truth.sizes.get(key, (row.width, row.height))
            image_id = len(images) + 1
            images.append({"id": image_id, "file_name": row.file_name,
                           "width": width, "height": height, "video": row.video, "video_ext": row.video_ext,
                           "frame_index": row.frame_index, "pts": row.pts, "frame_id": row.frame_id})
            for box in self.truth.frames[key]:
                annotations.append({"id": len(annotations) + 1, "image_id": image_id,
                                    "category_id": category_id[box.category], "bbox": [box.x, box.y, box.w, box.h],
                                    "area": box.w * box.h, "iscrowd": 0})
        return {"info": {"description": f"framesift oracle labels from {self.truth.path}"},
                "images": images, "annotations": annotations,
                "categories": [{"id": i, "name": n} for n, i in category_id.items()]}

    def label(self, catalog: Catalog, rows: Sequence[FrameRow], out: Path, source: str) -> OracleResult:
        """Write the labels of ``rows`` to ``out`` (COCO) and import them as ``source``."""
        document = self.coco_document(rows)
        write_json(out, document)
        summary = import_labels(catalog, out, fmt="coco", source=source) if document["images"] else None
        return OracleResult(len(rows), len(document["images"]), len(rows) - len(document["images"]), summary, out)


@dataclass
class OracleResult:
    requested: int
    labeled: int
    not_covered: int  # frames the ground truth has nothing on (left unlabeled)
    imported: ImportSummary | None
    path: Path

    def record(self) -> dict[str, Any]:
        imported = self.imported
        return {"requested": self.requested, "labeled": self.labeled, "not_covered": self.not_covered,
                "boxes": imported.boxes if imported else 0, "empty_frames": imported.empty_frames if imported else 0,
                "file": str(self.path), "source": imported.source if imported else None}
