"""Decoding with PyAV: open local files or fsspec URLs, stream frames in decode order.

Frame identity starts here: ``index`` counts frames in the order PyAV's decoder yields them
(0-based), ``pts`` is the stream timestamp and ``time_s`` is ``pts * time_base``. Every other
module reuses these values; nothing re-derives them.
"""

from __future__ import annotations

import contextlib
import logging
import os
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import av
import numpy as np

from framesift.errors import VideoError

log = logging.getLogger(__name__)

VIDEO_EXTENSIONS = frozenset(
    {"mp4", "m4v", "avi", "mkv", "mov", "webm", "mpg", "mpeg", "ts", "mts", "m2ts", "flv", "wmv", "3gp", "ogv"}
)



def _max_frame_pixels() -> int:
    try:
        return int(os.environ.get("FRAMESIFT_MAX_PIXELS", "") or 2**26)
    except ValueError:
        return 2**26


# Frames above this size are refused before they are decoded: a file of a few KB can announce (and
# decode to) frames of hundreds of megapixels, and each decoder thread would hold some. framesift's
# own per-frame work is at <= 400 px. 2**26 (67 MP) lets 8K (33 MP) and 11520x5760 360-degree video through.
MAX_FRAME_PIXELS = _max_frame_pixels()

# PyAV's default log level (None) drops FFmpeg's messages without a Python callback. Never set a
# level here: the callback takes the GIL from decoder threads and deadlocks threaded decoding.


@dataclass(frozen=True)
class VideoInfo:
    """Container-level facts, read without decoding the whole file."""

    duration_s: float | None
    fps: float | None
    n_frames_hint: int | None  # from the container; may be 0/None for mkv/webm
    width: int  # coded size; swap for rotation 90/270 to get the display size
    height: int
    codec: str
    rotation: int  # degrees CCW for upright display; known only after the first frame (0 from probe)
    time_base: Fraction | None
    video_duration_s: float | None = None  # the video stream's own duration, when the file states it


@dataclass
class DecodedFrame:
    index: int
    pts: int | None
    time_s: float
    is_keyframe: bool
    frame: av.VideoFrame
    rotation: int  # degrees CCW to apply for display

    def to_rgb(self, width: int | None = None, height: int | None = None) -> np.ndarray:
        """RGB uint8 (H, W, 3), upright. ``width``/``height`` are the *display* size wanted."""
        return frame_to_array(self.frame, self.rotation, "rgb24", width, height)

    def to_gray(self, width: int | None = None, height: int | None = None) -> np.ndarray:
        return frame_to_array(self.frame, self.rotation, "gray", width, height)


def is_url(path: str) -> bool:
    return "://" in path and not path.startswith("file://")


def local_path(path: str) -> str:
    """The OS path of a local input; ``file://`` URLs are percent-decoded.

    The catalog stores paths that are not valid UTF-8 (or hold control characters) as such URLs
    (see ``store.videos``); decoding gives back the exact bytes of the real file name.
    """
    if path.startswith("file://"):
        return os.fsdecode(urllib.parse.unquote_to_bytes(path[len("file://") :]))
    return path


@contextlib.contextmanager
def open_container(path: str) -> Iterator[Any]:
    """Open a local path or fsspec URL as a PyAV input container, with a one-line error."""
    fh = None
    try:
        if is_url(path):
            import fsspec

            fh = fsspec.open(path, "rb").open()
            source: Any = fh
        else:
            local = local_path(path)
            if not os.path.exists(local):
                if os.path.islink(local):
                    raise VideoError(path, "broken or looping symbolic link; point it at a video or remove it")
                raise VideoError(path, "file not found")
            if os.path.getsize(local) == 0:
                raise VideoError(path, "zero-byte file; re-copy or remove it")
            if not os.access(local, os.R_OK):
                raise VideoError(path, "permission denied; make the file readable")
            source = local
        try:
            container = av.open(source, mode="r", metadata_errors="ignore")
        except av.error.FFmpegError as err:
            raise VideoError(path, f"not a readable video ({_ffmpeg_reason(err)}); re-encode or remove it") from err
        except (OSError, UnicodeError) as err:
            raise VideoError(path, f"cannot open ({err}); check the path and permissions") from err
        try:
            if not container.streams.video:
                raise VideoError(path, "no video stream (audio-only or data file); remove it from the input")
            ctx = container.streams.video[0].codec_context
            if ctx is not None and (ctx.width or 0) * (ctx.height or 0) > MAX_FRAME_PIXELS:
                raise VideoError(path, _too_large(ctx.width, ctx.height))
            yield container
        finally:
            container.close()
    finally:
        if fh is not None:
            fh.close()


def probe(path: str) -> VideoInfo:
    with open_container(path) as container:
        return _info(container, path)


def _info(container: Any, path: str) -> VideoInfo:
    stream = container.streams.video[0]
    ctx = stream.codec_context
    if ctx is None or not stream.codec_context.name:
        raise VideoError(path, "unsupported video codec; re-encode with H.264")
    rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    fps = float(rate) if rate else None
    duration = video_duration = None
    if stream.duration is not None and stream.time_base is not None:
        duration = video_duration = float(stream.duration * stream.time_base)
    elif container.duration is not None:
        duration = container.duration / av.time_base
        if len(container.streams) == 1:  # no audio track that could outlast the video
            video_duration = duration
    width, height = ctx.width, ctx.height
    return VideoInfo(
        duration_s=duration,
        fps=fps,
        n_frames_hint=int(stream.frames) if stream.frames else None,
        width=int(width),
        height=int(height),
        codec=ctx.name,
        rotation=0,
        time_base=stream.time_base,
        video_duration_s=video_duration,
    )


def normalise_rotation(degrees: float) -> int:
    return round(degrees / 90.0) % 4 * 90


def iter_frames(
    path: str, *, threads: bool | int = True, info_out: list[VideoInfo] | None = None
) -> Iterator[DecodedFrame]:
    """Yield every frame in decode order.

    ``threads``: True lets FFmpeg pick its decoder threads, False or 1 decodes on the calling
    thread only, an int > 1 asks for that many.

    Raises ``VideoError`` if the file cannot be opened. A decoding error after at least one
    frame ends the iteration with ``TruncatedVideo`` so callers can keep what they have.
    """
    with open_container(path) as container:
        stream = container.streams.video[0]
        if threads is True or threads > 1:
            stream.thread_type = "AUTO"
            if threads is not True:
                stream.thread_count = int(threads)
        else:
            stream.thread_count = 1  # PyAV's default is FFmpeg's automatic slice threading
        info = _info(container, path)
        if info_out is not None:
            info_out.append(info)
        time_base = stream.time_base
        fps = info.fps or 25.0
        index = 0
        try:
            for frame in container.decode(stream):
                if frame.width * frame.height > MAX_FRAME_PIXELS:  # the size changed midway
                    if index == 0:
                        raise VideoError(path, _too_large(frame.width, frame.height))
                    raise TruncatedVideo(path, index, _too_large(frame.width, frame.height))
                pts = frame.pts
                if pts is not None and time_base is not None:
                    time_s = float(pts * time_base)
                elif frame.time is not None:
                    time_s = float(frame.time)
                else:
                    time_s = index / fps
                rotation = normalise_rotation(frame.rotation) if frame.rotation else info.rotation
                yield DecodedFrame(index, pts, time_s, bool(frame.key_frame), frame, rotation)
                index += 1
        except av.error.FFmpegError as err:
            if index == 0:
                raise VideoError(path, f"no decodable frame ({_ffmpeg_reason(err)}); the file is corrupt") from err
            raise TruncatedVideo(path, index, _ffmpeg_reason(err)) from err
        if index == 0:
            raise VideoError(path, "no decodable frame; the file is empty or corrupt")


class TruncatedVideo(VideoError):
    """Decoding failed after ``n_decoded`` good frames (a cut-off or damaged file)."""

    def __init__(self, path: str, n_decoded: int, reason: str):
        super().__init__(path, f"decoding stopped after frame {n_decoded - 1}: {reason} (file truncated or damaged)")
        self.n_decoded = n_decoded


def frame_to_array(
    frame: av.VideoFrame, rotation: int, fmt: str, width: int | None = None, height: int | None = None
) -> np.ndarray:
    """Convert to a numpy image of the given *display* size, applying rotation."""
    if rotation in (90, 270):
        width, height = height, width  # size before rotation
    if width is not None or height is not None:
        frame = frame.reformat(width=width, height=height, format=fmt)
        array = frame.to_ndarray()
    else:
        array = frame.to_ndarray(format=fmt)
    if rotation:
        array = np.ascontiguousarray(np.rot90(array, k=rotation // 90))
    return array


def display_size_for_height(width: int, height: int, target_height: int) -> tuple[int, int]:
    """(w, h) scaled so h == min(target_height, height), w rounded to even, never upscaled."""
    if height <= target_height:
        return width, height
    scale = target_height / height
    return max(2, round(width * scale / 2) * 2), target_height


def _too_large(width: int, height: int) -> str:
    return (f"frame size {width}x{height} is above the {MAX_FRAME_PIXELS / 1e6:.0f}-megapixel limit; "
            "downscale the video (or raise FRAMESIFT_MAX_PIXELS)")


def _ffmpeg_reason(err: BaseException) -> str:
    text = getattr(err, "strerror", None) or str(err)
    return " ".join(str(text).split())[:160]
