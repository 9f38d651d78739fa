"""Highlight reels: a GIF and/or MP4 per video from its top-k frames by a score, in time order.

Frames are decoded by seeking (``read_frames``, pixel exact) and scaled to a common width;
each is shown for ``frame_duration_s`` with its time stamped in a corner. A ``<video>.csv`` next to the reel lists the picks
with their frame identity and score. Files go to ``WORKSPACE/analytics/highlights/``.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np

from framesift.analytics import store
from framesift.analytics.highlights import top_k_with_gap
from framesift.util.atomic import write_text, write_with
from framesift.video.extract import read_frames
from framesift.workspace import Workspace


@dataclass
class Reel:
    video: str
    frame_index: list[int]
    time_s: list[float]
    scores: list[float]
    files: list[Path] = field(default_factory=list)

    def line(self) -> str:
        if not self.frame_index:
            return f"{self.video}: no scored frames in the analysis window, no reel"
        times = ", ".join(f"{t:.2f}" for t in self.time_s)
        return f"{self.video}: {len(self.frame_index)} frames at {times} s -> {', '.join(map(str, self.files))}"


def reel_size(width: int, height: int, max_width: int) -> tuple[int, int]:
    """Even (w, h) no wider than ``max_width`` (H.264 in yuv420p needs even sides)."""
    scale = min(1.0, max_width / width) if max_width else 1.0
    w, h = max(2, round(width * scale)), max(2, round(height * scale))
    return w - w % 2, h - h % 2


def stamp(image: np.ndarray, text: str) -> np.ndarray:
    """``text`` (the frame's time) in the bottom-left corner, white on a dark box."""
    import cv2

    out = np.ascontiguousarray(image).copy()
    scale = max(0.35, out.shape[0] / 480)
    (w, h), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    y = out.shape[0] - 4
    cv2.rectangle(out, (0, y - h - base - 2), (w + 6, out.shape[0]), (0, 0, 0), -1)
    cv2.putText(out, text, (3, y - base + 1), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1, cv2.LINE_AA)
    return out


def write_gif(frames: list[np.ndarray], path: Path, frame_duration_s: float) -> None:
    from PIL import Image

    pictures = [Image.fromarray(f) for f in frames]
    duration = max(20, round(frame_duration_s * 1000))

    def save(tmp: Path) -> None:
        pictures[0].save(tmp, format="GIF", save_all=True, append_images=pictures[1:], duration=duration, loop=0,
                         optimize=False, disposal=1)

    write_with(path, save)


def write_mp4(frames: list[np.ndarray], path: Path, frame_duration_s: float) -> None:
    """H.264, one encoded frame per pick, each lasting ``frame_duration_s``."""
    import av

    rate = Fraction(1 / frame_duration_s).limit_denominator(1000)

    def save(tmp: Path) -> None:
        with av.open(str(tmp), mode="w", format="mp4") as container:
            stream = container.add_stream("libx264", rate=rate)
            stream.height, stream.width = frames[0].shape[:2]
            stream.pix_fmt = "yuv420p"
            stream.options = {"crf": "20", "preset": "veryfast"}
            for i, image in enumerate(frames):
                frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
                frame.pts = i
                frame.time_base = 1 / rate
                for packet in stream.encode(frame):
                    container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)

    write_with(path, save)


def build_reel(workspace: Workspace, video: store.VideoRow, task: str, name: str, *, k: int = 8,
               min_gap_s: float = 2.0, gif: bool = True, mp4: bool = True, frame_duration_s: float = 0.5,
               max_width: int = 480, label: bool = True) -> Reel:
    """Pick, decode and write one video's reel (inside its analysis window)."""
    import cv2

    catalog = workspace.catalog
    frames = store.frame_rows(catalog, video.id, store.window_of(catalog, video.id))
    frame_ids, values = store.read_scores(catalog, task, name, video.id)
    score_of = dict(zip(frame_ids.tolist(), values.tolist(), strict=True))
    scores = np.array([score_of.get(int(f), np.nan) for f in frames.frame_id], np.float64)
    picks = top_k_with_gap(frames.time_s, scores, k, min_gap_s)
    reel = Reel(video.name, [int(frames.frame_index[i]) for i in picks], [float(frames.time_s[i]) for i in picks],
                [float(scores[i]) for i in picks])
    if not len(picks):
        return reel
    decoded = dict(read_frames(video.path, frames.targets(picks)))
    first = decoded[reel.frame_index[0]]
    size = reel_size(first.shape[1], first.shape[0], max_width)
    images = [cv2.resize(decoded[i], size, interpolation=cv2.INTER_AREA) for i in reel.frame_index]
    if label:  # also keeps two picks of a static scene distinct (GIF writers merge equal frames)
        images = [stamp(image, f"{t:.2f} s") for image, t in zip(images, reel.time_s, strict=True)]
    base = store.video_file(workspace, "highlights", video.name, "csv")
    if gif:
        reel.files.append(base.with_suffix(".gif"))
        write_gif(images, reel.files[-1], frame_duration_s)
    if mp4:
        reel.files.append(base.with_suffix(".mp4"))
        write_mp4(images, reel.files[-1], frame_duration_s)
    write_text(base, _picks_csv(reel, [int(frames.frame_id[i]) for i in picks], f"{task}/{name}"))
    reel.files.append(base)
    return reel


def _picks_csv(reel: Reel, frame_ids: list[int], score: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["order", "frame_id", "frame_index", "time_s", score])
    for i, (fid, fi, t, s) in enumerate(zip(frame_ids, reel.frame_index, reel.time_s, reel.scores, strict=True)):
        writer.writerow([i, fid, fi, f"{t:.6f}", f"{s:.6g}"])
    return out.getvalue()
