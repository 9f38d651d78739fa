"""`framesift run`: ingest -> embed -> select -> extract -> selection files (-> report).

Each stage skips what an earlier call finished, so rerunning after a crash or after adding a
video does only the missing work.
"""

from __future__ import annotations

import importlib.util
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from framesift.config.loader import Config
from framesift.embed import get_embedder
from framesift.pipeline.crops import write_crops
from framesift.pipeline.embed import EmbedSummary, embed_videos
from framesift.pipeline.extract import ExtractSummary, extract_run
from framesift.pipeline.ingest import IngestSummary, ingest_videos
from framesift.pipeline.predictions_import import import_lightly_sources
from framesift.pipeline.runs import complete_run, get_run, update_run_stats, write_selection_files
from framesift.pipeline.select import SelectOutcome, run_selection
from framesift.store.embeddings import embedding_key
from framesift.store.videos import SamplingKey, register_videos
from framesift.video.discover import discover_videos
from framesift.workspace import Workspace

log = logging.getLogger(__name__)


@dataclass
class RunSummary:
    workspace: Path
    videos_found: int = 0
    notes: list[str] = field(default_factory=list)
    ingest: IngestSummary | None = None
    embed: EmbedSummary | None = None
    selection: SelectOutcome | None = None
    extract: ExtractSummary | None = None
    run_dir: Path | None = None
    timings: dict[str, float] = field(default_factory=dict)
    report_files: list[Path] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The human summary printed at the end of a run."""
        out = [f"workspace: {self.workspace}"]
        if self.ingest is not None:
            ing = self.ingest
            out.append(
                f"videos: {self.videos_found} found, {len(ing.ingested)} ingested now, {len(ing.skipped)} already done, "
                f"{len(ing.failed)} skipped as unreadable; {ing.frames_indexed} frames indexed now"
            )
            out.extend(f"  skipped: {reason}" for reason in ing.failed.values())
            out.extend(f"  warning: {path}: {reason}" for path, reason in ing.warnings.items())
        out.extend(f"  note: {note}" for note in self.notes)
        if self.embed is not None:
            out.append(
                f"embeddings ({self.embed.model}): {self.embed.embedded_frames} frames embedded now, "
                f"{self.embed.videos_skipped} videos already done"
            )
            out.extend(f"  skipped: {reason}" for reason in self.embed.failed.values())
        if self.selection is not None:
            stats = self.selection.stats
            out.append(
                f"selection {self.selection.run_name}: {stats['n_selected']} of {stats['n_input']} frames "
                f"({stats['stop_reason']}); {stats['corrupt_skipped']} blank/corrupt frames skipped, "
                f"{stats['preselected']} picked by earlier runs, {stats['labeled_excluded']} labeled frames excluded"
            )
        if self.extract is not None:
            out.append(f"frames: {self.extract.written} PNGs written, {self.extract.existing} already there")
            out.extend(f"  failed: {reason}" for reason in self.extract.failed.values())
        if self.run_dir is not None:
            out.append(f"results: {self.run_dir / 'selection.json'}")
        out.extend(f"report: {path}" for path in self.report_files)
        out.append("time: " + ", ".join(f"{k} {v:.1f}s" for k, v in self.timings.items()))
        return out


def ingest_input(workspace: Workspace, source: str, config: Config, summary: RunSummary) -> list[int]:
    settings = config.framesift
    files = discover_videos(source)
    summary.videos_found = len(files)
    ids, notes = register_videos(workspace.catalog, files, SamplingKey(settings.frame_stride, settings.fps))
    summary.notes.extend(notes)
    start = time.perf_counter()
    if settings.engine == "ray":
        from framesift.distributed.ray_engine import ingest_stage

        summary.ingest = ingest_stage(workspace.catalog, ids, settings)
    else:
        summary.ingest = ingest_videos(workspace.catalog, ids, frame_stride=settings.frame_stride, fps=settings.fps)
    summary.timings["ingest"] = time.perf_counter() - start
    return ids


def run_pipeline(source: str, workspace_path: str | Path, config: Config, *, report: bool = True) -> RunSummary:
    workspace = Workspace.open(workspace_path)
    summary = RunSummary(workspace.root)
    settings = config.framesift
    ingest_input(workspace, source, config, summary)
    summary.notes.extend(import_lightly_sources(workspace, source, settings.lightly_dir,
                                                allow_unmatched=settings.allow_unmatched))

    if config.worker.enable_training:  # LightlyOne's enable_training: fine-tune on these frames, embed with it
        from framesift.train.ssl import fine_tuned_config

        config = fine_tuned_config(workspace, config, summary.notes, summary.timings)
        settings = config.framesift
    start = time.perf_counter()
    embedder = get_embedder(settings.embedder, **_embedder_options(config))
    if settings.engine == "ray":
        from framesift.distributed.ray_engine import embed_stage

        summary.embed = embed_stage(workspace, embedder, settings, _embedder_options(config))
    else:
        summary.embed = embed_videos(workspace, embedder, batch_size=settings.embed_batch_size,
                                     embed_fps=settings.embed_fps, chunk_frames=settings.embed_chunk_frames)
    summary.timings["embed"] = time.perf_counter() - start

    start = time.perf_counter()
    summary.selection = run_selection(
        workspace, config, embedder_key=embedding_key(embedder.key, settings.embed_fps), query_embedder=embedder,
        extra_stats={"timings": summary.timings, "ingest_failed": summary.ingest.failed if summary.ingest else {}},
        finish=False,  # done only once its frames and files exist: a kill before that makes the rerun redo it
    )
    summary.timings["select"] = time.perf_counter() - start

    run = get_run(workspace.catalog, summary.selection.run_name)
    if settings.extract:
        start = time.perf_counter()
        summary.extract = extract_run(workspace, int(run["id"]), compress_level=settings.png_compress_level)
        summary.timings["extract"] = time.perf_counter() - start
    if settings.crops is not None:
        crops = write_crops(workspace, int(run["id"]), settings.crops.task, padding=settings.crops.padding,
                            compress_level=settings.png_compress_level)
        summary.notes.append(crops.line())
    update_run_stats(workspace.catalog, int(run["id"]), timings=summary.timings)
    run = get_run(workspace.catalog, summary.selection.run_name)
    summary.run_dir = write_selection_files(workspace, run)
    complete_run(workspace.catalog, int(run["id"]))
    if report:
        summary.report_files = _maybe_report(workspace, get_run(workspace.catalog, run["name"]), summary)
    return summary


def _embedder_options(config: Config) -> dict[str, Any]:
    options = dict(config.framesift.embedder_options)
    if config.framesift.embedder in ("efficientnet_lite0", "auto"):
        if config.framesift.device:
            options.setdefault("device", config.framesift.device)
        if config.framesift.threads:
            options.setdefault("threads", config.framesift.threads)
    return options


def _maybe_report(workspace: Workspace, run: Any, summary: RunSummary) -> list[Path]:
    """Build the HTML/PDF report when the report package is present."""
    if importlib.util.find_spec("framesift.report") is None:
        return []
    from framesift.report import build_report

    start = time.perf_counter()
    files = build_report(workspace, run["name"])
    summary.timings["report"] = time.perf_counter() - start
    return list(files)
