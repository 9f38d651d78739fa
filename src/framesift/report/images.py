"""Small JPEGs of chosen frames for the report: hover thumbnails and example images.

Only the frames shown are decoded (seek-based ``read_frames``); the JPEGs are cached under
``WORKSPACE/cache/report-frames`` keyed by video fingerprint, frame index and width, so a
rebuilt report decodes nothing it decoded before.
"""

from __future__ import annotations

import base64
import hashlib
import io
import logging
import math
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageDraw

from framesift.errors import FramesiftError
from framesift.report.data import Box, ReportData
from framesift.util.atomic import write_with
from framesift.util.progress import bar
from framesift.video.extract import read_frames

log = logging.getLogger(__name__)

BOX_COLORS = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#bfef45"]


def display_size(width: int | None, height: int | None, target_width: int) -> tuple[int, int]:
    """(w, h) with w == target_width (never upscaled), aspect kept, both even."""
    width, height = int(width or target_width), int(height or target_width * 3 // 4)
    w = min(target_width, width)
    h = max(2, round(height * w / max(width, 1) / 2) * 2)
    return max(2, w // 2 * 2), h


def frame_jpegs(
    data: ReportData, positions: Sequence[int], width: int, *, quality: int = 70, desc: str = "thumbnails"
) -> tuple[dict[int, bytes], list[str]]:
    """JPEG bytes of the frames at ``positions`` (frame-table rows), by position, plus decode notes."""
    table = data.table
    out: dict[int, bytes] = {}
    notes: list[str] = []
    todo: dict[int, list[int]] = defaultdict(list)
    for p in dict.fromkeys(int(p) for p in positions):
        video = data.video(int(table.video_id[p]))
        path = _cache_path(data, video, int(table.frame_index[p]), width)
        if path.exists():
            out[p] = path.read_bytes()
        else:
            todo[int(table.video_id[p])].append(p)
    with bar(total=sum(len(v) for v in todo.values()), desc=desc, unit="frame") as progress:
        for video_id, rows in todo.items():
            video = data.video(video_id)
            size = display_size(video["width"], video["height"], width)
            by_index = {int(table.frame_index[p]): p for p in rows}
            targets = [(int(table.frame_index[p]), _pts(table.pts[p])) for p in rows]
            try:
                for frame_index, image in read_frames(video["path"], targets, size=size):
                    jpeg = encode_jpeg(image, quality)
                    p = by_index[frame_index]
                    out[p] = jpeg
                    write_with(_cache_path(data, video, frame_index, width), lambda tmp, b=jpeg: tmp.write_bytes(b))
                    progress.update(1)
            except (FramesiftError, OSError, av.FFmpegError) as err:  # a moved/changed video must not sink the report
                notes.append(f"{video['name']}: frames could not be decoded for the report ({err})")
                log.warning("report: %s", err)
    return out, notes


def _pts(value: float) -> int | None:
    return None if value is None or math.isnan(value) else int(value)


def _cache_path(data: ReportData, video: dict, frame_index: int, width: int) -> Path:
    key = hashlib.blake2b(f"{video['path']}|{video['fingerprint']}".encode(), digest_size=6).hexdigest()
    return data.workspace.cache_dir / "report-frames" / f"{video['id']}-{key}" / f"{frame_index}-w{width}.jpg"


def encode_jpeg(image: np.ndarray | Image.Image, quality: int = 70) -> bytes:
    buffer = io.BytesIO()
    pil = image if isinstance(image, Image.Image) else Image.fromarray(image)
    pil.convert("RGB").save(buffer, format="JPEG", quality=quality, optimize=True)
    return buffer.getvalue()


def decode_jpeg(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def data_uri(jpeg: bytes) -> str:
    return "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii")


def draw_boxes(jpeg: bytes, boxes: Sequence[Box], source_width: int, quality: int = 80) -> bytes:
    """Draw predicted boxes (pixel coordinates of the full frame) on a downscaled frame."""
    image = Image.open(io.BytesIO(jpeg)).convert("RGB")
    scale = image.width / max(source_width, 1)
    draw = ImageDraw.Draw(image)
    categories = sorted({b.category for b in boxes})
    for box in boxes:
        color = BOX_COLORS[categories.index(box.category) % len(BOX_COLORS)]
        x0, y0 = box.x * scale, box.y * scale
        x1, y1 = (box.x + box.w) * scale, (box.y + box.h) * scale
        draw.rectangle([x0, y0, x1, y1], outline=color, width=2)
        label = box.category if box.score is None else f"{box.category} {box.score:.2f}"
        tx, ty = x0 + 2, max(0.0, y0 - 11)
        draw.rectangle([tx - 2, ty, tx + 6 * len(label) + 2, ty + 11], fill=color)
        draw.text((tx, ty), label, fill="white")
    return encode_jpeg(image, quality)
