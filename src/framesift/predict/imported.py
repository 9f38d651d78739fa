"""What a prediction reader hands to the importer: a task and predictions keyed by frame name."""

from __future__ import annotations

from dataclasses import dataclass, field

from framesift.predict.base import Category, FramePrediction


@dataclass
class ImportedTask:
    """Predictions read from files, not yet matched to catalog frames.

    ``frames`` maps a frame reference (a Lightly frame stem like ``sub/clip-042-mp4``, an image
    file name, or an ultralytics video label stem like ``clip_43``) to its prediction; a frame
    listed with an empty prediction means "the model ran here and found nothing".
    ``normalized`` boxes are fractions of the frame size (YOLO txt) and get scaled on import.
    """

    name: str
    task_type: str
    categories: list[Category]
    source: str
    frames: list[tuple[str, FramePrediction]] = field(default_factory=list)
    normalized: bool = False
