"""Command: ray-predict (``framesift predict`` on Ray Data actors; ingest/embed use --engine ray)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    @app.command("ray-predict")
    def ray_predict(
        out: Annotated[Path, typer.Option("--out", "-o", "--workspace", help="Workspace folder.")],
        model: Annotated[str, typer.Option(help="Ultralytics weights (.pt) or model .yaml, or 'mtcnn' for faces.")],
        task: Annotated[str | None, typer.Option(help="Task name (default: model file stem, 'faces' for mtcnn).")] = None,
        conf: Annotated[float | None, typer.Option(help="Minimum box confidence (default 0.1 for YOLO).")] = None,
        imgsz: Annotated[int | None, typer.Option(help="Model input size (default: the model's own).")] = None,
        device: Annotated[str | None, typer.Option(help="cpu, cuda (default: cuda when available).")] = None,
        batch_size: Annotated[int, typer.Option(help="Frames per model call.")] = 16,
        fps: Annotated[float | None, typer.Option(help="Predict about this many indexed frames per second.")] = None,
        frame_stride: Annotated[int | None, typer.Option(help="Predict every k-th frame (by frame index).")] = None,
        replace: Annotated[bool, typer.Option("--replace", help="Overwrite another model's task.")] = False,
        ray_address: Annotated[str | None, typer.Option(help="auto or ray://HOST:10001 (default: a local cluster).")] = None,
        ray_num_cpus: Annotated[int | None, typer.Option(help="CPUs of a local cluster started here.")] = None,
    ) -> None:
        """`framesift predict` with decoding and the model on Ray actors; the catalog is written here."""
        from framesift.distributed.cluster import ClusterOptions
        from framesift.distributed.ray_engine import predict_videos_ray, predictor_factory
        from framesift.errors import FramesiftError
        from framesift.predict.base import FACE_MODELS, get_predictor
        from framesift.workspace import Workspace

        if fps is not None and frame_stride is not None:
            raise FramesiftError("ray-predict: give --fps or --frame-stride, not both")
        workspace = Workspace.open(out, create=False)
        options = {"imgsz": imgsz, "device": device, "conf": conf}
        if conf is None and model.lower() not in FACE_MODELS:
            options["conf"] = 0.1
        options = {k: v for k, v in options.items() if v is not None}
        summary = predict_videos_ray(
            workspace, get_predictor(model, **options), predictor_factory(model, options), task=task,
            batch_size=batch_size, frame_stride=frame_stride, fps=fps, replace=replace,
            cluster=ClusterOptions(ray_address, ray_num_cpus),
        )
        typer.echo("\n".join(summary.lines()))
