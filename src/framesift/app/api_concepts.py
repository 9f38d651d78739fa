"""JSON API of the Video-Annotator loop: concepts, labels, build, feeds, review, export."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field, model_validator

from framesift.app.api_explore import state_of
from framesift.app.items import frame_items
from framesift.app.security import inside
from framesift.errors import FramesiftError
from framesift.loop.annotator import DEFAULT_C
from framesift.loop.build import build_concept, rows_of
from framesift.loop.concepts import (
    NotFound,
    create_concept,
    delete_concept,
    frame_labels,
    get_concept,
    label_range,
    label_rows,
    latest_model,
    list_concepts,
    set_labels,
)
from framesift.loop.export import concept_slug, export_concept
from framesift.loop.feeds import FEEDS, build_feeds, review_order

router = APIRouter(prefix="/api/concepts")
EXPORT_FILES = {"classifier.json": "application/json", "scores.csv": "text/csv",
                "scores.npy": "application/octet-stream"}


class ConceptIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    description: str = Field("", max_length=2000)


class LabelsIn(BaseModel):
    frame_ids: list[int] = Field(default_factory=list, max_length=100_000)
    box_ids: list[int] | None = Field(None, max_length=100_000)
    value: Literal[0, 1] | None
    source: str = Field("app", max_length=40)

    @model_validator(mode="after")
    def _something(self) -> LabelsIn:
        if not self.frame_ids and not self.box_ids:
            raise ValueError("give frame_ids or box_ids")
        return self


class RangeIn(BaseModel):
    video_id: int
    start_frame: int = Field(ge=0)
    end_frame: int = Field(ge=0)
    value: Literal[0, 1] | None
    source: str = Field("bulk", max_length=40)


class BuildIn(BaseModel):
    c: float = Field(DEFAULT_C, gt=0, le=1e6)


def _concept_json(request: Request, concept_id: int) -> dict[str, Any]:
    state = state_of(request)
    concept = get_concept(state.catalog, concept_id)
    counts = {int(r[0]): int(r[1]) for r in state.catalog.query(
        "SELECT value, COUNT(*) FROM annotations WHERE concept_id = ? AND box_id = 0 GROUP BY value", (concept_id,))}
    key = state.embedding_key()
    model = latest_model(state.catalog, concept_id, embedder=key) if key else None
    return {**vars(concept), "n_pos": counts.get(1, 0), "n_neg": counts.get(0, 0),
            "n_box_labels": state.catalog.scalar(
                "SELECT COUNT(*) FROM annotations WHERE concept_id = ? AND box_id != 0", (concept_id,)),
            "model": model.summary() if model else None, "embedder": key}


@router.get("")
def concepts(request: Request) -> list[dict[str, Any]]:
    return list_concepts(state_of(request).catalog)


@router.post("")
def new_concept(body: ConceptIn, request: Request) -> dict[str, Any]:
    concept = create_concept(state_of(request).catalog, body.name, body.description)
    return _concept_json(request, concept.id)


@router.get("/{concept_id}")
def concept(concept_id: int, request: Request) -> dict[str, Any]:
    return _concept_json(request, concept_id)


@router.delete("/{concept_id}")
def remove_concept(concept_id: int, request: Request) -> dict[str, Any]:
    delete_concept(state_of(request).catalog, concept_id)
    state_of(request).forget(concept_id)
    return {"deleted": concept_id}


@router.put("/{concept_id}/labels")
def put_labels(concept_id: int, body: LabelsIn, request: Request) -> dict[str, Any]:
    """Label (1/0) or clear (null) frames or boxes; committed before the response is sent."""
    state = state_of(request)
    if body.box_ids:
        written = set_labels(state.catalog, concept_id, [], body.value, source=body.source, box_ids=body.box_ids)
    else:
        written = set_labels(state.catalog, concept_id, body.frame_ids, body.value, source=body.source)
    return {"written": written, "value": body.value}


@router.put("/{concept_id}/labels/range")
def put_range(concept_id: int, body: RangeIn, request: Request) -> dict[str, Any]:
    """Label every indexed frame of a video between two frame indices (inclusive)."""
    if body.end_frame < body.start_frame:
        raise FramesiftError("end_frame must not be before start_frame")
    state = state_of(request)
    get_concept(state.catalog, concept_id)
    written = label_range(state.catalog, concept_id, body.video_id, body.start_frame, body.end_frame, body.value,
                          source=body.source)
    return {"written": written, "value": body.value}


@router.get("/{concept_id}/labels")
def get_labels(concept_id: int, request: Request) -> list[dict[str, Any]]:
    state = state_of(request)
    get_concept(state.catalog, concept_id)
    return label_rows(state.catalog, concept_id)


@router.post("/{concept_id}/build")
def build(concept_id: int, body: BuildIn, request: Request) -> dict[str, Any]:
    """Train on the labels, estimate held-out AP, store the model and score every frame."""
    state = state_of(request)
    get_concept(state.catalog, concept_id)
    key = state.embedding_key()
    if key is None:
        raise FramesiftError("no embeddings in this workspace: run `framesift embed` first")
    result = build_concept(state.catalog, concept_id, state.matrix(), key, c=body.c)
    state.remember_scores(concept_id, result.model, result.scores)
    scores = result.scores
    return {**_concept_json(request, concept_id), "n_scored": len(scores),
            "n_predicted_positive": int((scores >= 0.5).sum()),
            "n_labels_without_embedding": result.n_labels_without_embedding}


def _model_and_scores(request: Request, concept_id: int) -> tuple[Any, np.ndarray]:
    state = state_of(request)
    get_concept(state.catalog, concept_id)
    found = state.concept_scores(concept_id)
    if found is None:
        raise NotFound("no model for this concept yet: label a few positives and negatives, then Build")
    return found


@router.get("/{concept_id}/feeds")
def feeds(concept_id: int, request: Request, n: int = Query(24, ge=1, le=500), seed: int = 0) -> dict[str, Any]:
    """The four feeds of unlabeled frames: top positive, top negative, borderline, random."""
    state = state_of(request)
    model, scores = _model_and_scores(request, concept_id)
    matrix = state.matrix()
    labeled_ids, _ = frame_labels(state.catalog, concept_id)
    labeled = np.zeros(len(matrix), bool)
    rows = rows_of(matrix, labeled_ids)
    labeled[rows[rows >= 0]] = True
    picked = build_feeds(scores, labeled, n=n, seed=model.id * 1000 + seed)
    return {"model": model.summary(), "n_unlabeled": int((~labeled).sum()),
            **{name: frame_items(state, matrix.frame_ids[picked[name]], concept_id) for name in FEEDS}}


@router.get("/{concept_id}/review")
def review(concept_id: int, request: Request) -> dict[str, Any]:
    """Every frame label, the model's disagreements first (held-out scores where known)."""
    state = state_of(request)
    get_concept(state.catalog, concept_id)
    ids, values = frame_labels(state.catalog, concept_id)
    found = state.concept_scores(concept_id)
    model = found[0] if found else None
    current = state.scores_for_frames(concept_id, ids).astype(np.float64)
    heldout = np.array([model.oof_scores.get(int(f), np.nan) if model else np.nan for f in ids.tolist()])
    use = np.where(np.isfinite(heldout), heldout, current)
    order = review_order(values, use)
    ordered_ids = ids[[o.position for o in order]] if order else ids
    items = frame_items(state, ordered_ids, concept_id, {
        "review_score": [None if not np.isfinite(o.score) else round(o.score, 4) for o in order],
        "heldout": [bool(np.isfinite(heldout[o.position])) for o in order],
        "disagrees": [o.disagrees for o in order],
    })
    return {"model": model.summary() if model else None, "n_labels": len(ids),
            "n_disagree": sum(o.disagrees for o in order), "items": items}


@router.post("/{concept_id}/export")
def export(concept_id: int, request: Request) -> dict[str, Any]:
    state = state_of(request)
    concept = get_concept(state.catalog, concept_id)
    model, scores = _model_and_scores(request, concept_id)
    folder = export_concept(state.workspace, concept, model, state.matrix().frame_ids, scores)
    return {"folder": str(folder), "files": sorted(EXPORT_FILES), "scores_task": f"concept:{concept.name}",
            "download": {name: f"/api/concepts/{concept_id}/export/{name}" for name in EXPORT_FILES}}


@router.get("/{concept_id}/export/{name}")
def download(concept_id: int, name: str, request: Request) -> FileResponse:
    """One of the exported files, by its fixed name (nothing else is reachable)."""
    state = state_of(request)
    concept = get_concept(state.catalog, concept_id)
    if name not in EXPORT_FILES:
        raise NotFound(f"no export file {name!r}; choose one of {', '.join(EXPORT_FILES)}")
    path = state.workspace.root / "concepts" / concept_slug(concept.name) / name
    if not path.is_file():
        raise NotFound("not exported yet: press Export first")
    if not inside(path, state.workspace.root / "concepts"):
        raise NotFound(f"{name}: the exported file points outside the workspace; export again")
    return FileResponse(path, media_type=EXPORT_FILES[name], filename=f"{concept_slug(concept.name)}-{name}")
