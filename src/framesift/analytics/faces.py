"""Faces per frame: MTCNN over the indexed frames (the predict package's wrapper), face crops.

Face boxes are stored as an ordinary prediction task (``faces`` by default), so selection,
reports and the app see them. Crops for small classifiers are padded to a square around the
box (black where the square leaves the image, so the face is never stretched), optionally
contrast-normalised with CLAHE and turned to grayscale.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from framesift.analytics import store
from framesift.errors import FramesiftError
from framesift.predict.crop import crop_boxes
from framesift.store.catalog import Catalog
from framesift.util.atomic import write_with
from framesift.util.progress import bar
from framesift.video.decode import VideoError
from framesift.video.extract import read_frames
from framesift.video.naming import frame_stem
from framesift.workspace import Workspace

log = logging.getLogger(__name__)

FACES_TASK = "faces"
DEFAULT_MIN_SCORE = 0.9  # face probability a box needs to count as a face


@dataclass(frozen=True)
class CropSpec:
    """How a face box becomes a classifier input; stored with trained models so scoring matches."""

    square: bool = True
    padding: float = 0.0  # fraction of the box's long side added on each side
    clahe: bool = False
    gray: bool = False
    size: int | None = None  # output side in pixels (None: native)
    clip_limit: float = 2.0
    tiles: int = 8

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CropSpec:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


def square_window(box_xywh: np.ndarray | tuple[float, ...], padding: float = 0.0) -> tuple[int, int, int]:
    """(x0, y0, side): the square centred on the box, side = long side x (1 + 2 padding)."""
    x, y, w, h = (float(v) for v in box_xywh)
    side = max(1, math.ceil(max(w, h) * (1 + 2 * padding) - 1e-9))
    return round(x + w / 2 - side / 2), round(y + h / 2 - side / 2), side


def square_crop(image: np.ndarray, box_xywh: np.ndarray | tuple[float, ...], padding: float = 0.0) -> np.ndarray:
    """The square around a box; parts outside the image are black."""
    x0, y0, side = square_window(box_xywh, padding)
    height, width = image.shape[:2]
    out = np.zeros((side, side, *image.shape[2:]), image.dtype)
    sx0, sy0 = max(0, x0), max(0, y0)
    sx1, sy1 = min(width, x0 + side), min(height, y0 + side)
    if sx1 > sx0 and sy1 > sy0:
        out[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0] = image[sy0:sy1, sx0:sx1]
    return out


def normalise(image: np.ndarray, *, clahe: bool = False, gray: bool = False, clip_limit: float = 2.0,
              tiles: int = 8) -> np.ndarray:
    """CLAHE on lightness (or on gray) and/or grayscale; always RGB uint8 out (gray in all channels)."""
    import cv2

    if not clahe and not gray:
        return image
    rgb = np.ascontiguousarray(image, np.uint8)
    equaliser = cv2.createCLAHE(clipLimit=clip_limit, tileGridSize=(tiles, tiles)) if clahe else None
    if gray:
        channel = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        if equaliser is not None:
            channel = equaliser.apply(channel)
        return np.repeat(channel[..., None], 3, axis=2)
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)
    lab[..., 0] = equaliser.apply(np.ascontiguousarray(lab[..., 0]))  # type: ignore[union-attr]
    return cv2.cvtColor(lab, cv2.COLOR_LAB2RGB)


def face_crop(image: np.ndarray, box_xywh: np.ndarray | tuple[float, ...], spec: CropSpec) -> np.ndarray | None:
    """One classifier input from a frame and a face box (None when the box is outside the image)."""
    import cv2

    if spec.square:
        crop = square_crop(image, box_xywh, spec.padding)
    else:
        [found] = crop_boxes(image, np.asarray(box_xywh, np.float64), spec.padding)
        if found is None:
            return None
        crop = found
    crop = normalise(crop, clahe=spec.clahe, gray=spec.gray, clip_limit=spec.clip_limit, tiles=spec.tiles)
    if spec.size:
        target = (spec.size, spec.size) if spec.square else _fit(crop.shape[1], crop.shape[0], spec.size)
        crop = cv2.resize(crop, target, interpolation=cv2.INTER_AREA if crop.shape[0] > spec.size else cv2.INTER_LINEAR)
    return np.ascontiguousarray(crop)


def face_input(image: np.ndarray, box_xywh: np.ndarray, spec: CropSpec, input_size: tuple[int, int]) -> np.ndarray | None:
    """A face crop scaled to an embedder's (width, height) input: the same in training and scoring."""
    import cv2

    crop = face_crop(image, box_xywh, spec)
    return None if crop is None else cv2.resize(crop, input_size, interpolation=cv2.INTER_AREA)


def frame_input(image: np.ndarray, spec: CropSpec) -> np.ndarray:
    """A whole frame (already at the embedder's input size) normalised like the training inputs."""
    return normalise(image, clahe=spec.clahe, gray=spec.gray, clip_limit=spec.clip_limit, tiles=spec.tiles)


def _fit(width: int, height: int, side: int) -> tuple[int, int]:
    scale = side / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


# -- the face pass ----------------------------------------------------------------------------
def detect(workspace: Workspace, *, task: str = FACES_TASK, batch_size: int = 16, fps: float | None = None,
           frame_stride: int | None = None, replace: bool = False, video_ids: list[int] | None = None,
           **options: Any):  # type: ignore[no-untyped-def]
    """Run MTCNN over the indexed frames (resumable; see framesift.predict.video); returns its summary."""
    from framesift.predict.mtcnn import MtcnnPredictor
    from framesift.predict.video import predict_videos

    predictor = MtcnnPredictor(**{k: v for k, v in options.items() if v is not None and k in MtcnnPredictor.OPTIONS})
    windows = store.load_windows(workspace.catalog)

    def inside_window(video_id: int, time_s: float) -> bool:  # aligned sessions: only the shared interval
        window = windows.get(video_id)
        return window is None or bool(window[0].contains(np.array([time_s]))[0])

    return predict_videos(workspace, predictor, task=task, batch_size=batch_size, fps=fps,
                          frame_stride=frame_stride, replace=replace, video_ids=video_ids,
                          frame_filter=inside_window)


@dataclass
class FaceBox:
    box_id: int  # predictions.id
    number: int  # position among the frame's boxes of the task (crop file suffix)
    xywh: np.ndarray
    score: float


def face_boxes(catalog: Catalog, task: str, video_id: int, min_score: float = 0.0) -> dict[int, list[FaceBox]]:
    """frame id -> its boxes of ``task`` with score >= min_score (numbered among all the frame's boxes)."""
    out: dict[int, list[FaceBox]] = defaultdict(list)
    counts: dict[int, int] = defaultdict(int)
    for r in catalog.query(
        "SELECT p.id, p.frame_id, p.score, p.x, p.y, p.w, p.h FROM predictions p JOIN frames f ON f.id = p.frame_id "
        "WHERE p.task = ? AND f.video_id = ? AND p.x IS NOT NULL ORDER BY p.id", (task, video_id)):
        frame_id = int(r[1])
        number = counts[frame_id]
        counts[frame_id] += 1
        score = 1.0 if r[2] is None else float(r[2])
        if score >= min_score:
            out[frame_id].append(FaceBox(int(r[0]), number, np.array([r[3], r[4], r[5], r[6]], np.float64), score))
    return dict(out)


def require_task(catalog: Catalog, task: str) -> None:
    if catalog.query_one("SELECT 1 FROM tasks WHERE name = ?", (task,)) is None:
        raise FramesiftError(f"task {task!r} not found: run `framesift faces --out WS` (or `framesift predict "
                             "--model mtcnn`) first")


def face_count_scores(workspace: Workspace, task: str = FACES_TASK, min_score: float = DEFAULT_MIN_SCORE) -> int:
    """Write ``face_count`` and ``second_person`` (1 with two or more faces) for every predicted frame."""
    catalog = workspace.catalog
    require_task(catalog, task)
    windows = store.load_windows(catalog)
    ids, counts, video_ids = [], [], []
    for video in store.videos(catalog):
        window = windows.get(video.id, (None, 0.0))[0]
        frames = store.frame_rows(catalog, video.id, window)
        predicted = {int(r[0]) for r in catalog.query(
            "SELECT p.frame_id FROM predicted_frames p JOIN frames f ON f.id = p.frame_id "
            "WHERE p.task = ? AND f.video_id = ?", (task, video.id))}
        boxes = face_boxes(catalog, task, video.id, min_score)
        video_ids.append(video.id)
        for frame_id in frames.frame_id.tolist():
            if frame_id in predicted:
                ids.append(frame_id)
                counts.append(len(boxes.get(frame_id, ())))
    frame_ids, values = np.array(ids, np.int64), np.array(counts, np.float64)
    store.write_scores(catalog, "face_count", video_ids, frame_ids, values)
    store.write_scores(catalog, "second_person", video_ids, frame_ids, (values >= 2).astype(np.float64))
    return len(ids)


@dataclass
class CropsSummary:
    folder: Path
    written: int = 0
    frames: int = 0
    failed: dict[str, str] = field(default_factory=dict)

    def line(self) -> str:
        return f"face crops: {self.written} written from {self.frames} frames: {self.folder}"


def write_face_crops(workspace: Workspace, folder: Path, spec: CropSpec, *, task: str = FACES_TASK,
                     min_score: float = DEFAULT_MIN_SCORE) -> CropsSummary:
    """Crops of every face box (inside the analysis windows) as ``FOLDER/<frame stem>-<i>.png``.

    ``i`` numbers the frame's boxes of the task in stored order, as ``framesift extract --crops``
    does; grayscale crops are saved as 8-bit gray PNGs.
    """
    from PIL import Image

    catalog = workspace.catalog
    require_task(catalog, task)
    summary = CropsSummary(Path(folder))
    windows = store.load_windows(catalog)
    plan = []
    for video in store.videos(catalog):
        frames = store.frame_rows(catalog, video.id, windows.get(video.id, (None, 0.0))[0])
        boxes = face_boxes(catalog, task, video.id, min_score)
        positions = [i for i, fid in enumerate(frames.frame_id.tolist()) if fid in boxes]
        if positions:
            plan.append((video, frames, boxes, positions))
    with bar(total=sum(len(p[3]) for p in plan), desc="face crops") as progress:
        for video, frames, boxes, positions in plan:
            by_index = {int(frames.frame_index[i]): int(frames.frame_id[i]) for i in positions}
            try:
                for frame_index, image in read_frames(video.path, frames.targets(positions)):
                    stem = frame_stem(video.name, video.ext, frame_index, video.n_frames)
                    for face in boxes[by_index[frame_index]]:
                        crop = face_crop(image, face.xywh, spec)
                        if crop is None:
                            continue
                        picture = Image.fromarray(crop[..., 0] if spec.gray else crop)
                        target = summary.folder / f"{stem}-{face.number}.png"
                        target.parent.mkdir(parents=True, exist_ok=True)
                        write_with(target, lambda tmp, p=picture: p.save(tmp, format="PNG"))
                        summary.written += 1
                    summary.frames += 1
                    progress.update(1)
            except VideoError as err:
                summary.failed[video.path] = str(err)
                log.warning("face crops skipped: %s", err)
    return summary
