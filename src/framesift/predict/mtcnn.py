"""Faces with facenet-pytorch's MTCNN; its weights ship inside the package, so it runs offline.

Two layers: plain functions (``detect_faces``, ``crop_faces``) for anyone who needs faces in
frames (e.g. classroom analytics), and ``MtcnnPredictor`` for ``framesift predict --model mtcnn``.
facenet-pytorch pins old torch versions in its metadata; install it with ``pip install
--no-deps facenet-pytorch``.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from framesift.errors import FramesiftError
from framesift.predict.base import Category, FramePrediction, fit_long_side
from framesift.predict.crop import crop_boxes

DEFAULT_THRESHOLDS = (0.6, 0.7, 0.7)  # P-, R-, O-net acceptance thresholds (facenet-pytorch defaults)


@dataclass
class FaceDetections:
    """Faces found in one image: boxes as x1, y1, x2, y2 pixels (clipped to the image)."""

    boxes_xyxy: np.ndarray  # (K, 4) float
    probs: np.ndarray  # (K,) face probability
    landmarks: np.ndarray | None = None  # (K, 5, 2): eyes, nose, mouth corners

    def __len__(self) -> int:
        return len(self.probs)

    @property
    def boxes_xywh(self) -> np.ndarray:
        return np.concatenate([self.boxes_xyxy[:, :2], self.boxes_xyxy[:, 2:] - self.boxes_xyxy[:, :2]], axis=1)


@functools.lru_cache(maxsize=4)
def load_mtcnn(device: str | None = None, min_face_size: int = 20, thresholds: tuple[float, float, float] = DEFAULT_THRESHOLDS):
    """A cached facenet_pytorch.MTCNN (keep_all: every face, not only the largest)."""
    try:
        import torch
        from facenet_pytorch import MTCNN
    except ImportError as err:
        raise FramesiftError("facenet-pytorch is not installed; pip install --no-deps facenet-pytorch") from err
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    return MTCNN(keep_all=True, device=device, min_face_size=min_face_size, thresholds=list(thresholds),
                 post_process=False, select_largest=False)


def detect_faces(
    images: Sequence[np.ndarray] | np.ndarray,
    *,
    device: str | None = None,
    min_face_size: int = 20,
    thresholds: tuple[float, float, float] = DEFAULT_THRESHOLDS,
    landmarks: bool = False,
) -> list[FaceDetections]:
    """Faces in each RGB uint8 (H, W, 3) image; images of the same size run as one batch."""
    detector = load_mtcnn(device, min_face_size, tuple(thresholds))
    images = list(images)
    out: list[FaceDetections | None] = [None] * len(images)
    by_size: dict[tuple[int, ...], list[int]] = {}
    for i, image in enumerate(images):
        by_size.setdefault(tuple(image.shape), []).append(i)
    for shape, positions in by_size.items():
        batch = np.stack([np.asarray(images[i], np.uint8) for i in positions])
        boxes, probs, *rest = detector.detect(batch, landmarks=landmarks)
        points = rest[0] if rest else [None] * len(positions)
        for j, i in enumerate(positions):
            out[i] = _faces(boxes[j], probs[j], points[j], shape[1], shape[0])
    return [faces for faces in out if faces is not None]


def _faces(boxes: object, probs: object, points: object, width: int, height: int) -> FaceDetections:
    if boxes is None:
        return FaceDetections(np.zeros((0, 4)), np.zeros(0), np.zeros((0, 5, 2)) if points is not None else None)
    xyxy = np.asarray(boxes, np.float64).reshape(-1, 4)
    xyxy[:, [0, 2]] = xyxy[:, [0, 2]].clip(0, width)
    xyxy[:, [1, 3]] = xyxy[:, [1, 3]].clip(0, height)
    marks = None if points is None else np.asarray(points, np.float64).reshape(-1, 5, 2)
    return FaceDetections(xyxy, np.asarray(probs, np.float64).reshape(-1), marks)


def crop_faces(image: np.ndarray, faces: FaceDetections, *, padding: float = 0.0) -> list[np.ndarray]:
    """The face crops of one image, ``padding`` x box size added on each side."""
    return [crop for crop in crop_boxes(image, faces.boxes_xywh, padding) if crop is not None]


class MtcnnPredictor:
    """Face detection as an object-detection task with one category, ``face``."""

    OPTIONS = frozenset({"device", "min_face_size", "conf", "max_side"})
    name = "faces"
    task_type = "object-detection"
    categories: list[Category] = [{"id": 0, "name": "face"}]  # noqa: RUF012

    def __init__(self, *, device: str | None = None, min_face_size: int = 20, conf: float | None = None,
                 max_side: int = 1280):
        self.device, self.min_face_size, self.max_side = device, int(min_face_size), int(max_side)
        self.thresholds = (*DEFAULT_THRESHOLDS[:2], float(conf) if conf is not None else DEFAULT_THRESHOLDS[2])
        load_mtcnn(device, self.min_face_size, self.thresholds)  # fail early if facenet-pytorch is missing
        self.source = (f"facenet-pytorch:mtcnn min_face_size={self.min_face_size} "
                       f"thresholds={','.join(f'{t:g}' for t in self.thresholds)} max_side={self.max_side}")

    def input_size(self, width: int, height: int) -> tuple[int, int]:
        return fit_long_side(width, height, self.max_side)

    def predict(self, images: Sequence[np.ndarray]) -> list[FramePrediction]:
        found = detect_faces(images, device=self.device, min_face_size=self.min_face_size, thresholds=self.thresholds)
        return [FramePrediction(np.zeros(len(f), np.int64), f.probs, f.boxes_xywh) for f in found]
