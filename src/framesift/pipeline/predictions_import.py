"""Import predictions and metadata into the catalog, matched to indexed frames by identity.

Frame references are Lightly frame names (``sub/clip-042-mp4``, any zero padding, optional
image suffix) or ultralytics video label stems (``clip_43``, 1-based). A reference to a frame
that exists in a known video but was not indexed (``--fps`` / ``--frame-stride``) is skipped
and counted; a reference to no known frame at all is an error naming the first few, unless
``allow_unmatched``. ``sync_lightly_dir`` is the resumable hook of ``framesift run``: it
re-imports a task or the metadata only when their files or the set of videos changed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from framesift.errors import FramesiftError
from framesift.predict.base import FramePrediction
from framesift.predict.imported import ImportedTask
from framesift.predict.lightly_format import (
    convert_value,
    iter_metadata_files,
    iter_task_predictions,
    lightly_root,
    lookup,
    read_metadata_schema,
    read_tasks,
)
from framesift.predict.scoring import compute_task_scores
from framesift.predict.store import delete_task, ensure_task, get_task, store_predictions
from framesift.store.catalog import Catalog
from framesift.video.naming import parse_frame_stem
from framesift.workspace import Workspace

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff", ".json", ".txt")
_ULTRALYTICS_STEM = re.compile(r"^(?P<video>.+)_(?P<frame>\d+)$")
NOT_INDEXED = -1


@dataclass
class VideoRow:
    id: int
    name: str
    ext: str
    n_frames: int
    width: int
    height: int


class FrameIndex:
    """Lookup of indexed frames by (video name, ext, frame_index), built with two queries."""

    def __init__(self, catalog: Catalog):
        rows = catalog.query("SELECT id, name, ext, n_frames, width, height FROM videos WHERE status = 'ingested'")
        self.videos = {(r["name"], r["ext"]): VideoRow(r[0], r[1], r[2], r[3] or 0, r[4] or 0, r[5] or 0) for r in rows}
        self.by_id = {v.id: v for v in self.videos.values()}
        self.by_name: dict[str, list[VideoRow]] = {}
        self.by_stem: dict[str, list[VideoRow]] = {}
        for video in self.videos.values():
            self.by_name.setdefault(video.name, []).append(video)
            self.by_stem.setdefault(video.name.rsplit("/", 1)[-1], []).append(video)
        self.frames: dict[tuple[int, int], int] = {}
        for r in catalog.query(
            "SELECT f.id, f.video_id, f.frame_index FROM frames f JOIN videos v ON v.id = f.video_id "
            "WHERE v.status = 'ingested'"
        ):
            self.frames[(r[1], r[2])] = r[0]

    def signature(self) -> str:
        """Changes whenever a video is added, re-indexed or dropped."""
        text = ";".join(f"{v.id}:{v.name}.{v.ext}:{v.n_frames}" for v in sorted(self.by_id.values(), key=lambda v: v.id))
        return hashlib.blake2b(f"{text}|{len(self.frames)}".encode(), digest_size=12).hexdigest()

    def frame(self, video: VideoRow, index: int) -> int | None:
        """Catalog frame id, NOT_INDEXED for a real frame without a row, None for no such frame."""
        frame_id = self.frames.get((video.id, index))
        if frame_id is not None:
            return frame_id
        return NOT_INDEXED if 0 <= index < video.n_frames else None

    def match(self, reference: str) -> tuple[VideoRow | None, int | None]:
        """(video, frame id or NOT_INDEXED) for a frame reference; (None, None) when nothing matches."""
        ref = reference.replace("\\", "/")
        ref = ref[2:] if ref.startswith("./") else ref
        lowered = ref.lower()
        for suffix in IMAGE_SUFFIXES:
            if lowered.endswith(suffix):
                ref = ref[: -len(suffix)]
                break
        parsed = parse_frame_stem(ref)
        if parsed is not None:
            video = self.videos.get((parsed[0], parsed[2]))
            if video is None:  # flat output folders drop the video's sub-folder: accept a unique base name
                same = [v for v in self.by_stem.get(parsed[0].rsplit("/", 1)[-1], []) if v.ext == parsed[2]]
                video = same[0] if len(same) == 1 and "/" not in parsed[0] else None
            if video is not None:
                return video, self.frame(video, parsed[1])
        match = _ULTRALYTICS_STEM.match(ref)
        if match is not None:
            candidates = self.by_name.get(match["video"]) or self.by_stem.get(match["video"].rsplit("/", 1)[-1], [])
            if len(candidates) == 1 and int(match["frame"]) >= 1:
                return candidates[0], self.frame(candidates[0], int(match["frame"]) - 1)
        return None, None


@dataclass
class ImportSummary:
    task: str
    frames: int = 0
    boxes: int = 0
    not_indexed: int = 0
    unmatched: int = 0
    scores: list[str] = field(default_factory=list)

    def line(self) -> str:
        parts = [f"task {self.task}: {self.frames} frames, {self.boxes} predictions imported"]
        if self.not_indexed:
            parts.append(f"{self.not_indexed} for frames not indexed (frame sampling) skipped")
        if self.unmatched:
            parts.append(f"{self.unmatched} matching no video frame skipped (--allow-unmatched)")
        if self.scores:
            parts.append(f"scores: {', '.join(self.scores)}")
        return "; ".join(parts)


def unmatched_error(what: str, unmatched: list[str], total: int) -> FramesiftError:
    first = ", ".join(unmatched[:3])
    return FramesiftError(
        f"{what}: {len(unmatched)} of {total} files match no indexed video frame (first: {first}); names must be "
        "<video>-<frame>-<ext> with the video's path relative to the input folder (see `framesift info`), "
        "or pass --allow-unmatched to skip them"
    )


def import_task(
    workspace: Workspace, imported: ImportedTask, *, allow_unmatched: bool = False, replace: bool = False,
    index: FrameIndex | None = None,
) -> ImportSummary:
    """Store a whole task and compute its scores.

    Replaces an earlier import of the same source, or of any ``.lightly`` folder (a moved or newer
    datasource); a task from another source (``framesift predict``, COCO) needs ``replace``.
    """
    catalog = workspace.catalog
    index = index or FrameIndex(catalog)
    summary = ImportSummary(imported.name)
    items: list[tuple[int, FramePrediction]] = []
    unmatched: list[str] = []
    for reference, prediction in imported.frames:
        video, frame_id = index.match(reference)
        if video is None or frame_id is None:
            unmatched.append(reference)
        elif frame_id == NOT_INDEXED:
            summary.not_indexed += 1
        else:
            if imported.normalized and prediction.boxes is not None:
                prediction = prediction.scaled(video.width, video.height)
            items.append((frame_id, prediction))
    if unmatched and not allow_unmatched:
        raise unmatched_error(f"{imported.source} (task {imported.name})", unmatched, len(imported.frames))
    summary.unmatched = len(unmatched)
    existing = get_task(catalog, imported.name)
    with catalog.transaction():
        moved = existing is not None and existing["source"].startswith("lightly:") and imported.source.startswith("lightly:")
        if existing is not None and (existing["source"] == imported.source or replace or moved):
            delete_task(catalog, imported.name)
        ensure_task(catalog, imported.name, imported.task_type, imported.categories, imported.source, replace=replace)
        summary.boxes = store_predictions(catalog, imported.name, items,
                                          classification=imported.task_type == "classification")
        summary.frames = len(items)
        summary.scores = compute_task_scores(catalog, imported.name)
    return summary


# -- Lightly folders ------------------------------------------------------------------------
def read_lightly_task(task) -> ImportedTask:  # type: ignore[no-untyped-def]
    frames = list(iter_task_predictions(task))
    return ImportedTask(task.name, task.task_type, task.categories, f"lightly:{task.directory.resolve()}", frames)


@dataclass
class MetadataSummary:
    keys: list[str] = field(default_factory=list)
    video_files: int = 0
    frame_files: int = 0
    not_indexed: int = 0
    unmatched: int = 0

    def line(self) -> str:
        text = (f"metadata: {len(self.keys)} keys ({', '.join(self.keys)}) from {self.video_files} video and "
                f"{self.frame_files} frame files")
        if self.not_indexed:
            text += f"; {self.not_indexed} files for frames not indexed skipped"
        if self.unmatched:
            text += f"; {self.unmatched} files matching no video skipped (--allow-unmatched)"
        return text


def import_metadata(
    workspace: Workspace, metadata_dir: Path, *, allow_unmatched: bool = False, drop_keys: Iterable[str] = (),
    index: FrameIndex | None = None,
) -> MetadataSummary:
    """Load ``.lightly/metadata``: video files apply to all frames, frame files override, defaults fill in."""
    catalog = workspace.catalog
    index = index or FrameIndex(catalog)
    fields = read_metadata_schema(metadata_dir)
    summary = MetadataSummary([f.path for f in fields])
    video_values: dict[int, dict[str, object]] = {}
    frame_rows: list[tuple] = []
    unmatched: list[str] = []
    total = 0
    for stem, path, data in iter_metadata_files(metadata_dir):
        total += 1
        kind = data.get("type")
        values = {f.path: lookup(data["metadata"], f.path) for f in fields}
        video, frame_id = (None, None) if kind == "video" else index.match(stem)
        if video is not None and frame_id is not None:
            if frame_id == NOT_INDEXED:
                summary.not_indexed += 1
                continue
            summary.frame_files += 1
            for f in fields:
                if values[f.path] is not None:
                    num, text = convert_value(values[f.path], f.value_type, f"{path}: {f.path}")
                    frame_rows.append((video.id, frame_id, f.path, num, text, f.value_type))
            continue
        video = _metadata_video(index, stem, data.get("file_name")) if kind in (None, "video") else None
        if video is None:
            unmatched.append(stem)
            continue
        summary.video_files += 1
        video_values[video.id] = {**video_values.get(video.id, {}), **{k: v for k, v in values.items() if v is not None}}
    if unmatched and not allow_unmatched:
        raise unmatched_error(str(metadata_dir), unmatched, total)
    summary.unmatched = len(unmatched)
    rows = list(frame_rows)
    for video in index.by_id.values():
        given = video_values.get(video.id, {})
        for f in fields:
            value = given.get(f.path, f.default)
            if value is not None:
                num, text = convert_value(value, f.value_type, f"{metadata_dir}: {f.path} of {video.name}.{video.ext}")
                rows.append((video.id, None, f.path, num, text, f.value_type))
    keys = sorted({f.path for f in fields} | set(drop_keys))
    with catalog.transaction() as conn:
        conn.executemany("DELETE FROM metadata WHERE key = ?", [(k,) for k in keys])
        conn.executemany(
            "INSERT INTO metadata (video_id, frame_id, key, value_num, value_text, value_type) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT DO UPDATE SET value_num = excluded.value_num, value_text = excluded.value_text, "
            "value_type = excluded.value_type",
            rows,
        )
    return summary


def _metadata_video(index: FrameIndex, stem: str, file_name: object) -> VideoRow | None:
    if isinstance(file_name, str) and "." in file_name.rsplit("/", 1)[-1]:
        name, ext = file_name.rsplit(".", 1)
        video = index.videos.get((name.lstrip("./"), ext))
        if video is not None:
            return video
    candidates = index.by_name.get(stem, [])
    return candidates[0] if len(candidates) == 1 else None


def _folder_fingerprint(folder: Path, extra: str) -> str:
    digest = hashlib.blake2b(extra.encode(), digest_size=16)
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            stat = os.stat(os.path.join(root, name))
            digest.update(f"{os.path.relpath(os.path.join(root, name), folder)}:{stat.st_size}:{stat.st_mtime_ns};".encode())
    return digest.hexdigest()


def sync_lightly_dir(workspace: Workspace, path: str | Path, *, allow_unmatched: bool = False,
                     explicit: bool = True) -> list[str]:
    """Import a datasource's ``.lightly`` predictions and metadata when they changed; returns notes.

    ``explicit`` False (auto-detection in the input folder) makes a missing ``.lightly`` silent.
    """
    root = lightly_root(path)
    if root is None:
        if explicit:
            raise FramesiftError(f"{path}: no .lightly folder with predictions/ or metadata/; check --lightly-dir")
        return []
    catalog = workspace.catalog
    index = FrameIndex(catalog)
    context = f"{index.signature()}|unmatched={allow_unmatched}"
    notes: list[str] = []
    predictions_dir = root / "predictions"
    if (predictions_dir / "tasks.json").is_file():
        for task in read_tasks(predictions_dir):
            key = f"lightly-predictions:{task.directory.resolve()}"
            fingerprint = _folder_fingerprint(task.directory, context)
            if _stage_info(catalog, key) == fingerprint and get_task(catalog, task.name) is not None:
                notes.append(f"lightly task {task.name}: unchanged since last import")
                continue
            summary = import_task(workspace, read_lightly_task(task), allow_unmatched=allow_unmatched, index=index)
            catalog.mark_stage(key, fingerprint)
            notes.append(f"lightly {summary.line()}")
    metadata_dir = root / "metadata"
    if (metadata_dir / "schema.json").is_file():
        key = f"lightly-metadata:{metadata_dir.resolve()}"
        fingerprint = _folder_fingerprint(metadata_dir, context)
        previous = json.loads(_stage_info(catalog, key) or "{}")
        if previous.get("fingerprint") == fingerprint:
            notes.append("lightly metadata: unchanged since last import")
        else:
            summary = import_metadata(workspace, metadata_dir, allow_unmatched=allow_unmatched,
                                      drop_keys=previous.get("keys", []), index=index)
            catalog.mark_stage(key, json.dumps({"fingerprint": fingerprint, "keys": summary.keys}))
            notes.append(f"lightly {summary.line()}")
    if explicit and not notes:
        raise FramesiftError(f"{root}: neither predictions/tasks.json nor metadata/schema.json found")
    return notes


def import_lightly_sources(workspace: Workspace, source: str, lightly_dir: str | None, *,
                          allow_unmatched: bool = False) -> list[str]:
    """The ``framesift run`` hook: ``lightly_dir`` if given, else ``SOURCE/.lightly`` when the input is a local folder."""
    if lightly_dir:
        return sync_lightly_dir(workspace, lightly_dir, allow_unmatched=allow_unmatched)
    local = source[len("file://"):] if source.startswith("file://") else source
    if "://" in local or not Path(local).is_dir():
        return []
    return sync_lightly_dir(workspace, local, allow_unmatched=allow_unmatched, explicit=False)


def _stage_info(catalog: Catalog, key: str) -> str | None:
    return catalog.scalar("SELECT info FROM stages WHERE key = ?", (key,))
