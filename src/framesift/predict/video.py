"""Run a predictor on the indexed frames of every video, decoding straight from the files.

Resumable like embedding: each batch is committed with its ``predicted_frames`` rows, and a
rerun predicts only the frames of the task that have none yet. Boxes are stored in display
pixels of the original frame, whatever size the model saw.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from framesift.errors import FramesiftError
from framesift.predict.base import FramePrediction, Predictor
from framesift.predict.scoring import compute_task_scores
from framesift.predict.store import ensure_task, predicted_frame_ids, store_predictions
from framesift.util.progress import bar
from framesift.video.decode import TruncatedVideo, VideoError, iter_frames
from framesift.video.sampling import FrameSampler
from framesift.workspace import Workspace

log = logging.getLogger(__name__)


@dataclass
class PredictSummary:
    task: str
    frames: int = 0
    boxes: int = 0
    videos_done: int = 0
    videos_skipped: int = 0
    failed: dict[str, str] = field(default_factory=dict)
    scores: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def lines(self) -> list[str]:
        out = [f"task {self.task}: {self.frames} frames predicted now ({self.boxes} predictions) in {self.seconds:.1f}s, "
               f"{self.videos_skipped} videos already done"]
        out.extend(f"  skipped: {reason}" for reason in self.failed.values())
        if self.scores:
            out.append(f"scores of {self.task}: {', '.join(self.scores)}")
        return out


def frames_to_predict(
    workspace: Workspace, task: str, video_id: int, *, frame_stride: int | None = None, fps: float | None = None,
    frame_filter: Callable[[int, float], bool] | None = None,
) -> list[tuple[int, int]]:
    """(frame id, frame index) of the video's indexed frames picked by the sampling, minus those done.

    ``frame_filter(video_id, time_s)`` narrows it further, e.g. to an aligned session window.
    """
    rows = workspace.catalog.query(
        "SELECT id, frame_index, time_s FROM frames WHERE video_id = ? ORDER BY frame_index", (video_id,)
    )
    sampler = FrameSampler(frame_stride=frame_stride, fps=fps)
    done = predicted_frame_ids(workspace.catalog, task, video_id)
    wanted = [(int(r[0]), int(r[1])) for r in rows if sampler.keep(int(r[1]), float(r[2]))
              and (frame_filter is None or frame_filter(video_id, float(r[2])))]
    return [item for item in wanted if item[0] not in done]


def predict_videos(
    workspace: Workspace,
    predictor: Predictor,
    *,
    task: str | None = None,
    batch_size: int = 16,
    frame_stride: int | None = None,
    fps: float | None = None,
    replace: bool = False,
    video_ids: list[int] | None = None,
    frame_filter: Callable[[int, float], bool] | None = None,
) -> PredictSummary:
    catalog = workspace.catalog
    task = task or predictor.name
    if not catalog.scalar("SELECT COUNT(*) FROM videos WHERE status = 'ingested'"):
        raise FramesiftError(f"{workspace.root}: no ingested videos; run `framesift ingest --input VIDEOS --out "
                             f"{workspace.root}` first")
    ensure_task(catalog, task, predictor.task_type, predictor.categories, predictor.source, replace=replace)
    summary = PredictSummary(task)
    start = time.perf_counter()
    videos = catalog.query("SELECT id, path, width, height FROM videos WHERE status = 'ingested' ORDER BY id")
    if video_ids is not None:
        videos = [v for v in videos if int(v["id"]) in set(video_ids)]
    plan = []
    for video in videos:
        todo = frames_to_predict(workspace, task, int(video["id"]), frame_stride=frame_stride, fps=fps,
                                 frame_filter=frame_filter)
        if todo:
            plan.append((video, todo))
        else:
            summary.videos_skipped += 1
    with bar(total=sum(len(todo) for _, todo in plan), desc=f"predict {task}") as progress:
        for video, todo in plan:
            try:
                frames, boxes = _predict_video(workspace, predictor, task, video, todo, batch_size, progress)
            except VideoError as err:
                summary.failed[video["path"]] = str(err)
                log.warning("predict skipped: %s", err)
                continue
            summary.frames += frames
            summary.boxes += boxes
            summary.videos_done += 1
    summary.scores = compute_task_scores(catalog, task)
    summary.seconds = time.perf_counter() - start
    return summary


def _predict_video(workspace, predictor, task, video, todo, batch_size, progress) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    classification = predictor.task_type == "classification"
    frames = boxes = 0
    for ids, predictions in predict_frames(video["path"], todo, predictor, batch_size,
                                           int(video["width"]), int(video["height"])):
        boxes += store_predictions(workspace.catalog, task, zip(ids, predictions, strict=True),
                                   classification=classification)
        frames += len(ids)
        progress.update(len(ids))
    return frames, boxes


def predict_frames(
    path: str, todo: Sequence[tuple[int, int]], predictor: Predictor, batch_size: int, width: int, height: int
) -> Iterator[tuple[list[int], list[FramePrediction]]]:
    """Yield (frame ids, predictions in display pixels) per batch for the (frame id, frame index) targets.

    No catalog access, so the Ray engine runs it on workers and stores the batches on the driver.
    Raises VideoError when target frames cannot be decoded (batches yielded before stay valid).
    """
    in_w, in_h = predictor.input_size(width, height)
    sx, sy = width / in_w, height / in_h
    wanted = iter(todo)
    target = next(wanted, None)
    ids: list[int] = []
    images: list[np.ndarray] = []
    done = 0

    def flush() -> tuple[list[int], list[FramePrediction]]:
        return list(ids), [p.scaled(sx, sy) for p in predictor.predict(images)]

    try:
        for decoded in iter_frames(path):
            if target is None:
                break
            if decoded.index < target[1]:
                continue
            if decoded.index == target[1]:
                ids.append(target[0])
                images.append(decoded.to_rgb(in_w, in_h))
                if len(images) == batch_size:
                    yield flush()
                    done += len(ids)
                    ids, images = [], []
            target = next(wanted, None)
    except TruncatedVideo as err:
        log.warning("%s", err)
    if images:
        yield flush()
        done += len(ids)
    if target is not None and done < len(todo):
        raise VideoError(path, f"{len(todo) - done} indexed frames could not be decoded again for prediction")
