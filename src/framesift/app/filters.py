"""Explorer filters: quality stats, video, metadata, scores, labels, selections -> a frame mask.

A filter is a small dict, e.g. ``{"kind": "stat", "key": "sharpness", "min": 50}`` or
``{"kind": "meta", "key": "weather", "values": ["rain"]}``; all filters must hold (AND).
"""

from __future__ import annotations

import contextlib
from typing import Any

import numpy as np

from framesift.errors import FramesiftError
from framesift.pipeline.frames import FrameTable
from framesift.store.catalog import Catalog

KINDS = ("stat", "time", "video", "meta", "score", "labeled", "selected", "concept_label", "concept_score")
MAX_LISTED_VALUES = 50


def _in_range(values: np.ndarray, spec: dict[str, Any]) -> np.ndarray:
    values = np.asarray(values, np.float64)
    mask = np.isfinite(values)
    if spec.get("min") is not None:
        mask &= values >= float(spec["min"])
    if spec.get("max") is not None:
        mask &= values <= float(spec["max"])
    return mask


def _in_values(values: np.ndarray, spec: dict[str, Any]) -> np.ndarray:
    allowed = {str(v) for v in spec.get("values") or []}
    return np.array([str(v) in allowed for v in values], bool)


def _per_frame(catalog: Catalog, frames: FrameTable, sql: str, params: tuple[Any, ...]) -> np.ndarray:
    """Values for frames from rows (frame_id, value); missing frames get NaN / None."""
    out = np.full(len(frames), None, object)
    rows = catalog.query(sql, params)
    if rows:
        ids = np.array([r[0] for r in rows], np.int64)
        pos = frames.positions(ids)
        for p, r in zip(pos, rows, strict=True):
            if p >= 0:
                out[p] = r[1]
    return out


def metadata_values(catalog: Catalog, frames: FrameTable, key: str) -> np.ndarray:
    """One value per frame: the frame's own metadata row, else its video's row (None / NaN if neither)."""
    from framesift.report.data import _load_metadata  # the report reads metadata the same way

    values = _load_metadata(catalog, frames).get(key)
    return values if values is not None else np.full(len(frames), None, object)


def _numeric(values: np.ndarray) -> np.ndarray:
    out = np.full(len(values), np.nan)
    for i, v in enumerate(values):
        with contextlib.suppress(TypeError, ValueError):
            out[i] = float(v)
    return out


def frame_mask(catalog: Catalog, frames: FrameTable, filters: list[dict[str, Any]],
               concept_scores: Any = None) -> np.ndarray:
    """Boolean mask over the frame table; ``concept_scores(concept_id) -> scores per frame``."""
    mask = np.ones(len(frames), bool)
    for spec in filters:
        kind, key = spec.get("kind"), str(spec.get("key", ""))
        if kind == "stat":
            if key not in frames.stats:
                raise FramesiftError(f"filter stat {key!r}: choose one of {', '.join(frames.stats)}")
            mask &= _in_range(frames.stats[key], spec)
        elif kind == "time":
            mask &= _in_range(frames.time_s, spec)
        elif kind == "video":
            mask &= _in_values(np.array([frames.video_names[int(v)] for v in frames.video_id], object), spec)
        elif kind == "meta":
            values = metadata_values(catalog, frames, key)
            mask &= _in_values(values, spec) if spec.get("values") is not None else _in_range(_numeric(values), spec)
        elif kind == "score":
            values = _per_frame(catalog, frames, "SELECT frame_id, value FROM scores WHERE task = ? AND name = ?",
                                (str(spec.get("task", "")), key))
            mask &= _in_range(_numeric(values), spec)
        elif kind in ("labeled", "selected"):
            if kind == "labeled":
                ids = [r[0] for r in catalog.query("SELECT DISTINCT frame_id FROM labels")]
            else:
                ids = [r[0] for r in catalog.query(
                    "SELECT s.frame_id FROM selections s JOIN runs r ON r.id = s.run_id WHERE r.name = ?", (key,))]
            hit = np.zeros(len(frames), bool)
            pos = frames.positions(np.array(ids, np.int64))
            hit[pos[pos >= 0]] = True
            mask &= hit if spec.get("values", [True])[0] in (True, 1, "true", "yes") else ~hit
        elif kind == "concept_label":
            values = _per_frame(catalog, frames, "SELECT frame_id, value FROM annotations WHERE concept_id = ? "
                                "AND box_id = 0", (int(key or 0),))
            wanted = {None if v in (None, "none", "") else int(v) for v in spec.get("values") or []}
            mask &= np.array([v in wanted for v in values], bool)
        elif kind == "concept_score":
            if concept_scores is None:
                raise FramesiftError("concept_score filter needs a built concept")
            mask &= _in_range(concept_scores(int(key or 0)), spec)
        else:
            raise FramesiftError(f"filter kind {kind!r}: choose one of {', '.join(KINDS)}")
    return mask


def available_fields(catalog: Catalog, frames: FrameTable) -> list[dict[str, Any]]:
    """What the explorer can filter on, with ranges or listed values."""
    fields: list[dict[str, Any]] = []
    for name, values in frames.stats.items():
        finite = values[np.isfinite(values)]
        fields.append({"kind": "stat", "key": name, "label": name, "type": "range",
                       "min": float(finite.min()) if len(finite) else None,
                       "max": float(finite.max()) if len(finite) else None})
    if len(frames):
        fields.append({"kind": "time", "key": "time_s", "label": "time (s)", "type": "range",
                       "min": float(frames.time_s.min()), "max": float(frames.time_s.max())})
    fields.append({"kind": "video", "key": "video", "label": "video", "type": "values",
                   "values": sorted(set(frames.video_names.values()))})
    for r in catalog.query(
        "SELECT key, MIN(value_num), MAX(value_num), COUNT(DISTINCT value_text), "
        "SUM(value_text IS NOT NULL) FROM metadata GROUP BY key ORDER BY key"
    ):
        if r[4]:
            listed = [v[0] for v in catalog.query(
                "SELECT DISTINCT value_text FROM metadata WHERE key = ? AND value_text IS NOT NULL ORDER BY 1 LIMIT ?",
                (r[0], MAX_LISTED_VALUES))]
            fields.append({"kind": "meta", "key": r[0], "label": f"metadata {r[0]}", "type": "values",
                           "values": listed})
        else:
            fields.append({"kind": "meta", "key": r[0], "label": f"metadata {r[0]}", "type": "range",
                           "min": r[1], "max": r[2]})
    for r in catalog.query("SELECT task, name, MIN(value), MAX(value) FROM scores GROUP BY task, name ORDER BY 1, 2"):
        fields.append({"kind": "score", "task": r[0], "key": r[1], "label": f"score {r[0]} / {r[1]}",
                       "type": "range", "min": r[2], "max": r[3]})
    fields.append({"kind": "labeled", "key": "labels", "label": "has labels (labeling tools)", "type": "values",
                   "values": [True, False]})
    for r in catalog.query("SELECT name FROM runs WHERE status = 'done' ORDER BY id"):
        fields.append({"kind": "selected", "key": r[0], "label": f"selected in {r[0]}", "type": "values",
                       "values": [True, False]})
    return fields
