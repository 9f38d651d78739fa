"""Labeled examples for the small classifiers: labels, person/video groups, pixels, embeddings.

An example is a whole frame (``box_id`` 0) or one face box (``box_id`` = predictions.id).
Labels come from the app's ``annotations`` of a concept (box labels as-is; a frame label on
``--on faces`` applies to the frame's largest face) or from a CSV with columns
``video, frame_index, label`` and optionally ``face`` (box number in the frame, as in crop file
names) and ``group`` (a person key). Groups keep one person out of both sides of a split.
"""

from __future__ import annotations

import csv
import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from framesift.analytics import store
from framesift.analytics.augment import Augmenter
from framesift.analytics.faces import CropSpec, face_boxes, face_input, frame_input, require_task
from framesift.embed.base import Embedder
from framesift.errors import FramesiftError
from framesift.store.catalog import Catalog
from framesift.util.progress import bar
from framesift.video.extract import read_frames
from framesift.workspace import Workspace

log = logging.getLogger(__name__)

ON = ("frames", "faces")


@dataclass
class Examples:
    frame_id: np.ndarray  # (N,) int64
    box_id: np.ndarray  # (N,) int64, 0 for whole frames
    label: np.ndarray  # (N,) int64 in {0, 1}
    group: np.ndarray  # (N,) object: person / video key
    skipped: Counter = field(default_factory=Counter)  # reason -> count

    def __len__(self) -> int:
        return len(self.frame_id)

    def summary(self) -> str:
        text = (f"{len(self)} labeled examples ({int(self.label.sum())} positive) in "
                f"{len(set(self.group.tolist()))} groups")
        if self.skipped:
            text += "; skipped: " + ", ".join(f"{n} {reason}" for reason, n in sorted(self.skipped.items()))
        return text


def _check_on(on: str) -> None:
    if on not in ON:
        raise FramesiftError(f"--on {on}: use frames or faces")


def _largest_faces(catalog: Catalog, task: str, frame_ids: set[int], min_score: float) -> dict[int, int]:
    """frame id -> box id of its largest face."""
    out: dict[int, int] = {}
    videos = {int(r[0]) for r in catalog.query(
        f"SELECT DISTINCT video_id FROM frames WHERE id IN ({','.join(map(str, sorted(frame_ids)))})")} if frame_ids else set()
    for video_id in videos:
        for frame_id, boxes in face_boxes(catalog, task, video_id, min_score).items():
            if frame_id in frame_ids and boxes:
                out[frame_id] = max(boxes, key=lambda b: float(b.xywh[2] * b.xywh[3])).box_id
    return out


def concept_examples(catalog: Catalog, concept: str, *, on: str = "frames", task: str = "faces",
                     min_score: float = 0.0) -> Examples:
    """Examples from the app's labels of a concept (by name)."""
    _check_on(on)
    row = catalog.query_one("SELECT id FROM concepts WHERE name = ?", (concept,))
    if row is None:
        known = [r[0] for r in catalog.query("SELECT name FROM concepts ORDER BY name")]
        raise FramesiftError(f"--concept {concept!r}: no such concept; known: {', '.join(known) or 'none'} "
                             "(label frames in `framesift serve` or pass --labels FILE.csv)")
    rows = catalog.query("SELECT frame_id, box_id, value FROM annotations WHERE concept_id = ? ORDER BY frame_id, box_id",
                         (int(row[0]),))
    skipped: Counter = Counter()
    pairs: dict[tuple[int, int], int] = {}
    if on == "frames":
        for r in rows:
            if int(r[1]) == 0:
                pairs[(int(r[0]), 0)] = int(r[2])
            else:
                skipped["face labels (use --on faces)"] += 1
    else:
        require_task(catalog, task)
        frame_level = {int(r[0]): int(r[2]) for r in rows if int(r[1]) == 0}
        largest = _largest_faces(catalog, task, set(frame_level), min_score)
        for frame_id, value in frame_level.items():
            if frame_id in largest:
                pairs[(frame_id, largest[frame_id])] = value
            else:
                skipped["frame labels without a face"] += 1
        for r in rows:  # box labels win over a frame label on the same face
            if int(r[1]) != 0:
                pairs[(int(r[0]), int(r[1]))] = int(r[2])
    return _examples(pairs, skipped)


def _examples(pairs: dict[tuple[int, int], int], skipped: Counter, groups: list[str] | None = None) -> Examples:
    keys = list(pairs)
    return Examples(np.array([k[0] for k in keys], np.int64), np.array([k[1] for k in keys], np.int64),
                    np.array([pairs[k] for k in keys], np.int64),
                    np.array(groups if groups is not None else [""] * len(keys), dtype=object), skipped)


def csv_examples(catalog: Catalog, path: Path, *, on: str = "frames", task: str = "faces",
                 min_score: float = 0.0) -> Examples:
    """Examples from a labels CSV: video, frame_index, label (0/1) [, face] [, group]."""
    _check_on(on)
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            records = list(csv.DictReader(fh))
    except OSError as err:
        raise FramesiftError(f"--labels {path}: cannot read ({err.strerror})") from err
    if not records or not {"video", "frame_index", "label"} <= set(records[0]):
        raise FramesiftError(f"--labels {path}: needs a header with columns video, frame_index, label "
                             "(optional: face, group)")
    rows = store.videos(catalog)
    frame_of: dict[tuple[int, int], int] = {}
    skipped: Counter = Counter()
    pairs: dict[tuple[int, int], int] = {}
    groups: dict[tuple[int, int], str] = {}
    boxes_cache: dict[int, dict] = {}
    for line, record in enumerate(records, start=2):
        video = store.find_video(catalog, record["video"].strip(), rows)
        try:
            frame_index, value = int(record["frame_index"]), int(float(record["label"]))
        except ValueError as err:
            raise FramesiftError(f"--labels {path}:{line}: frame_index and label must be numbers") from err
        if value not in (0, 1):
            raise FramesiftError(f"--labels {path}:{line}: label {value} must be 0 or 1")
        if video.id not in {vid for vid, _ in frame_of}:
            for r in catalog.query("SELECT id, frame_index FROM frames WHERE video_id = ?", (video.id,)):
                frame_of[(video.id, int(r[1]))] = int(r[0])
        frame_id = frame_of.get((video.id, frame_index))
        if frame_id is None:
            skipped["rows of frames not indexed"] += 1
            continue
        box_id = 0
        if on == "faces":
            require_task(catalog, task)
            if video.id not in boxes_cache:
                boxes_cache[video.id] = face_boxes(catalog, task, video.id, min_score)
            faces = boxes_cache[video.id].get(frame_id, [])
            face = (record.get("face") or "").strip()
            chosen = ([b for b in faces if b.number == int(face)] if face
                      else sorted(faces, key=lambda b: -float(b.xywh[2] * b.xywh[3]))[:1])
            if not chosen:
                skipped["rows without that face"] += 1
                continue
            box_id = chosen[0].box_id
        pairs[(frame_id, box_id)] = value
        groups[(frame_id, box_id)] = (record.get("group") or "").strip()
    return _examples(pairs, skipped, [groups[k] for k in pairs])


def assign_groups(catalog: Catalog, examples: Examples, group_by: str) -> Examples:
    """Fill ``examples.group``: ``video``, ``group`` (the CSV column) or a metadata key (frame, else video)."""
    if group_by == "group":
        if (examples.group == "").any():
            raise FramesiftError("--group-by group: every labels CSV row needs a value in its group column")
        return examples
    if group_by == "video":
        rows = {int(r[0]): r[1] for r in catalog.query(
            "SELECT f.id, v.name FROM frames f JOIN videos v ON v.id = f.video_id")}
        examples.group = np.array([rows[int(f)] for f in examples.frame_id], dtype=object)
        return examples
    values: dict[tuple[int, int | None], str] = {}
    for r in catalog.query("SELECT video_id, frame_id, value_num, value_text FROM metadata WHERE key = ?", (group_by,)):
        values[(int(r[0]), None if r[1] is None else int(r[1]))] = str(r[3] if r[3] is not None else r[2])
    if not values:
        raise FramesiftError(f"--group-by {group_by}: no metadata key of that name; use video, group (labels CSV "
                             "column) or a metadata key holding a person id")
    video_of = {int(r[0]): int(r[1]) for r in catalog.query("SELECT id, video_id FROM frames")}
    out = []
    for frame_id in examples.frame_id.tolist():
        video_id = video_of[frame_id]
        value = values.get((video_id, frame_id), values.get((video_id, None)))
        if value is None:
            raise FramesiftError(f"--group-by {group_by}: frame {frame_id} has no value for that metadata key")
        out.append(value)
    examples.group = np.array(out, dtype=object)
    return examples


def load_pixels(workspace: Workspace, examples: Examples, *, on: str, spec: CropSpec,
                input_size: tuple[int, int]) -> np.ndarray:
    """(N, H, W, 3) uint8 inputs at the embedder's input size, decoded by seeking to each frame."""
    catalog = workspace.catalog
    width, height = input_size
    out = np.zeros((len(examples), height, width, 3), np.uint8)
    info = {int(r[0]): r for r in catalog.query(
        "SELECT f.id, f.video_id, f.frame_index, f.pts FROM frames f")}
    boxes = {int(r[0]): np.array(r[1:], np.float64) for r in catalog.query(
        "SELECT id, x, y, w, h FROM predictions WHERE x IS NOT NULL")} if on == "faces" else {}
    by_video: dict[int, dict[int, list[int]]] = {}
    for position, frame_id in enumerate(examples.frame_id.tolist()):
        row = info[frame_id]
        by_video.setdefault(int(row[1]), {}).setdefault(int(row[2]), []).append(position)
    paths = {v.id: v.path for v in store.videos(catalog)}
    with bar(total=len(examples), desc="decode labeled") as progress:
        for video_id, wanted in by_video.items():
            targets = [(fi, info[int(examples.frame_id[pos[0]])][3]) for fi, pos in wanted.items()]
            size = input_size if on == "frames" else None
            for frame_index, image in read_frames(paths[video_id], targets, size=size):
                for position in wanted[frame_index]:
                    if on == "frames":
                        out[position] = frame_input(image, spec)
                    else:
                        box = boxes.get(int(examples.box_id[position]))
                        crop = None if box is None else face_input(image, box, spec, input_size)
                        if crop is not None:
                            out[position] = crop
                    progress.update(1)
    return out


def embed_examples(embedder: Embedder, images: np.ndarray, *, augmenter: Augmenter | None = None, n_augment: int = 0,
                   seed: int = 0, batch_size: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """(N, d) embeddings of the inputs and (N, n_augment, d) of augmented copies of each."""
    rng = np.random.default_rng(seed)
    n = len(images)
    copies = n_augment if augmenter is not None else 0
    batches = [images] + [np.stack([augmenter(img, rng) for img in images]) for _ in range(copies)] if n else []
    with bar(total=n * (1 + copies), desc=f"embed {embedder.key}") as progress:
        vectors = []
        for batch in batches:
            parts = []
            for start in range(0, n, batch_size):
                parts.append(embedder.embed(np.ascontiguousarray(batch[start : start + batch_size])))
                progress.update(len(parts[-1]))
            vectors.append(np.concatenate(parts))
    if not vectors:
        return np.zeros((0, embedder.dim), np.float32), np.zeros((0, copies, embedder.dim), np.float32)
    base = vectors[0].astype(np.float32)
    augmented = np.stack(vectors[1:], axis=1).astype(np.float32) if copies else np.zeros((n, 0, base.shape[1]),
                                                                                         np.float32)
    return base, augmented


@dataclass
class TrainingData:
    examples: Examples
    base: np.ndarray  # (N, d)
    augmented: np.ndarray  # (N, copies, d)


def labeled_examples(catalog: Catalog, *, concept: str | None = None, labels_csv: Path | None = None,
                     on: str = "frames", group_by: str = "video", task: str = "faces",
                     min_score: float = 0.0) -> Examples:
    """Labels (from the app's concept or a CSV) with their groups; checked before any model loads."""
    if (concept is None) == (labels_csv is None):
        raise FramesiftError("give --concept NAME (labels from the app) or --labels FILE.csv, not both")
    if concept is not None:
        examples = concept_examples(catalog, concept, on=on, task=task, min_score=min_score)
    else:
        assert labels_csv is not None
        examples = csv_examples(catalog, labels_csv, on=on, task=task, min_score=min_score)
    if not len(examples):
        raise FramesiftError(f"no usable labels ({examples.summary()})")
    return assign_groups(catalog, examples, group_by)


def training_data(workspace: Workspace, examples: Examples, embedder: Embedder, *, on: str = "frames",
                  spec: CropSpec | None = None, augmenter: Augmenter | None = None, n_augment: int = 0,
                  seed: int = 0, batch_size: int = 32) -> TrainingData:
    """Pixels -> embeddings (plus augmented copies) of the examples, ready for ``classifier``."""
    images = load_pixels(workspace, examples, on=on, spec=spec or CropSpec(), input_size=embedder.input_size)
    base, augmented = embed_examples(embedder, images, augmenter=augmenter, n_augment=n_augment, seed=seed,
                                     batch_size=batch_size)
    return TrainingData(examples, base, augmented)
