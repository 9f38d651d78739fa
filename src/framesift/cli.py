"""The `framesift` command line.

Core commands live here; each feature package adds its own commands through a
``register(app)`` function listed in ``COMMAND_MODULES``. User errors print one line and exit 2.
"""

from __future__ import annotations

import importlib
import json
import logging
import sys
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from framesift import __version__
from framesift.errors import FramesiftError

app = typer.Typer(
    name="framesift",
    help="Find the frames of a video collection worth labeling.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Feature packages that add commands: each module defines register(app: typer.Typer).
COMMAND_MODULES = [
    "framesift.predict.cli",
    "framesift.report.cli",
    "framesift.export.cli",
    "framesift.app.cli",
    "framesift.loop.cli",
    "framesift.analytics.cli",
    "framesift.bench.cli",
]

Workspace_ = Annotated[Path, typer.Option("--out", "-o", "--workspace", help="Workspace folder (created if missing).")]
Config_ = Annotated[
    Path | None, typer.Option("--config", "-c", help="Selection config (YAML/JSON, LightlyOne selection_config accepted).")
]
Engine_ = Annotated[Literal["local", "ray"] | None, typer.Option(help="local, or ray: Ray Data workers (see docs/scaling.md).")]
RayAddress_ = Annotated[str | None, typer.Option(help="With --engine ray: auto or ray://HOST:10001 (default: a local cluster).")]


@app.callback()
def main_options(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logging.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars, warnings only.")] = False,
) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO,
        format="%(levelname)s: %(message)s",
        stream=sys.stderr,
    )
    if quiet:
        from framesift.util.progress import set_progress

        set_progress(False)


def _load_config(config: Path | None, overrides: dict[str, Any]) -> Any:
    from framesift.config.loader import load_config

    if config is None:
        return load_config(DEFAULT_SELECTION, overrides)
    return load_config(config, overrides)


# DIVERSITY on embeddings with a budget of 10 % of the frames: a sane default without a config.
DEFAULT_SELECTION: dict[str, Any] = {
    "proportion_samples": 0.1,
    "strategies": [{"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY"}}],
}


@app.command()
def run(
    input: Annotated[str, typer.Option("--input", "-i", help="Folder of videos, a video file or an fsspec URL.")],
    out: Workspace_,
    config: Config_ = None,
    run_name: Annotated[str | None, typer.Option(help="Name (and tag) of this selection run.")] = None,
    embedder: Annotated[str | None, typer.Option(help="efficientnet_lite0 | pixels | clip | auto")] = None,
    fps: Annotated[float | None, typer.Option(help="Index about this many frames per second (default: all).")] = None,
    frame_stride: Annotated[int | None, typer.Option(help="Index every k-th frame (default: 1).")] = None,
    batch_size: Annotated[int | None, typer.Option(help="Embedding batch size.")] = None,
    embed_fps: Annotated[float | None, typer.Option(help="Embed ~this many frames per second; the other frames "
                                                    "use the nearest embedded frame of their shot.")] = None,
    no_extract: Annotated[bool, typer.Option("--no-extract", help="Do not write PNGs.")] = False,
    no_report: Annotated[bool, typer.Option("--no-report", help="Skip report.html/report.pdf.")] = False,
    lightly_dir: Annotated[str | None, typer.Option(help="LightlyOne datasource with .lightly/predictions and "
                                                     ".lightly/metadata (default: INPUT/.lightly when present).")] = None,
    allow_unmatched: Annotated[bool, typer.Option("--allow-unmatched", help="Skip .lightly files that match no "
                                                  "indexed frame.")] = False,
    crops: Annotated[str | None, typer.Option(help="Save the boxes of this prediction task on selected frames "
                                              "to WORKSPACE/crops/TASK/.")] = None,
    engine: Engine_ = None,
    ray_address: RayAddress_ = None,
) -> None:
    """Ingest, embed, select and extract in one go (each stage resumes where it stopped)."""
    from framesift.pipeline.run import run_pipeline

    overrides = {"run_name": run_name, "embedder": embedder, "fps": fps, "frame_stride": frame_stride,
                 "embed_batch_size": batch_size, "embed_fps": embed_fps, "extract": False if no_extract else None,
                 "lightly_dir": lightly_dir, "allow_unmatched": allow_unmatched or None,
                 "crops": {"task": crops} if crops else None, "engine": engine, "ray_address": ray_address}
    cfg = _load_config(config, overrides)
    summary = run_pipeline(input, out, cfg, report=not no_report)
    typer.echo("\n".join(summary.lines()))


@app.command()
def ingest(
    input: Annotated[str, typer.Option("--input", "-i", help="Folder of videos, a video file or an fsspec URL.")],
    out: Workspace_,
    fps: Annotated[float | None, typer.Option(help="Index about this many frames per second.")] = None,
    frame_stride: Annotated[int | None, typer.Option(help="Index every k-th frame.")] = None,
    engine: Engine_ = None,
    ray_address: RayAddress_ = None,
) -> None:
    """Index frames, quality stats and shots of new videos into the workspace catalog."""
    from framesift.pipeline.run import RunSummary, ingest_input
    from framesift.workspace import Workspace

    cfg = _load_config(None, {"fps": fps, "frame_stride": frame_stride, "engine": engine, "ray_address": ray_address})
    workspace = Workspace.open(out)
    summary = RunSummary(workspace.root)
    ingest_input(workspace, input, cfg, summary)
    typer.echo("\n".join(summary.lines()))


@app.command()
def embed(
    out: Workspace_,
    embedder: Annotated[str, typer.Option(help="efficientnet_lite0 | pixels | clip | auto")] = "auto",
    batch_size: Annotated[int | None, typer.Option(help="Frames per model call (default: 4 on CPU, 64 on GPU).")] = None,
    device: Annotated[str | None, typer.Option(help="cpu / cuda (default: cuda when available).")] = None,
    embed_fps: Annotated[float | None, typer.Option(help="Embed only ~this many frames per second.")] = None,
    engine: Engine_ = None,
    ray_address: RayAddress_ = None,
) -> None:
    """Embed indexed frames that have no embedding yet."""
    from framesift.embed import get_embedder
    from framesift.pipeline.embed import embed_videos
    from framesift.workspace import Workspace

    workspace = Workspace.open(out, create=False)
    options = {"device": device} if device and embedder in ("efficientnet_lite0", "auto") else {}
    if engine == "ray":
        from framesift.distributed.ray_engine import embed_stage

        cfg = _load_config(None, {"embedder": embedder, "embed_batch_size": batch_size, "embed_fps": embed_fps,
                                  "ray_address": ray_address})
        summary = embed_stage(workspace, get_embedder(embedder, **options), cfg.framesift, options)
    else:
        summary = embed_videos(workspace, get_embedder(embedder, **options), batch_size=batch_size, embed_fps=embed_fps)
    typer.echo(f"{summary.model}: {summary.embedded_frames} frames embedded in {summary.seconds:.1f}s, "
               f"{summary.videos_skipped} videos already done")
    for reason in summary.failed.values():
        typer.echo(f"  skipped: {reason}")


@app.command("select")
def select_cmd(
    out: Workspace_,
    config: Config_ = None,
    run_name: Annotated[str | None, typer.Option(help="Name (and tag) of this selection run.")] = None,
    embedder: Annotated[str | None, typer.Option(help="Which stored embeddings to use.")] = None,
    extract: Annotated[bool, typer.Option(help="Also write the PNGs of the picks.")] = True,
) -> None:
    """Select frames from what is already ingested and embedded."""
    from framesift.embed import get_embedder
    from framesift.pipeline.extract import extract_run
    from framesift.pipeline.runs import complete_run, get_run, write_selection_files
    from framesift.pipeline.select import run_selection
    from framesift.workspace import Workspace

    cfg = _load_config(config, {"run_name": run_name, "embedder": embedder})
    workspace = Workspace.open(out, create=False)
    key = _stored_embedder_key(workspace, cfg.framesift.embedder, cfg.framesift.embed_fps)
    query_embedder = None
    if any(getattr(s.input, "type", None) == "EMBEDDINGS" for s in cfg.selection.strategies):
        query_embedder = _lazy_embedder(cfg.framesift.embedder, get_embedder)
    # the run is done only once its PNGs and files exist: a kill before that is taken over by the rerun
    outcome = run_selection(workspace, cfg, embedder_key=key, query_embedder=query_embedder, finish=False)
    run = get_run(workspace.catalog, outcome.run_name)
    if extract and cfg.framesift.extract:
        extract_run(workspace, int(run["id"]), compress_level=cfg.framesift.png_compress_level)
    run_dir = write_selection_files(workspace, run)
    complete_run(workspace.catalog, int(run["id"]))
    typer.echo(f"{outcome.run_name}: {outcome.stats['n_selected']} frames selected ({outcome.stats['stop_reason']}); "
               f"{run_dir / 'selection.json'}")


def _stored_embedder_key(workspace: Any, name: str, embed_fps: float | None = None) -> str | None:
    """'auto' means: the embeddings this workspace already has (EfficientNet first)."""
    from framesift.store.embeddings import embedding_key

    if name != "auto":
        return embedding_key(name, embed_fps)
    keys = [r[0] for r in workspace.catalog.query("SELECT DISTINCT model FROM embedding_sets WHERE status = 'done'")]
    for preferred in ("efficientnet_lite0", "pixels"):
        if embedding_key(preferred, embed_fps) in keys:
            return embedding_key(preferred, embed_fps)
    return keys[0] if keys else None


class _lazy_embedder:
    """Builds the embedder only if a SIMILARITY query image needs it."""

    def __init__(self, name: str, factory: Any):
        self._name, self._factory, self._model = name, factory, None

    def _get(self) -> Any:
        if self._model is None:
            self._model = self._factory(self._name)
        return self._model

    @property
    def input_size(self) -> tuple[int, int]:
        return self._get().input_size

    def embed(self, images: Any) -> Any:
        return self._get().embed(images)


@app.command()
def extract(
    run_path: Annotated[str, typer.Argument(help="Run folder WORKSPACE/runs/NAME, or a run name with --workspace.")],
    workspace: Annotated[str | None, typer.Option(help="Workspace, when RUN is a name.")] = None,
    crops: Annotated[str | None, typer.Option(help="Also crop this prediction task's boxes to WORKSPACE/crops/TASK/.")] = None,
    crop_padding: Annotated[float, typer.Option(help="Crop padding, a fraction of the box size per side.")] = 0.0,
) -> None:
    """Write the PNGs of a run's selected frames (existing files are kept)."""
    from framesift.pipeline.extract import extract_run
    from framesift.pipeline.runs import resolve_run_path, write_selection_files

    ws, run = resolve_run_path(run_path, workspace)
    summary = extract_run(ws, int(run["id"]))
    write_selection_files(ws, run)
    typer.echo(f"{summary.written} PNGs written, {summary.existing} already there: {ws.frames_dir}")
    if crops:
        from framesift.pipeline.crops import write_crops

        typer.echo(write_crops(ws, int(run["id"]), crops, padding=crop_padding).line())


@app.command()
def info(out: Workspace_) -> None:
    """What a workspace holds: videos, frames, embeddings, runs."""
    from framesift.workspace import Workspace

    ws = Workspace.open(out, create=False)
    c = ws.catalog
    status = {r[0]: r[1] for r in c.query("SELECT status, COUNT(*) FROM videos GROUP BY status")}
    typer.echo(f"workspace: {ws.root}")
    typer.echo(f"videos: {json.dumps(status)}; frames indexed: {c.scalar('SELECT COUNT(*) FROM frames')}")
    for r in c.query("SELECT model, SUM(n_rows), COUNT(*) FROM embedding_sets WHERE status = 'done' GROUP BY model"):
        typer.echo(f"embeddings {r[0]}: {r[1]} frames in {r[2]} videos")
    for r in c.query("SELECT name, status, created_at, (SELECT COUNT(*) FROM selections s WHERE s.run_id = runs.id) "
                     "FROM runs ORDER BY id"):
        typer.echo(f"run {r[0]}: {r[1]}, {r[3]} frames, {r[2]}")
    for r in c.query("SELECT path, error FROM videos WHERE status = 'failed'"):
        typer.echo(f"failed: {r[0]}: {r[1]}")


@app.command("make-sample")
def make_sample(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the sample videos.")] = Path("sample"),
) -> None:
    """Generate the small sample videos used by `make run` (static scenes, cuts, rare events)."""
    from framesift.video.synthetic import sample_collection

    truth = sample_collection(out)
    typer.echo(f"wrote {len(truth)} sample videos to {out}")


@app.command()
def version() -> None:
    """Print the framesift version."""
    typer.echo(__version__)


def _register_feature_commands() -> None:
    for module_name in COMMAND_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as err:
            if err.name and module_name.startswith(err.name):
                continue  # feature package not present in this build
            raise
        module.register(app)


_register_feature_commands()


def main() -> None:
    try:
        app()
    except FramesiftError as err:
        typer.echo(f"error: {err}", err=True)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        typer.echo("interrupted; rerun the same command to resume", err=True)
        raise SystemExit(130) from None


if __name__ == "__main__":
    main()
