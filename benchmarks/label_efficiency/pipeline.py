"""Run the real framesift pipeline on a clip: video -> ingest -> embed -> (predictions) -> select.

Every selection goes through ``framesift.pipeline.select.run_selection`` with a LightlyOne-style
config, exactly as ``framesift select`` does; runs use ``process_all: true`` so earlier runs of
other methods in the same workspace never seed or exclude frames (no datapool between methods).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from framesift.config.loader import load_config
from framesift.embed import get_embedder
from framesift.pipeline.embed import embed_videos
from framesift.pipeline.ingest import ingest_videos
from framesift.pipeline.predictions_import import import_task
from framesift.pipeline.select import run_selection
from framesift.predict.base import FramePrediction
from framesift.predict.imported import ImportedTask
from framesift.store.embeddings import embedding_key
from framesift.store.videos import SamplingKey, register_videos
from framesift.video.discover import discover_videos
from framesift.video.naming import frame_stem
from framesift.workspace import Workspace

from .datasets import Clip, verify_video, write_clip_video


@dataclass
class PreparedClip:
    """A clip written as a video (or a folder of videos, ``clip`` None) indexed in its own workspace."""

    clip: Clip
    workspace: Workspace
    video_path: Path
    embedders: dict[str, str] = field(default_factory=dict)  # name -> embedding key
    timings: dict[str, float] = field(default_factory=dict)
    decode_check: float = float("nan")  # worst mean abs difference decoded vs clip frame (grey levels)
    tasks: list[str] = field(default_factory=list)

    @property
    def video_name(self) -> str:
        return self.video_path.stem


def prepare_clip(clip: Clip, root: Path, embedders: list[str], *, verify: bool = True,
                 embedder_options: dict[str, Any] | None = None) -> PreparedClip:
    """Write the clip as ``root/video/<name>.mp4``, ingest it into ``root/ws`` and embed it."""
    timings: dict[str, float] = {}
    start = time.perf_counter()
    video_dir = root / "video"
    video_path = write_clip_video(clip, video_dir / f"{_safe(clip.name)}.mp4")
    timings["encode"] = time.perf_counter() - start
    check = float("nan")
    if verify:
        start = time.perf_counter()
        check = verify_video(clip, video_path)
        timings["verify"] = time.perf_counter() - start
    workspace = Workspace.open(root / "ws")
    start = time.perf_counter()
    ids, _ = register_videos(workspace.catalog, discover_videos(str(video_dir)), SamplingKey(None, None))
    summary = ingest_videos(workspace.catalog, ids)
    if summary.failed:
        raise RuntimeError(f"{video_path}: ingest failed: {summary.failed}")
    timings["ingest"] = time.perf_counter() - start
    index = np.array([r[0] for r in workspace.catalog.query("SELECT frame_index FROM frames ORDER BY frame_index")])
    if not np.array_equal(index, np.arange(clip.n_frames)):
        raise AssertionError(f"{video_path}: indexed frames are not 0..{clip.n_frames - 1}")
    prepared = PreparedClip(clip, workspace, video_path, timings=timings, decode_check=check)
    for name in embedders:
        start = time.perf_counter()
        embedder = get_embedder(name, **(embedder_options or {}).get(name, {}))
        embed_videos(workspace, embedder, batch_size=32)
        prepared.embedders[name] = embedding_key(embedder.key, None)
        timings[f"embed:{name}"] = time.perf_counter() - start
    return prepared


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)


def import_predictions(prepared: PreparedClip, task: str, categories: list[str],
                       predictions: list[FramePrediction], source: str) -> list[str]:
    """Store one prediction per frame as task ``task`` through framesift's importer; returns score names.

    Frames are referred to by their LightlyOne names (``video-0042-mp4``), the same path a
    ``.lightly`` or COCO predictions file takes.
    """
    n = prepared.clip.n_frames
    name = prepared.video_name
    frames = [(frame_stem(name, "mp4", i, n), p) for i, p in enumerate(predictions)]
    cats = [{"id": i, "name": c} for i, c in enumerate(categories)]
    imported = ImportedTask(task, "object-detection", cats, source, frames)  # type: ignore[arg-type]
    summary = import_task(prepared.workspace, imported, replace=True)
    prepared.tasks.append(task)
    return summary.scores


@dataclass
class Selection:
    frames: np.ndarray  # selected frame indices, pick order
    stop_reason: str
    seconds: float


def select_frames(prepared: PreparedClip, selection_config: dict[str, Any], embedder: str) -> Selection:
    """One framesift selection run; returns the picked frame indices of the clip's video."""
    config = load_config({
        "selection_config": selection_config,
        "worker_config": {"datasource": {"process_all": True}},
        "framesift": {"embedder": embedder},
    })
    start = time.perf_counter()
    outcome = run_selection(prepared.workspace, config, embedder_key=prepared.embedders[embedder])
    frames = outcome.table.frame_index[outcome.result.indices]
    return Selection(frames.astype(np.int64), outcome.result.stop_reason, time.perf_counter() - start)


def prepare_folder(source: Path, root: Path, embedders: list[str], *, frame_stride: int | None = None) -> PreparedClip:
    """Ingest and embed every video of ``source`` (as ``framesift ingest/embed --frame-stride``) in ``root/ws``."""
    workspace = Workspace.open(root / "ws")
    timings: dict[str, float] = {}
    start = time.perf_counter()
    ids, _ = register_videos(workspace.catalog, discover_videos(str(source)), SamplingKey(frame_stride, None))
    summary = ingest_videos(workspace.catalog, ids, frame_stride=frame_stride)
    if summary.failed:
        raise RuntimeError(f"{source}: ingest failed: {summary.failed}")
    timings["ingest"] = time.perf_counter() - start
    prepared = PreparedClip(None, workspace, Path(source), timings=timings)  # type: ignore[arg-type]  # no clip
    for name in embedders:
        start = time.perf_counter()
        embedder = get_embedder(name)
        embed_videos(workspace, embedder, batch_size=32)
        prepared.embedders[name] = embedding_key(embedder.key, None)
        timings[f"embed:{name}"] = time.perf_counter() - start
    return prepared
