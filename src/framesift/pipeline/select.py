"""Select stage: load what the config needs from the catalog, run the engine, record the run.

The engine (``framesift.select``) is pure; this module is the only place that turns catalog
rows into its arrays: frame table, embeddings, scores, predictions, metadata, similarity
queries, and the datapool masks (frames picked by earlier runs, frames already labeled).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from framesift.config.loader import Config
from framesift.config.selection import (
    NeedEmbeddings,
    NeedMetadata,
    NeedPredictions,
    NeedScore,
    NeedSimilarityQuery,
    required_inputs,
)
from framesift.errors import ConfigError, FramesiftError
from framesift.pipeline.frames import FrameTable, fill_from_nearest_embedded, load_frame_table
from framesift.pipeline.runs import create_run, finish_run, save_selection, update_run_stats
from framesift.select import PredictionArrays, SelectionInputs, SelectionResult, select
from framesift.store.catalog import Catalog
from framesift.store.embeddings import EmbeddingStore
from framesift.util.crashpoint import crash_point
from framesift.util.progress import bar
from framesift.video.naming import parse_frame_stem
from framesift.workspace import Workspace

log = logging.getLogger(__name__)


@dataclass
class SelectOutcome:
    run_id: int
    run_name: str
    result: SelectionResult
    table: FrameTable
    frame_ids: np.ndarray  # selected catalog frame ids, pick order
    stats: dict[str, Any] = field(default_factory=dict)


def run_selection(
    workspace: Workspace, config: Config, *, embedder_key: str | None, run_name: str | None = None,
    query_embedder: Any = None, extra_stats: dict[str, Any] | None = None, finish: bool = True,
) -> SelectOutcome:
    """Select frames per ``config`` and store the run; returns the outcome with the engine result.

    ``finish`` False leaves the run 'running' for the caller to complete (``runs.complete_run``)
    after later steps; a process killed before that leaves it to be taken over by the next run.
    """
    catalog = workspace.catalog
    start = time.perf_counter()
    table = load_frame_table(catalog)
    if len(table) == 0:
        raise FramesiftError(f"{workspace.root}: no indexed frames; ingest some readable videos first")
    needs = required_inputs(config.selection)
    corrupt = table.stats["uniform_row_ratio"] > config.worker.corruptness_check.corruption_threshold
    embeddings = None
    if any(isinstance(n, (NeedEmbeddings, NeedSimilarityQuery)) for n in needs):
        if embedder_key is None:
            raise ConfigError("framesift.embedder: the config uses EMBEDDINGS but no embedder is set")
        scratch = workspace.scratch_dir  # large matrices live in the page cache, not in RAM
        matrix = EmbeddingStore(workspace, embedder_key).load(table.frame_id, scratch_dir=scratch)
        if len(matrix) == 0:
            raise FramesiftError(
                f"{workspace.root}: no '{embedder_key}' embeddings yet; run `framesift embed` (or `framesift run`)"
            )
        if len(matrix) < len(table) and config.framesift.embed_fps is not None:
            embeddings = fill_from_nearest_embedded(table, matrix.frame_ids, matrix.vectors, scratch)
        else:
            if len(matrix) < len(table):
                log.warning("%d indexed frames have no '%s' embedding and are left out",
                            len(table) - len(matrix), embedder_key)
                keep = table.positions(matrix.frame_ids)
                table = table.subset(keep)
                corrupt = corrupt[keep]
            embeddings = matrix.vectors
    inputs = SelectionInputs(
        video_ids=table.video_id,
        frame_index=table.frame_index,
        time_s=table.time_s,
        shot_ids=table.shot_id,
        embeddings=embeddings,
    )
    for need in needs:
        if isinstance(need, NeedScore):
            inputs.scores[(need.task, need.score)] = load_scores(catalog, table, need.task, need.score)
        elif isinstance(need, NeedPredictions):
            inputs.predictions[need.task] = load_predictions(catalog, table, need.task)
        elif isinstance(need, NeedMetadata):
            inputs.metadata[need.key] = load_metadata(catalog, table, need.key)
        elif isinstance(need, NeedSimilarityQuery):
            inputs.similarity_queries[need.strategy_index] = similarity_query(
                workspace, table, embeddings, need, query_embedder
            )
    process_all = config.worker.datasource.process_all
    preselected = np.zeros(len(table), bool)
    if not process_all:
        preselected = previously_selected(catalog, table, config.framesift.datapool.seed_tag)
    labeled = labeled_mask(catalog, table) if config.framesift.datapool.exclude_labeled and not process_all else np.zeros(len(table), bool)
    inputs.preselected = preselected
    inputs.excluded = corrupt | labeled
    run_id, run_name = create_run(catalog, run_name or config.framesift.run_name, config.to_dict(), embedder_key)
    crash_point("select.run_created")
    try:
        with bar(desc="select", unit="pick") as progress:

            def report(done: int, total: int) -> None:
                progress.total = total
                progress.n = done
                progress.refresh()

            result = select(config.selection, inputs, progress=report)
    except BaseException:
        finish_run(catalog, run_id, {"error": "selection failed"}, status="failed")
        raise
    frame_ids = table.frame_id[result.indices]
    labels = list(result.objectives)
    objectives = [
        {label: float(result.objectives[label][i]) for label in labels} for i in range(len(result.indices))
    ]
    save_selection(catalog, run_id, frame_ids, objectives)
    crash_point("select.saved")
    stats = {
        "stop_reason": result.stop_reason,
        "n_input": int(result.n_input),
        "n_candidates": int(result.n_candidates),
        "n_selected": len(frame_ids),
        "filtered": result.filtered,
        "min_distance": result.min_distance,
        "corrupt_skipped": int(corrupt.sum()),
        "labeled_excluded": int(labeled.sum()),
        "preselected": int(preselected.sum()),
        "select_seconds": round(time.perf_counter() - start, 3),
        **(extra_stats or {}),
    }
    if finish:
        finish_run(catalog, run_id, stats)
    else:
        update_run_stats(catalog, run_id, **stats)
    return SelectOutcome(run_id, run_name, result, table, frame_ids, stats)


# -- input loaders -------------------------------------------------------------------------
def load_scores(catalog: Catalog, table: FrameTable, task: str, score: str) -> np.ndarray:
    rows = catalog.query("SELECT frame_id, value FROM scores WHERE task = ? AND name = ?", (task, score))
    if not rows:
        available = [f"{r['task']}/{r['name']}" for r in catalog.query("SELECT DISTINCT task, name FROM scores ORDER BY 1, 2")]
        raise ConfigError(
            f"selection_config: SCORES input {task}/{score}: no such scores in the catalog; available: "
            f"{', '.join(available) or 'none (run `framesift predict` or import predictions)'}"
        )
    values = np.full(len(table), np.nan)
    ids = np.array([r[0] for r in rows], np.int64)
    pos = table.positions(ids)
    ok = pos >= 0
    values[pos[ok]] = np.array([r[1] for r in rows], np.float64)[ok]
    return values


def load_predictions(catalog: Catalog, table: FrameTable, task: str) -> PredictionArrays:
    task_row = catalog.query_one("SELECT task_type, categories FROM tasks WHERE name = ?", (task,))
    if task_row is None:
        known = [r["name"] for r in catalog.query("SELECT name FROM tasks ORDER BY name")]
        raise ConfigError(
            f"selection_config: PREDICTIONS task {task!r} not found; known tasks: {', '.join(known) or 'none'} "
            "(run `framesift predict` or `framesift import-predictions`)"
        )
    categories = json.loads(task_row["categories"])
    column = {int(c["id"]): i for i, c in enumerate(categories)}
    counts = np.zeros((len(table), len(categories)), np.float64)
    has = np.zeros(len(table), bool)
    predicted = catalog.query("SELECT frame_id, probabilities FROM predicted_frames WHERE task = ?", (task,))
    if predicted:
        pos = table.positions(np.array([r[0] for r in predicted], np.int64))
        has[pos[pos >= 0]] = True
        if task_row["task_type"] == "classification":
            for p, row in zip(pos, predicted, strict=True):
                if p >= 0 and row[1]:
                    probs = np.asarray(json.loads(row[1]), np.float64)
                    counts[p, : len(probs)] = probs[: len(categories)]
    boxes = catalog.query("SELECT frame_id, category_id FROM predictions WHERE task = ?", (task,))
    if boxes:
        pos = table.positions(np.array([r[0] for r in boxes], np.int64))
        cols = np.array([column.get(int(r[1]), -1) for r in boxes])
        ok = (pos >= 0) & (cols >= 0)
        if task_row["task_type"] == "classification":
            empty = counts[pos[ok]].sum(axis=1) == 0  # no probabilities: one-hot of the predicted class
            np.add.at(counts, (pos[ok][empty], cols[ok][empty]), 1.0)
        else:
            np.add.at(counts, (pos[ok], cols[ok]), 1.0)
        has[pos[ok]] = True
    return PredictionArrays([c["name"] for c in categories], counts, has)


def load_metadata(catalog: Catalog, table: FrameTable, key: str) -> np.ndarray:
    builtin = table.builtin_metadata(key)
    if builtin is not None:
        return builtin
    rows = catalog.query(
        "SELECT video_id, frame_id, value_num, value_text, value_type FROM metadata WHERE key = ? "
        "ORDER BY frame_id IS NOT NULL",  # video-level first, frame-level overrides
        (key,),
    )
    if not rows:
        known = [r[0] for r in catalog.query("SELECT DISTINCT key FROM metadata ORDER BY key")]
        raise ConfigError(
            f"selection_config: METADATA key {key!r} not found; built-in keys: lightly.sharpness, lightly.luminance, "
            f"lightly.contrast, lightly.uniformRowRatio, video_name, time_s; imported keys: {', '.join(known) or 'none'}"
        )
    categorical = any(r["value_type"].startswith("CATEGORICAL") for r in rows)
    values = np.full(len(table), None, dtype=object) if categorical else np.full(len(table), np.nan)
    frame_rows = []
    for r in rows:
        value = r["value_text"] if categorical else r["value_num"]
        if r["frame_id"] is None:
            values[table.video_id == r["video_id"]] = value
        else:
            frame_rows.append((r["frame_id"], value))
    if frame_rows:  # one positions() call for all frame-level rows: each call sorts the whole table
        pos = table.positions(np.array([f for f, _ in frame_rows], np.int64))
        for p, (_, value) in zip(pos, frame_rows, strict=True):
            if p >= 0:
                values[p] = value
    return values


def similarity_query(
    workspace: Workspace, table: FrameTable, embeddings: np.ndarray | None, need: NeedSimilarityQuery, query_embedder: Any
) -> np.ndarray:
    assert embeddings is not None
    catalog = workspace.catalog
    label = f"selection_config: strategies[{need.strategy_index}] SIMILARITY"
    if need.tag_name:
        run = catalog.query_one("SELECT id FROM runs WHERE name = ?", (need.tag_name,))
        if run is None:
            raise ConfigError(f"{label}: tag_name {need.tag_name!r} is not a run/tag of this workspace")
        ids = np.array([r[0] for r in catalog.query("SELECT frame_id FROM selections WHERE run_id = ?", (run["id"],))], np.int64)
        pos = table.positions(ids)
        return np.asarray(embeddings[pos[pos >= 0]])
    vectors = []
    for name in need.frames or ():
        parsed = parse_frame_stem(name)
        if parsed is None:
            raise ConfigError(f"{label}: query frame {name!r} is not a frame name like video-0042-mp4")
        video, index, ext = parsed
        row = catalog.query_one(
            "SELECT f.id FROM frames f JOIN videos v ON v.id = f.video_id WHERE v.name = ? AND v.ext = ? AND f.frame_index = ?",
            (video, ext, index),
        )
        pos = table.positions(np.array([row[0]], np.int64))[0] if row else -1
        if pos < 0:
            raise ConfigError(f"{label}: query frame {name!r} is not an indexed frame with an embedding")
        vectors.append(np.asarray(embeddings[pos]))
    if need.images:
        if query_embedder is None:
            raise ConfigError(f"{label}: query images need an embedder")
        from PIL import Image

        width, height = query_embedder.input_size
        images = []
        for path in need.images:
            try:
                images.append(np.asarray(Image.open(path).convert("RGB").resize((width, height))))
            except OSError as err:
                raise ConfigError(f"{label}: query image {path}: cannot read ({err})") from err
        vectors.extend(query_embedder.embed(np.stack(images)))
    if not vectors:
        raise ConfigError(f"{label}: the query is empty; give tag_name, frames or images")
    return np.stack(vectors).astype(np.float32)


def previously_selected(catalog: Catalog, table: FrameTable, seed_tag: str | None) -> np.ndarray:
    if seed_tag:
        rows = catalog.query(
            "SELECT s.frame_id FROM selections s JOIN runs r ON r.id = s.run_id WHERE r.name = ?", (seed_tag,)
        )
        if not rows and catalog.query_one("SELECT 1 FROM runs WHERE name = ?", (seed_tag,)) is None:
            raise ConfigError(f"framesift.datapool.seed_tag: no run/tag named {seed_tag!r}")
    else:
        rows = catalog.query(
            "SELECT DISTINCT s.frame_id FROM selections s JOIN runs r ON r.id = s.run_id WHERE r.status = 'done'"
        )
    mask = np.zeros(len(table), bool)
    if rows:
        pos = table.positions(np.array([r[0] for r in rows], np.int64))
        mask[pos[pos >= 0]] = True
    return mask


def labeled_mask(catalog: Catalog, table: FrameTable) -> np.ndarray:
    rows = catalog.query("SELECT DISTINCT frame_id FROM labels")
    mask = np.zeros(len(table), bool)
    if rows:
        pos = table.positions(np.array([r[0] for r in rows], np.int64))
        mask[pos[pos >= 0]] = True
    return mask
