"""Synthetic classroom clips for the analytics tests: drawn faces whose expression is known.

A face is a skin-coloured ellipse with eyes, brows, a nose and a mouth that is either a smiling
arc or a straight line, so "smiling" is known by construction for every frame. MTCNN fires on
these drawings at the sizes used here (checked in test_faces.py with the real detector).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from framesift.pipeline.ingest import ingest_videos
from framesift.store.videos import SamplingKey, register_videos
from framesift.video import synthetic
from framesift.video.discover import discover_videos
from framesift.workspace import Workspace


@dataclass(frozen=True)
class Person:
    """How one person's face looks and where it sits in the frame."""

    skin: tuple[int, int, int]
    radius: int
    cx: int
    cy: int
    seed: int = 0  # background scene

    def box(self, dx: int = 0) -> tuple[float, float, float, float]:
        """x, y, w, h of the drawn face ellipse (shifted by dx)."""
        r, ry = self.radius, round(self.radius * 1.3)
        return (float(self.cx + dx - r), float(self.cy - ry), float(2 * r), float(2 * ry))


PEOPLE = [  # faces of 26-28 px radius in 256 x 144 frames: MTCNN finds every one of them
    Person((205, 165, 135), 26, 70, 72, seed=1),
    Person((170, 120, 90), 27, 80, 70, seed=2),
    Person((225, 190, 160), 28, 66, 74, seed=3),
    Person((140, 95, 70), 26, 76, 71, seed=4),
    Person((195, 150, 120), 27, 72, 73, seed=5),
    Person((215, 175, 150), 26, 78, 70, seed=6),
]


def draw_face(image: np.ndarray, cx: int, cy: int, r: int, smile: bool, skin: Sequence[int]) -> None:
    """Draw a frontal face in place (RGB)."""
    cv2.ellipse(image, (cx, cy), (r, round(r * 1.3)), 0, 0, 360, tuple(int(c) for c in skin), -1)
    line = max(1, r // 12)
    for dx in (-round(r / 2.5), round(r / 2.5)):
        cv2.ellipse(image, (cx + dx, cy - r // 4), (max(2, r // 5), max(1, r // 9)), 0, 0, 360, (255, 255, 255), -1)
        cv2.circle(image, (cx + dx, cy - r // 4), max(1, r // 10), (40, 30, 20), -1)
        cv2.line(image, (cx + dx - r // 5, cy - r // 2), (cx + dx + r // 5, cy - r // 2), (60, 40, 30), line)
    cv2.line(image, (cx, cy - r // 8), (cx - r // 10, cy + r // 4), (150, 110, 90), line)
    thick = max(2, r // 7)
    if smile:
        cv2.ellipse(image, (cx, cy + r // 3), (r // 2, r // 4), 0, 10, 170, (120, 30, 30), thick)
    else:
        cv2.line(image, (cx - r // 3, cy + r // 2), (cx + r // 3, cy + r // 2), (120, 30, 30), thick)


@dataclass
class ClipTruth:
    n_frames: int
    fps: float
    smile: list[bool]
    boxes: list[list[tuple[float, float, float, float]]] = field(default_factory=list)  # per frame, x y w h


def classroom_clip(
    path: Path, person: Person, smile: Sequence[bool], *, second: Sequence[bool] | None = None,
    present: Sequence[bool] | None = None,
    size: tuple[int, int] = (256, 144), fps: float = 5.0, sway: int = 3,
) -> ClipTruth:
    """A clip of ``person`` (smiling where ``smile``, absent where not ``present``); a second face on the
    right where ``second``."""
    width, height = size
    background = synthetic.textured_background(height, width, person.seed)
    truth = ClipTruth(len(smile), fps, [bool(s) for s in smile])
    frames = []
    for i, smiling in enumerate(smile):
        image = background.copy()
        dx = round(sway * np.sin(i * 0.7))  # small head motion, so frames differ
        boxes = []
        if present is None or present[i]:
            draw_face(image, person.cx + dx, person.cy, person.radius, bool(smiling), person.skin)
            boxes.append(person.box(dx))
        if second is not None and second[i]:
            other = Person((180, 140, 110), person.radius, width - 70, person.cy)
            draw_face(image, other.cx, other.cy, other.radius, False, other.skin)
            boxes.append(other.box())
        truth.boxes.append(boxes)
        frames.append(image)
    synthetic.write_video(path, frames, fps=fps, quality=12)
    return truth


def ingest(ws: Workspace, folder: Path) -> None:
    ids, _ = register_videos(ws.catalog, discover_videos(str(folder)), SamplingKey(None, None))
    ingest_videos(ws.catalog, ids)
