"""Catalog-free per-video prediction, so Ray workers can run a predictor and ship the results.

Mirrors the frame walk of ``framesift.predict.video`` (same targets, same batches, same
display-pixel scaling); the driver stores the batches with ``predict.store.store_predictions``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence

import numpy as np

from framesift.predict.base import FramePrediction, Predictor
from framesift.video.decode import TruncatedVideo, VideoError, iter_frames

log = logging.getLogger(__name__)


def predict_frames(
    path: str, todo: Sequence[tuple[int, int]], predictor: Predictor, batch_size: int, width: int, height: int
) -> Iterator[tuple[list[int], list[FramePrediction]]]:
    """Yield (frame ids, predictions in display pixels) per batch for the (frame id, frame index) targets.

    Raises VideoError when target frames cannot be decoded (batches yielded before stay valid).
    """
    in_w, in_h = predictor.input_size(width, height)
    sx, sy = width / in_w, height / in_h
    wanted = iter(todo)
    target = next(wanted, None)
    ids: list[int] = []
    images: list[np.ndarray] = []
    done = 0

    def flush() -> tuple[list[int], list[FramePrediction]]:
        return list(ids), [p.scaled(sx, sy) for p in predictor.predict(images)]

    try:
        for decoded in iter_frames(path):
            if target is None:
                break
            if decoded.index < target[1]:
                continue
            if decoded.index == target[1]:
                ids.append(target[0])
                images.append(decoded.to_rgb(in_w, in_h))
                if len(images) == batch_size:
                    yield flush()
                    done += len(ids)
                    ids, images = [], []
            target = next(wanted, None)
    except TruncatedVideo as err:
        log.warning("%s", err)
    if images:
        yield flush()
        done += len(ids)
    if target is not None and done < len(todo):
        raise VideoError(path, f"{len(todo) - done} indexed frames could not be decoded again for prediction")
