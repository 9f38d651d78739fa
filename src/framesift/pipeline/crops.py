"""Crops of predicted boxes on a run's selected frames: ``WORKSPACE/crops/<task>/<frame stem>-<i>.png``.

``i`` numbers the frame's boxes of the task in stored order, so names stay stable across
reruns; existing crops are kept. Pixels come from the frame's extracted PNG when it is there
(identical to a fresh decode), otherwise from a seek-based decode of the video.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from framesift.errors import FramesiftError
from framesift.pipeline.extract import frame_path, selected_frame_rows
from framesift.predict.crop import crop_window
from framesift.predict.store import get_task
from framesift.util.atomic import write_with
from framesift.util.progress import bar
from framesift.video.decode import VideoError
from framesift.video.extract import read_frames
from framesift.video.naming import frame_stem
from framesift.workspace import Workspace, _safe_name

log = logging.getLogger(__name__)


@dataclass
class CropSummary:
    task: str
    written: int = 0
    existing: int = 0
    frames: int = 0
    folder: Path | None = None
    failed: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    def line(self) -> str:
        return (f"crops ({self.task}): {self.written} written, {self.existing} already there, from {self.frames} "
                f"selected frames with boxes: {self.folder}")


def crops_folder(workspace: Workspace, task: str) -> Path:
    folder = workspace.crops_dir / _safe_name(task)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def write_crops(
    workspace: Workspace, run_id: int, task: str, *, padding: float = 0.0, compress_level: int = 3
) -> CropSummary:
    catalog = workspace.catalog
    if get_task(catalog, task) is None:
        known = [r[0] for r in catalog.query("SELECT name FROM tasks ORDER BY name")]
        raise FramesiftError(f"crops: task {task!r} not found; known tasks: {', '.join(known) or 'none'}")
    if padding < 0:
        raise FramesiftError(f"crops: padding {padding} must be >= 0 (a fraction of the box size)")
    start = time.perf_counter()
    folder = crops_folder(workspace, task)
    summary = CropSummary(task, folder=folder)
    boxes: dict[int, list[np.ndarray]] = defaultdict(list)
    for r in catalog.query(
        "SELECT p.frame_id, p.x, p.y, p.w, p.h FROM predictions p JOIN selections s ON s.frame_id = p.frame_id "
        "WHERE p.task = ? AND s.run_id = ? AND p.x IS NOT NULL ORDER BY p.id",
        (task, run_id),
    ):
        boxes[int(r[0])].append(np.array([r[1], r[2], r[3], r[4]], np.float64))
    todo: dict[int, list] = defaultdict(list)
    for row in selected_frame_rows(workspace, run_id):
        frame_boxes = boxes.get(int(row["frame_id"]))
        if not frame_boxes:
            continue
        summary.frames += 1
        stem = frame_stem(row["video"], row["ext"], row["frame_index"], row["n_frames"])
        targets = [folder / f"{stem}-{i}.png" for i in range(len(frame_boxes))]
        if all(t.exists() for t in targets):
            summary.existing += len(targets)
        else:
            todo[int(row["video_id"])].append((row, frame_boxes, targets))
    with bar(total=sum(len(v) for v in todo.values()), desc=f"crops {task}", unit="frame") as progress:
        for items in todo.values():
            try:
                for (_row, frame_boxes, targets), image in _images(workspace, items):
                    _save(image, frame_boxes, targets, padding, compress_level, summary)
                    progress.update(1)
            except VideoError as err:
                summary.failed[items[0][0]["path"]] = str(err)
                log.warning("crops: %s", err)
    summary.seconds = time.perf_counter() - start
    return summary


def _images(workspace: Workspace, items: list):  # type: ignore[no-untyped-def]
    """(item, RGB image) per item: the extracted PNG if present, else decoded from the video."""
    to_decode = []
    for item in items:
        png = frame_path(workspace, item[0])
        if png.exists():
            yield item, np.asarray(Image.open(png).convert("RGB"))
        else:
            to_decode.append(item)
    if to_decode:
        by_index = {item[0]["frame_index"]: item for item in to_decode}
        targets = [(item[0]["frame_index"], item[0]["pts"]) for item in to_decode]
        for frame_index, image in read_frames(to_decode[0][0]["path"], targets):
            yield by_index[frame_index], image


def _save(image: np.ndarray, boxes: list[np.ndarray], targets: list[Path], padding: float, compress_level: int,
          summary: CropSummary) -> None:
    height, width = image.shape[:2]
    for box, target in zip(boxes, targets, strict=True):
        if target.exists():
            summary.existing += 1
            continue
        window = crop_window(box, width, height, padding)
        if window is None:
            continue  # box entirely outside the frame: nothing to save, index stays reserved
        crop = np.ascontiguousarray(image[window[1]:window[3], window[0]:window[2]])
        write_with(target, lambda tmp, c=crop: Image.fromarray(c).save(tmp, format="PNG", compress_level=compress_level))
        summary.written += 1
