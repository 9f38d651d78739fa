"""Extract stage: write the PNGs of a run's selected frames (and only those).

File names follow LightlyOne (``{video}-{frame:0Nd}-{ext}.png``); a PNG that already exists is
not written again, so reruns and overlapping runs cost nothing.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from framesift.util.atomic import write_with
from framesift.util.crashpoint import crash_point
from framesift.util.progress import bar
from framesift.video.decode import VideoError
from framesift.video.extract import read_frames
from framesift.video.naming import frame_file_name
from framesift.workspace import Workspace

log = logging.getLogger(__name__)


@dataclass
class ExtractSummary:
    written: int = 0
    existing: int = 0
    failed: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


def selected_frame_rows(workspace: Workspace, run_id: int) -> list:
    return workspace.catalog.query(
        "SELECT s.rank, s.objectives, f.id AS frame_id, f.frame_index, f.pts, f.time_s, f.shot_id, "
        "v.id AS video_id, v.name AS video, v.ext, v.path, v.n_frames "
        "FROM selections s JOIN frames f ON f.id = s.frame_id JOIN videos v ON v.id = f.video_id "
        "WHERE s.run_id = ? ORDER BY s.rank",
        (run_id,),
    )


def frame_path(workspace: Workspace, row) -> Path:  # type: ignore[no-untyped-def]
    return workspace.frames_dir / frame_file_name(row["video"], row["ext"], row["frame_index"], row["n_frames"])


def extract_run(workspace: Workspace, run_id: int, *, compress_level: int = 3) -> ExtractSummary:
    summary = ExtractSummary()
    start = time.perf_counter()
    by_video: dict[int, list] = defaultdict(list)
    for row in selected_frame_rows(workspace, run_id):
        target = frame_path(workspace, row)
        if target.exists():
            summary.existing += 1
        else:
            by_video[row["video_id"]].append(row)
    total = sum(len(rows) for rows in by_video.values())
    with bar(total=total, desc="extract", unit="frame") as progress:
        for rows in by_video.values():
            path = rows[0]["path"]
            by_index = {row["frame_index"]: row for row in rows}
            try:
                for frame_index, image in read_frames(path, [(r["frame_index"], r["pts"]) for r in rows]):
                    target = frame_path(workspace, by_index[frame_index])
                    write_with(target, lambda tmp, img=image: _save_png(tmp, img, compress_level))
                    crash_point("extract.png")
                    summary.written += 1
                    progress.update(1)
            except VideoError as err:
                summary.failed[path] = str(err)
                log.warning("extract: %s", err)
    summary.seconds = time.perf_counter() - start
    return summary


def _save_png(path: Path, image: np.ndarray, compress_level: int) -> None:
    Image.fromarray(image).save(path, format="PNG", compress_level=compress_level)
    crash_point("extract.png_tmp")  # the PNG is in its temporary file, not renamed into place yet
