"""MTCNN for real (weights shipped in facenet-pytorch) on a clip with a photographed face pasted in."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from predict_support import ingest_folder

from framesift.predict.base import get_predictor
from framesift.predict.mtcnn import crop_faces, detect_faces
from framesift.predict.video import predict_videos
from framesift.video import synthetic
from framesift.workspace import Workspace

pytest.importorskip("facenet_pytorch")
cbook = pytest.importorskip("matplotlib.cbook")

FACE_AT = (100, 40)  # top-left of the pasted portrait in the 320 x 240 frame


def _canvas(with_face: bool, portrait: np.ndarray) -> np.ndarray:
    image = synthetic.textured_background(240, 320, seed=5)
    if with_face:
        x, y = FACE_AT
        image[y:y + portrait.shape[0], x:x + portrait.shape[1]] = portrait
    return image


def _iou(a, b) -> float:
    ax1, ay1, aw, ah = a
    bx1, by1, bw, bh = b
    iw = max(0.0, min(ax1 + aw, bx1 + bw) - max(ax1, bx1))
    ih = max(0.0, min(ay1 + ah, by1 + bh) - max(ay1, by1))
    return iw * ih / (aw * ah + bw * bh - iw * ih)


def test_faces_found_on_the_frames_that_show_one(tmp_path):
    portrait = np.asarray(Image.open(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)).convert("RGB")
                          .resize((128, 160)))
    still = _canvas(True, portrait)
    [found] = detect_faces([still])
    assert len(found) == 1 and found.probs[0] > 0.95
    box = found.boxes_xywh[0]
    x, y = FACE_AT
    assert x <= box[0] and box[0] + box[2] <= x + 128 and y <= box[1] and box[1] + box[3] <= y + 160  # on the portrait
    [crop] = crop_faces(still, found, padding=0.1)
    assert crop.shape[0] == pytest.approx(box[3] * 1.2, abs=2) and crop.shape[1] == pytest.approx(box[2] * 1.2, abs=2)

    folder = tmp_path / "in"
    synthetic.write_video(folder / "class.mp4", [_canvas(i < 3, portrait) for i in range(6)], fps=5, quality=12)
    ws = Workspace.open(tmp_path / "ws")
    ingest_folder(ws, folder)
    summary = predict_videos(ws, get_predictor("mtcnn"), batch_size=4)
    assert (summary.task, summary.frames) == ("faces", 6)
    rows = ws.catalog.query("SELECT f.frame_index, p.score, p.x, p.y, p.w, p.h FROM predictions p "
                            "JOIN frames f ON f.id = p.frame_id WHERE p.task = 'faces' ORDER BY 1")
    assert [r[0] for r in rows] == [0, 1, 2]  # one face in each of the first three frames, none after
    assert all(r[1] > 0.95 and _iou(r[2:], box) > 0.8 for r in rows)
    assert ws.catalog.scalar("SELECT categories FROM tasks WHERE name = 'faces'") == '[{"id": 0, "name": "face"}]'
