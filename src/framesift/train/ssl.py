"""SimCLR fine-tuning of the embedding backbone on a workspace's frames (LightlyOne's ``enable_training``).

The loss (``NTXentLoss``), projection head (``SimCLRProjectionHead``) and augmentations
(``SimCLRTransform``) come from the ``lightly`` library; the loop is plain PyTorch on CPU or GPU.
Everything lives in ``WORKSPACE/models/ssl/<id>/``, where ``<id>`` hashes the settings and the
sampled frames: ``last.pt`` (model + optimizer after each epoch: a killed training resumes at
the next epoch, and raising ``max_epochs`` continues it), ``model.pt`` (the finished backbone,
what the ``ssl-<hash>`` embedder loads) and ``train.json`` (losses, timings). A finished
training with the same settings and frames is reused, not repeated.

When the backbone starts from ImageNet weights its BatchNorm statistics stay frozen: batches of
16 frames of one video give poor statistics, and the embedder must keep seeing frames the way
the pretrained network normalises them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from framesift.errors import FramesiftError
from framesift.train.frames import FrameSample, decode_sample, sample_frames
from framesift.train.settings import SslSettings, ssl_settings
from framesift.util.atomic import atomic_path, write_json
from framesift.util.progress import bar
from framesift.workspace import Workspace

log = logging.getLogger(__name__)

LAST = "last.pt"
MODEL = "model.pt"
RECORD = "train.json"


@dataclass
class SslResult:
    checkpoint: Path
    key: str
    settings: SslSettings
    n_frames: int
    epochs: int
    epochs_now: int = 0
    reused: bool = False
    losses: list[float] = field(default_factory=list)
    epoch_seconds: list[float] = field(default_factory=list)

    def seconds_per_epoch_per_1000_frames(self) -> float | None:
        if not self.epoch_seconds:
            return None
        return float(np.mean(self.epoch_seconds)) * 1000.0 / self.n_frames

    def line(self) -> str:
        if self.reused:
            return f"ssl: reused {self.key} ({self.epochs} epochs on {self.n_frames} frames): {self.checkpoint}"
        speed = self.seconds_per_epoch_per_1000_frames()
        rate = f", {speed:.1f} s/epoch per 1,000 frames" if speed is not None else ""
        loss = f", loss {self.losses[-1]:.4f}" if self.losses else ""
        return (f"ssl: {self.epochs_now} epochs trained now ({self.epochs} in all) on {self.n_frames} frames{rate}{loss} "
                f"-> {self.key}: {self.checkpoint}")


def training_dir(workspace: Workspace, settings: SslSettings, sample: FrameSample) -> Path:
    identity = json.dumps({"settings": settings.identity(), "frames": sample.fingerprint()}, sort_keys=True)
    return workspace.root / "models" / "ssl" / hashlib.sha256(identity.encode()).hexdigest()[:12]


def train_ssl(workspace: Workspace, settings: SslSettings, *, threads: int | None = None) -> SslResult:
    """Train (or resume, or reuse) the SSL model of this workspace's frames; returns its checkpoint and key.

    ``threads`` caps PyTorch's CPU threads while training (the previous setting is restored).
    """
    import torch

    sample = sample_frames(workspace, settings.max_frames)
    folder = training_dir(workspace, settings, sample)
    record = _read_record(folder)
    if record is not None and record.get("epochs") == settings.max_epochs and (folder / MODEL).is_file():
        return SslResult(folder / MODEL, record["key"], settings, record["n_frames"], settings.max_epochs, reused=True,
                         losses=record.get("losses", []), epoch_seconds=record.get("epoch_seconds", []))
    previous_threads = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        return _train(folder, sample, settings)
    finally:
        torch.set_num_threads(previous_threads)


def _train(folder: Path, sample: FrameSample, settings: SslSettings) -> SslResult:
    import torch

    device = torch.device(settings.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    images = decode_sample(sample, settings.input_size)
    _seed(settings.seed)
    model = build_model(settings).to(device)
    criterion = _criterion(settings).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=settings.lr, momentum=settings.momentum,
                                weight_decay=settings.weight_decay)
    state = _resume(folder / LAST, settings, model, criterion, optimizer, device)
    losses, seconds = list(state.get("losses", [])), list(state.get("epoch_seconds", []))
    start_epoch = len(losses)
    loader_data = SimCLRViews(images, settings)
    for epoch in range(start_epoch, settings.max_epochs):
        began = time.perf_counter()
        loss = train_epoch(model, criterion, optimizer, loader_data, settings, epoch, device)
        seconds.append(time.perf_counter() - began)
        losses.append(loss)
        _save_state(folder / LAST, model, criterion, optimizer, losses, seconds)
    key = _finish(folder, model, settings, len(images), losses, seconds)
    return SslResult(folder / MODEL, key, settings, len(images), settings.max_epochs,
                     epochs_now=settings.max_epochs - start_epoch, losses=losses[start_epoch:],
                     epoch_seconds=seconds[start_epoch:])


def fine_tuned_config(workspace: Workspace, config: Any, notes: list[str] | None = None,
                      timings: dict[str, float] | None = None) -> Any:
    """``config`` with its embedder switched to the SSL model fine-tuned on this workspace (trained, resumed
    or reused first): what ``framesift run`` embeds and selects with when ``worker_config.enable_training`` is set."""
    settings = ssl_settings(config.lightly, device=config.framesift.device, source=f"{config.source}: lightly_config")
    if config.framesift.embedder not in ("auto", "efficientnet_lite0", "ssl"):
        log.warning("framesift.embedder %s is not used: worker_config.enable_training fine-tunes "
                    "lightly_config.model.name (%s)", config.framesift.embedder, settings.backbone)
    began = time.perf_counter()
    result = train_ssl(workspace, settings, threads=config.framesift.threads)
    if timings is not None:
        timings["train"] = time.perf_counter() - began
    if notes is not None:
        notes.append(result.line())
    options = {"checkpoint": str(result.checkpoint), "device": config.framesift.device,
               "threads": config.framesift.threads}
    framesift = config.framesift.model_copy(
        update={"embedder": "ssl", "embedder_options": {k: v for k, v in options.items() if v is not None}})
    return dataclasses.replace(config, framesift=framesift)


# -- model and one epoch ------------------------------------------------------------------------
def build_model(settings: SslSettings) -> Any:
    """Backbone + SimCLR projection head; the backbone's ``features`` is what gets embedded later."""
    from lightly.models.modules import SimCLRProjectionHead
    from torch import nn

    from framesift.embed.ssl import build_backbone

    class SimCLRModel(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.backbone = build_backbone(settings.backbone, pretrained=settings.pretrained)
            dim = int(self.backbone.feature_dim)
            self.head = SimCLRProjectionHead(dim, dim, settings.out_dim)

        def forward(self, x: Any) -> Any:
            return self.head(self.backbone.features(x))

    return SimCLRModel()


class SimCLRViews:
    """Two random SimCLR views of each in-memory frame (a torch-style map dataset)."""

    def __init__(self, images: np.ndarray, settings: SslSettings):
        from lightly.transforms import SimCLRTransform

        self.images = images
        self.transform = SimCLRTransform(input_size=settings.input_size, **settings.transform)

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> tuple[Any, Any]:
        from PIL import Image

        first, second = self.transform(Image.fromarray(self.images[i]))
        return first, second


def train_epoch(model: Any, criterion: Any, optimizer: Any, data: SimCLRViews, settings: SslSettings, epoch: int,
                device: Any) -> float:
    """One pass over the frames; the shuffling and augmentations are seeded by (seed, epoch), so a
    resumed training draws exactly what an uninterrupted one would."""
    import torch
    from torch.utils.data import DataLoader

    _seed(settings.seed + 1 + epoch)
    batch = min(settings.batch_size, len(data))
    drop_last = settings.drop_last or len(data) % batch == 1  # a batch of 1 cannot be contrasted
    loader = DataLoader(data, batch_size=batch, shuffle=settings.shuffle, drop_last=drop_last,
                        num_workers=settings.num_workers, generator=torch.Generator().manual_seed(settings.seed + epoch),
                        pin_memory=device.type == "cuda")
    set_train_mode(model, freeze_backbone_bn=settings.pretrained)
    total, count = 0.0, 0
    with bar(total=len(loader), desc=f"ssl epoch {epoch + 1}/{settings.max_epochs}", unit="batch") as progress:
        for first, second in loader:
            z0 = model(first.to(device, non_blocking=True))
            z1 = model(second.to(device, non_blocking=True))
            loss = criterion(z0, z1)
            if not torch.isfinite(loss):
                raise FramesiftError(
                    f"lightly_config.optimizer.lr {settings.lr:g}: SSL training diverged (loss {loss.item()} in epoch "
                    f"{epoch + 1}); lower the learning rate (e.g. 0.01)"
                )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(first)
            count += len(first)
            progress.update(1)
            progress.set_postfix(loss=f"{loss.item():.3f}")
    return total / max(count, 1)


def set_train_mode(model: Any, *, freeze_backbone_bn: bool) -> None:
    from torch import nn

    model.train()
    if freeze_backbone_bn:
        for module in model.backbone.modules():
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                module.eval()


def _criterion(settings: SslSettings) -> Any:
    from lightly.loss import NTXentLoss

    return NTXentLoss(temperature=settings.temperature, memory_bank_size=settings.memory_bank_size)


def _seed(seed: int) -> None:
    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


# -- checkpoints ----------------------------------------------------------------------------------
def _resume(path: Path, settings: SslSettings, model: Any, criterion: Any, optimizer: Any, device: Any) -> dict[str, Any]:
    """Load the last epoch's state into model/optimizer; {} when starting fresh."""
    import torch

    if not path.is_file():
        return {}
    try:
        state = torch.load(path, map_location=device, weights_only=True)
    except Exception as err:  # a file cut short by a crash outside the atomic write
        log.warning("%s: unreadable (%s); SSL training starts over", path, err)
        return {}
    if len(state.get("losses", [])) > settings.max_epochs:
        log.warning("%s: %d epochs done, more than trainer.max_epochs %d; SSL training starts over",
                    path, len(state["losses"]), settings.max_epochs)
        return {}
    model.load_state_dict(state["model"])
    criterion.load_state_dict(state["criterion"])
    optimizer.load_state_dict(state["optimizer"])
    return state


def _save_state(path: Path, model: Any, criterion: Any, optimizer: Any, losses: list[float], seconds: list[float]) -> None:
    import torch

    state = {"model": model.state_dict(), "criterion": criterion.state_dict(), "optimizer": optimizer.state_dict(),
             "losses": losses, "epoch_seconds": seconds}
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def _finish(folder: Path, model: Any, settings: SslSettings, n_frames: int, losses: list[float],
            seconds: list[float]) -> str:
    from framesift.embed.ssl import save_checkpoint

    key = save_checkpoint(folder / MODEL, settings.backbone, settings.input_size, model.backbone,
                          {"epochs": len(losses)})
    write_json(folder / RECORD, {
        "key": key, "epochs": len(losses), "n_frames": n_frames, "losses": losses, "epoch_seconds": seconds,
        "seconds_per_epoch_per_1000_frames": float(np.mean(seconds)) * 1000.0 / n_frames if seconds else None,
        "settings": settings.identity() | {"max_epochs": settings.max_epochs},
    })
    return key


def _read_record(folder: Path) -> dict[str, Any] | None:
    try:
        return json.loads((folder / RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
