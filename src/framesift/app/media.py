"""Frame thumbnails, full frames and crops as JPEG, decoded on demand and cached in the workspace.

Requests name frames and boxes by catalog id only (never by path), so nothing outside the
workspace's own videos can be read. Decoded images are cached under
``WORKSPACE/cache/thumbs/<video id>-<fingerprint>/``; a changed video gets a new folder. A page
of thumbnails is decoded in one pass per video (``warm``) instead of one seek per image.
"""

from __future__ import annotations

import hashlib
import threading
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from framesift.app.security import inside
from framesift.loop.concepts import NotFound
from framesift.util.atomic import write_with
from framesift.video.decode import VideoError
from framesift.video.extract import read_frames
from framesift.workspace import Workspace

MIN_WIDTH, MAX_WIDTH, WIDTH_STEP = 32, 640, 16
CROP_MARGIN = 0.15  # context around a box, as a fraction of its size
JPEG_QUALITY = 85


class MediaError(NotFound):
    """A frame that cannot be shown (video file gone or undecodable)."""


@dataclass(frozen=True)
class FrameRef:
    frame_id: int
    video_id: int
    frame_index: int
    pts: int | None
    path: str
    width: int
    height: int
    folder: str  # cache folder name of the video


def snap_width(width: int | None) -> int | None:
    """Thumbnail widths are snapped to a few sizes so the cache stays small; None = full size."""
    if width is None or width <= 0:
        return None
    width = min(MAX_WIDTH, max(MIN_WIDTH, int(width)))
    return (width + WIDTH_STEP - 1) // WIDTH_STEP * WIDTH_STEP


class MediaCache:
    def __init__(self, workspace: Workspace, decode_slots: int = 2):
        self.workspace = workspace
        self.root = workspace.cache_dir / "thumbs"
        self._slots = threading.BoundedSemaphore(decode_slots)

    # -- lookup -------------------------------------------------------------------------
    def refs(self, frame_ids: Iterable[int]) -> dict[int, FrameRef]:
        wanted = list(dict.fromkeys(int(f) for f in frame_ids))
        out: dict[int, FrameRef] = {}
        for start in range(0, len(wanted), 900):
            part = wanted[start : start + 900]
            marks = ",".join("?" * len(part))
            rows = self.workspace.catalog.query(
                "SELECT f.id, f.video_id, f.frame_index, f.pts, v.path, v.width, v.height, v.fingerprint "
                f"FROM frames f JOIN videos v ON v.id = f.video_id WHERE f.id IN ({marks})", part)
            for r in rows:
                tag = hashlib.blake2b(str(r["fingerprint"]).encode(), digest_size=4).hexdigest()
                out[int(r["id"])] = FrameRef(int(r["id"]), int(r["video_id"]), int(r["frame_index"]),
                                             None if r["pts"] is None else int(r["pts"]), r["path"],
                                             int(r["width"] or 0), int(r["height"] or 0), f"{r['video_id']}-{tag}")
        return out

    def ref(self, frame_id: int) -> FrameRef:
        found = self.refs([frame_id]).get(int(frame_id))
        if found is None:
            raise NotFound(f"unknown frame id {frame_id}")
        return found

    def _path(self, ref: FrameRef, width: int | None) -> Path:
        return self.root / ref.folder / f"{ref.frame_index}-{width or 'full'}.jpg"

    @staticmethod
    def _size(ref: FrameRef, width: int | None) -> tuple[int, int] | None:
        if width is None or not ref.width or not ref.height or width >= ref.width:
            return None
        height = max(2, round(ref.height * width / ref.width / 2) * 2)
        return width, height

    # -- frames -------------------------------------------------------------------------
    def frame_jpeg(self, frame_id: int, width: int | None = None) -> Path:
        ref = self.ref(frame_id)
        path = self._path(ref, snap_width(width))
        if not path.exists():
            self._decode_into_cache([ref], snap_width(width))
        return self._confined(path)

    def _confined(self, path: Path) -> Path:
        if not inside(path, self.root):
            raise MediaError(f"{path.name}: cached file points outside the workspace cache; delete it")
        return path

    def warm(self, frame_ids: Iterable[int], width: int | None) -> int:
        """Decode every uncached frame of the list, one pass per video; returns how many were decoded."""
        width = snap_width(width)
        refs = self.refs(frame_ids)
        missing = [r for r in refs.values() if not self._path(r, width).exists()]
        by_video: dict[int, list[FrameRef]] = defaultdict(list)
        for ref in missing:
            by_video[ref.video_id].append(ref)
        for group in by_video.values():
            self._decode_into_cache(group, width)
        return len(missing)

    def _decode_into_cache(self, refs: list[FrameRef], width: int | None) -> None:
        first = refs[0]
        with self._slots:
            todo = {r.frame_index: r for r in refs if not self._path(r, width).exists()}
            if not todo:
                return
            size = self._size(first, width)
            try:
                for index, image in read_frames(first.path, [(r.frame_index, r.pts) for r in todo.values()],
                                                size=size):
                    self._write(self._path(todo.pop(index), width), image)
            except VideoError as err:
                raise MediaError(f"frame {first.frame_id} cannot be decoded: {err}") from err
        if todo:
            raise MediaError(f"frame {next(iter(todo.values())).frame_id} not found in {first.path}")

    @staticmethod
    def _write(path: Path, image: np.ndarray) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_with(path, lambda tmp: Image.fromarray(image).save(tmp, "JPEG", quality=JPEG_QUALITY))

    # -- crops --------------------------------------------------------------------------
    def crop_jpeg(self, box_id: int, width: int | None = None) -> Path:
        row = self.workspace.catalog.query_one(
            "SELECT frame_id, x, y, w, h FROM predictions WHERE id = ?", (int(box_id),))
        if row is None:
            raise NotFound(f"unknown box id {box_id}")
        if row["x"] is None or row["w"] is None or row["w"] <= 0 or row["h"] <= 0:
            raise NotFound(f"box {box_id} has no box coordinates")
        ref = self.ref(int(row["frame_id"]))
        width = snap_width(width)
        path = self.root / ref.folder / f"box{int(box_id)}-{width or 'full'}.jpg"
        if path.exists():
            return self._confined(path)
        full = Image.open(self.frame_jpeg(ref.frame_id, None))
        mx, my = row["w"] * CROP_MARGIN, row["h"] * CROP_MARGIN
        left, top = max(0, int(row["x"] - mx)), max(0, int(row["y"] - my))
        right = min(full.width, int(np.ceil(row["x"] + row["w"] + mx)))
        bottom = min(full.height, int(np.ceil(row["y"] + row["h"] + my)))
        if right <= left or bottom <= top:
            raise NotFound(f"box {box_id} lies outside its frame")
        crop = full.crop((left, top, right, bottom))
        if width is not None and crop.width > width:
            crop = crop.resize((width, max(1, round(crop.height * width / crop.width))))
        self._write(path, np.asarray(crop.convert("RGB")))
        return path
