"""What runs on Ray workers: decode + stats, embedding and prediction of one video per task.

Each handler yields ``(kind, payload)`` messages; nothing here touches the catalog. Video
errors become a ``failed`` message (path, reason) so the driver records them like the local
engine does and the run goes on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from framesift.distributed.cluster import message_batches
from framesift.errors import FramesiftError
from framesift.video.decode import VideoError

Handler = Iterator[tuple[str, Any]]


def relay(kind: str, results: Iterator[Any], done: Callable[[], Any]) -> Handler:
    """Messages for one video: each result as ``kind``, then ``done`` (or ``failed`` on a VideoError)."""
    try:
        for item in results:
            yield kind, item
    except VideoError as err:
        yield "failed", (err.path, err.reason)
        return
    yield "done", done()


def ingest_batch(batch: dict[str, np.ndarray]) -> Iterator[dict]:
    """Ray task: index one video (frame rows in batches, then its VideoScan)."""
    yield from message_batches(batch, _ingest)


def _ingest(task: dict[str, Any]) -> Handler:
    from framesift.pipeline.ingest import VideoScan, scan_video
    from framesift.video.sampling import FrameSampler

    scan = VideoScan()
    sampler = FrameSampler(frame_stride=task["frame_stride"], fps=task["fps"])
    # One decoder thread: the task holds one CPU, and many run side by side on a node.
    return relay("rows", scan_video(task["path"], sampler, scan, threads=1), lambda: scan)


class EmbedWorker:
    """Ray actor: builds the embedder once, then embeds the target frames of one video per call."""

    def __init__(self, factory: Callable[[], Any], key: str, batch_size: int | None, chunk_frames: int | None = None):
        self.embedder = factory()
        if self.embedder.key != key:
            raise FramesiftError(f"framesift.embedder: workers built '{self.embedder.key}' but the driver expects "
                                 f"'{key}'; install the same framesift extras on every node")
        self.batch_size = batch_size
        self.chunk_frames = chunk_frames

    def __call__(self, batch: dict[str, np.ndarray]) -> Iterator[dict]:
        yield from message_batches(batch, self._embed)

    def _embed(self, task: dict[str, Any]) -> Handler:
        from framesift.pipeline.embed import embed_frames

        results = embed_frames(task["path"], task["targets"], self.embedder, self.batch_size, self.chunk_frames)
        return relay("chunk", results, lambda: self.embedder.dim)


class PredictWorker:
    """Ray actor: builds the predictor once, then predicts the target frames of one video per call."""

    def __init__(self, factory: Callable[[], Any], batch_size: int):
        self.predictor = factory()
        self.batch_size = batch_size

    def __call__(self, batch: dict[str, np.ndarray]) -> Iterator[dict]:
        yield from message_batches(batch, self._predict)

    def _predict(self, task: dict[str, Any]) -> Handler:
        from framesift.predict.video import predict_frames

        todo = [(int(i), int(k)) for i, k in task["targets"]]
        results = predict_frames(task["path"], todo, self.predictor, self.batch_size, task["width"], task["height"])
        return relay("batch", results, lambda: None)
