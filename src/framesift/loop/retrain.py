"""The retrain loop for detection: select → export → labels → train YOLO → predict → select again.

Each round lives in ``WORKSPACE/loop/round-<k>/``: ``round.json`` (its selection run, label
counts, dataset, model, metrics, timings, one entry per finished stage), ``export/`` (the
hand-off of its frames, with the previous round's predictions as pre-annotations), ``dataset/``
(the YOLO training set: every labeled frame so far, minus the held-out ones), ``model.pt`` and
``metrics.json`` (ultralytics val on the held-out split). A finished stage or round is skipped on
rerun, so a killed loop continues where it stopped, and a human-labeled loop is the same command
run again after ``framesift import-labels``.

Held-out split: with an oracle, ``val_frames`` frames evenly spread over the ground truth are
labeled before round 1 (``loop/val/``) and never selected; the metrics of all rounds are on the
same frames. Without an oracle, a fixed fraction of the labeled frames (chosen by a hash of the
frame id, so a frame never changes side) is held out.

Selection: round 1 uses ``config``, later rounds ``next_config`` (default: the same). Every round
excludes labeled frames and frames picked by earlier runs (datapool), so no frame is picked twice.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from framesift.config.loader import Config, load_config
from framesift.config.selection import NeedEmbeddings, NeedSimilarityQuery, required_inputs
from framesift.errors import FramesiftError
from framesift.loop.oracle import Oracle, frame_rows
from framesift.loop.train_yolo import (
    TrainSettings,
    evaluate_yolo,
    label_classes,
    labeled_frames,
    train_yolo,
    write_dataset,
)
from framesift.util.atomic import write_json
from framesift.workspace import Workspace

log = logging.getLogger(__name__)

LOOP_DIR = "loop"
ROUND_FILE = "round.json"
STATE_FILE = "state.json"
VAL_SOURCE = "oracle:val"
STAGES = ("select", "export", "labels", "train", "predict")


@dataclass
class LoopOptions:
    rounds: int = 3
    train: TrainSettings = field(default_factory=TrainSettings)
    task: str = "loop"  # prediction task the round models write (SCORES inputs can use it)
    run_prefix: str = "loop"  # selection runs are <prefix>-r<k>
    export_format: str = "coco"
    label_names: tuple[str, ...] = ()  # label names for CVAT / Label Studio hand-offs before any model exists
    val_frames: int = 50  # oracle mode: held-out GT frames
    val_fraction: float = 0.2  # human mode: share of labeled frames held out
    conf: float = 0.1  # prediction confidence floor (low: uncertain boxes matter for selection)
    predict_stride: int | None = None  # predict every k-th indexed frame (default: all)
    partial_labels: bool = False  # human mode: go on when some (not all) frames of a round are labeled


def default_configs(per_round: int, task: str, framesift: dict[str, Any] | None = None) -> tuple[Config, Config]:
    """Round 1: DIVERSITY on embeddings; later rounds: DIVERSITY weighted by the model's uncertainty."""
    diversity = {"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY"}}
    uncertainty = {"input": {"type": "SCORES", "task": task, "score": "objectness_least_confidence"},
                   "strategy": {"type": "WEIGHTS"}}
    section = {"framesift": framesift} if framesift else {}
    first = load_config({"selection_config": {"n_samples": per_round, "strategies": [diversity]}, **section})
    later = load_config({"selection_config": {"n_samples": per_round, "strategies": [diversity, uncertainty]},
                         **section})
    return first, later


@dataclass
class LoopSummary:
    workspace: Path
    rounds: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    waiting: str | None = None  # set when the loop stopped for human labels

    def lines(self) -> list[str]:
        out = [f"loop: {self.workspace / LOOP_DIR}"]
        out.extend(f"  note: {n}" for n in self.notes)
        for r in self.rounds:
            sel, train = r.get("select", {}), r.get("train", {})
            metrics = train.get("metrics") or {}
            line = f"round {r['round']}: {sel.get('run')} selected {sel.get('n_selected', 0)} frames"
            if "labels" in r:
                line += f", {r['labels'].get('labeled', 0)} labeled"
            if train:
                line += (f"; trained on {train['train_frames']} frames, held-out {train['val_frames']}: "
                         f"mAP50 {metrics.get('mAP50', 0):.3f}, mAP50-95 {metrics.get('mAP50-95', 0):.3f}")
            out.append(line + f" [{r.get('status')}]")
        if self.waiting:
            out.append(self.waiting)
        return out


class RetrainLoop:
    """Runs the rounds of one workspace; construct, then ``run()``."""

    def __init__(self, workspace: Workspace, config: Config, options: LoopOptions, *, next_config: Config | None = None,
                 oracle: Oracle | None = None, embedder_key: str | None = None,
                 echo: Callable[[str], None] | None = None):
        self.workspace = workspace
        self.configs = (_loop_config(config), _loop_config(next_config or config))
        self.options = options
        self.oracle = oracle
        self.embedder_key = embedder_key
        self.echo = echo or log.info
        self.root = workspace.root / LOOP_DIR
        self.root.mkdir(parents=True, exist_ok=True)

    # -- state ------------------------------------------------------------------------------------
    def round_dir(self, k: int) -> Path:
        return self.root / f"round-{k}"

    def _read(self, path: Path) -> dict[str, Any] | None:
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def _state(self) -> dict[str, Any]:
        return self._read(self.root / STATE_FILE) or {}

    def _save_state(self, **values: Any) -> None:
        write_json(self.root / STATE_FILE, {**self._state(), **values})

    # -- the loop ---------------------------------------------------------------------------------
    def run(self) -> LoopSummary:
        summary = LoopSummary(self.workspace.root)
        if self.oracle is not None:
            self._prepare_val(summary)
        for k in range(1, self.options.rounds + 1):
            record = self._read(self.round_dir(k) / ROUND_FILE) or {"round": k, "status": "running"}
            if record.get("status") != "done":
                record = self._run_round(k, record, summary)
            summary.rounds.append(record)
            if record.get("status") != "done":
                break
        self._save_state(rounds=[{"round": r["round"], "status": r.get("status"),
                                  "run": r.get("select", {}).get("run"),
                                  "metrics": r.get("train", {}).get("metrics")} for r in summary.rounds])
        return summary

    def _run_round(self, k: int, record: dict[str, Any], summary: LoopSummary) -> dict[str, Any]:
        folder = self.round_dir(k)
        folder.mkdir(parents=True, exist_ok=True)
        record["status"] = "running"
        timings = record.setdefault("timings", {})
        for stage in STAGES:
            if stage in record:
                continue
            began = time.perf_counter()
            self.echo(f"round {k}: {stage}")
            result = getattr(self, f"_{stage}")(k, record, folder, summary)
            if result is None:  # stopped: no candidates left, or waiting for labels
                write_json(folder / ROUND_FILE, record)
                return record
            record[stage] = result
            timings[stage] = round(time.perf_counter() - began, 3)
            write_json(folder / ROUND_FILE, record)
        record["status"] = "done"
        write_json(folder / ROUND_FILE, record)
        return record

    # -- stages -------------------------------------------------------------------------------------
    def _select(self, k: int, record: dict[str, Any], folder: Path, summary: LoopSummary) -> dict[str, Any] | None:
        from framesift.pipeline.extract import extract_run
        from framesift.pipeline.runs import write_selection_files
        from framesift.pipeline.select import run_selection

        catalog = self.workspace.catalog
        name = f"{self.options.run_prefix}-r{k}"
        run = catalog.query_one("SELECT * FROM runs WHERE name = ?", (name,))
        if run is None or run["status"] != "done":  # a finished run survives a crash before round.json was written
            config = self.configs[0 if k == 1 else 1]
            run_selection(self.workspace, config, embedder_key=self.embedder_key, run_name=name)
            run = catalog.query_one("SELECT * FROM runs WHERE name = ?", (name,))
        frame_ids = [int(r[0]) for r in catalog.query("SELECT frame_id FROM selections WHERE run_id = ? ORDER BY rank",
                                                      (run["id"],))]
        if not frame_ids:
            record["status"] = "stopped"
            summary.notes.append(f"round {k}: the selection picked no frames (nothing left to label); loop stopped")
            return None
        extract_run(self.workspace, int(run["id"]))
        write_selection_files(self.workspace, run)
        stats = json.loads(run["stats"] or "{}")
        return {"run": name, "n_selected": len(frame_ids), "frame_ids": frame_ids,
                "stop_reason": stats.get("stop_reason"), "run_dir": str(self.workspace.run_dir(name))}

    def _export(self, k: int, record: dict[str, Any], folder: Path, summary: LoopSummary) -> dict[str, Any]:
        from framesift.export.exporter import export_run
        from framesift.pipeline.runs import get_run

        run = get_run(self.workspace.catalog, record["select"]["run"])
        has_task = self.workspace.catalog.query_one("SELECT 1 FROM tasks WHERE name = ?", (self.options.task,))
        result = export_run(self.workspace, run, self.options.export_format, out_dir=folder / "export",
                            task=self.options.task if has_task else None, predictions=bool(has_task),
                            labels=tuple(self.oracle.truth.categories) if self.oracle else self.options.label_names)
        return {"format": self.options.export_format, "dir": str(result.out_dir), "images": len(result.export.frames),
                "pre_annotations": result.export.n_boxes}

    def _labels(self, k: int, record: dict[str, Any], folder: Path, summary: LoopSummary) -> dict[str, Any] | None:
        frame_ids = record["select"]["frame_ids"]
        catalog = self.workspace.catalog
        if self.oracle is not None:
            result = self.oracle.label(catalog, frame_rows(catalog, frame_ids), folder / "labels" / "oracle.json",
                                       source=f"oracle:round-{k}")
            if result.not_covered:
                summary.notes.append(f"round {k}: {result.not_covered} selected frames are not in the ground truth "
                                     "and stay unlabeled")
            return result.record()
        labeled = _labeled_ids(catalog)
        missing = [fid for fid in frame_ids if fid not in labeled]
        if missing and not (self.options.partial_labels and len(missing) < len(frame_ids)):
            record["status"] = "waiting for labels"
            export_dir = record["export"]["dir"]
            summary.waiting = (
                f"round {k}: {len(missing)} of {len(frame_ids)} frames have no labels yet. Label {export_dir}, "
                f"import them with `framesift import-labels FILE --workspace {self.workspace.root}`, then run the "
                "same `framesift loop` command again (--partial-labels: go on once some are labeled)"
            )
            return None
        return {"requested": len(frame_ids), "labeled": len(frame_ids) - len(missing), "not_covered": len(missing),
                "source": "import-labels"}

    def _train(self, k: int, record: dict[str, Any], folder: Path, summary: LoopSummary) -> dict[str, Any]:
        frames = labeled_frames(self.workspace.catalog)
        val = self._val_ids(frames)
        train_ids = sorted(set(frames) - set(val))
        if not train_ids:
            raise FramesiftError(f"round {k}: no labeled frames to train on (outside the held-out split)")
        held_out = sorted(set(frames) & set(val))
        if not held_out:
            summary.notes.append(f"round {k}: no held-out frames; metrics are on the training frames")
            held_out = train_ids
        known = self._state().get("classes") or (self.oracle.truth.categories if self.oracle else [])
        classes = label_classes(frames, known)
        if not classes:
            raise FramesiftError(f"round {k}: the labeled frames hold no boxes; a detector needs at least one")
        self._save_state(classes=classes)
        data_yaml = write_dataset(self.workspace, folder / "dataset", frames, train_ids, held_out, classes)
        settings = self.options.train
        last = train_yolo(settings, data_yaml, folder / "ultralytics")
        model = folder / "model.pt"
        shutil.copyfile(last, model)
        metrics = evaluate_yolo(model, data_yaml, settings, folder / "ultralytics")
        write_json(folder / "metrics.json", {"round": k, **metrics, "train_frames": len(train_ids),
                                             "val_frames": len(held_out)})
        return {"model": str(model), "dataset": str(data_yaml), "classes": classes, "train_frames": len(train_ids),
                "val_frames": len(held_out), "boxes": sum(len(frames[i].boxes) for i in train_ids),
                "settings": dataclasses.asdict(settings), "metrics": metrics}

    def _predict(self, k: int, record: dict[str, Any], folder: Path, summary: LoopSummary) -> dict[str, Any]:
        from framesift.predict.base import get_predictor
        from framesift.predict.video import predict_videos

        settings = self.options.train
        options = {"conf": self.options.conf, "imgsz": settings.imgsz}
        if settings.device:
            options["device"] = settings.device
        predictor = get_predictor(record["train"]["model"], **options)
        result = predict_videos(self.workspace, predictor, task=self.options.task, replace=True,
                                frame_stride=self.options.predict_stride)
        return {"task": self.options.task, "frames": result.frames, "boxes": result.boxes, "scores": result.scores}

    # -- held-out split -----------------------------------------------------------------------------
    def _prepare_val(self, summary: LoopSummary) -> None:
        """Oracle mode: label ``val_frames`` GT frames, evenly spread, before the first round (once)."""
        assert self.oracle is not None
        state = self._state()
        if "val_frame_ids" in state:
            return
        catalog = self.workspace.catalog
        ids = [int(r[0]) for r in catalog.query(
            "SELECT f.id FROM frames f JOIN videos v ON v.id = f.video_id WHERE v.status = 'ingested' "
            "ORDER BY v.id, f.frame_index")]
        covered = [r.frame_id for r in self.oracle.covered(frame_rows(catalog, ids))]
        count = min(self.options.val_frames, len(covered) // 2)
        picks = [] if count <= 0 else [covered[i] for i in np.unique(np.linspace(0, len(covered) - 1, count).round().astype(int))]
        if picks:
            result = self.oracle.label(catalog, frame_rows(catalog, picks), self.root / "val" / "oracle.json",
                                       source=VAL_SOURCE)
            summary.notes.append(f"held-out: {result.labeled} ground-truth frames labeled as {VAL_SOURCE}, never selected")
        self._save_state(val_frame_ids=picks)

    def _val_ids(self, frames: dict[int, Any]) -> list[int]:
        if self.oracle is not None:
            return list(self._state().get("val_frame_ids", []))
        fraction = self.options.val_fraction
        return [fid for fid in frames if ((fid * 2654435761) % 2**32) / 2**32 < fraction]


def _labeled_ids(catalog: Any) -> set[int]:
    return {int(r[0]) for r in catalog.query("SELECT DISTINCT frame_id FROM labels")}


def _loop_config(config: Config) -> Config:
    """The loop never re-picks a labeled frame or a frame of an earlier round: datapool on, labeled excluded."""
    datapool = config.framesift.datapool.model_copy(update={"exclude_labeled": True})
    framesift = config.framesift.model_copy(update={"datapool": datapool, "run_name": None})
    datasource = config.worker.datasource.model_copy(update={"process_all": False})
    worker = config.worker.model_copy(update={"datasource": datasource})
    return dataclasses.replace(config, framesift=framesift, worker=worker)


def prepare_workspace(workspace: Workspace, config: Config, next_config: Config | None, source: str | None,
                      notes: list[str]) -> str | None:
    """Ingest ``source`` (when given) and embed what the selection configs need; returns the embedding key."""
    from framesift.embed import get_embedder
    from framesift.pipeline.embed import embed_videos
    from framesift.pipeline.run import RunSummary, _embedder_options, ingest_input
    from framesift.store.embeddings import embedding_key

    if source is not None:
        summary = RunSummary(workspace.root)
        ingest_input(workspace, source, config, summary)
        notes.extend(summary.lines()[1:-1])
    if not workspace.catalog.scalar("SELECT COUNT(*) FROM videos WHERE status = 'ingested'"):
        raise FramesiftError(f"{workspace.root}: no ingested videos; pass --input VIDEOS")
    needs = required_inputs(config.selection) | (required_inputs(next_config.selection) if next_config else set())
    if not any(isinstance(n, (NeedEmbeddings, NeedSimilarityQuery)) for n in needs):
        return None
    if config.worker.enable_training:
        from framesift.train.ssl import fine_tuned_config

        config = fine_tuned_config(workspace, config, notes)
    embedder = get_embedder(config.framesift.embedder, **_embedder_options(config))
    result = embed_videos(workspace, embedder, batch_size=config.framesift.embed_batch_size,
                          embed_fps=config.framesift.embed_fps, chunk_frames=config.framesift.embed_chunk_frames)
    if result.embedded_frames:
        notes.append(f"embeddings ({result.model}): {result.embedded_frames} frames embedded now")
    return embedding_key(embedder.key, config.framesift.embed_fps)
