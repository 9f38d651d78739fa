"""JSON API for the explorer, search and the bulk labeler's timeline."""

from __future__ import annotations

from typing import Any

import numpy as np
from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from framesift.app.filters import available_fields, frame_mask
from framesift.app.items import concept_labels, frame_items
from framesift.app.projection import cached_projection
from framesift.app.state import AppState
from framesift.errors import FramesiftError
from framesift.loop.build import rows_of
from framesift.loop.concepts import NotFound, get_concept, list_concepts
from framesift.loop.feeds import evenly_spaced

router = APIRouter(prefix="/api")


def state_of(request: Request) -> AppState:
    return request.app.state.fs


class FilterSpec(BaseModel):
    kind: str
    key: str = ""
    task: str | None = None
    min: float | None = None
    max: float | None = None
    values: list[Any] | None = None


class MapRequest(BaseModel):
    filters: list[FilterSpec] = Field(default_factory=list, max_length=50)
    concept_id: int | None = None
    run: str | None = None
    max_points: int = Field(200_000, ge=1, le=2_000_000)  # beyond this the map shows a sample (+ all flagged)


class QueryRequest(MapRequest):
    sort: str = "time"  # time | score | stat name
    descending: bool = False
    offset: int = Field(0, ge=0)
    limit: int = Field(60, ge=1, le=1000)


class WarmRequest(BaseModel):
    frame_ids: list[int] = Field(max_length=2000)
    w: int = Field(160, ge=1, le=4096)


def _check_concept(state: AppState, concept_id: int | None) -> None:
    if concept_id is not None:
        get_concept(state.catalog, concept_id)


def _latest_run(state: AppState) -> str | None:
    return state.catalog.scalar("SELECT name FROM runs WHERE status = 'done' ORDER BY id DESC LIMIT 1")


@router.get("/info")
def info(request: Request) -> dict[str, Any]:
    state = state_of(request)
    c = state.catalog
    text_state, reason = state.text_status()
    matrix = state.matrix()
    return {
        "workspace": str(state.workspace.root),
        "videos": c.scalar("SELECT COUNT(*) FROM videos WHERE status = 'ingested'"),
        "frames": c.scalar("SELECT COUNT(*) FROM frames"),
        "embedder": state.embedding_key(),
        "embedding_keys": state.embedding_keys(),
        "embedded_frames": len(matrix),
        "text_search": text_state,
        "text_search_reason": reason,
        "concepts": list_concepts(c),
        "runs": [r[0] for r in c.query("SELECT name FROM runs WHERE status = 'done' ORDER BY id")],
        "latest_run": _latest_run(state),
        "labeled_frames": c.scalar("SELECT COUNT(DISTINCT frame_id) FROM labels"),
        "tasks": [r[0] for r in c.query("SELECT name FROM tasks ORDER BY name")],
    }


@router.get("/fields")
def fields(request: Request) -> list[dict[str, Any]]:
    state = state_of(request)
    return available_fields(state.catalog, state.frames())


def _mask(state: AppState, body: MapRequest) -> np.ndarray:
    frames = state.frames()

    def concept_scores(concept_id: int) -> np.ndarray:
        _check_concept(state, concept_id)
        return state.scores_for_frames(concept_id, frames.frame_id)

    return frame_mask(state.catalog, frames, [f.model_dump() for f in body.filters], concept_scores)


def _id_set(state: AppState, sql: str, params: tuple[Any, ...] = ()) -> set[int]:
    return {int(r[0]) for r in state.catalog.query(sql, params)}


@router.post("/map")
def embedding_map(body: MapRequest, request: Request) -> dict[str, Any]:
    """2-D positions of the frames that pass the filters, with flags for colouring."""
    state = state_of(request)
    _check_concept(state, body.concept_id)
    matrix = state.matrix()
    key = state.embedding_key()
    frames = state.frames()
    if key is None or len(matrix) == 0:
        return {"n_total": len(frames), "n_match": 0, "points": 0, "reason": "no embeddings: run `framesift embed`"}
    xy = cached_projection(state.workspace, key, matrix, state.projection)
    mask = _mask(state, body)
    pos = frames.positions(matrix.frame_ids)
    keep = (pos >= 0) & mask[np.maximum(pos, 0)]
    ids = matrix.frame_ids[keep]
    run = body.run if body.run is not None else _latest_run(state)
    labeled = _id_set(state, "SELECT DISTINCT frame_id FROM labels")
    selected = _id_set(state, "SELECT s.frame_id FROM selections s JOIN runs r ON r.id = s.run_id WHERE r.name = ?",
                       (run,)) if run else set()
    concept = concept_labels(state, body.concept_id, ids.tolist()) if body.concept_id is not None else {}
    flags = np.array([(1 if f in labeled else 0) | (2 if f in selected else 0) | (4 if concept.get(f) == 1 else 0)
                      | (8 if concept.get(f) == 0 else 0) for f in ids.tolist()], np.int64)
    found = state.concept_scores(body.concept_id) if body.concept_id is not None else None
    rows = np.flatnonzero(keep)
    shown = _thin(flags, body.max_points)
    scores = found[1][rows[shown]] if found is not None else None
    return {
        "n_total": len(frames), "n_match": int(mask.sum()), "points": len(shown), "run": run,
        "method": state.projection, "thinned": bool(len(shown) < len(ids)),
        "id": ids[shown].tolist(),
        "x": np.round(xy[rows[shown], 0], 4).tolist(), "y": np.round(xy[rows[shown], 1], 4).tolist(),
        "flags": flags[shown].tolist(),
        "score": None if scores is None else np.round(scores, 3).tolist(),
    }


def _thin(flags: np.ndarray, max_points: int) -> np.ndarray:
    """Positions to draw: every flagged frame, plus a fixed random sample of the others when too many."""
    if len(flags) <= max_points:
        return np.arange(len(flags))
    flagged = np.flatnonzero(flags != 0)
    others = np.flatnonzero(flags == 0)
    room = max(0, max_points - len(flagged))
    sample = np.random.default_rng(0).choice(others, size=min(room, len(others)), replace=False)
    return np.sort(np.concatenate([flagged, sample]))


@router.post("/query")
def query_frames(body: QueryRequest, request: Request) -> dict[str, Any]:
    """A page of the frames passing the filters, sorted by time, score or a quality stat."""
    state = state_of(request)
    _check_concept(state, body.concept_id)
    frames = state.frames()
    idx = np.flatnonzero(_mask(state, body))
    if body.sort == "score":
        values = state.scores_for_frames(body.concept_id, frames.frame_id[idx]).astype(np.float64)
        values = np.where(np.isfinite(values), values, -np.inf if body.descending else np.inf)
    elif body.sort in frames.stats:
        values = frames.stats[body.sort][idx]
    elif body.sort == "time":
        values = frames.video_id[idx] * 1e9 + frames.time_s[idx]
    else:
        raise FramesiftError(f"sort {body.sort!r}: use time, score or one of {', '.join(frames.stats)}")
    order = np.argsort(-values if body.descending else values, kind="stable")
    page = idx[order][body.offset : body.offset + body.limit]
    return {"n_match": len(idx), "offset": body.offset,
            "items": frame_items(state, frames.frame_id[page], body.concept_id)}


@router.get("/frames/{frame_id}")
def frame_detail(frame_id: int, request: Request, concept_id: int | None = None) -> dict[str, Any]:
    state = state_of(request)
    _check_concept(state, concept_id)
    items = frame_items(state, [frame_id], concept_id)
    if not items:
        raise NotFound(f"unknown frame id {frame_id}")
    item = items[0]
    c = state.catalog
    frames = state.frames()
    p = int(frames.positions(np.array([frame_id]))[0])
    item["stats"] = {k: (None if not np.isfinite(v[p]) else round(float(v[p]), 4)) for k, v in frames.stats.items()}
    item["labels"] = [dict(r) for r in c.query(
        "SELECT source, category, x, y, w, h FROM labels WHERE frame_id = ? ORDER BY id", (frame_id,))]
    item["annotations"] = [dict(r) for r in c.query(
        "SELECT c.name AS concept, a.value, a.box_id, a.source, a.updated_at FROM annotations a "
        "JOIN concepts c ON c.id = a.concept_id WHERE a.frame_id = ? ORDER BY c.name", (frame_id,))]
    item["metadata"] = {r[0]: r[1] for r in c.query(
        "SELECT key, COALESCE(value_text, value_num) FROM metadata WHERE frame_id = ? OR "
        "(frame_id IS NULL AND video_id = ?) ORDER BY frame_id IS NOT NULL", (frame_id, item["video_id"]))}
    item["selected_in"] = [r[0] for r in c.query(
        "SELECT r.name FROM selections s JOIN runs r ON r.id = s.run_id WHERE s.frame_id = ? ORDER BY r.id",
        (frame_id,))]
    item["has_embedding"] = bool((rows_of(state.matrix(), np.array([frame_id])) >= 0)[0])
    return item


@router.get("/search")
def search(
    request: Request, text: str | None = Query(None, max_length=500), frame_id: int | None = None,
    n: int = Query(48, ge=1, le=500), concept_id: int | None = None,
) -> dict[str, Any]:
    """Nearest frames to a text (CLIP) or to an example frame, by cosine similarity."""
    state = state_of(request)
    _check_concept(state, concept_id)
    matrix = state.matrix()
    if len(matrix) == 0:
        raise FramesiftError("no embeddings in this workspace: run `framesift embed` first")
    if (text is None) == (frame_id is None):
        raise FramesiftError("give exactly one of text= or frame_id=")
    exclude = -1
    if frame_id is not None:
        row = int(rows_of(matrix, np.array([frame_id]))[0])
        if row < 0:
            if not frame_items(state, [frame_id]):
                raise NotFound(f"unknown frame id {frame_id}")
            raise FramesiftError(f"frame {frame_id} has no embedding yet: run `framesift embed`")
        query = np.asarray(matrix.vectors[row], np.float32)
        exclude = row
    else:
        if not text or not text.strip():
            raise FramesiftError("empty search text")
        state_name, reason = state.text_status()
        encoder = state.text_encoder()
        if encoder is None:
            raise FramesiftError(reason if state_name == "off" else "the text encoder is still loading; retry")
        query = encoder.embed_text([text.strip()])[0]
    similarity = np.asarray(matrix.vectors @ query, np.float32)
    if exclude >= 0:
        similarity[exclude] = -np.inf
    top = np.argsort(-similarity, kind="stable")[:n]
    top = top[np.isfinite(similarity[top])]
    ids = matrix.frame_ids[top]
    return {"query": text if text is not None else {"frame_id": frame_id},
            "items": frame_items(state, ids, concept_id, {"similarity": np.round(similarity[top], 4).tolist()})}


@router.post("/thumbs/warm")
def warm(body: WarmRequest, request: Request) -> dict[str, int]:
    """Decode a page of thumbnails in one pass per video before the browser asks for them."""
    return {"decoded": request.app.state.media.warm(body.frame_ids, body.w)}


@router.get("/videos")
def videos(request: Request) -> list[dict[str, Any]]:
    rows = state_of(request).catalog.query(
        "SELECT v.id, v.name, v.ext, v.fps, v.duration_s, v.n_frames, v.n_indexed, v.width, v.height, "
        "MIN(f.frame_index) AS first_frame, MAX(f.frame_index) AS last_frame FROM videos v "
        "JOIN frames f ON f.video_id = v.id WHERE v.status = 'ingested' GROUP BY v.id ORDER BY v.name")
    return [dict(r) for r in rows]


def _video_frames(state: AppState, video_id: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    frames = state.frames()
    sel = np.flatnonzero(frames.video_id == video_id)
    if not len(sel) and state.catalog.query_one("SELECT 1 FROM videos WHERE id = ?", (video_id,)) is None:
        raise NotFound(f"video {video_id} does not exist")
    return sel, frames.frame_index[sel], frames.frame_id[sel]


@router.get("/videos/{video_id}/timeline")
def timeline(
    video_id: int, request: Request, start: int | None = None, end: int | None = None,
    n: int = Query(60, ge=1, le=1000), concept_id: int | None = None,
) -> dict[str, Any]:
    """``n`` indexed frames evenly spaced over [start, end] (frame indices, inclusive)."""
    state = state_of(request)
    _check_concept(state, concept_id)
    _, indices, ids = _video_frames(state, video_id)
    lo = start if start is not None else (int(indices.min()) if len(indices) else 0)
    hi = end if end is not None else (int(indices.max()) if len(indices) else -1)
    in_range = np.flatnonzero((indices >= lo) & (indices <= hi))
    picks = in_range[evenly_spaced(0, len(in_range) - 1, n)] if len(in_range) else in_range
    return {"video_id": video_id, "start": lo, "end": hi, "n_in_range": len(in_range),
            "items": frame_items(state, ids[picks], concept_id)}


@router.get("/videos/{video_id}/strip")
def strip(video_id: int, request: Request, concept_id: int | None = None) -> dict[str, Any]:
    """Every indexed frame of a video with its label (-1 none) and score, for the overview bar."""
    state = state_of(request)
    _check_concept(state, concept_id)
    _, indices, ids = _video_frames(state, video_id)
    labels = concept_labels(state, concept_id, ids.tolist())
    scores = state.scores_for_frames(concept_id, ids)
    return {"frame_index": indices.tolist(), "id": ids.tolist(),
            "label": [labels.get(int(f), -1) for f in ids.tolist()],
            "score": [None if not np.isfinite(s) else round(float(s), 3) for s in scores]}


@router.get("/score-names")
def score_names(request: Request) -> list[str]:
    """Every stored per-frame score as 'task/name' (predictions, analytics timelines, concepts)."""
    rows = state_of(request).catalog.query("SELECT DISTINCT task, name FROM scores ORDER BY task, name")
    return [f"{r[0]}/{r[1]}" for r in rows]


@router.get("/videos/{video_id}/series")
def series(video_id: int, request: Request, score: str = Query(..., max_length=300)) -> dict[str, Any]:
    """One score over a video's frames in time order (the analytics timelines, shown under the strip)."""
    state = state_of(request)
    _video_frames(state, video_id)
    task, sep, name = score.partition("/")
    if not sep or not task or not name:
        raise FramesiftError(f"score {score!r}: expected TASK/NAME, e.g. analytics/face_count")
    rows = state.catalog.query(
        "SELECT f.frame_index, f.time_s, s.value FROM scores s JOIN frames f ON f.id = s.frame_id "
        "WHERE s.task = ? AND s.name = ? AND f.video_id = ? ORDER BY f.frame_index",
        (task, name, video_id))
    if not rows and state.catalog.query_one("SELECT 1 FROM scores WHERE task = ? AND name = ?", (task, name)) is None:
        raise NotFound(f"score {score} does not exist")
    return {"video_id": video_id, "score": score, "frame_index": [r[0] for r in rows],
            "time_s": [r[1] for r in rows], "value": [r[2] for r in rows]}


@router.get("/tasks")
def tasks(request: Request) -> list[dict[str, Any]]:
    return [dict(r) for r in state_of(request).catalog.query(
        "SELECT t.name, t.task_type, COUNT(p.id) AS n_boxes FROM tasks t LEFT JOIN predictions p "
        "ON p.task = t.name AND p.w IS NOT NULL GROUP BY t.name ORDER BY t.name")]


@router.get("/videos/{video_id}/crops")
def crops(
    video_id: int, request: Request, task: str = Query(..., max_length=200), start: int | None = None,
    end: int | None = None, concept_id: int | None = None, limit: int = Query(120, ge=1, le=1000),
) -> dict[str, Any]:
    """Predicted boxes of a task in a frame range, highest detector score first."""
    state = state_of(request)
    _check_concept(state, concept_id)
    _video_frames(state, video_id)
    rows = state.catalog.query(
        "SELECT p.id, p.frame_id, p.category_id, p.score, f.frame_index, f.time_s FROM predictions p "
        "JOIN frames f ON f.id = p.frame_id WHERE p.task = ? AND f.video_id = ? AND p.w IS NOT NULL "
        "AND f.frame_index BETWEEN ? AND ? ORDER BY p.score DESC, p.id LIMIT ?",
        (task, video_id, start if start is not None else -1, end if end is not None else 2**62, limit))
    labels: dict[int, int] = {}
    if concept_id is not None and rows:
        marks = ",".join("?" * len(rows))
        labels = {int(r[0]): int(r[1]) for r in state.catalog.query(
            f"SELECT box_id, value FROM annotations WHERE concept_id = ? AND box_id IN ({marks})",
            [concept_id, *[int(r["id"]) for r in rows]])}
    return {"items": [{"box_id": int(r["id"]), "frame_id": int(r["frame_id"]), "category_id": r["category_id"],
                       "score": r["score"], "frame_index": r["frame_index"], "time_s": r["time_s"],
                       "label": labels.get(int(r["id"]))} for r in rows]}
