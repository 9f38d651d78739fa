"""The frame table: every indexed frame of every ingested video as aligned numpy arrays.

Selection, reports and the app work on positions into this table; ``frame_id`` maps back to
the catalog.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from framesift.errors import FramesiftError
from framesift.store.catalog import Catalog
from framesift.util.scratch import copy_rows, scratch_array
from framesift.video.stats import LIGHTLY_METADATA_KEYS, STAT_NAMES


@dataclass
class FrameTable:
    frame_id: np.ndarray
    video_id: np.ndarray
    frame_index: np.ndarray
    pts: np.ndarray  # float, NaN where the stream had no pts
    time_s: np.ndarray
    shot_id: np.ndarray  # unique across videos
    stats: dict[str, np.ndarray]
    video_names: dict[int, str]  # video id -> name
    video_exts: dict[int, str]

    def __len__(self) -> int:
        return len(self.frame_id)

    def subset(self, mask_or_index: np.ndarray) -> FrameTable:
        return FrameTable(
            self.frame_id[mask_or_index],
            self.video_id[mask_or_index],
            self.frame_index[mask_or_index],
            self.pts[mask_or_index],
            self.time_s[mask_or_index],
            self.shot_id[mask_or_index],
            {k: v[mask_or_index] for k, v in self.stats.items()},
            self.video_names,
            self.video_exts,
        )

    def positions(self, frame_ids: np.ndarray) -> np.ndarray:
        """Positions of ``frame_ids`` in this table (-1 where absent)."""
        frame_ids = np.asarray(frame_ids, np.int64)
        if len(self.frame_id) == 0:
            return np.full(len(frame_ids), -1, np.int64)
        order = np.argsort(self.frame_id, kind="stable")
        sorted_ids = self.frame_id[order]
        idx = np.minimum(np.searchsorted(sorted_ids, frame_ids), len(sorted_ids) - 1)
        hit = sorted_ids[idx] == frame_ids
        return np.where(hit, order[idx], -1)

    def builtin_metadata(self, key: str) -> np.ndarray | None:
        """Values of a metadata key computed by framesift itself (stats, video name, time), or None."""
        key = LIGHTLY_METADATA_KEYS.get(key, key)
        if key in self.stats:
            return self.stats[key]
        if key in ("video_name", "video", "lightly.video_name", "video_id"):
            names = np.array([self.video_names[int(v)] for v in self.video_id], dtype=object)
            return names if key != "video_id" else self.video_id.astype(np.float64)
        if key in ("time_s", "frame_index", "shot_id"):
            return getattr(self, key).astype(np.float64)
        return None


def load_frame_table(catalog: Catalog) -> FrameTable:
    data = catalog.array(
        "SELECT f.id, f.video_id, f.frame_index, f.pts, f.time_s, f.shot_id, "
        + ", ".join(f"f.{name}" for name in STAT_NAMES)
        + " FROM frames f JOIN videos v ON v.id = f.video_id WHERE v.status = 'ingested' "
        "ORDER BY f.video_id, f.frame_index",
        columns=6 + len(STAT_NAMES),
    )
    videos = catalog.query("SELECT id, name, ext FROM videos")
    video_id = data[:, 1].astype(np.int64)
    shot = data[:, 5].astype(np.int64)
    return FrameTable(
        frame_id=data[:, 0].astype(np.int64),
        video_id=video_id,
        frame_index=data[:, 2].astype(np.int64),
        pts=data[:, 3],
        time_s=data[:, 4],
        shot_id=(video_id << 24) + shot,
        stats={name: data[:, 6 + i] for i, name in enumerate(STAT_NAMES)},
        video_names={int(v["id"]): v["name"] for v in videos},
        video_exts={int(v["id"]): v["ext"] for v in videos},
    )


def fill_from_nearest_embedded(
    table: FrameTable, embedded_ids: np.ndarray, vectors: np.ndarray, scratch_dir: Path | None = None
) -> np.ndarray:
    """Embeddings for every frame of ``table`` in an ``embed_fps`` run: its own, or the one of the
    nearest embedded frame in time of the same shot (of the same video when its shot has none).
    With ``scratch_dir`` a large result is a memory-mapped scratch array (``util.scratch``)."""
    pos = table.positions(embedded_ids)
    row_of = np.full(len(table), -1, np.int64)
    row_of[pos[pos >= 0]] = np.nonzero(pos >= 0)[0]
    has = row_of >= 0
    for group in (table.shot_id, table.video_id):
        nearest = nearest_in_group(group, table.time_s, has)
        fill = (row_of < 0) & (nearest >= 0)
        row_of[fill] = row_of[nearest[fill]]
    if (row_of < 0).any():
        raise FramesiftError(
            f"{int((row_of < 0).sum())} frames belong to videos without any embedded frame; run `framesift embed`"
        )
    out = scratch_array((len(row_of), vectors.shape[1]), np.float32, scratch_dir)
    copy_rows(out, vectors, row_of)
    return out


def nearest_in_group(group: np.ndarray, time_s: np.ndarray, has: np.ndarray) -> np.ndarray:
    """Position of the nearest ``has`` frame in time within the same group (-1 if the group has none).

    One sort plus forward/backward fills, so it stays O(N log N) for millions of frames.
    """
    n = len(group)
    if n == 0:
        return np.zeros(0, np.int64)
    order = np.lexsort((time_s, group))
    g, t, h = group[order], time_s[order], has[order]
    idx = np.arange(n)
    prev = np.maximum.accumulate(np.where(h, idx, -1))
    nxt = np.minimum.accumulate(np.where(h, idx, n)[::-1])[::-1]
    prev_c, next_c = np.clip(prev, 0, n - 1), np.clip(nxt, 0, n - 1)
    prev_ok = (prev >= 0) & (g[prev_c] == g)
    next_ok = (nxt < n) & (g[next_c] == g)
    d_prev = np.where(prev_ok, t - t[prev_c], np.inf)
    d_next = np.where(next_ok, t[next_c] - t, np.inf)
    choice = np.where(d_prev <= d_next, prev_c, next_c)
    result = np.full(n, -1, np.int64)
    result[order] = np.where(prev_ok | next_ok, order[choice], -1)
    return result
