"""JSON rows for frames shown in the UI: identity, the concept's label and the model's score."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from framesift.app.state import AppState


def concept_labels(state: AppState, concept_id: int | None, frame_ids: Sequence[int]) -> dict[int, int]:
    if concept_id is None or not len(frame_ids):
        return {}
    wanted = [int(f) for f in frame_ids]
    out: dict[int, int] = {}
    for start in range(0, len(wanted), 900):
        part = wanted[start : start + 900]
        marks = ",".join("?" * len(part))
        for r in state.catalog.query(
            f"SELECT frame_id, value FROM annotations WHERE concept_id = ? AND box_id = 0 AND frame_id IN ({marks})",
            [int(concept_id), *part],
        ):
            out[int(r[0])] = int(r[1])
    return out


def frame_items(
    state: AppState, frame_ids: Sequence[int] | np.ndarray, concept_id: int | None = None,
    extra: dict[str, Sequence[Any]] | None = None,
) -> list[dict[str, Any]]:
    """One dict per frame id (unknown ids are skipped), in the order given."""
    ids = np.asarray(frame_ids, np.int64)
    frames = state.frames()
    pos = frames.positions(ids)
    labels = concept_labels(state, concept_id, ids.tolist())
    scores = state.scores_for_frames(concept_id, ids)
    items = []
    for i, (fid, p) in enumerate(zip(ids.tolist(), pos.tolist(), strict=True)):
        if p < 0:
            continue
        video_id = int(frames.video_id[p])
        item = {
            "id": fid,
            "video_id": video_id,
            "video": frames.video_names.get(video_id, "?"),
            "frame_index": int(frames.frame_index[p]),
            "time_s": round(float(frames.time_s[p]), 3),
            "label": labels.get(fid),
            "score": None if not np.isfinite(scores[i]) else round(float(scores[i]), 4),
        }
        for key, values in (extra or {}).items():
            value = values[i]
            item[key] = float(value) if isinstance(value, np.floating) else value
        items.append(item)
    return items
