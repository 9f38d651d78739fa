"""Train and evaluate an ultralytics YOLO detector on the labeled frames of a workspace.

The dataset is written with framesift's own YOLO writer (``framesift.export.yolo``): one
``train/`` and one ``val/`` folder (images hard-linked from ``WORKSPACE/frames``, labels from the
catalog's ``labels`` table) and a ``data.yaml`` naming both. Frames labeled as empty
(``__empty__``) become background images.

framesift never downloads anything here: the model is a local ``.pt`` or an architecture
``.yaml`` (random weights); plots (which fetch a font) and the AMP check (which fetches a model)
are off. ultralytics changes process-wide PyTorch settings while training (thread count,
deterministic algorithms); they are restored afterwards.
"""

from __future__ import annotations

import logging
import shutil
import warnings
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from PIL import Image

from framesift.errors import FramesiftError
from framesift.export.files import place_images
from framesift.export.model import EMPTY_FRAME, Box, Category, ExportFrame, ExportSet
from framesift.export.yolo import write_yolo
from framesift.store.catalog import Catalog
from framesift.util.atomic import write_text, write_with
from framesift.video.decode import VideoError
from framesift.video.extract import read_frames
from framesift.video.naming import frame_file_name
from framesift.workspace import Workspace

log = logging.getLogger(__name__)

DATA_YAML = "data.yaml"


@dataclass
class LabeledFrame:
    frame_id: int
    boxes: list[tuple[str, float, float, float, float]]  # (category, x, y, w, h) in frame pixels


def labeled_frames(catalog: Catalog) -> dict[int, LabeledFrame]:
    """Every frame with a box label or an 'empty' label (frame-level tags alone do not train a detector)."""
    frames: dict[int, LabeledFrame] = {}
    for r in catalog.query("SELECT frame_id, category, x, y, w, h FROM labels ORDER BY frame_id, id"):
        fid = int(r[0])
        if r[1] == EMPTY_FRAME:
            frames.setdefault(fid, LabeledFrame(fid, []))
        elif r[2] is not None:
            frames.setdefault(fid, LabeledFrame(fid, [])).boxes.append((str(r[1]), r[2], r[3], r[4], r[5]))
    return frames


def label_classes(frames: dict[int, LabeledFrame], known: Sequence[str] = ()) -> list[str]:
    """``known`` classes first (their indices stay put across rounds), then new ones sorted."""
    names = list(known)
    names += sorted({b[0] for f in frames.values() for b in f.boxes} - set(names))
    return names


def write_dataset(workspace: Workspace, folder: Path, frames: dict[int, LabeledFrame], train_ids: Sequence[int],
                  val_ids: Sequence[int], classes: Sequence[str]) -> Path:
    """YOLO dataset of the labeled frames: folder/train, folder/val, folder/data.yaml; returns data.yaml."""
    export_frames = frame_files(workspace, [*train_ids, *val_ids])
    index = {name: i for i, name in enumerate(classes)}
    categories = [Category(i, name) for i, name in enumerate(classes)]
    for split, ids in (("train", train_ids), ("val", val_ids)):
        if (folder / split).exists():
            shutil.rmtree(folder / split)  # a dataset from an earlier attempt may hold other frames
        chosen = []
        for fid in ids:
            frame = export_frames[int(fid)]
            frame.boxes = [Box(index[c], c, float(x), float(y), float(w), float(h)) for c, x, y, w, h in frames[int(fid)].boxes]
            chosen.append(frame)
        chosen.sort(key=lambda f: f.file_name)
        export = ExportSet(split, workspace.root, None, categories, chosen)
        place_images(export, folder / split)
        write_yolo(export, folder / split)
    data = {"path": str(folder.resolve()), "train": "train/images", "val": "val/images",
            "nc": len(classes), "names": dict(enumerate(classes))}
    write_text(folder / DATA_YAML, yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    return folder / DATA_YAML


def frame_files(workspace: Workspace, frame_ids: Sequence[int]) -> dict[int, ExportFrame]:
    """ExportFrame of each frame, its PNG in WORKSPACE/frames (decoded from the video when missing)."""
    rows = []
    ids = sorted({int(i) for i in frame_ids})
    for lo in range(0, len(ids), 500):
        chunk = ids[lo:lo + 500]
        rows += workspace.catalog.query(
            "SELECT f.id, f.frame_index, f.pts, f.time_s, v.name, v.ext, v.path, v.n_frames, v.id AS video_id "
            f"FROM frames f JOIN videos v ON v.id = f.video_id WHERE f.id IN ({','.join('?' * len(chunk))})", chunk)
    missing: dict[str, list[Any]] = defaultdict(list)
    paths = {}
    for r in rows:
        path = workspace.frames_dir / frame_file_name(r["name"], r["ext"], r["frame_index"], r["n_frames"])
        paths[int(r["id"])] = path
        if not path.exists():
            missing[r["path"]].append(r)
    for video_path, todo in missing.items():
        by_index = {int(r["frame_index"]): r for r in todo}
        try:
            for index, image in read_frames(video_path, [(int(r["frame_index"]), r["pts"]) for r in todo]):
                write_with(paths[int(by_index[index]["id"])],
                           lambda tmp, img=image: Image.fromarray(img).save(tmp, format="PNG", compress_level=3))
        except VideoError as err:
            raise FramesiftError(f"labeled frames of {video_path} cannot be decoded for training: {err}") from err
    out = {}
    for r in rows:
        path = paths[int(r["id"])]
        with Image.open(path) as image:
            width, height = image.size
        out[int(r["id"])] = ExportFrame(int(r["id"]), r["name"], r["ext"], int(r["frame_index"]),
                                        None if r["pts"] is None else int(r["pts"]), float(r["time_s"]),
                                        path.name, path, width, height)
    absent = set(ids) - set(out)
    if absent:
        raise FramesiftError(f"{len(absent)} labeled frames are not in the catalog any more (first id {min(absent)})")
    return out


# -- ultralytics ------------------------------------------------------------------------------------
@contextmanager
def ultralytics_session() -> Iterator[Any]:
    """ultralytics, offline, with PyTorch's process-wide settings restored afterwards."""
    import torch

    from framesift.predict.yolo import _import_ultralytics

    threads = torch.get_num_threads()
    deterministic = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    cudnn = (torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark)
    try:
        with warnings.catch_warnings():  # its Ray Tune callback warns outside a Tune session
            warnings.filterwarnings("ignore", message=".*get_trial_id.*")
            yield _import_ultralytics()
    finally:
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(deterministic, warn_only=warn_only)
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = cudnn


@dataclass
class TrainSettings:
    model: str = "yolov8n.yaml"  # a local .pt (fine-tuned) or an architecture .yaml (random weights)
    epochs: int = 10
    imgsz: int = 640
    batch: int = 16
    device: str | None = None  # None: ultralytics' choice (first GPU, else CPU)
    seed: int = 0
    workers: int = 0


def train_yolo(settings: TrainSettings, data_yaml: Path, out_dir: Path) -> Path:
    """Train; returns the final epoch's weights (``out_dir/train/weights/last.pt``)."""
    from framesift.predict.yolo import resolve_model_path

    model_path = resolve_model_path(settings.model)
    from_yaml = model_path.endswith((".yaml", ".yml"))
    args: dict[str, Any] = {
        "data": str(data_yaml), "epochs": settings.epochs, "imgsz": settings.imgsz, "batch": settings.batch,
        "workers": settings.workers, "seed": settings.seed, "deterministic": True, "project": str(out_dir),
        "name": "train", "exist_ok": True, "plots": False, "amp": False, "val": False, "pretrained": not from_yaml,
        "verbose": False,
    }
    if settings.device:
        args["device"] = settings.device
    with ultralytics_session() as ultralytics:
        model = ultralytics.YOLO(model_path)
        try:
            model.train(**args)
        except (FileNotFoundError, RuntimeError, ValueError, KeyError) as err:
            raise FramesiftError(f"YOLO training on {data_yaml} failed: {err}") from err
        last = Path(model.trainer.last)
    if not last.is_file():
        raise FramesiftError(f"YOLO training wrote no weights under {out_dir}")
    return last


def evaluate_yolo(weights: Path, data_yaml: Path, settings: TrainSettings, out_dir: Path) -> dict[str, float]:
    """ultralytics val on the dataset's ``val`` split: precision, recall, mAP50, mAP50-95."""
    args: dict[str, Any] = {"data": str(data_yaml), "split": "val", "imgsz": settings.imgsz, "batch": settings.batch,
                            "workers": settings.workers, "plots": False, "project": str(out_dir), "name": "val",
                            "exist_ok": True, "verbose": False}
    if settings.device:
        args["device"] = settings.device
    with ultralytics_session() as ultralytics:
        metrics = ultralytics.YOLO(str(weights)).val(**args)
    values = dict(metrics.results_dict)
    return {
        "precision": float(values.get("metrics/precision(B)", 0.0)),
        "recall": float(values.get("metrics/recall(B)", 0.0)),
        "mAP50": float(values.get("metrics/mAP50(B)", 0.0)),
        "mAP50-95": float(values.get("metrics/mAP50-95(B)", 0.0)),
    }
