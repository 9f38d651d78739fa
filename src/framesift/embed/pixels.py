"""Pixel-statistics embedder: the no-torch fallback.

A frame becomes a small colour thumbnail plus a coarse joint colour histogram. It knows nothing
about objects, but it separates scenes, lighting changes and large new objects, which is
enough to spread a selection over a video when no neural model is installed.
"""

from __future__ import annotations

import numpy as np

from framesift.embed.base import l2_normalise


class PixelEmbedder:
    key = "pixels"
    preferred_batch_size = 64  # numpy only: no cache-bound activations
    input_size = (64, 48)
    thumb_size = (16, 12)
    bins = 4
    hist_weight = 2.0

    @property
    def dim(self) -> int:
        w, h = self.thumb_size
        return w * h * 3 + self.bins**3

    def embed(self, images: np.ndarray) -> np.ndarray:
        batch, height, width, _ = images.shape
        tw, th = self.thumb_size
        fy, fx = height // th, width // tw
        cropped = images[:, : th * fy, : tw * fx].astype(np.float32) / 255.0
        thumbs = cropped.reshape(batch, th, fy, tw, fx, 3).mean(axis=(2, 4)).reshape(batch, -1)
        q = (images.astype(np.int32) * self.bins) // 256
        codes = ((q[..., 0] * self.bins + q[..., 1]) * self.bins + q[..., 2]).reshape(batch, -1)
        hist = np.stack([np.bincount(c, minlength=self.bins**3) for c in codes]).astype(np.float32)
        hist /= codes.shape[1]
        features = np.concatenate([thumbs, self.hist_weight * np.sqrt(hist)], axis=1)
        return l2_normalise(features)
