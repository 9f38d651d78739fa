"""The predictor protocol and the per-frame prediction record.

Predictors see RGB uint8 images at the size they ask for (``input_size``) and answer in that
image's pixels; the caller rescales boxes to the video's display size, so the catalog always
holds original-frame pixel coordinates whatever size the model ran at.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypedDict

import numpy as np

from framesift.errors import FramesiftError

TASK_TYPES = ("object-detection", "classification", "semantic-segmentation", "keypoint-detection")


class Category(TypedDict):
    id: int
    name: str


@dataclass
class FramePrediction:
    """The singletons of one frame (COCO results style, no image id).

    Detection: ``boxes`` (K, 4) as x, y, w, h pixels from the top-left corner. Classification:
    one singleton, ``boxes`` None and ``probabilities`` (1, C). ``scores`` may hold NaN where a
    source gave none; ``probabilities`` rows may be NaN where a singleton has none.
    """

    category_ids: np.ndarray
    scores: np.ndarray
    boxes: np.ndarray | None = None
    probabilities: np.ndarray | None = None

    @classmethod
    def empty(cls) -> FramePrediction:
        return cls(np.zeros(0, np.int64), np.zeros(0), np.zeros((0, 4)))

    def __len__(self) -> int:
        return len(self.category_ids)

    def scaled(self, sx: float, sy: float) -> FramePrediction:
        """Boxes multiplied by (sx, sy): from the model's input pixels to display pixels."""
        if self.boxes is None or (sx == 1.0 and sy == 1.0):
            return self
        factor = np.array([sx, sy, sx, sy])
        return FramePrediction(self.category_ids, self.scores, self.boxes * factor, self.probabilities)


class Predictor(Protocol):
    """A model that predicts on batches of decoded frames."""

    name: str  # default task name
    task_type: str  # one of TASK_TYPES
    categories: list[Category]
    source: str  # what produced the predictions (model path and options), stored with the task

    def input_size(self, width: int, height: int) -> tuple[int, int]:
        """The (w, h) to decode a frame of display size (width, height) at."""
        ...

    def predict(self, images: Sequence[np.ndarray]) -> list[FramePrediction]:
        """One prediction per RGB uint8 (H, W, 3) image, in that image's pixels."""
        ...


def fit_long_side(width: int, height: int, max_side: int | None) -> tuple[int, int]:
    """(w, h) scaled so the long side is at most ``max_side`` (never upscaled)."""
    if not max_side or max(width, height) <= max_side:
        return width, height
    scale = max_side / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


FACE_MODELS = frozenset({"mtcnn", "faces", "face"})


def get_predictor(model: str, **options: Any) -> Predictor:
    """``mtcnn`` (faces, offline weights) or an ultralytics model: a .pt file or a model .yaml."""
    if model.lower() in FACE_MODELS:
        from framesift.predict.mtcnn import MtcnnPredictor

        return MtcnnPredictor(**{k: v for k, v in options.items() if k in MtcnnPredictor.OPTIONS})
    suffix = Path(model).suffix.lower()
    if suffix not in (".pt", ".yaml", ".yml", ".onnx", ".torchscript", ".engine") and not Path(model).is_dir():
        raise FramesiftError(
            f"--model {model}: not a model file; give an ultralytics .pt (e.g. runs/detect/train/weights/best.pt), "
            "a model .yaml, or 'mtcnn' for faces"
        )
    from framesift.predict.yolo import YoloPredictor

    return YoloPredictor(model, **{k: v for k, v in options.items() if k in YoloPredictor.OPTIONS})
