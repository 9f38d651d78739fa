"""Command: ray-predict, kept as a short name for ``framesift predict --engine ray``."""

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
        classes: Annotated[list[str] | None, typer.Option(help="Keep only these classes (names or ids, comma-separated).")] = None,
        conf: Annotated[float | None, typer.Option(help="Minimum box confidence (default 0.1 for YOLO).")] = None,
        iou: Annotated[float, typer.Option(help="NMS IoU threshold (YOLO).")] = 0.7,
        imgsz: Annotated[int | None, typer.Option(help="Model input size (default: the model's own).")] = None,
        device: Annotated[str | None, typer.Option(help="cpu, cuda (default: cuda when available).")] = None,
        batch_size: Annotated[int, typer.Option(help="Frames per model call.")] = 16,
        fps: Annotated[float | None, typer.Option(help="Predict about this many indexed frames per second.")] = None,
        frame_stride: Annotated[int | None, typer.Option(help="Predict every k-th frame (by frame index).")] = None,
        replace: Annotated[bool, typer.Option("--replace", help="Overwrite another model's task.")] = False,
        ray_address: Annotated[str | None, typer.Option(help="auto or ray://HOST:10001 (default: a local cluster).")] = None,
        ray_num_cpus: Annotated[int | None, typer.Option(help="CPUs of a local cluster started here.")] = None,
    ) -> None:
        """`framesift predict --engine ray`: decoding and the model on Ray actors; the catalog is written here."""
        from framesift.predict.cli import run_predict

        summary = run_predict(out, model, task=task, classes=classes, conf=conf, iou=iou, imgsz=imgsz, device=device,
                              batch_size=batch_size, fps=fps, frame_stride=frame_stride, replace=replace,
                              engine="ray", ray_address=ray_address, ray_num_cpus=ray_num_cpus)
        typer.echo("\n".join(summary.lines()))
