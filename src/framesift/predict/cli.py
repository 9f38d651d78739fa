"""Commands: predict (and its short name ray-predict), import-predictions, import-metadata, export-predictions, scores."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

Workspace_ = Annotated[Path, typer.Option("--out", "-o", "--workspace", help="Workspace folder.")]
AllowUnmatched_ = Annotated[bool, typer.Option("--allow-unmatched", help="Skip files that match no indexed frame "
                                               "(default: error listing them).")]


def run_predict(
    out: Path, model: str, *, task: str | None = None, classes: list[str] | None = None, conf: float | None = None,
    iou: float | None = None, imgsz: int | None = None, device: str | None = None, batch_size: int = 16,
    fps: float | None = None, frame_stride: int | None = None, replace: bool = False, engine: str = "local",
    ray_address: str | None = None, ray_num_cpus: int | None = None,
) -> Any:
    """``framesift predict`` (and ``ray-predict``): the same options on either engine."""
    from framesift.errors import FramesiftError
    from framesift.predict.base import FACE_MODELS, get_predictor
    from framesift.workspace import Workspace

    if fps is not None and frame_stride is not None:
        raise FramesiftError("predict: give --fps or --frame-stride, not both")
    workspace = Workspace.open(out, create=False)
    options = {"iou": iou, "imgsz": imgsz, "device": device, "classes": _split(classes), "conf": conf}
    if conf is None and model.lower() not in FACE_MODELS:
        options["conf"] = 0.1
    options = {k: v for k, v in options.items() if v is not None}
    predictor = get_predictor(model, **options)
    if engine == "ray":
        from framesift.distributed.cluster import ClusterOptions
        from framesift.distributed.ray_engine import predict_videos_ray, predictor_factory

        return predict_videos_ray(workspace, predictor, predictor_factory(model, options), task=task,
                                  batch_size=batch_size, frame_stride=frame_stride, fps=fps, replace=replace,
                                  cluster=ClusterOptions(ray_address, ray_num_cpus))
    from framesift.predict.video import predict_videos

    return predict_videos(workspace, predictor, task=task, batch_size=batch_size, frame_stride=frame_stride, fps=fps,
                          replace=replace)


def _split(values: list[str] | None) -> list[str] | None:
    if not values:
        return None
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def predict_command(default_engine: str) -> Callable[..., None]:
    """The `predict` command with ``--engine`` defaulting to ``default_engine`` (`ray-predict` is "ray")."""

    def predict(
        out: Workspace_,
        model: Annotated[str, typer.Option(help="Ultralytics weights (.pt) or model .yaml, or 'mtcnn' for faces.")],
        task: Annotated[str | None, typer.Option(help="Task name (default: model file stem, 'faces' for mtcnn).")] = None,
        classes: Annotated[list[str] | None, typer.Option(help="Keep only these classes (names or ids, comma-separated).")] = None,
        conf: Annotated[float | None, typer.Option(help="Minimum box confidence (default 0.1 for YOLO: low-confidence "
                                                    "boxes matter for active learning).")] = None,
        iou: Annotated[float, typer.Option(help="NMS IoU threshold (YOLO).")] = 0.7,
        imgsz: Annotated[int | None, typer.Option(help="Model input size (default: the model's own).")] = None,
        device: Annotated[str | None, typer.Option(help="cpu, cuda, cuda:0 (default: cuda when available).")] = None,
        batch_size: Annotated[int, typer.Option(help="Frames per model call.")] = 16,
        fps: Annotated[float | None, typer.Option(help="Predict about this many indexed frames per second.")] = None,
        frame_stride: Annotated[int | None, typer.Option(help="Predict every k-th frame (by frame index).")] = None,
        replace: Annotated[bool, typer.Option("--replace", help="Overwrite a task that holds another model's "
                                              "predictions.")] = False,
        engine: Annotated[Literal["local", "ray"], typer.Option(help="local, or ray: decoding and the model on Ray "
                                                                "actors (see docs/scaling.md).")] = default_engine,
        ray_address: Annotated[str | None, typer.Option(help="With --engine ray: auto or ray://HOST:10001 "
                                                        "(default: a local cluster).")] = None,
        ray_num_cpus: Annotated[int | None, typer.Option(help="With --engine ray: CPUs of a local cluster started "
                                                         "here.")] = None,
    ) -> None:
        """Run a detector/classifier on the indexed frames (decoded from the videos) and score them."""
        summary = run_predict(out, model, task=task, classes=classes, conf=conf, iou=iou, imgsz=imgsz, device=device,
                              batch_size=batch_size, fps=fps, frame_stride=frame_stride, replace=replace,
                              engine=engine, ray_address=ray_address, ray_num_cpus=ray_num_cpus)
        typer.echo("\n".join(summary.lines()))

    return predict


def register(app: typer.Typer) -> None:
    app.command("predict")(predict_command("local"))
    app.command("ray-predict", help="Short name for `framesift predict --engine ray`: decoding and the model on Ray "
                "actors; the catalog is written here.")(predict_command("ray"))

    @app.command("import-predictions")
    def import_predictions(
        out: Workspace_,
        source: Annotated[Path, typer.Option("--from", help="Lightly datasource folder (with .lightly/predictions), "
                                             "a COCO json, or a folder of YOLO txt files.")],
        format: Annotated[str, typer.Option(help="auto | lightly | coco | yolo")] = "auto",
        task: Annotated[str | None, typer.Option(help="Task name (Lightly: import only this task).")] = None,
        images: Annotated[Path | None, typer.Option(help="COCO file whose images list maps image ids to file names.")] = None,
        names: Annotated[Path | None, typer.Option(help="YOLO class names: data.yaml, classes.txt or obj.names.")] = None,
        allow_unmatched: AllowUnmatched_ = False,
        replace: Annotated[bool, typer.Option("--replace", help="Overwrite a task from another source.")] = False,
    ) -> None:
        """Import predictions (LightlyOne layout, COCO results, YOLO txt) and compute their scores."""
        from framesift.pipeline.predictions_import import FrameIndex, import_task
        from framesift.workspace import Workspace

        workspace = Workspace.open(out, create=False)
        index = FrameIndex(workspace.catalog)
        for imported in _read_imports(source, format, task, images, names):
            summary = import_task(workspace, imported, allow_unmatched=allow_unmatched, replace=replace, index=index)
            typer.echo(summary.line())

    @app.command("import-metadata")
    def import_metadata_cmd(
        out: Workspace_,
        source: Annotated[Path, typer.Option("--from", help="Lightly datasource folder (with .lightly/metadata).")],
        allow_unmatched: AllowUnmatched_ = False,
    ) -> None:
        """Import LightlyOne metadata (video-level files apply to all frames, frame files override)."""
        from framesift.errors import FramesiftError
        from framesift.pipeline.predictions_import import import_metadata
        from framesift.predict.lightly_format import lightly_root
        from framesift.workspace import Workspace

        root = lightly_root(source)
        folder = root / "metadata" if root is not None else source
        if not (folder / "schema.json").is_file():
            raise FramesiftError(f"{source}: no .lightly/metadata/schema.json found")
        summary = import_metadata(Workspace.open(out, create=False), folder, allow_unmatched=allow_unmatched)
        typer.echo(summary.line())

    @app.command("export-predictions")
    def export_predictions(
        out: Workspace_,
        task: Annotated[str, typer.Option(help="Task to export.")],
        to: Annotated[Path, typer.Option("--to", help="Datasource folder; writes TO/.lightly/predictions/TASK.")],
    ) -> None:
        """Write a task's predictions in LightlyOne's .lightly/predictions layout."""
        from framesift.predict.export import export_task
        from framesift.workspace import Workspace

        folder, count = export_task(Workspace.open(out, create=False), task, to)
        typer.echo(f"task {task}: {count} prediction files written to {folder}")

    @app.command()
    def scores(
        out: Workspace_,
        task: Annotated[str | None, typer.Option(help="Only this task.")] = None,
        recompute: Annotated[bool, typer.Option("--recompute", help="Recompute from the stored predictions.")] = False,
    ) -> None:
        """List prediction tasks and their scores (names to use in SCORES inputs of a selection config)."""
        from framesift.predict.scoring import compute_task_scores
        from framesift.workspace import Workspace

        catalog = Workspace.open(out, create=False).catalog
        tasks = catalog.query("SELECT name, task_type, source FROM tasks " + ("WHERE name = ? " if task else "")
                              + "ORDER BY name", (task,) if task else ())
        for t in tasks:
            if recompute:
                compute_task_scores(catalog, t["name"])
            frames = catalog.scalar("SELECT COUNT(*) FROM predicted_frames WHERE task = ?", (t["name"],))
            boxes = catalog.scalar("SELECT COUNT(*) FROM predictions WHERE task = ?", (t["name"],))
            typer.echo(f"task {t['name']} ({t['task_type']}, {t['source']}): {frames} frames, {boxes} predictions")
            for r in catalog.query("SELECT name, AVG(value), MIN(value), MAX(value) FROM scores WHERE task = ? "
                                   "GROUP BY name ORDER BY name", (t["name"],)):
                typer.echo(f"  {r[0]}: mean {r[1]:.4f}, min {r[2]:.4f}, max {r[3]:.4f}")
        if not tasks:
            typer.echo("no prediction tasks; run `framesift predict` or `framesift import-predictions`")


def _read_imports(source: Path, format: str, task: str | None, images: Path | None, names: Path | None) -> list:
    """The ImportedTask(s) a source holds, by format (auto: by what the path looks like)."""
    from framesift.errors import FramesiftError
    from framesift.predict.lightly_format import lightly_root, read_schema, read_tasks

    fmt = format.lower()
    if fmt not in ("auto", "lightly", "coco", "yolo"):
        raise FramesiftError(f"--format {format}: use auto, lightly, coco or yolo")
    path = Path(source).expanduser()
    if not path.exists():
        raise FramesiftError(f"--from {source}: not found")
    if fmt == "auto":
        if path.is_file():
            fmt = "coco"
        elif lightly_root(path) is not None or (path / "tasks.json").is_file() or (path / "schema.json").is_file():
            fmt = "lightly"
        else:
            fmt = "yolo"
    if fmt == "coco":
        from framesift.predict.coco import read_coco

        return [read_coco(path, task=task, images_file=images)]
    if fmt == "yolo":
        from framesift.predict.yolo_txt import read_yolo_txt

        return [read_yolo_txt(path, task=task, names_file=names)]
    from framesift.pipeline.predictions_import import read_lightly_task

    root = lightly_root(path)
    if (path / "schema.json").is_file():  # a single task folder
        return [read_lightly_task(read_schema(path, task or path.name))]
    predictions_dir = root / "predictions" if root is not None else path
    if not (predictions_dir / "tasks.json").is_file():
        raise FramesiftError(f"{source}: no .lightly/predictions/tasks.json found")
    tasks = read_tasks(predictions_dir)
    if task:
        tasks = [t for t in tasks if t.name == task]
        if not tasks:
            raise FramesiftError(f"--task {task}: not listed in {predictions_dir / 'tasks.json'}")
    return [read_lightly_task(t) for t in tasks]
