"""The in-memory shapes shared by every writer and reader, and exact coordinate conversion.

Coordinates cross formats as pixels (COCO, CVAT), fractions of the image (YOLO) or percent
(Label Studio). Conversions are done on exact rationals and rounded once. An imported pixel value
that is not exactly a float after conversion is rounded to 1e-9 px (``PX_DECIMALS``), so any
pixel value with up to 9 decimals comes back bit-identical after export → import, and any other
value within 5e-10 px.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

PX_DECIMALS = 9
IDENTITY_KEYS = ("video", "video_ext", "frame_index", "pts", "time_s", "frame_id")
EMPTY_FRAME = "__empty__"  # category of the frame-level row recorded for an image labeled with no objects

Number = float | int | Fraction
Units = Literal["px", "norm", "percent"]


@dataclass
class Category:
    id: int
    name: str


@dataclass
class Box:
    """A pre-annotation in frame pixels (top-left + size)."""

    category_id: int
    category: str
    x: float
    y: float
    w: float
    h: float
    score: float | None = None


@dataclass
class ExportFrame:
    frame_id: int
    video: str
    video_ext: str
    frame_index: int
    pts: int | None
    time_s: float
    file_name: str  # Lightly name relative to the images folder: {video}-{frame:0Nd}-{ext}.png
    source_path: Path  # the PNG in the workspace frames folder
    width: int
    height: int
    boxes: list[Box] = field(default_factory=list)

    def identity(self) -> dict[str, Any]:
        return {
            "video": self.video,
            "video_ext": self.video_ext,
            "frame_index": self.frame_index,
            "pts": self.pts,
            "time_s": self.time_s,
            "frame_id": self.frame_id,
        }


@dataclass
class ExportSet:
    """Everything a writer needs: frames sorted by file name, categories, provenance."""

    run_name: str
    workspace: Path
    task: str | None
    categories: list[Category]
    frames: list[ExportFrame]

    @property
    def n_boxes(self) -> int:
        return sum(len(f.boxes) for f in self.frames)

    def category_names(self) -> list[str]:
        return [c.name for c in self.categories]


@dataclass
class ImportedBox:
    """One label read from a tool's file, in the units of its image (None coords: frame-level)."""

    category: str
    x: Number | None = None
    y: Number | None = None
    w: Number | None = None
    h: Number | None = None
    attributes: dict[str, Any] = field(default_factory=dict)

    @property
    def is_frame_level(self) -> bool:
        return self.x is None


@dataclass
class ImportedImage:
    name: str  # file name / URL as the tool knows it; used for errors and name-based matching
    identity: dict[str, Any] = field(default_factory=dict)  # explicit identity fields, when the file kept them
    width: Number | None = None  # size of the image the coordinates refer to (None: the frame's size)
    height: Number | None = None
    units: Units = "px"
    boxes: list[ImportedBox] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # region types that are not boxes or frame tags
    labeled: bool = True  # False: the tool has the image but nobody labeled it yet (nothing is recorded)


def px_to_norm(value: Number, size: Number) -> float:
    return float(Fraction(value) / Fraction(size))


def px_to_percent(value: Number, size: Number) -> float:
    """Label Studio percent: ``100 * value / size``, correctly rounded."""
    return float(Fraction(value) * 100 / Fraction(size))


def percent_to_px(value: Number, size: Number) -> float:
    return quantize_px(Fraction(value) * Fraction(size) / 100)


def quantize_px(value: Number) -> float:
    """An exact pixel value as a float: unchanged when it is one, else rounded once to 1e-9 px."""
    exact = Fraction(value)
    nearest = float(exact)
    if Fraction(nearest) == exact:
        return nearest + 0.0
    return round(nearest, PX_DECIMALS) + 0.0


def to_frame_px(
    box: ImportedBox, units: Units, image_size: tuple[Number, Number] | None, frame_size: tuple[int, int]
) -> tuple[float, float, float, float]:
    """Convert a box to pixels of the catalog frame (scaling when the tool's image had another size)."""
    fw, fh = (Fraction(v) for v in frame_size)
    if units == "norm":
        sx, sy = fw, fh
    elif units == "percent":
        sx, sy = fw / 100, fh / 100
    elif image_size is None or any(v in (None, 0) for v in image_size):
        sx = sy = Fraction(1)
    else:
        sx, sy = fw / Fraction(image_size[0]), fh / Fraction(image_size[1])
    assert box.x is not None and box.y is not None and box.w is not None and box.h is not None
    values = (box.x, box.y, box.w, box.h)
    if sx == 1 and sy == 1 and all(isinstance(v, float | int) for v in values):
        return tuple(float(v) + 0.0 for v in values)  # type: ignore[return-value]  # pixels as they are: exact
    return (
        quantize_px(Fraction(box.x) * sx),
        quantize_px(Fraction(box.y) * sy),
        quantize_px(Fraction(box.w) * sx),
        quantize_px(Fraction(box.h) * sy),
    )
