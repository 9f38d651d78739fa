"""Ingest: decode each video once, write its frame index, quality stats and shots to the catalog.

Rows are committed in batches while the video status is ``ingesting``; a video left in that
state by a killed process is cleared and redone on the next run. Unreadable videos are marked
``failed`` with a one-line reason and the run goes on.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from framesift.store.catalog import Catalog
from framesift.util.progress import bar
from framesift.video.decode import TruncatedVideo, VideoError, VideoInfo, iter_frames
from framesift.video.planes import yuv_planes
from framesift.video.sampling import FrameSampler
from framesift.video.shots import ShotTracker, thumb_signature, yuv_thumbnail
from framesift.video.stats import frame_stats, resize_for_stats

log = logging.getLogger(__name__)
INSERT_BATCH = 1000


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
            _mark_failed(catalog, video_id, err.reason)
            summary.failed[path] = str(err)
            log.warning("skipped %s", err)
            continue
        summary.ingested.append(path)
        summary.frames_indexed += n_indexed
        if warning:
            summary.warnings[path] = warning
    summary.seconds = time.perf_counter() - start
    return summary


def ingest_video(catalog: Catalog, video_id: int, path: str, sampler: FrameSampler) -> tuple[int, str | None]:
    """Index one video; returns (frames indexed, warning or None). Raises VideoError if unreadable."""
    with catalog.transaction() as conn:
        conn.execute("DELETE FROM frames WHERE video_id = ?", (video_id,))
        conn.execute("DELETE FROM shots WHERE video_id = ?", (video_id,))
        conn.execute("UPDATE videos SET status = 'ingesting', error = NULL WHERE id = ?", (video_id,))
    tracker = ShotTracker()
    rows: list[tuple] = []
    shots: list[tuple[int, int, int]] = []
    shot_start = 0
    info_box: list[VideoInfo] = []
    n_decoded = n_indexed = 0
    first_time = last_time = None
    rotation = 0
    warning = None
    with bar(desc=f"ingest {path.rsplit('/', 1)[-1]}") as progress:
        try:
            for decoded in iter_frames(path, info_out=info_box):
                if n_decoded == 0:
                    rotation = decoded.rotation
                    progress.reset(total=info_box[0].n_frames_hint)
                y, u, v = yuv_planes(decoded.frame, decoded.rotation)
                luma = resize_for_stats(y)  # shared by the shot signature and the stats
                if tracker.update(thumb_signature(yuv_thumbnail(luma, u, v))):
                    shots.append((tracker.shot_id - 1, shot_start, decoded.index - 1))
                    shot_start = decoded.index
                first_time = decoded.time_s if first_time is None else first_time
                last_time = decoded.time_s
                if sampler.keep(decoded.index, decoded.time_s):
                    stats = frame_stats(luma)
                    rows.append(
                        (video_id, decoded.index, decoded.pts, decoded.time_s, tracker.shot_id, stats.sharpness,
                         stats.brightness, stats.contrast, stats.uniform_row_ratio, int(decoded.is_keyframe))
                    )
                    n_indexed += 1
                    if len(rows) >= INSERT_BATCH:
                        _insert_frames(catalog, rows)
                        rows = []
                n_decoded += 1
                progress.update(1)
        except TruncatedVideo as err:
            warning = err.reason
            log.warning("%s", err)
    _insert_frames(catalog, rows)
    shots.append((tracker.shot_id, shot_start, n_decoded - 1))
    info = info_box[0]
    width, height = (info.height, info.width) if rotation in (90, 270) else (info.width, info.height)
    fps = info.fps
    duration = info.duration_s
    if duration is None and first_time is not None and last_time is not None:
        duration = last_time - first_time + (1.0 / fps if fps else 0.0)
    with catalog.transaction() as conn:
        conn.executemany("INSERT INTO shots (video_id, shot_id, start_frame, end_frame) VALUES (?, ?, ?, ?)",
                         [(video_id, *shot) for shot in shots])
        conn.execute(
            "UPDATE videos SET status = 'ingested', error = ?, duration_s = ?, fps = ?, n_frames = ?, n_indexed = ?, "
            "width = ?, height = ?, codec = ?, rotation = ?, time_base = ?, ingested_at = datetime('now') WHERE id = ?",
            (warning, duration, fps, n_decoded, n_indexed, width, height, info.codec, rotation,
             str(info.time_base) if info.time_base is not None else None, video_id),
        )
    return n_indexed, warning


def _insert_frames(catalog: Catalog, rows: list[tuple]) -> None:
    if not rows:
        return
    with catalog.transaction() as conn:
        conn.executemany(
            "INSERT INTO frames (video_id, frame_index, pts, time_s, shot_id, sharpness, brightness, contrast, "
            "uniform_row_ratio, is_keyframe) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )


def _mark_failed(catalog: Catalog, video_id: int, reason: str) -> None:
    with catalog.transaction() as conn:
        conn.execute("DELETE FROM frames WHERE video_id = ?", (video_id,))
        conn.execute("UPDATE videos SET status = 'failed', error = ? WHERE id = ?", (reason, video_id))
