"""Embedding matrices on disk, one per (model, video), never in SQLite rows.

While a video is being embedded every batch is written as its own chunk file (atomic rename,
then a catalog row), so a killed run resumes after the last finished batch. When the video is
done the chunks are joined into ``<video_id>.npy`` (float32, memory-mappable) plus
``<video_id>.ids.npy`` holding the catalog frame id of every row.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from framesift.util.atomic import atomic_path, write_npy
from framesift.util.crashpoint import crash_point
from framesift.util.scratch import copy_rows, scratch_array
from framesift.workspace import Workspace


def embedding_key(model: str, embed_fps: float | None = None) -> str:
    """Storage key of an embedding set: the model, plus the subsampling rate when not every frame is embedded."""
    return model if embed_fps is None else f"{model}@{embed_fps:g}fps"


@dataclass
class EmbeddingMatrix:
    frame_ids: np.ndarray  # (N,) int64 catalog frame ids, in the order of the rows
    vectors: np.ndarray  # (N, d) float32, L2-normalised

    def __len__(self) -> int:
        return len(self.frame_ids)


class EmbeddingStore:
    def __init__(self, workspace: Workspace, model: str):
        self.workspace = workspace
        self.catalog = workspace.catalog
        self.model = model
        self.root = workspace.embeddings_dir(model)

    # -- writing ------------------------------------------------------------------------
    def done_rows(self, video_id: int) -> int:
        """Rows already embedded for a video (finished chunks, or all rows when done)."""
        row = self.catalog.query_one(
            "SELECT status, n_rows FROM embedding_sets WHERE model = ? AND video_id = ?", (self.model, video_id)
        )
        if row is not None and row["status"] == "done":
            return int(row["n_rows"])
        total = self.catalog.scalar(
            "SELECT COALESCE(SUM(n_rows), 0) FROM embedding_chunks WHERE model = ? AND video_id = ?",
            (self.model, video_id),
        )
        return int(total)

    def is_done(self, video_id: int) -> bool:
        row = self.catalog.query_one(
            "SELECT status FROM embedding_sets WHERE model = ? AND video_id = ?", (self.model, video_id)
        )
        return row is not None and row["status"] == "done"

    def write_chunk(self, video_id: int, frame_ids: np.ndarray, vectors: np.ndarray) -> None:
        chunk = int(
            self.catalog.scalar(
                "SELECT COUNT(*) FROM embedding_chunks WHERE model = ? AND video_id = ?", (self.model, video_id)
            )
        )
        folder = self.root / f"{video_id}.parts"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{chunk:06d}.npy"
        write_npy(_ids_path(path), np.asarray(frame_ids, np.int64))
        write_npy(path, np.asarray(vectors, np.float32))  # written last: its catalog row follows
        crash_point("embed.chunk_file")  # the chunk file exists, its catalog row does not
        with self.catalog.transaction() as conn:
            conn.execute(
                "INSERT INTO embedding_sets (model, video_id, status, dim) VALUES (?, ?, 'partial', ?) "
                "ON CONFLICT(model, video_id) DO UPDATE SET updated_at = datetime('now')",
                (self.model, video_id, vectors.shape[1]),
            )
            conn.execute(
                "INSERT OR REPLACE INTO embedding_chunks (model, video_id, chunk, n_rows, path) VALUES (?, ?, ?, ?, ?)",
                (self.model, video_id, chunk, len(frame_ids), str(path.relative_to(self.workspace.root))),
            )
        crash_point("embed.chunk")

    def finalize(self, video_id: int, dim: int) -> int:
        """Join the chunks of a finished video into one matrix; returns its row count."""
        chunks = self.catalog.query(
            "SELECT path, n_rows FROM embedding_chunks WHERE model = ? AND video_id = ? ORDER BY chunk",
            (self.model, video_id),
        )
        total = sum(int(row["n_rows"]) for row in chunks)
        matrix_path = self.root / f"{video_id}.npy"
        ids = np.empty(total, np.int64)
        # streamed into a memory-mapped file: RAM stays at one chunk however long the video is
        with atomic_path(matrix_path) as tmp:
            out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=(total, dim))
            pos = 0
            for row in chunks:
                part = self.workspace.root / row["path"]
                vectors = np.load(part, mmap_mode="r")
                out[pos : pos + len(vectors)] = vectors
                ids[pos : pos + len(vectors)] = np.load(_ids_path(part))
                pos += len(vectors)
            out.flush()
            del out
        write_npy(self.root / f"{video_id}.ids.npy", ids)
        crash_point("embed.matrix_file")  # the joined matrix exists, the catalog still says 'partial'
        with self.catalog.transaction() as conn:
            conn.execute(
                "INSERT INTO embedding_sets (model, video_id, status, dim, n_rows, path) VALUES (?, ?, 'done', ?, ?, ?) "
                "ON CONFLICT(model, video_id) DO UPDATE SET status = 'done', dim = excluded.dim, "
                "n_rows = excluded.n_rows, path = excluded.path, updated_at = datetime('now')",
                (self.model, video_id, dim, len(ids), str(matrix_path.relative_to(self.workspace.root))),
            )
            conn.execute("DELETE FROM embedding_chunks WHERE model = ? AND video_id = ?", (self.model, video_id))
        crash_point("embed.finalized")  # 'done' in the catalog, chunk files not deleted yet
        self.drop_leftover_chunks(video_id)  # the whole folder: a killed write may have left a temp file there
        return len(ids)

    def drop_leftover_chunks(self, video_id: int) -> None:
        """Delete chunk files of a finished video: finalize removes them last, so a kill can leave them."""
        folder = self.root / f"{video_id}.parts"
        if folder.is_dir():
            shutil.rmtree(folder, ignore_errors=True)

    def delete_video(self, video_id: int) -> None:
        with self.catalog.transaction() as conn:
            conn.execute("DELETE FROM embedding_chunks WHERE model = ? AND video_id = ?", (self.model, video_id))
            conn.execute("DELETE FROM embedding_sets WHERE model = ? AND video_id = ?", (self.model, video_id))
        for suffix in (".npy", ".ids.npy"):
            _unlink(self.root / f"{video_id}{suffix}")

    # -- reading ------------------------------------------------------------------------
    def video_matrix(self, video_id: int, *, mmap: bool = True) -> EmbeddingMatrix | None:
        if not self.is_done(video_id):
            return None
        vectors = np.load(self.root / f"{video_id}.npy", mmap_mode="r" if mmap else None)
        ids = np.load(self.root / f"{video_id}.ids.npy")
        return EmbeddingMatrix(ids, vectors)

    def load(
        self, frame_ids: np.ndarray | None = None, dtype: type = np.float32, *, scratch_dir: Path | None = None
    ) -> EmbeddingMatrix:
        """All finished embeddings (or those of ``frame_ids``, in that order) as one matrix.

        Frames without an embedding are dropped from the result; compare ``frame_ids`` of the
        result with the request to find them. With ``scratch_dir`` a large matrix is built in a
        memory-mapped scratch file (page cache) instead of RAM, see ``util.scratch``.
        """
        videos = self.catalog.query(
            "SELECT video_id, n_rows, dim FROM embedding_sets WHERE model = ? AND status = 'done' ORDER BY video_id",
            (self.model,),
        )
        if not videos:
            return EmbeddingMatrix(np.zeros(0, np.int64), np.zeros((0, 0), dtype))
        dim = int(videos[0]["dim"])
        if frame_ids is None:
            total = sum(int(v["n_rows"]) for v in videos)
            out_ids = np.empty(total, np.int64)
            out = scratch_array((total, dim), dtype, scratch_dir)
            pos = 0
            for v in videos:
                matrix = self.video_matrix(int(v["video_id"]))
                assert matrix is not None
                n = len(matrix)
                out_ids[pos : pos + n] = matrix.frame_ids
                out[pos : pos + n] = matrix.vectors
                pos += n
            return EmbeddingMatrix(out_ids, out)
        wanted = np.asarray(frame_ids, np.int64)
        order = np.argsort(wanted, kind="stable")
        sorted_wanted = wanted[order]
        out = scratch_array((len(wanted), dim), dtype, scratch_dir)  # rows never found are dropped below
        found = np.zeros(len(wanted), bool)
        for v in videos:
            matrix = self.video_matrix(int(v["video_id"]))
            assert matrix is not None
            if not len(matrix) or not len(sorted_wanted):
                continue
            slot = np.minimum(np.searchsorted(sorted_wanted, matrix.frame_ids), len(sorted_wanted) - 1)
            hit = sorted_wanted[slot] == matrix.frame_ids
            rows = np.flatnonzero(hit)
            dst = order[slot[rows]]
            copy_rows(out, matrix.vectors, rows, dst)  # in steps: one long video is not copied whole
            found[dst] = True
        if found.all():
            return EmbeddingMatrix(wanted, out)
        keep = np.flatnonzero(found)
        copy_rows(out, out, keep)  # in place: keep[i] >= i
        return EmbeddingMatrix(wanted[keep], out[: len(keep)])


def _ids_path(chunk: Path) -> Path:
    return chunk.with_name(chunk.stem + ".ids.npy")


def _unlink(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
