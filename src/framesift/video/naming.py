"""Frame file names in LightlyOne's convention: ``{video}-{frame:0Nd}-{ext}.png``.

N = len(str(n_frames)) of the video, so names sort in frame order and match the names
LightlyOne uses for predictions and metadata of video frames.
"""

from __future__ import annotations

import re


def frame_digits(n_frames: int) -> int:
    return len(str(max(1, int(n_frames))))


def frame_stem(video_name: str, ext: str, frame_index: int, n_frames: int) -> str:
    return f"{video_name}-{frame_index:0{frame_digits(n_frames)}d}-{ext}"


def frame_file_name(video_name: str, ext: str, frame_index: int, n_frames: int, suffix: str = "png") -> str:
    return f"{frame_stem(video_name, ext, frame_index, n_frames)}.{suffix}"


_STEM = re.compile(r"^(?P<video>.+)-(?P<frame>\d+)-(?P<ext>[A-Za-z0-9]+)$")


def parse_frame_stem(stem: str) -> tuple[str, int, str] | None:
    """Split ``video-000123-mp4`` (optionally with a file suffix) into (video, 123, 'mp4')."""
    base = stem.rsplit("/", 1)[-1]
    prefix = stem[: len(stem) - len(base)]
    if "." in base:
        base = base.rsplit(".", 1)[0]
    match = _STEM.match(base)
    if match is None:
        return None
    return prefix + match["video"], int(match["frame"]), match["ext"]
