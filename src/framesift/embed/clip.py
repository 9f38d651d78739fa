"""CLIP (open_clip) embedder with a text encoder, for text-to-frame search. Never downloads.

Weights come from a local file (``framesift.embedder_options: {model: ViT-B-32-quickgelu,
pretrained: /path/to/weights.bin}``) or from open_clip's / Hugging Face's cache when
``pretrained`` is a tag (``openai``, ``laion2b_s34b_b79k``...) that was downloaded before.
While the model loads the Hugging Face hub is switched offline; a tag that is not cached fails
with one line naming the fix. ``model_config`` registers a custom architecture JSON (open_clip
model config format), e.g. a fine-tuned or tiny model.

Frames are squashed to the model's square input (the whole frame stays visible, as for
EfficientNet), normalised with the model's mean/std, and embedded to L2-normalised vectors.
The storage key is ``clip`` for the default model and ``clip-<model>`` otherwise, so
embeddings of different CLIP architectures never mix.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from framesift.embed import register_embedder
from framesift.embed.base import l2_normalise
from framesift.errors import FramesiftError

DEFAULT_MODEL = "ViT-B-32-quickgelu"
DEFAULT_TAG = "openai"
HF_WEIGHT_FILES = ("open_clip_model.safetensors", "open_clip_pytorch_model.bin")


def clip_key(model: str) -> str:
    """Embedding storage key of a CLIP architecture."""
    return "clip" if model == DEFAULT_MODEL else f"clip-{model}"


def is_clip_key(key: str) -> bool:
    return key == "clip" or key.startswith("clip-")


@contextlib.contextmanager
def _hub_offline() -> Iterator[None]:
    """Make huggingface_hub answer from its cache only while a model loads."""
    old_env = os.environ.get("HF_HUB_OFFLINE")
    os.environ["HF_HUB_OFFLINE"] = "1"
    constants = None
    old_flag = None
    try:
        from huggingface_hub import constants  # type: ignore[no-redef]

        old_flag = constants.HF_HUB_OFFLINE
        constants.HF_HUB_OFFLINE = True
    except ImportError:  # pragma: no cover - huggingface_hub comes with open_clip
        pass
    try:
        yield
    finally:
        if constants is not None:
            constants.HF_HUB_OFFLINE = old_flag
        if old_env is None:
            os.environ.pop("HF_HUB_OFFLINE", None)
        else:
            os.environ["HF_HUB_OFFLINE"] = old_env


def _cached_tag_file(model: str, tag: str, cache_dir: str | None) -> tuple[str | None, dict[str, Any]]:
    """Local path of a pretrained tag's weights if cached (never fetches), and the tag's config."""
    import open_clip

    cfg = open_clip.get_pretrained_cfg(model, tag)
    if not cfg:
        return None, {}
    if cfg.get("file"):
        return (cfg["file"] if os.path.isfile(cfg["file"]) else None), cfg
    hub = cfg.get("hf_hub", "")
    if hub:
        try:
            from huggingface_hub import try_to_load_from_cache
        except ImportError:  # pragma: no cover
            try_to_load_from_cache = None
        if try_to_load_from_cache is not None:
            repo, filename = os.path.split(hub)  # 'org/repo/' -> default file names, 'org/repo/file.bin'
            names = [filename.rsplit(".", 1)[0] + ".safetensors", filename] if filename else list(HF_WEIGHT_FILES)
            for name in names:
                found = try_to_load_from_cache(repo_id=repo, filename=name, cache_dir=cache_dir)
                if isinstance(found, str) and os.path.isfile(found):
                    return found, cfg
    url = cfg.get("url", "")
    if url:
        local = os.path.join(cache_dir or os.path.expanduser("~/.cache/clip"), os.path.basename(url))
        if os.path.isfile(local):
            return local, cfg
    return None, cfg


def load_clip(
    model: str = DEFAULT_MODEL,
    pretrained: str | None = None,
    *,
    model_config: str | Path | None = None,
    cache_dir: str | None = None,
    device: str = "cpu",
    quick_gelu: bool = False,
) -> Any:
    """Build an open_clip model with local weights; FramesiftError (one line) when they are missing."""
    try:
        import open_clip
    except ImportError as err:
        raise FramesiftError("the clip embedder needs open_clip: `pip install 'framesift[clip]'`") from err
    if model_config is not None:
        config_path = Path(model_config).expanduser()
        if not config_path.is_file():
            raise FramesiftError(f"framesift.embedder_options.model_config: {config_path} not found; "
                                 "give the path of an open_clip model config JSON")
        open_clip.add_model_config(config_path)
    if open_clip.get_model_config(model) is None:
        raise FramesiftError(f"framesift.embedder_options.model: unknown CLIP model {model!r}; use an open_clip "
                             "name such as ViT-B-32-quickgelu, or add model_config: /path/to/config.json")
    pretrained = pretrained or (DEFAULT_TAG if DEFAULT_TAG in open_clip.list_pretrained_tags_by_model(model) else None)
    if pretrained is None:
        raise FramesiftError(f"framesift.embedder_options.pretrained: no weights given for CLIP model {model!r}; "
                             "set it to a local weights file")
    options: dict[str, Any] = {"force_quick_gelu": quick_gelu}
    weights = os.path.expanduser(pretrained)
    if not os.path.isfile(weights):
        looks_like_path = os.sep in pretrained or pretrained.endswith((".bin", ".pt", ".pth", ".safetensors"))
        cached, cfg = (None, {}) if looks_like_path else _cached_tag_file(model, pretrained, cache_dir)
        if cached is None:
            what = f"file {weights} not found" if looks_like_path or not cfg else f"tag {pretrained!r} is not cached"
            raise FramesiftError(
                f"CLIP weights for {model}: {what} and framesift never downloads; set "
                "framesift.embedder_options.pretrained to a local weights file (or fetch the tag once with "
                f"open_clip.create_model({model!r}, pretrained={pretrained!r}) on a machine with network)"
            )
        weights = cached
        options["force_quick_gelu"] = quick_gelu or bool(cfg.get("quick_gelu", False))
        norm = {k: cfg[k] for k in ("mean", "std") if k in cfg}
        if norm:
            options["force_preprocess_cfg"] = norm
    try:
        with _hub_offline():
            net = open_clip.create_model(model, pretrained=weights, device=device, cache_dir=cache_dir, **options)
    except FramesiftError:
        raise
    except Exception as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise FramesiftError(f"CLIP weights {weights} do not load into {model}: {first[:200]}; check "
                             "framesift.embedder_options.model matches the weights") from err
    return net.eval()


class ClipEmbedder:
    """Image and text towers of one CLIP model; images -> unit vectors, texts -> unit vectors."""

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        pretrained: str | None = None,
        *,
        model_config: str | Path | None = None,
        cache_dir: str | None = None,
        device: str | None = None,
        threads: int | None = None,
        quick_gelu: bool = False,
    ):
        import open_clip
        import torch

        if threads:
            torch.set_num_threads(threads)
        self._torch = torch
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.model_name = model
        self.model = load_clip(model, pretrained, model_config=model_config, cache_dir=cache_dir,
                               device=str(self.device), quick_gelu=quick_gelu)
        with _hub_offline():
            self.tokenizer = open_clip.get_tokenizer(model)
        cfg = open_clip.get_model_preprocess_cfg(self.model)
        size = cfg.get("size", 224)
        height, width = (size, size) if isinstance(size, int) else tuple(size)
        self.input_size = (int(width), int(height))
        mean = cfg.get("mean", open_clip.OPENAI_DATASET_MEAN)
        std = cfg.get("std", open_clip.OPENAI_DATASET_STD)
        self._mean = torch.tensor(mean, device=self.device).view(1, 3, 1, 1)
        self._std = torch.tensor(std, device=self.device).view(1, 3, 1, 1)
        self.key = clip_key(model)
        self.dim = int(self.model.text_projection.shape[1] if getattr(self.model, "text_projection", None) is not None
                       else self.embed(np.zeros((1, height, width, 3), np.uint8)).shape[1])

    def embed(self, images: np.ndarray) -> np.ndarray:
        torch = self._torch
        x = torch.from_numpy(np.ascontiguousarray(images)).to(self.device).permute(0, 3, 1, 2).float().div_(255.0)
        expected = (self.input_size[1], self.input_size[0])
        if tuple(x.shape[-2:]) != expected:
            x = torch.nn.functional.interpolate(x, size=expected, mode="bilinear", align_corners=False)
        with torch.inference_mode():
            features = self.model.encode_image((x - self._mean) / self._std)
        return l2_normalise(features.float().cpu().numpy())

    def embed_text(self, texts: Sequence[str]) -> np.ndarray:
        """(n, dim) float32 L2-normalised text embeddings, comparable with the image embeddings."""
        torch = self._torch
        tokens = self.tokenizer(list(texts)).to(self.device)
        with torch.inference_mode():
            features = self.model.encode_text(tokens)
        return l2_normalise(features.float().cpu().numpy())


def _factory(**options: Any) -> ClipEmbedder:
    return ClipEmbedder(**options)


register_embedder("clip", _factory)
