"""Commands: ``framesift loop`` (detection retrain loop) and ``framesift train-ssl`` (SSL fine-tuning)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

Workspace_ = Annotated[Path, typer.Option("--out", "-o", "--workspace", help="Workspace folder.")]


def register(app: typer.Typer) -> None:
    app.command("loop")(loop_cmd)
    app.command("train-ssl")(train_ssl_cmd)


def loop_cmd(
    out: Workspace_,
    input: Annotated[str | None, typer.Option("--input", "-i", help="Videos to ingest first (default: what the "
                                             "workspace already holds).")] = None,
    config: Annotated[Path | None, typer.Option("--config", "-c", help="Selection config of round 1 (default: "
                                                "DIVERSITY, --per-round frames).")] = None,
    next_config: Annotated[Path | None, typer.Option(help="Selection config of rounds 2+ (default: --config, or "
                                                     "DIVERSITY x WEIGHTS on the model's objectness_least_confidence).")] = None,
    rounds: Annotated[int, typer.Option(min=1, help="Rounds to run (finished rounds are skipped).")] = 3,
    per_round: Annotated[int, typer.Option(min=1, help="Frames per round when no --config is given.")] = 20,
    model: Annotated[str, typer.Option(help="YOLO to train each round: a local .pt, or an ultralytics .yaml "
                                       "(random weights).")] = "yolov8n.yaml",
    epochs: Annotated[int, typer.Option(min=1, help="YOLO training epochs per round.")] = 10,
    imgsz: Annotated[int, typer.Option(min=32, help="YOLO image size.")] = 640,
    batch: Annotated[int, typer.Option(min=1, help="YOLO batch size.")] = 16,
    device: Annotated[str | None, typer.Option(help="cpu, 0, cuda:0 (default: GPU when available).")] = None,
    seed: Annotated[int, typer.Option(help="YOLO training seed.")] = 0,
    task: Annotated[str, typer.Option(help="Prediction task the round models write (SCORES inputs use it).")] = "loop",
    oracle: Annotated[Path | None, typer.Option(help="Ground truth (COCO .json or MOT gt.txt) that labels the "
                                                "selected frames, for unattended benchmark loops.")] = None,
    oracle_format: Annotated[str | None, typer.Option(help="coco | mot (default: by file suffix).")] = None,
    oracle_frame_offset: Annotated[int | None, typer.Option(help="GT image number of the video's first frame "
                                                            "(default: 1 for MOT, the smallest number for COCO).")] = None,
    oracle_video: Annotated[str | None, typer.Option(help="Video (catalog name) the numbered GT images belong to "
                                                     "(default: the only video).")] = None,
    oracle_category: Annotated[str, typer.Option(help="Class name of MOT boxes.")] = "pedestrian",
    val_frames: Annotated[int, typer.Option(min=0, help="Oracle mode: held-out GT frames for the metrics.")] = 50,
    val_fraction: Annotated[float, typer.Option(min=0.0, max=0.9, help="Without oracle: share of the labeled frames "
                                                "held out.")] = 0.2,
    export_format: Annotated[str, typer.Option(help="coco | yolo | cvat | labelstudio | encord hand-off per round.")] = "coco",
    labels: Annotated[str | None, typer.Option(help="Label names for CVAT/Label Studio hand-offs, comma separated.")] = None,
    predict_stride: Annotated[int | None, typer.Option(min=1, help="Predict every k-th indexed frame (default: all).")] = None,
    partial_labels: Annotated[bool, typer.Option("--partial-labels", help="Without oracle: train once some frames "
                                                 "of the round are labeled (default: all of them).")] = False,
) -> None:
    """Active-learning rounds: select → export → labels → train YOLO → predict → select again."""
    from framesift.cli import _load_config
    from framesift.loop.oracle import Oracle, read_ground_truth
    from framesift.loop.retrain import LoopOptions, RetrainLoop, default_configs, prepare_workspace
    from framesift.loop.train_yolo import TrainSettings
    from framesift.workspace import Workspace

    workspace = Workspace.open(out, create=input is not None)
    if config is None:
        first, later = default_configs(per_round, task)
        if next_config is not None:
            later = _load_config(next_config, {})
    else:
        first = _load_config(config, {})
        later = _load_config(next_config, {}) if next_config is not None else first
    notes: list[str] = []
    key = prepare_workspace(workspace, first, later, input, notes)
    for note in notes:
        typer.echo(note)
    gt = None
    if oracle is not None:
        truth = read_ground_truth(oracle, oracle_format, frame_offset=oracle_frame_offset, category=oracle_category)
        gt = Oracle(truth, workspace.catalog, oracle_video)
    options = LoopOptions(
        rounds=rounds,
        train=TrainSettings(model=model, epochs=epochs, imgsz=imgsz, batch=batch, device=device, seed=seed),
        task=task, export_format=export_format.lower(), val_frames=val_frames, val_fraction=val_fraction,
        predict_stride=predict_stride, partial_labels=partial_labels,
        label_names=tuple(n.strip() for n in (labels or "").split(",") if n.strip()),
    )
    summary = RetrainLoop(workspace, first, options, next_config=later, oracle=gt, embedder_key=key,
                          echo=typer.echo).run()
    typer.echo("\n".join(summary.lines()))


def train_ssl_cmd(
    out: Workspace_,
    config: Annotated[Path | None, typer.Option("--config", "-c", help="Config whose lightly_config sets the "
                                                "training (LightlyOne keys).")] = None,
    epochs: Annotated[int | None, typer.Option(min=1, help="trainer.max_epochs (raising it continues the last "
                                               "training).")] = None,
    batch_size: Annotated[int | None, typer.Option(min=2, help="loader.batch_size.")] = None,
    lr: Annotated[float | None, typer.Option(help="optimizer.lr.")] = None,
    input_size: Annotated[int | None, typer.Option(min=16, help="collate.input_size (also the embedding size).")] = None,
    max_frames: Annotated[int | None, typer.Option(min=2, help="loader.max_frames: frames sampled for training.")] = None,
    num_workers: Annotated[int | None, typer.Option(min=0, help="loader.num_workers.")] = None,
    backbone: Annotated[str | None, typer.Option(help="model.name: efficientnet-lite0 | resnet-18 | resnet-34 | "
                                                 "resnet-50.")] = None,
    device: Annotated[str | None, typer.Option(help="cpu / cuda (default: cuda when available).")] = None,
    threads: Annotated[int | None, typer.Option(min=1, help="PyTorch CPU threads while training.")] = None,
    embed: Annotated[bool, typer.Option(help="Embed every indexed frame with the fine-tuned model afterwards.")] = True,
) -> None:
    """Fine-tune the embedding model on the workspace's frames (SimCLR) and embed with it."""
    from framesift.cli import _load_config
    from framesift.embed.ssl import SslEmbedder, backbone_name
    from framesift.train.settings import ssl_settings
    from framesift.train.ssl import train_ssl
    from framesift.workspace import Workspace

    workspace = Workspace.open(out, create=False)
    cfg = _load_config(config, {})
    settings = ssl_settings(cfg.lightly, device=device or cfg.framesift.device, source=f"{cfg.source}: lightly_config")
    settings = settings.with_overrides(max_epochs=epochs, batch_size=batch_size, lr=lr, input_size=input_size,
                                       max_frames=max_frames, num_workers=num_workers,
                                       backbone=backbone_name(backbone) if backbone else None)
    result = train_ssl(workspace, settings, threads=threads or cfg.framesift.threads)
    typer.echo(result.line())
    if embed:
        from framesift.pipeline.embed import embed_videos

        embedder = SslEmbedder(result.checkpoint, device=settings.device, threads=threads)
        summary = embed_videos(workspace, embedder, batch_size=cfg.framesift.embed_batch_size,
                               chunk_frames=cfg.framesift.embed_chunk_frames)
        typer.echo(f"{summary.model}: {summary.embedded_frames} frames embedded in {summary.seconds:.1f}s, "
                   f"{summary.videos_skipped} videos already done; select with `framesift select --embedder "
                   f"{summary.model}`")
