"""The driver side of the Ray engine: plan per-video tasks, stream results, write the catalog.

Same results as the local engine (``framesift.pipeline.ingest`` / ``embed``, ``framesift.predict.video``):
the driver skips what is done with the same rules, writes with the same writers, and writes
video by video in id order, so catalog ids (frames, predictions) come out identical.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from framesift.distributed.cluster import ClusterOptions, run_ordered
from framesift.distributed.workers import EmbedWorker, PredictWorker, ingest_batch
from framesift.embed.base import Embedder
from framesift.pipeline.embed import EmbedSummary, frame_targets
from framesift.pipeline.ingest import IngestSummary, begin_video, finish_video, insert_frames, mark_failed
from framesift.predict.base import Predictor
from framesift.predict.scoring import compute_task_scores
from framesift.predict.store import ensure_task, store_predictions
from framesift.predict.video import PredictSummary, frames_to_predict
from framesift.store.catalog import Catalog
from framesift.store.embeddings import EmbeddingStore, embedding_key
from framesift.util.progress import bar
from framesift.workspace import Workspace


def embedder_factory(name: str, options: dict[str, Any]) -> Callable[[], Embedder]:
    """A picklable recipe the workers use to build the same embedder as the driver."""
    from framesift.embed import get_embedder

    return functools.partial(get_embedder, name, **options)


def predictor_factory(model: str, options: dict[str, Any]) -> Callable[[], Predictor]:
    from framesift.predict.base import get_predictor

    return functools.partial(get_predictor, model, **options)


def ingest_videos_ray(
    catalog: Catalog, video_ids: list[int], *, frame_stride: int | None = None, fps: float | None = None,
    cluster: ClusterOptions | None = None,
) -> IngestSummary:
    """``pipeline.ingest.ingest_videos`` with decoding and stats on Ray workers."""
    summary = IngestSummary()
    start = time.perf_counter()
    tasks = []
    for video_id in video_ids:
        row = catalog.query_one("SELECT path, status, error FROM videos WHERE id = ?", (video_id,))
        if row is None:
            continue
        if row["status"] == "ingested":
            summary.skipped.append(row["path"])
            if row["error"]:
                summary.warnings[row["path"]] = row["error"]
        elif row["status"] == "failed":
            summary.failed[row["path"]] = row["error"]
        else:
            tasks.append({"video_id": video_id, "path": row["path"], "frame_stride": frame_stride, "fps": fps})
    opened = -1
    with bar(desc="ingest (ray)") as progress:
        for msg in run_ordered(tasks, ingest_batch, cluster or ClusterOptions()):
            video_id, path = tasks[msg.index]["video_id"], tasks[msg.index]["path"]
            if msg.index != opened:
                begin_video(catalog, video_id)
                opened = msg.index
            if msg.kind == "rows":
                insert_frames(catalog, video_id, msg.payload)
                progress.update(len(msg.payload))
            elif msg.kind == "done":
                finish_video(catalog, video_id, msg.payload)
                summary.ingested.append(path)
                summary.frames_indexed += msg.payload.n_indexed
                if msg.payload.warning:
                    summary.warnings[path] = msg.payload.warning
            else:
                mark_failed(catalog, video_id, msg.payload[1])
                summary.failed[path] = f"{msg.payload[0]}: {msg.payload[1]}"
    summary.seconds = time.perf_counter() - start
    return summary


def ingested_videos(catalog: Catalog, video_ids: list[int] | None) -> list[Any]:
    """Ingested videos in id order (the order both engines write in), optionally only ``video_ids``."""
    videos = catalog.query("SELECT id, path, width, height FROM videos WHERE status = 'ingested' ORDER BY id")
    return videos if video_ids is None else [v for v in videos if int(v["id"]) in set(video_ids)]


def embed_videos_ray(
    workspace: Workspace, embedder: Embedder, factory: Callable[[], Embedder], *, batch_size: int | None = None,
    video_ids: list[int] | None = None, embed_fps: float | None = None, cluster: ClusterOptions | None = None,
    chunk_frames: int | None = None,
) -> EmbedSummary:
    """``pipeline.embed.embed_videos`` with decoding and the model on Ray actors (one model per actor).

    ``embedder`` is the driver's instance (its key and dim name the store); ``factory`` builds
    the same model on each worker.
    """
    key = embedding_key(embedder.key, embed_fps)
    store = EmbeddingStore(workspace, key)
    catalog = workspace.catalog
    summary = EmbedSummary(key)
    start = time.perf_counter()
    tasks = []
    for video in ingested_videos(catalog, video_ids):
        video_id = int(video["id"])
        if store.is_done(video_id):
            summary.videos_skipped += 1
            continue
        targets = frame_targets(catalog, video_id, skip=store.done_rows(video_id), embed_fps=embed_fps)
        if len(targets) == 0:  # all batches stored before a crash: only the join is left
            store.finalize(video_id, embedder.dim)
            summary.videos_done += 1
            continue
        tasks.append({"video_id": video_id, "path": video["path"], "targets": targets})
    embedded = 0
    with bar(total=sum(len(t["targets"]) for t in tasks), desc=f"embed (ray, {key})") as progress:
        for msg in run_ordered(tasks, EmbedWorker, cluster or ClusterOptions(),
                               constructor_args=(factory, embedder.key, batch_size, chunk_frames)):
            video_id, path = tasks[msg.index]["video_id"], tasks[msg.index]["path"]
            if msg.kind == "chunk":
                ids, vectors = msg.payload
                store.write_chunk(video_id, ids, vectors)
                summary.batches += 1
                embedded += len(ids)
                progress.update(len(ids))
            elif msg.kind == "done":
                store.finalize(video_id, msg.payload)
                summary.embedded_frames += embedded
                summary.videos_done += 1
                embedded = 0
            else:
                summary.failed[path] = f"{msg.payload[0]}: {msg.payload[1]}"
                embedded = 0
    summary.seconds = time.perf_counter() - start
    return summary


def predict_videos_ray(
    workspace: Workspace, predictor: Predictor, factory: Callable[[], Predictor], *, task: str | None = None,
    batch_size: int = 16, frame_stride: int | None = None, fps: float | None = None, replace: bool = False,
    video_ids: list[int] | None = None, cluster: ClusterOptions | None = None,
) -> PredictSummary:
    """``predict.video.predict_videos`` with decoding and the model on Ray actors; scores on the driver."""
    catalog = workspace.catalog
    task = task or predictor.name
    ensure_task(catalog, task, predictor.task_type, predictor.categories, predictor.source, replace=replace)
    summary = PredictSummary(task)
    start = time.perf_counter()
    tasks = []
    for video in ingested_videos(catalog, video_ids):
        todo = frames_to_predict(workspace, task, int(video["id"]), frame_stride=frame_stride, fps=fps)
        if not todo:
            summary.videos_skipped += 1
            continue
        tasks.append({"path": video["path"], "targets": np.asarray(todo, np.int64).reshape(-1, 2),
                      "width": int(video["width"]), "height": int(video["height"])})
    classification = predictor.task_type == "classification"
    frames = boxes = 0
    with bar(total=sum(len(t["targets"]) for t in tasks), desc=f"predict (ray) {task}") as progress:
        for msg in run_ordered(tasks, PredictWorker, cluster or ClusterOptions(), constructor_args=(factory, batch_size)):
            if msg.kind == "batch":
                ids, predictions = msg.payload
                boxes += store_predictions(catalog, task, zip(ids, predictions, strict=True),
                                           classification=classification)
                frames += len(ids)
                progress.update(len(ids))
            elif msg.kind == "done":
                summary.frames += frames
                summary.boxes += boxes
                summary.videos_done += 1
                frames = boxes = 0
            else:
                summary.failed[tasks[msg.index]["path"]] = f"{msg.payload[0]}: {msg.payload[1]}"
                frames = boxes = 0
    summary.scores = compute_task_scores(catalog, task)
    summary.seconds = time.perf_counter() - start
    return summary


def ingest_stage(catalog: Catalog, video_ids: list[int], settings: Any) -> IngestSummary:
    """The ingest stage of ``framesift run`` with ``engine: ray`` (settings: FramesiftSettings)."""
    return ingest_videos_ray(catalog, video_ids, frame_stride=settings.frame_stride, fps=settings.fps,
                             cluster=ClusterOptions.from_settings(settings))


def embed_stage(workspace: Workspace, embedder: Embedder, settings: Any, options: dict[str, Any]) -> EmbedSummary:
    """The embed stage of ``framesift run`` with ``engine: ray``; workers build ``settings.embedder`` with ``options``."""
    return embed_videos_ray(workspace, embedder, embedder_factory(settings.embedder, options),
                            batch_size=settings.embed_batch_size, embed_fps=settings.embed_fps,
                            chunk_frames=settings.embed_chunk_frames, cluster=ClusterOptions.from_settings(settings))
