"""Synthetic videos with known content, for tests, the `make run` sample and benchmarks.

Every generator is deterministic (seeded) and returns the ground truth it drew, so tests can
assert exact facts such as "the frames with the rare red object are selected".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import av
import numpy as np


def write_video(
    path: str | Path,
    frames: Iterable[np.ndarray],
    *,
    fps: float = 25.0,
    codec: str = "libx264",
    quality: int = 18,
    rotation: int = 0,
    pts: Sequence[int] | None = None,
    time_base: tuple[int, int] | None = None,
) -> int:
    """Encode RGB uint8 frames (H, W, 3) to ``path``; returns the number of frames written.

    ``rotation`` sets a display matrix (degrees counter-clockwise), like a phone video.
    ``pts`` (with ``time_base``) gives explicit timestamps, e.g. for variable frame rate.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    rate = round(fps) if float(fps).is_integer() else _fraction(fps)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream(codec, rate=rate)
        stream.pix_fmt = "yuv420p" if codec not in ("ffv1", "png") else ("rgb24" if codec == "png" else "yuv444p")
        if codec == "libx264":
            stream.options = {"crf": str(quality), "preset": "veryfast"}
        if time_base is not None:
            from fractions import Fraction

            stream.time_base = Fraction(*time_base)
            stream.codec_context.time_base = Fraction(*time_base)
        if rotation:
            stream.set_display_rotation(rotation)
        for i, image in enumerate(frames):
            if count == 0:
                stream.height, stream.width = image.shape[:2]
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image, dtype=np.uint8), format="rgb24")
            if pts is not None:
                frame.pts = int(pts[i])
                from fractions import Fraction

                frame.time_base = Fraction(*(time_base or (1, int(fps))))
            for packet in stream.encode(frame):
                container.mux(packet)
            count += 1
        for packet in stream.encode():
            container.mux(packet)
    return count


def _fraction(fps: float):
    from fractions import Fraction

    return Fraction(fps).limit_denominator(1001)


def textured_background(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A smooth but textured RGB scene (gradients + blobs), so encoders keep detail."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    image = np.zeros((height, width, 3), np.float32)
    for c in range(3):
        fx, fy, phase = rng.uniform(0.5, 3.0), rng.uniform(0.5, 3.0), rng.uniform(0, 6.28)
        image[..., c] = 90 + 50 * np.sin(xx / width * fx * 6.28 + phase) * np.cos(yy / height * fy * 6.28)
    for _ in range(6):
        cy, cx = rng.uniform(0, height), rng.uniform(0, width)
        r = rng.uniform(0.05, 0.2) * min(height, width)
        mask = (yy - cy) ** 2 + (xx - cx) ** 2 < r * r
        image[mask] = rng.uniform(40, 200, size=3)
    # fixed fine texture (like asphalt, walls, foliage): real footage has almost no flat rows
    image += rng.normal(0, 10, (height, width, 1))
    return np.clip(image, 0, 255).astype(np.uint8)


def draw_box(image: np.ndarray, x: int, y: int, w: int, h: int, color: Sequence[int]) -> None:
    image[max(0, y) : y + h, max(0, x) : x + w] = np.asarray(color, np.uint8)


@dataclass
class RareObjectTruth:
    n_frames: int
    rare_frames: list[int]
    box: tuple[int, int, int, int]  # x, y, w, h of the red square in rare frames
    fps: float


def static_scene_with_rare_object(
    path: str | Path,
    *,
    n_frames: int = 60,
    rare_frames: Sequence[int] = (20, 21, 45),
    size: tuple[int, int] = (160, 120),
    fps: float = 10.0,
    seed: int = 0,
    noise: float = 2.0,
) -> RareObjectTruth:
    """A static scene with sensor noise; a big red square appears only in ``rare_frames``."""
    width, height = size
    rng = np.random.default_rng(seed)
    background = textured_background(height, width, seed)
    box = (width // 3, height // 3, width // 3, height // 3)

    def frames() -> Iterable[np.ndarray]:
        for i in range(n_frames):
            image = background.astype(np.int16) + rng.normal(0, noise, background.shape).astype(np.int16)
            image = np.clip(image, 0, 255).astype(np.uint8)
            if i in rare_frames:
                draw_box(image, *box, color=(230, 20, 20))
            yield image

    write_video(path, frames(), fps=fps)
    return RareObjectTruth(n_frames, sorted(rare_frames), box, fps)


@dataclass
class ShotsTruth:
    n_frames: int
    cuts: list[int]  # first frame index of every shot after the first
    fps: float
    colors: list[tuple[int, int, int]] = field(default_factory=list)


def multi_shot_video(
    path: str | Path,
    *,
    shot_lengths: Sequence[int] = (20, 15, 25),
    size: tuple[int, int] = (160, 120),
    fps: float = 10.0,
    seed: int = 0,
) -> ShotsTruth:
    """Shots of different scenes joined by hard cuts; a small object drifts within each shot."""
    width, height = size
    scenes = [textured_background(height, width, seed + 17 * k) for k in range(len(shot_lengths))]
    rng = np.random.default_rng(seed)
    colors = [tuple(int(v) for v in rng.integers(0, 255, 3)) for _ in shot_lengths]

    def frames() -> Iterable[np.ndarray]:
        for k, length in enumerate(shot_lengths):
            for t in range(length):
                image = scenes[k].copy()
                x = int(5 + (width - 30) * t / max(1, length - 1))
                draw_box(image, x, height // 2 - 8, 16, 16, colors[k])
                yield image

    write_video(path, frames(), fps=fps)
    cuts = list(np.cumsum(shot_lengths)[:-1].astype(int))
    return ShotsTruth(int(sum(shot_lengths)), cuts, fps, colors)


def sample_collection(out_dir: str | Path, *, seed: int = 0) -> dict[str, object]:
    """The bundled sample for `make run`: three short clips with shots, idle stretches and rare events."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    truth: dict[str, object] = {}
    truth["parking"] = static_scene_with_rare_object(
        out / "parking.mp4", n_frames=150, rare_frames=tuple(range(60, 66)), size=(320, 240), fps=15, seed=seed
    )
    truth["street"] = multi_shot_video(
        out / "street.mp4", shot_lengths=(40, 30, 50, 30), size=(320, 240), fps=15, seed=seed + 1
    )
    truth["lobby"] = static_scene_with_rare_object(
        out / "lobby.mp4", n_frames=120, rare_frames=(10, 11, 100), size=(320, 240), fps=15, seed=seed + 2
    )
    return truth
