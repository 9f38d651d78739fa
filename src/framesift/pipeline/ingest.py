"""Ingest: decode each video once, write its frame index, quality stats and shots to the catalog.

Rows are committed in batches while the video status is ``ingesting``; a video left in that
state by a killed process is cleared and redone on the next run. Unreadable videos are marked
``failed`` with a one-line reason and the run goes on.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from framesift.store.catalog import Catalog
from framesift.util.crashpoint import crash_point
from framesift.util.prefetch import prefetch
from framesift.util.progress import bar
from framesift.util.threads import usable_cores
from framesift.video.decode import DecodedFrame, TruncatedVideo, VideoError, VideoInfo, iter_frames
from framesift.video.planes import yuv_planes
from framesift.video.sampling import FrameSampler
from framesift.video.shots import ShotTracker, thumb_signature, yuv_thumbnail
from framesift.video.stats import frame_stats, resize_for_stats

log = logging.getLogger(__name__)
INSERT_BATCH = 1000
MAX_DECODER_THREADS = 8  # FFmpeg's frame threads add latency and frames held with little gain beyond


@dataclass
class IngestSummary:
    ingested: list[str] = field(default_factory=list)  # video paths ingested in this call
    skipped: list[str] = field(default_factory=list)  # already done before
    failed: dict[str, str] = field(default_factory=dict)  # path -> one-line reason
    warnings: dict[str, str] = field(default_factory=dict)  # path -> e.g. truncated
    frames_indexed: int = 0
    seconds: float = 0.0


def ingest_videos(
    catalog: Catalog, video_ids: list[int], *, frame_stride: int | None = None, fps: float | None = None
) -> IngestSummary:
    summary = IngestSummary()
    start = time.perf_counter()
    for video_id in video_ids:
        row = catalog.query_one("SELECT path, status, error FROM videos WHERE id = ?", (video_id,))
        if row is None:
            continue
        path = row["path"]
        if row["status"] == "ingested":
            summary.skipped.append(path)
            if row["error"]:
                summary.warnings[path] = row["error"]
            continue
        if row["status"] == "failed":
            summary.failed[path] = row["error"]
            continue
        try:
            n_indexed, warning = ingest_video(catalog, video_id, path, FrameSampler(frame_stride=frame_stride, fps=fps))
        except VideoError as err:
            mark_failed(catalog, video_id, err.reason)
            summary.failed[path] = str(err)
            log.warning("skipped %s", err)
            continue
        summary.ingested.append(path)
        summary.frames_indexed += n_indexed
        if warning:
            summary.warnings[path] = warning
    summary.seconds = time.perf_counter() - start
    return summary


FrameRow = tuple  # (frame_index, pts, time_s, shot_id, sharpness, brightness, contrast, uniform_row_ratio, keyframe)


@dataclass
class VideoScan:
    """Per-video facts known once the whole video is decoded."""

    n_frames: int = 0
    n_indexed: int = 0
    shots: list[tuple[int, int, int]] = field(default_factory=list)  # (shot_id, first, last frame)
    fps: float | None = None
    duration_s: float | None = None
    width: int = 0
    height: int = 0
    codec: str = ""
    rotation: int = 0
    time_base: str | None = None
    warning: str | None = None


def scan_video(
    path: str, sampler: FrameSampler, scan: VideoScan, *, batch: int = INSERT_BATCH, threads: int | None = None
) -> Iterator[list[FrameRow]]:
    """Decode a video once and yield its index rows in batches; fills ``scan`` as it goes.

    No catalog access: the local engine writes the batches itself, the Ray engine runs this
    on a worker and ships the batches to the driver. Raises VideoError if unreadable.
    ``threads``: decoder threads (default: ``decoder_threads()``; Ray tasks hold one CPU and pass 1).
    """
    tracker = ShotTracker()
    rows: list[FrameRow] = []
    shot_start = 0
    info_box: list[VideoInfo] = []
    first_time = last_time = None
    earliest = latest = None  # time span covered, whatever the order of the timestamps
    # The decoder runs ahead in a background thread while this thread computes the statistics; it
    # gets the cores the statistics leave (one on 2 cores, which beats FFmpeg's frame threads
    # taking turns with the statistics on the same cores: BENCHMARKS.md).
    frames = prefetch(iter_frames(path, threads=threads or decoder_threads(), info_out=info_box),
                      item_bytes=frame_bytes)
    with bar(desc=f"ingest {path.rsplit('/', 1)[-1]}") as progress, contextlib.closing(frames):
        try:
            for decoded in frames:
                if scan.n_frames == 0:
                    scan.rotation = decoded.rotation
                    progress.reset(total=info_box[0].n_frames_hint)
                y, u, v = yuv_planes(decoded.frame, decoded.rotation)
                luma = resize_for_stats(y)  # shared by the shot signature and the stats
                if tracker.update(thumb_signature(yuv_thumbnail(luma, u, v))):
                    scan.shots.append((tracker.shot_id - 1, shot_start, decoded.index - 1))
                    shot_start = decoded.index
                first_time = decoded.time_s if first_time is None else first_time
                last_time = decoded.time_s
                earliest = decoded.time_s if earliest is None else min(earliest, decoded.time_s)
                latest = decoded.time_s if latest is None else max(latest, decoded.time_s)
                if sampler.keep(decoded.index, decoded.time_s):
                    stats = frame_stats(luma)
                    rows.append(
                        (decoded.index, decoded.pts, decoded.time_s, tracker.shot_id, stats.sharpness,
                         stats.brightness, stats.contrast, stats.uniform_row_ratio, int(decoded.is_keyframe))
                    )
                    scan.n_indexed += 1
                    if len(rows) >= batch:
                        yield rows
                        rows = []
                scan.n_frames += 1
                progress.update(1)
        except TruncatedVideo as err:
            scan.warning = err.reason
            log.warning("%s", err)
    if rows:
        yield rows
    scan.shots.append((tracker.shot_id, shot_start, scan.n_frames - 1))
    info = info_box[0]
    scan.width, scan.height = (info.height, info.width) if scan.rotation in (90, 270) else (info.width, info.height)
    scan.fps, scan.duration_s, scan.codec = info.fps, info.duration_s, info.codec
    scan.time_base = str(info.time_base) if info.time_base is not None else None
    if scan.duration_s is None and first_time is not None and last_time is not None:
        scan.duration_s = last_time - first_time + (1.0 / scan.fps if scan.fps else 0.0)
    if scan.warning is None and earliest is not None and latest is not None:
        scan.warning = cut_short(info, latest - earliest)


def decoder_threads() -> int:
    """Decoder threads for ingest: the usable cores but the one computing statistics (1 to 8)."""
    return max(1, min(usable_cores() - 1, MAX_DECODER_THREADS))


def frame_bytes(decoded: DecodedFrame) -> int:
    return sum(plane.buffer_size for plane in decoded.frame.planes)


def cut_short(info: VideoInfo, span_s: float) -> str | None:
    """A file cut between two packets decodes without any error; only its announced duration tells."""
    if info.video_duration_s is None or not info.fps:
        return None
    covered = span_s + 1.0 / info.fps
    if covered >= 0.9 * info.video_duration_s - 2.0 / info.fps:
        return None
    return f"frames end at {covered:.1f} s of the {info.video_duration_s:.1f} s the container announces (file truncated?)"


def begin_video(catalog: Catalog, video_id: int) -> None:
    """Clear leftovers of an interrupted attempt and mark the video as being ingested."""
    with catalog.transaction() as conn:
        conn.execute("DELETE FROM frames WHERE video_id = ?", (video_id,))
        conn.execute("DELETE FROM shots WHERE video_id = ?", (video_id,))
        conn.execute("UPDATE videos SET status = 'ingesting', error = NULL WHERE id = ?", (video_id,))


def finish_video(catalog: Catalog, video_id: int, scan: VideoScan) -> None:
    with catalog.transaction() as conn:
        conn.executemany("INSERT INTO shots (video_id, shot_id, start_frame, end_frame) VALUES (?, ?, ?, ?)",
                         [(video_id, *shot) for shot in scan.shots])
        conn.execute(
            "UPDATE videos SET status = 'ingested', error = ?, duration_s = ?, fps = ?, n_frames = ?, n_indexed = ?, "
            "width = ?, height = ?, codec = ?, rotation = ?, time_base = ?, ingested_at = datetime('now') WHERE id = ?",
            (scan.warning, scan.duration_s, scan.fps, scan.n_frames, scan.n_indexed, scan.width, scan.height,
             scan.codec, scan.rotation, scan.time_base, video_id),
        )
    crash_point("ingest.video")


def ingest_video(catalog: Catalog, video_id: int, path: str, sampler: FrameSampler) -> tuple[int, str | None]:
    """Index one video; returns (frames indexed, warning or None). Raises VideoError if unreadable."""
    begin_video(catalog, video_id)
    scan = VideoScan()
    for rows in scan_video(path, sampler, scan):
        insert_frames(catalog, video_id, rows)
    finish_video(catalog, video_id, scan)
    return scan.n_indexed, scan.warning


def insert_frames(catalog: Catalog, video_id: int, rows: list[FrameRow]) -> None:
    if not rows:
        return
    with catalog.transaction() as conn:
        conn.executemany(
            "INSERT INTO frames (video_id, frame_index, pts, time_s, shot_id, sharpness, brightness, contrast, "
            "uniform_row_ratio, is_keyframe) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(video_id, *row) for row in rows],
        )
    crash_point("ingest.frames")


def mark_failed(catalog: Catalog, video_id: int, reason: str) -> None:
    with catalog.transaction() as conn:
        conn.execute("DELETE FROM frames WHERE video_id = ?", (video_id,))
        conn.execute("UPDATE videos SET status = 'failed', error = ? WHERE id = ?", (reason, video_id))
