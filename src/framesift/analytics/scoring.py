"""Trained analytics classifiers on disk, and scoring every frame (or face) of a workspace.

A model is ``WORKSPACE/analytics/models/<name>.json``: the logistic-regression weights, the
embedder key, what it ran on (frames or faces) and the exact crop/normalisation, so scoring
prepares pixels the way training did. Scores go to task ``analytics`` as
``<name>_probability``; on faces a frame's score is its most positive face, and frames with
no face get no score (a gap in the timeline, not a zero).
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from framesift.analytics import store
from framesift.analytics.faces import CropSpec, face_boxes, face_input, frame_input, require_task
from framesift.embed.base import Embedder
from framesift.errors import FramesiftError
from framesift.loop.annotator import ConceptClassifier
from framesift.store.embeddings import EmbeddingStore
from framesift.util.atomic import write_json
from framesift.util.progress import bar
from framesift.video.decode import VideoError
from framesift.video.extract import read_frames
from framesift.workspace import Workspace

log = logging.getLogger(__name__)


def score_name(name: str) -> str:
    return f"{name}_probability"


def slug(text: str) -> str:
    cleaned = re.sub(r"[^a-z0-9_]+", "_", text.strip().lower()).strip("_")
    if not cleaned:
        raise FramesiftError(f"name {text!r}: use letters or digits (e.g. --name smile)")
    return cleaned


@dataclass
class AnalyticsModel:
    name: str
    on: str  # frames | faces
    classifier: ConceptClassifier
    crop: CropSpec
    task: str = "faces"
    min_score: float = 0.0
    facts: dict[str, Any] = field(default_factory=dict)  # AUC, labels, grouping: for people, not for scoring

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "on": self.on, "task": self.task, "min_score": self.min_score,
                "embedder": self.classifier.embedder, "crop": self.crop.to_json(),
                "score": f"{store.ANALYTICS_TASK}/{score_name(self.name)}", **self.facts,
                "classifier": self.classifier.to_json()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AnalyticsModel:
        known = {"name", "on", "task", "min_score", "embedder", "crop", "score", "classifier"}
        return cls(data["name"], data["on"], ConceptClassifier.from_json(data["classifier"]),
                   CropSpec.from_json(data.get("crop", {})), data.get("task", "faces"),
                   float(data.get("min_score", 0.0)), {k: v for k, v in data.items() if k not in known})


def model_path(workspace: Workspace, name: str) -> Path:
    return store.analytics_dir(workspace, "models") / f"{slug(name)}.json"


def save_model(workspace: Workspace, model: AnalyticsModel) -> Path:
    path = model_path(workspace, model.name)
    write_json(path, model.to_json())
    return path


def load_model(workspace: Workspace, name_or_path: str) -> AnalyticsModel:
    path = Path(name_or_path)
    if path.suffix != ".json":
        path = model_path(workspace, name_or_path)
    if not path.is_file():
        raise FramesiftError(f"model {name_or_path}: {path} not found; run `framesift train-classifier` first")
    return AnalyticsModel.from_json(json.loads(path.read_text(encoding="utf-8")))


def score_workspace(workspace: Workspace, model: AnalyticsModel, embedder: Embedder, *, batch_size: int = 32) -> int:
    """Score every frame (inside the analysis windows) and store ``<name>_probability``; returns frames scored."""
    if embedder.key != model.classifier.embedder:
        raise FramesiftError(f"model {model.name} was trained on {model.classifier.embedder} embeddings, "
                             f"not {embedder.key}")
    catalog = workspace.catalog
    if model.on == "faces":
        require_task(catalog, model.task)
    windows = store.load_windows(catalog)
    videos = store.videos(catalog)
    plans = [(v, store.frame_rows(catalog, v.id, windows.get(v.id, (None, 0.0))[0])) for v in videos]
    total = 0
    with bar(total=sum(len(f) for _, f in plans), desc=f"score {model.name}") as progress:
        for video, frames in plans:
            try:
                if model.on == "faces":
                    values = _face_scores(workspace, model, embedder, video, frames, batch_size, progress)
                else:
                    values = _frame_scores(workspace, model, embedder, video, frames, batch_size, progress)
            except VideoError as err:
                log.warning("scoring skipped: %s", err)
                continue
            total += store.write_scores(catalog, score_name(model.name), [video.id], frames.frame_id, values)
    return total


class _Batcher:
    """Collect inputs, embed and score them in batches; remember which frame each belongs to."""

    def __init__(self, model: AnalyticsModel, embedder: Embedder, batch_size: int):
        self.model, self.embedder, self.batch_size = model, embedder, batch_size
        self.images: list[np.ndarray] = []
        self.owners: list[int] = []
        self.scores: list[tuple[int, float]] = []

    def add(self, owner: int, image: np.ndarray) -> None:
        self.images.append(image)
        self.owners.append(owner)
        if len(self.images) >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        if self.images:
            values = self.model.classifier.score(self.embedder.embed(np.stack(self.images)))
            self.scores.extend(zip(self.owners, values.tolist(), strict=True))
            self.images, self.owners = [], []


def _frame_scores(workspace, model, embedder, video, frames, batch_size, progress) -> np.ndarray:  # type: ignore[no-untyped-def]
    values = np.full(len(frames), np.nan)
    spec = model.crop
    if not spec.clahe and not spec.gray:  # the stored embeddings are of these very inputs
        matrix = EmbeddingStore(workspace, embedder.key).video_matrix(video.id)
        if matrix is not None:
            position = {int(f): i for i, f in enumerate(matrix.frame_ids)}
            rows = np.array([position.get(int(f), -1) for f in frames.frame_id], np.int64)
            found = rows >= 0
            if found.all():
                values[found] = model.classifier.score(np.asarray(matrix.vectors)[rows[found]])
                progress.update(len(frames))
                return values
    batcher = _Batcher(model, embedder, batch_size)
    where = {int(fi): i for i, fi in enumerate(frames.frame_index)}
    for frame_index, image in read_frames(video.path, frames.targets(), size=embedder.input_size):
        batcher.add(where[frame_index], frame_input(image, spec))
        progress.update(1)
    batcher.flush()
    for owner, value in batcher.scores:
        values[owner] = value
    return values


def _face_scores(workspace, model, embedder, video, frames, batch_size, progress) -> np.ndarray:  # type: ignore[no-untyped-def]
    values = np.full(len(frames), np.nan)
    boxes = face_boxes(workspace.catalog, model.task, video.id, model.min_score)
    positions = [i for i, f in enumerate(frames.frame_id.tolist()) if f in boxes]
    progress.update(len(frames) - len(positions))
    where = {int(frames.frame_index[i]): i for i in positions}
    batcher = _Batcher(model, embedder, batch_size)
    for frame_index, image in read_frames(video.path, frames.targets(positions)):
        owner = where[frame_index]
        for face in boxes[int(frames.frame_id[owner])]:
            crop = face_input(image, face.xywh, model.crop, embedder.input_size)
            if crop is not None:
                batcher.add(owner, crop)
        progress.update(1)
    batcher.flush()
    for owner, value in batcher.scores:
        values[owner] = value if np.isnan(values[owner]) else max(values[owner], value)
    return values
