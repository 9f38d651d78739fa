"""Export a concept classifier and its scores: JSON weights + CSV/NPY scores + catalog scores.

``WORKSPACE/concepts/<concept>/`` gets ``classifier.json`` (weights, bias, embedder key, held-out
AP), ``scores.csv`` (frame identity, Lightly file name, score, label) and ``scores.npy``
(structured array frame_id/score). The scores also go to the catalog ``scores`` table as task
``concept:<name>``, score ``score``, so a selection config can use them as a SCORES input.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import numpy as np

from framesift.loop.concepts import Concept, StoredModel, frame_labels
from framesift.util.atomic import write_json, write_npy, write_text
from framesift.video.naming import frame_file_name
from framesift.workspace import Workspace

SCORE_DTYPE = np.dtype([("frame_id", "<i8"), ("score", "<f4")])


def concept_slug(name: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._")
    return slug or "concept"


def score_task(concept: Concept) -> str:
    return f"concept:{concept.name}"


def export_concept(
    workspace: Workspace, concept: Concept, model: StoredModel, frame_ids: np.ndarray, scores: np.ndarray
) -> Path:
    """Write the export folder and the catalog scores; returns the folder."""
    folder = workspace.root / "concepts" / concept_slug(concept.name)
    folder.mkdir(parents=True, exist_ok=True)
    data = model.classifier.to_json()
    data.update({"concept": concept.name, "description": concept.description, "model_id": model.id,
                 "ap": model.ap, "ap_std": model.ap_std, "created_at": model.created_at,
                 "scores_task": score_task(concept)})
    write_json(folder / "classifier.json", data)
    table = np.zeros(len(frame_ids), SCORE_DTYPE)
    table["frame_id"] = frame_ids
    table["score"] = scores
    write_npy(folder / "scores.npy", table)
    write_text(folder / "scores.csv", _scores_csv(workspace, concept, frame_ids, scores))
    with workspace.catalog.transaction() as conn:
        task = score_task(concept)
        conn.execute("DELETE FROM scores WHERE task = ? AND name = 'score'", (task,))
        conn.executemany("INSERT INTO scores (task, name, frame_id, value) VALUES (?, 'score', ?, ?)",
                         [(task, int(f), float(s)) for f, s in zip(frame_ids, scores, strict=True)])
    return folder


def _scores_csv(workspace: Workspace, concept: Concept, frame_ids: np.ndarray, scores: np.ndarray) -> str:
    rows = workspace.catalog.query(
        "SELECT f.id, f.frame_index, f.pts, f.time_s, v.name, v.ext, v.n_frames FROM frames f "
        "JOIN videos v ON v.id = f.video_id"
    )
    info = {int(r[0]): r for r in rows}
    label_ids, label_values = frame_labels(workspace.catalog, concept.id)
    labels = dict(zip(label_ids.tolist(), label_values.tolist(), strict=True))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["frame_id", "video", "frame_index", "pts", "time_s", "file_name", "score", "label"])
    for order in np.argsort(-np.asarray(scores), kind="stable"):
        fid = int(frame_ids[order])
        r = info.get(fid)
        if r is None:
            continue
        writer.writerow([fid, r["name"], r["frame_index"], r["pts"], f"{r['time_s']:.6f}",
                         frame_file_name(r["name"], r["ext"], r["frame_index"], r["n_frames"] or 1),
                         f"{float(scores[order]):.6f}", labels.get(fid, "")])
    return out.getvalue()
