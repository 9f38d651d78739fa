"""Catalog rows for videos: register discovered files, detect changed or moved ones."""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import urllib.parse
from dataclasses import dataclass

from framesift.store.catalog import Catalog
from framesift.video.decode import is_url
from framesift.video.discover import VideoFile

log = logging.getLogger(__name__)
FINGERPRINT_BYTES = 64 * 1024


def fingerprint(video: VideoFile) -> str:
    """Size plus a hash of the head and tail of the file: cheap, survives copies, catches re-encodes."""
    digest = hashlib.blake2b(digest_size=12)
    digest.update(str(video.size_bytes).encode())
    try:
        opener = _open_url if is_url(video.path) else open
        with opener(video.path, "rb") as fh:
            digest.update(fh.read(FINGERPRINT_BYTES))
            if video.size_bytes > 2 * FINGERPRINT_BYTES:
                fh.seek(video.size_bytes - FINGERPRINT_BYTES)
                digest.update(fh.read(FINGERPRINT_BYTES))
    except OSError as err:
        return f"unreadable:{type(err).__name__}"
    return f"{video.size_bytes}:{digest.hexdigest()}"


def _open_url(url: str, mode: str):  # type: ignore[no-untyped-def]
    import fsspec

    return fsspec.open(url, mode).open()


def _needs_escape(char: str) -> bool:
    code = ord(char)
    return 0xDC80 <= code <= 0xDCFF or code < 0x20 or code == 0x7F  # undecodable byte or control character


def catalog_name(name: str) -> str:
    """A video name as the catalog (and frame file names) hold it: valid UTF-8 on one line.

    Python gives undecodable file-name bytes as lone surrogates, which SQLite cannot store;
    they and control characters become ``%XX`` (the byte in hex). Other names are unchanged.
    """
    if not any(_needs_escape(c) for c in name):
        return name
    return "".join(f"%{ord(c) & 0xFF:02X}" if _needs_escape(c) else c for c in name)


def catalog_path(path: str) -> str:
    """A video path as the catalog holds it: unchanged, or a ``file://`` URL for names as above.

    ``framesift.video.decode.local_path`` turns the URL back into the exact bytes of the path.
    """
    if not any(_needs_escape(c) for c in path):
        return path
    return "file://" + urllib.parse.quote(os.fsencode(path), safe="/")


@dataclass(frozen=True)
class SamplingKey:
    frame_stride: int | None
    fps: float | None

    def matches(self, row: sqlite3.Row) -> bool:
        return (row["frame_stride"] or 1) == (self.frame_stride or 1) and (row["index_fps"] or None) == self.fps


def register_videos(catalog: Catalog, files: list[VideoFile], sampling: SamplingKey) -> tuple[list[int], list[str]]:
    """Insert new videos, reset changed ones; returns (video ids in input order, notes for the user)."""
    ids: list[int] = []
    notes: list[str] = []
    for video in files:
        fp = fingerprint(video)
        path, name = catalog_path(video.path), catalog_name(video.name)
        with catalog.transaction() as conn:
            row = conn.execute("SELECT * FROM videos WHERE name = ? AND ext = ?", (name, video.ext)).fetchone()
            if row is not None and row["fingerprint"] == fp and sampling.matches(row):
                if row["path"] != path:
                    conn.execute("UPDATE videos SET path = ? WHERE id = ?", (path, row["id"]))
                ids.append(int(row["id"]))
                continue
            if row is not None:
                reason = "changed on disk" if row["fingerprint"] != fp else "indexed with other frame sampling"
                notes.append(f"{path}: {reason}; re-indexing it (its old frames, embeddings and picks are dropped)")
                conn.execute("DELETE FROM videos WHERE id = ?", (row["id"],))
            cursor = conn.execute(
                "INSERT INTO videos (path, name, ext, size_bytes, mtime, fingerprint, frame_stride, index_fps) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (path, name, video.ext, video.size_bytes, video.mtime, fp, sampling.frame_stride or 1, sampling.fps),
            )
            ids.append(int(cursor.lastrowid))
    return ids, notes
