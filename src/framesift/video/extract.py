"""Decode only the frames asked for, by seeking to the keyframe before each one.

Targets are identified by (frame_index, pts) from the catalog. After a seek the decoder's
frame count is unknown, so frames are matched by pts; whenever that is not possible (missing
or repeated pts, a seek that overshoots) the remaining targets are decoded sequentially from
the start, where frame_index is exact. Either way the pixels equal a full sequential decode.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from framesift.video.decode import frame_to_array, iter_frames, normalise_rotation, open_container

SEEK_MIN_GAP_S = 2.0  # decode forward instead of seeking when the next target is this close


def read_frames(
    path: str, targets: Sequence[tuple[int, int | None]], *, size: tuple[int, int] | None = None, fmt: str = "rgb24"
) -> Iterator[tuple[int, np.ndarray]]:
    """Yield (frame_index, image) for each target (frame_index, pts), in frame order."""
    ordered = sorted(set(targets))
    if not ordered:
        return
    pts_list = [pts for _, pts in ordered]
    seekable = all(p is not None for p in pts_list) and len(set(pts_list)) == len(pts_list)
    remaining = ordered
    if seekable:
        done: set[int] = set()
        for frame_index, image in _read_by_seeking(path, ordered, size, fmt):
            done.add(frame_index)
            yield frame_index, image
        remaining = [t for t in ordered if t[0] not in done]
    if remaining:
        yield from _read_sequential(path, [t[0] for t in remaining], size, fmt)


def _read_sequential(
    path: str, indices: list[int], size: tuple[int, int] | None, fmt: str
) -> Iterator[tuple[int, np.ndarray]]:
    wanted = iter(sorted(indices))
    target = next(wanted, None)
    width, height = size if size else (None, None)
    for decoded in iter_frames(path):
        if target is None:
            break
        if decoded.index == target:
            yield target, frame_to_array(decoded.frame, decoded.rotation, fmt, width, height)
            target = next(wanted, None)


def _read_by_seeking(
    path: str, ordered: list[tuple[int, int | None]], size: tuple[int, int] | None, fmt: str
) -> Iterator[tuple[int, np.ndarray]]:
    """Best effort: stops (leaving the rest to the sequential reader) at the first surprise."""
    width, height = size if size else (None, None)
    with open_container(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        time_base = float(stream.time_base) if stream.time_base else None
        if time_base is None:
            return
        decoder = None
        last_pts: int | None = None
        for frame_index, pts in ordered:
            assert pts is not None
            if decoder is None or last_pts is None or pts <= last_pts or (pts - last_pts) * time_base > SEEK_MIN_GAP_S:
                try:
                    container.seek(pts, stream=stream, backward=True, any_frame=False)
                except Exception:
                    return
                decoder = container.decode(stream)
            found = None
            try:
                for frame in decoder:
                    if frame.pts is None:
                        return
                    last_pts = frame.pts
                    if frame.pts == pts:
                        found = frame
                        break
                    if frame.pts > pts:
                        return  # overshot: the keyframe index was off; fall back to sequential
            except Exception:
                return
            if found is None:
                return
            rotation = normalise_rotation(found.rotation) if found.rotation else 0
            yield frame_index, frame_to_array(found, rotation, fmt, width, height)
