"""Concepts, their labels and their classifiers in the catalog.

Every label write is one committed transaction and an idempotent upsert on
(concept, frame, box): the same click sent twice, or two browser tabs labeling at once, leave
exactly one row with the last value, and nothing is lost on reload or server restart.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from framesift.errors import FramesiftError
from framesift.loop.annotator import APEstimate, ConceptClassifier
from framesift.store.catalog import Catalog

MAX_NAME = 100


class NotFound(FramesiftError):
    """An id that is not in the catalog (the app answers 404)."""


@dataclass
class Concept:
    id: int
    name: str
    description: str
    created_at: str


def _concept(row: Any) -> Concept:
    return Concept(int(row["id"]), row["name"], row["description"] or "", row["created_at"])


def clean_name(name: str) -> str:
    name = " ".join(str(name).split())
    if not name or len(name) > MAX_NAME or any(ord(ch) < 32 for ch in name):
        raise FramesiftError(f"concept name {name[:40]!r}: use 1-{MAX_NAME} printable characters")
    return name


def create_concept(catalog: Catalog, name: str, description: str = "") -> Concept:
    """Create a concept, or return the existing one of that name."""
    name = clean_name(name)
    with catalog.transaction() as conn:
        conn.execute("INSERT OR IGNORE INTO concepts (name, description) VALUES (?, ?)", (name, description[:2000]))
        row = conn.execute("SELECT * FROM concepts WHERE name = ?", (name,)).fetchone()
    return _concept(row)


def list_concepts(catalog: Catalog) -> list[dict[str, Any]]:
    rows = catalog.query(
        "SELECT c.*, "
        "(SELECT COUNT(*) FROM annotations a WHERE a.concept_id = c.id AND a.value = 1) AS n_pos, "
        "(SELECT COUNT(*) FROM annotations a WHERE a.concept_id = c.id AND a.value = 0) AS n_neg "
        "FROM concepts c ORDER BY c.id"
    )
    return [{**vars(_concept(r)), "n_pos": int(r["n_pos"]), "n_neg": int(r["n_neg"])} for r in rows]


def get_concept(catalog: Catalog, concept_id: int) -> Concept:
    row = catalog.query_one("SELECT * FROM concepts WHERE id = ?", (int(concept_id),))
    if row is None:
        raise NotFound(f"concept {concept_id} does not exist")
    return _concept(row)


def delete_concept(catalog: Catalog, concept_id: int) -> None:
    get_concept(catalog, concept_id)
    with catalog.transaction() as conn:
        conn.execute("DELETE FROM concepts WHERE id = ?", (int(concept_id),))


def _check_frames(conn: Any, frame_ids: Sequence[int]) -> None:
    wanted = sorted({int(f) for f in frame_ids})
    found: set[int] = set()
    for start in range(0, len(wanted), 900):  # SQLite variable limit
        part = wanted[start : start + 900]
        marks = ",".join("?" * len(part))
        found.update(int(r[0]) for r in conn.execute(f"SELECT id FROM frames WHERE id IN ({marks})", part))
    missing = [f for f in wanted if f not in found]
    if missing:
        raise NotFound(f"unknown frame id {missing[0]}" + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""))


def set_labels(
    catalog: Catalog, concept_id: int, frame_ids: Sequence[int], value: int | None, *, source: str = "app",
    box_ids: Sequence[int] | None = None,
) -> int:
    """Label frames (or predicted boxes) 1 / 0, or clear them with ``None``; one transaction.

    With ``box_ids`` the labels are for crops: the frame of each box comes from ``predictions``.
    Returns the number of rows written or deleted. Unknown ids raise ``NotFound`` and write nothing.
    """
    if value not in (0, 1, None):
        raise FramesiftError(f"label value {value!r}: use 1 (positive), 0 (negative) or null (clear)")
    source = str(source)[:40] or "app"
    with catalog.transaction() as conn:
        if conn.execute("SELECT 1 FROM concepts WHERE id = ?", (int(concept_id),)).fetchone() is None:
            raise NotFound(f"concept {concept_id} does not exist")
        if box_ids is not None:
            pairs = _box_frames(conn, box_ids)
        else:
            _check_frames(conn, frame_ids)
            pairs = [(int(f), 0) for f in dict.fromkeys(int(f) for f in frame_ids)]
        if value is None:
            conn.executemany(
                "DELETE FROM annotations WHERE concept_id = ? AND frame_id = ? AND box_id = ?",
                [(int(concept_id), f, b) for f, b in pairs],
            )
        else:
            conn.executemany(
                "INSERT INTO annotations (concept_id, frame_id, box_id, value, source) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT(concept_id, frame_id, box_id) DO UPDATE SET value = excluded.value, "
                "source = excluded.source, updated_at = datetime('now')",
                [(int(concept_id), f, b, int(value), source) for f, b in pairs],
            )
    return len(pairs)


def _box_frames(conn: Any, box_ids: Sequence[int]) -> list[tuple[int, int]]:
    wanted = list(dict.fromkeys(int(b) for b in box_ids))
    frames: dict[int, int] = {}
    for start in range(0, len(wanted), 900):
        part = wanted[start : start + 900]
        marks = ",".join("?" * len(part))
        for row in conn.execute(f"SELECT id, frame_id FROM predictions WHERE id IN ({marks})", part):
            frames[int(row[0])] = int(row[1])
    missing = [b for b in wanted if b not in frames]
    if missing:
        raise NotFound(f"unknown box id {missing[0]}")
    return [(frames[b], b) for b in wanted]


def label_range(
    catalog: Catalog, concept_id: int, video_id: int, start_frame: int, end_frame: int, value: int | None,
    *, source: str = "bulk",
) -> int:
    """Label every indexed frame of a video with start_frame <= frame_index <= end_frame."""
    if catalog.query_one("SELECT 1 FROM videos WHERE id = ?", (int(video_id),)) is None:
        raise NotFound(f"video {video_id} does not exist")
    ids = [int(r[0]) for r in catalog.query(
        "SELECT id FROM frames WHERE video_id = ? AND frame_index BETWEEN ? AND ? ORDER BY frame_index",
        (int(video_id), int(start_frame), int(end_frame)))]
    return set_labels(catalog, concept_id, ids, value, source=source) if ids else 0


def frame_labels(catalog: Catalog, concept_id: int) -> tuple[np.ndarray, np.ndarray]:
    """Whole-frame labels of a concept as (frame_ids, values), ordered by frame id."""
    rows = catalog.query(
        "SELECT frame_id, value FROM annotations WHERE concept_id = ? AND box_id = 0 ORDER BY frame_id",
        (int(concept_id),),
    )
    if not rows:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    data = np.array([(r[0], r[1]) for r in rows], np.int64)
    return data[:, 0], data[:, 1]


def label_rows(catalog: Catalog, concept_id: int) -> list[dict[str, Any]]:
    return [dict(r) for r in catalog.query(
        "SELECT frame_id, box_id, value, source, updated_at FROM annotations WHERE concept_id = ? "
        "ORDER BY updated_at DESC, id DESC", (int(concept_id),))]


def save_model(catalog: Catalog, concept_id: int, model: ConceptClassifier, estimate: APEstimate,
               oof: dict[int, float]) -> int:
    """Store a built classifier with its held-out AP and held-out scores of the labels."""
    payload = model.to_json()
    payload["oof_scores"] = {str(k): round(float(v), 6) for k, v in oof.items() if np.isfinite(v)}
    payload["ap_folds"] = estimate.n_folds
    payload["prevalence"] = estimate.prevalence
    payload["ap_reason"] = estimate.reason
    with catalog.transaction() as conn:
        cursor = conn.execute(
            "INSERT INTO concept_models (concept_id, embedder, model, n_pos, n_neg, ap, ap_std) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (int(concept_id), model.embedder, json.dumps(payload), model.n_pos, model.n_neg, estimate.ap,
             estimate.ap_std),
        )
        return int(cursor.lastrowid)


@dataclass
class StoredModel:
    id: int
    concept_id: int
    classifier: ConceptClassifier
    ap: float | None
    ap_std: float | None
    created_at: str
    oof_scores: dict[int, float]

    def summary(self) -> dict[str, Any]:
        extra = self.classifier.extra
        return {"model_id": self.id, "embedder": self.classifier.embedder, "n_pos": self.classifier.n_pos,
                "n_neg": self.classifier.n_neg, "ap": self.ap, "ap_std": self.ap_std,
                "ap_folds": extra.get("ap_folds"), "prevalence": extra.get("prevalence"),
                "ap_reason": extra.get("ap_reason", ""), "created_at": self.created_at}


def latest_model(catalog: Catalog, concept_id: int, embedder: str | None = None) -> StoredModel | None:
    sql = "SELECT * FROM concept_models WHERE concept_id = ?"
    params: list[Any] = [int(concept_id)]
    if embedder is not None:
        sql += " AND embedder = ?"
        params.append(embedder)
    row = catalog.query_one(sql + " ORDER BY id DESC LIMIT 1", params)
    if row is None:
        return None
    data = json.loads(row["model"])
    oof = {int(k): float(v) for k, v in data.pop("oof_scores", {}).items()}
    return StoredModel(int(row["id"]), int(row["concept_id"]), ConceptClassifier.from_json(data), row["ap"],
                       row["ap_std"], row["created_at"], oof)
