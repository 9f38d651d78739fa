"""Any ultralytics model (YOLOv5u/8/11/..., RT-DETR) as a predictor: detect, segment, pose, classify.

Weights come from the path the user gives (``--model runs/detect/train/weights/best.pt``) or,
for a bare file name, from ultralytics' own weights folder when the file is already there; a
model ``.yaml`` builds the architecture with random weights (tests, smoke runs). framesift
never downloads weights. Segmentation and pose models contribute their boxes.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from framesift.errors import FramesiftError
from framesift.predict.base import Category, FramePrediction, fit_long_side

log = logging.getLogger(__name__)

DEFAULT_CONF = 0.1  # low on purpose: uncertain boxes are what active learning looks for
_TASK_TYPES = {"detect": "object-detection", "segment": "object-detection", "pose": "object-detection",
               "classify": "classification"}


def resolve_model_path(model: str) -> str:
    """A local path for ``model``, or a FramesiftError saying where to put the file."""
    path = Path(model).expanduser()
    if path.exists():
        return str(path.resolve())
    if path.suffix.lower() in (".yaml", ".yml") and path.parent == Path("."):
        return model  # an ultralytics architecture name, e.g. yolov8n.yaml (random weights)
    if path.parent == Path("."):
        try:
            from ultralytics.utils import SETTINGS

            cached = Path(SETTINGS.get("weights_dir", "")) / path.name
            if cached.is_file():
                return str(cached)
        except ImportError:
            pass
    raise FramesiftError(
        f"--model {model}: file not found; give the path of a local weights file (framesift never downloads weights)"
    )


def _import_ultralytics() -> Any:
    os.environ.setdefault("YOLO_OFFLINE", "1")  # no network checks or telemetry at import/predict time
    try:
        import ultralytics
    except ImportError as err:
        raise FramesiftError("ultralytics is not installed; pip install 'framesift[predict]'") from err
    return ultralytics


class YoloPredictor:
    """Batched ultralytics inference on decoded frames; boxes in the input image's pixels."""

    OPTIONS = frozenset({"conf", "iou", "classes", "imgsz", "device", "max_det", "task"})

    def __init__(
        self,
        model: str,
        *,
        conf: float = DEFAULT_CONF,
        iou: float = 0.7,
        classes: Sequence[str | int] | None = None,
        imgsz: int | None = None,
        device: str | None = None,
        max_det: int = 300,
        task: str | None = None,
    ):
        ultralytics = _import_ultralytics()
        path = resolve_model_path(model)
        if path.endswith((".yaml", ".yml")):
            log.warning("%s: model built from its yaml with random weights; predictions are meaningless", model)
        try:
            self.model = ultralytics.YOLO(path, task=task)
        except (FileNotFoundError, OSError, RuntimeError, KeyError, ValueError, AttributeError) as err:
            raise FramesiftError(f"--model {model}: ultralytics cannot load it ({err}); check the file") from err
        ultra_task = self.model.task
        if ultra_task not in _TASK_TYPES:
            raise FramesiftError(f"--model {model}: ultralytics task {ultra_task!r} is not supported (detect, segment, "
                                 "pose, classify are)")
        self.task_type = _TASK_TYPES[ultra_task]
        names = {int(k): str(v) for k, v in dict(self.model.names).items()}
        self.class_ids = _class_ids(classes, names, model) if classes else None
        kept = self.class_ids if self.class_ids is not None else sorted(names)
        self.categories: list[Category] = [{"id": i, "name": names[i]} for i in kept]
        train_args = getattr(self.model.model, "args", None) or {}
        default_size = 224 if ultra_task == "classify" else 640
        self.imgsz = int(imgsz or (train_args.get("imgsz") if isinstance(train_args, dict) else None) or default_size)
        self.conf, self.iou, self.max_det, self.device = float(conf), float(iou), int(max_det), device
        self.name = Path(model).stem
        classes_text = ",".join(map(str, self.class_ids)) if self.class_ids is not None else "all"
        self.source = f"ultralytics:{path} conf={self.conf:g} iou={self.iou:g} imgsz={self.imgsz} classes={classes_text}"

    def input_size(self, width: int, height: int) -> tuple[int, int]:
        return fit_long_side(width, height, self.imgsz)

    def predict(self, images: Sequence[np.ndarray]) -> list[FramePrediction]:
        if not len(images):
            return []
        bgr = [np.ascontiguousarray(image[..., ::-1]) for image in images]  # ultralytics reads arrays as BGR
        kwargs: dict[str, Any] = {"conf": self.conf, "iou": self.iou, "imgsz": self.imgsz, "max_det": self.max_det,
                                  "verbose": False}
        if self.class_ids is not None:
            kwargs["classes"] = self.class_ids
        if self.device:
            kwargs["device"] = self.device
        results = self.model.predict(bgr, **kwargs)
        return [self._convert(result) for result in results]

    def _convert(self, result: Any) -> FramePrediction:
        if self.task_type == "classification":
            probs = result.probs.data.detach().cpu().numpy().astype(np.float64)
            if self.class_ids is not None:
                probs = probs[self.class_ids]
                total = probs.sum()
                probs = probs / total if total > 0 else probs
            best = int(np.argmax(probs))
            return FramePrediction(np.array([self.categories[best]["id"]]), np.array([probs[best]]), None, probs[None])
        boxes = result.boxes
        if boxes is None or len(boxes) == 0:
            return FramePrediction.empty()
        xyxy = boxes.xyxy.detach().cpu().numpy().astype(np.float64)
        xywh = np.concatenate([xyxy[:, :2], xyxy[:, 2:] - xyxy[:, :2]], axis=1)
        return FramePrediction(
            boxes.cls.detach().cpu().numpy().astype(np.int64),
            boxes.conf.detach().cpu().numpy().astype(np.float64),
            xywh,
        )


def _class_ids(classes: Sequence[str | int], names: dict[int, str], model: str) -> list[int]:
    by_name = {name.lower(): i for i, name in names.items()}
    ids: list[int] = []
    for item in classes:
        text = str(item).strip()
        if text.isdigit() and int(text) in names:
            ids.append(int(text))
        elif text.lower() in by_name:
            ids.append(by_name[text.lower()])
        else:
            sample = ", ".join(f"{i}:{n}" for i, n in list(names.items())[:12])
            raise FramesiftError(f"--classes {text}: not a class of {model}; its classes are {sample}"
                                 f"{', ...' if len(names) > 12 else ''}")
    return sorted(set(ids))
