"""Training frames for SSL: an even sample of the indexed frames, decoded straight from the videos.

No frames are written to disk: the sample is decoded once per training into an in-memory
uint8 array at the training size (``max_frames * input_size² * 3`` bytes, 300 MB for 2,000
frames at 224 px), squashed to a square like the embedder sees them.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

import numpy as np

from framesift.errors import FramesiftError
from framesift.util.progress import bar
from framesift.video.decode import VideoError
from framesift.video.extract import read_frames
from framesift.workspace import Workspace

log = logging.getLogger(__name__)


@dataclass
class FrameSample:
    """Which frames train the model: catalog rows, in (video, frame_index) order."""

    frame_ids: np.ndarray
    video_paths: list[str]
    frame_index: np.ndarray
    pts: list[int | None]
    video_of: np.ndarray  # position in video_paths for each frame

    def __len__(self) -> int:
        return len(self.frame_ids)

    def fingerprint(self) -> str:
        """Changes when the sampled frames change (new videos, other sampling), not on a rerun."""
        digest = hashlib.sha256()
        for path in self.video_paths:
            digest.update(path.encode() + b"\0")
        digest.update(self.video_of.astype(np.int64).tobytes())
        digest.update(self.frame_index.astype(np.int64).tobytes())
        return digest.hexdigest()


def sample_frames(workspace: Workspace, max_frames: int) -> FrameSample:
    """Up to ``max_frames`` indexed frames evenly spaced over all ingested videos (all of them when fewer)."""
    rows = workspace.catalog.query(
        "SELECT f.id, f.frame_index, f.pts, v.path FROM frames f JOIN videos v ON v.id = f.video_id "
        "WHERE v.status = 'ingested' ORDER BY v.id, f.frame_index"
    )
    if len(rows) < 2:
        raise FramesiftError(
            f"{workspace.root}: SSL training needs at least 2 indexed frames, found {len(rows)}; ingest videos first"
        )
    if len(rows) > max_frames:
        picks = np.unique(np.linspace(0, len(rows) - 1, max_frames).round().astype(int))
        rows = [rows[i] for i in picks]
    paths: list[str] = []
    video_of = []
    for r in rows:
        if not paths or paths[-1] != r["path"]:
            paths.append(r["path"])
        video_of.append(len(paths) - 1)
    return FrameSample(
        frame_ids=np.array([r["id"] for r in rows], np.int64),
        video_paths=paths,
        frame_index=np.array([r["frame_index"] for r in rows], np.int64),
        pts=[None if r["pts"] is None else int(r["pts"]) for r in rows],
        video_of=np.array(video_of, np.int64),
    )


def decode_sample(sample: FrameSample, size: int) -> np.ndarray:
    """(N, size, size, 3) uint8 RGB of the sampled frames; frames that fail to decode are dropped."""
    images: list[np.ndarray] = []
    with bar(total=len(sample), desc="ssl frames", unit="frame") as progress:
        for v, path in enumerate(sample.video_paths):
            members = np.flatnonzero(sample.video_of == v)
            targets = [(int(sample.frame_index[i]), sample.pts[i]) for i in members]
            try:
                for _, image in read_frames(path, targets, size=(size, size)):
                    images.append(image)
                    progress.update(1)
            except VideoError as err:
                log.warning("SSL training skips %s: %s", path, err)
    if len(images) < 2:
        raise FramesiftError("SSL training: fewer than 2 frames could be decoded; check the videos (`framesift info`)")
    return np.stack(images)
