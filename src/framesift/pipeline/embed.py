"""Embed stage: decode each ingested video and embed its indexed frames in batches.

Every finished batch is durable (see ``EmbeddingStore``), so a killed run re-decodes the video
but embeds only the frames after the last stored batch.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from framesift.embed.base import Embedder, default_batch_size
from framesift.store.catalog import Catalog
from framesift.store.embeddings import EmbeddingStore, embedding_key
from framesift.util.prefetch import prefetch
from framesift.util.progress import bar
from framesift.video.decode import TruncatedVideo, VideoError, iter_frames
from framesift.video.sampling import FrameSampler
from framesift.workspace import Workspace

log = logging.getLogger(__name__)
CHUNK_FRAMES = 32  # frames per stored (resumable) embedding chunk, whatever the model batch


@dataclass
class EmbedSummary:
    model: str
    embedded_frames: int = 0
    videos_done: int = 0
    videos_skipped: int = 0
    failed: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    batches: int = 0  # stored (resumable) chunks written, see CHUNK_FRAMES


def embed_videos(
    workspace: Workspace,
    embedder: Embedder,
    *,
    batch_size: int | None = None,
    video_ids: list[int] | None = None,
    embed_fps: float | None = None,
    chunk_frames: int | None = None,
) -> EmbedSummary:
    """Embed all indexed frames, or with ``embed_fps`` about that many per second of video.

    ``batch_size`` None: the embedder's default (small on CPU, where it is about twice as fast
    as 32; large on a GPU), see ``embed.base.default_batch_size``.
    """
    key = embedding_key(embedder.key, embed_fps)
    store = EmbeddingStore(workspace, key)
    catalog = workspace.catalog
    summary = EmbedSummary(key)
    start = time.perf_counter()
    query = "SELECT id, path, n_indexed FROM videos WHERE status = 'ingested'"
    videos = catalog.query(query + " ORDER BY id")
    if video_ids is not None:
        wanted = set(video_ids)
        videos = [v for v in videos if int(v["id"]) in wanted]
    for video in videos:
        video_id = int(video["id"])
        if store.is_done(video_id):
            store.drop_leftover_chunks(video_id)
            summary.videos_skipped += 1
            continue
        try:
            n = embed_video(workspace, store, embedder, video_id, video["path"], batch_size, summary, embed_fps,
                            chunk_frames)
        except VideoError as err:
            summary.failed[video["path"]] = str(err)
            log.warning("embedding skipped: %s", err)
            continue
        summary.embedded_frames += n
        summary.videos_done += 1
    summary.seconds = time.perf_counter() - start
    return summary


def embed_video(
    workspace: Workspace,
    store: EmbeddingStore,
    embedder: Embedder,
    video_id: int,
    path: str,
    batch_size: int | None,
    summary: EmbedSummary,
    embed_fps: float | None = None,
    chunk_frames: int | None = None,
) -> int:
    """Embed the frames of one video not embedded yet; returns how many were embedded now."""
    todo = frame_targets(workspace.catalog, video_id, skip=store.done_rows(video_id), embed_fps=embed_fps)
    embedded = 0
    if len(todo):
        name = path.rsplit("/", 1)[-1]
        with bar(total=len(todo), desc=f"embed {name} ({embedder.key})") as progress:
            for ids, vectors in embed_frames(path, todo, embedder, batch_size, chunk_frames):
                store.write_chunk(video_id, ids, vectors)
                summary.batches += 1
                embedded += len(ids)
                progress.update(len(ids))
    store.finalize(video_id, embedder.dim)
    return embedded


def frame_targets(catalog: Catalog, video_id: int, *, skip: int = 0, embed_fps: float | None = None) -> np.ndarray:
    """(frame id, frame index) rows of a video's frames to embed, in frame order, minus the first ``skip``.

    All indexed frames, or about ``embed_fps`` of them per second; streamed from the cursor into
    an (n, 2) int64 array (16 bytes a frame, no Python row per frame).
    """
    sampler = FrameSampler(fps=embed_fps) if embed_fps is not None else None
    parts = []
    for rows in catalog.stream(
        "SELECT id, frame_index, time_s FROM frames WHERE video_id = ? ORDER BY frame_index", (video_id,)
    ):
        block = np.array(rows, dtype=np.float64).reshape(len(rows), 3)
        if sampler is not None:
            block = block[[sampler.keep(int(i), float(t)) for i, t in block[:, 1:]]]
        parts.append(block[:, :2].astype(np.int64))
    targets = np.concatenate(parts) if parts else np.zeros((0, 2), np.int64)
    return targets[skip:]


def embed_frames(
    path: str,
    targets: np.ndarray | list[tuple[int, int]],
    embedder: Embedder,
    batch_size: int | None = None,
    chunk_frames: int | None = None,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Decode ``path`` and yield (frame ids, vectors) per chunk for the (frame id, frame_index) targets.

    The model sees ``batch_size`` frames per call (default: ``default_batch_size``); results are
    yielded (and stored, resumable) in chunks of at least ``chunk_frames`` (default 32), so
    small CPU batches do not mean a file and a transaction per 4 frames. No catalog access, so
    the Ray engine can run it on a worker. Raises VideoError when some target frames cannot be
    decoded (the chunks yielded before that are valid).
    """
    batch_size = batch_size or default_batch_size(embedder)
    chunk_frames = max(batch_size, chunk_frames or CHUNK_FRAMES)
    chunk_ids: list[np.ndarray] = []
    chunk_vectors: list[np.ndarray] = []

    def flush() -> tuple[np.ndarray, np.ndarray]:
        out = np.concatenate(chunk_ids), np.concatenate(chunk_vectors)
        chunk_ids.clear()
        chunk_vectors.clear()
        return out

    try:
        for ids, vectors in _embed_batches(path, targets, embedder, batch_size):
            chunk_ids.append(ids)
            chunk_vectors.append(vectors)
            if sum(len(i) for i in chunk_ids) >= chunk_frames:
                yield flush()
    except VideoError:  # what was embedded before the damage is kept
        if chunk_ids:
            yield flush()
        raise
    if chunk_ids:
        yield flush()


def _embed_batches(
    path: str, targets: np.ndarray | list[tuple[int, int]], embedder: Embedder, batch_size: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(frame ids, vectors) per model call; raises VideoError after the last good batch.

    Decoding and resizing run in a background thread a few frames ahead of the model (on 2
    CPU cores +4 % frames/s for 432p sources, ~+15 % for 1080p, BENCHMARKS.md); on a GPU they
    would otherwise be the bottleneck.
    """
    width, height = embedder.input_size
    pairs = np.asarray(targets, np.int64).reshape(-1, 2)
    pairs = pairs[np.argsort(pairs[:, 1], kind="stable")]
    ids: list[int] = []
    images: list[np.ndarray] = []
    done = 0
    frames = prefetch(target_images(path, pairs.tolist(), width, height), depth=2, batch=8)
    with contextlib.closing(frames):
        try:
            for frame_id, image in frames:
                ids.append(frame_id)
                images.append(image)
                if len(images) == batch_size:
                    yield np.asarray(ids, np.int64), embedder.embed(np.stack(images))
                    done += len(ids)
                    ids, images = [], []
        except TruncatedVideo as err:
            log.warning("%s", err)
    if images:
        yield np.asarray(ids, np.int64), embedder.embed(np.stack(images))
        done += len(ids)
    if done < len(pairs):
        raise VideoError(path, f"{len(pairs) - done} indexed frames could not be decoded again for embedding")


def target_images(path: str, pairs: list[list[int]], width: int, height: int) -> Iterator[tuple[int, np.ndarray]]:
    """(frame id, RGB image at the model size) for (frame id, frame_index) pairs sorted by index."""
    wanted = iter(pairs)
    target = next(wanted, None)
    if target is None:
        return
    for decoded in iter_frames(path):
        if decoded.index < target[1]:
            continue
        yield target[0], decoded.to_rgb(width, height)
        target = next(wanted, None)
        if target is None:
            return
