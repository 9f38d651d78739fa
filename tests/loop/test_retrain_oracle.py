"""Ground truth → video frames for the simulated annotator: MOT and COCO, numbered, Lightly-named and
identity-carrying images, offsets, and the labels it imports."""

from __future__ import annotations

import json
import shutil

import pytest

from framesift.config.loader import load_config
from framesift.errors import FramesiftError
from framesift.loop.oracle import Oracle, frame_rows, read_ground_truth
from framesift.pipeline.run import RunSummary, ingest_input
from framesift.workspace import Workspace

MOT = """1,1,10,20,30,40,-1,-1,-1,-1
1,2,50,20,10,10,-1,-1,-1,-1
3,1,12,22,30,40,-1,-1,-1,-1
"""
# MOT17: frame,id,x,y,w,h,consider,class,visibility
MOT17 = """2,1,10,20,30,40,1,1,0.9
2,2,60,20,10,10,0,1,1.0
2,3,70,20,10,10,1,7,1.0
4,1,11,21,30,40,1,1,0.8
"""
SELECT = {"n_samples": 2, "strategies": [{"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY"}}]}


@pytest.fixture()
def workspace(tmp_path, rare_video, shots_video) -> Workspace:
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(rare_video[0], folder / "rare.mp4")
    shutil.copy(shots_video[0], folder / "shots.mp4")
    ws = Workspace.open(tmp_path / "ws")
    ingest_input(ws, str(folder), load_config(SELECT), RunSummary(ws.root))
    return ws


def _ids(ws: Workspace, video: str, indices: list[int]) -> list[int]:
    return [ws.catalog.scalar("SELECT f.id FROM frames f JOIN videos v ON v.id = f.video_id WHERE v.name = ? AND "
                              "f.frame_index = ?", (video, i)) for i in indices]


def test_mot_frames_are_one_based_and_every_frame_up_to_the_last_is_covered(tmp_path):
    path = tmp_path / "gt.txt"
    path.write_text(MOT)
    truth = read_ground_truth(path, category="person")
    assert sorted(truth.frames) == [(None, None, 0), (None, None, 1), (None, None, 2)]
    assert [(b.category, b.x, b.y, b.w, b.h) for b in truth.frames[(None, None, 0)]] == [
        ("person", 10, 20, 30, 40), ("person", 50, 20, 10, 10)]
    assert truth.frames[(None, None, 1)] == []  # frame 2 has no boxes: labeled empty, not unknown
    shifted = read_ground_truth(path, "mot", frame_offset=3)  # image 000003 became the video's first frame
    assert sorted(shifted.frames) == [(None, None, 0)] and shifted.frames[(None, None, 0)][0].x == 12
    path.write_text(MOT17)
    mot17 = read_ground_truth(path, "mot")
    assert [(b.x, b.y) for b in mot17.frames[(None, None, 1)]] == [(10, 20)]  # ignored box and class 7 dropped
    assert sorted(k[2] for k in mot17.frames) == [0, 1, 2, 3]


def test_coco_images_map_by_identity_lightly_name_or_number(tmp_path):
    document = {
        "images": [{"id": 1, "file_name": "seq/000401.jpg", "width": 64, "height": 48},
                   {"id": 2, "file_name": "seq/000403.jpg", "width": 64, "height": 48},
                   {"id": 3, "file_name": "cam/shots-07-mp4.png"},
                   {"id": 4, "file_name": "anything.png", "video": "rare", "video_ext": "mp4", "frame_index": 5}],
        "annotations": [{"id": 1, "image_id": 2, "category_id": 9, "bbox": [1, 2, 3, 4]},
                        {"id": 2, "image_id": 3, "category_id": 9, "bbox": [5, 6, 7, 8]}],
        "categories": [{"id": 9, "name": "car"}],
    }
    path = tmp_path / "gt.json"
    path.write_text(json.dumps(document))
    truth = read_ground_truth(path)
    assert set(truth.frames) == {(None, None, 0), (None, None, 2), ("cam/shots", "mp4", 7), ("rare", "mp4", 5)}
    assert truth.sizes[(None, None, 2)] == (64, 48) and truth.frames[(None, None, 0)] == []
    assert set(read_ground_truth(path, frame_offset=400).frames) >= {(None, None, 1), (None, None, 3)}
    with pytest.raises(FramesiftError, match="maps to frame -1"):
        read_ground_truth(path, frame_offset=402)


def test_oracle_labels_covered_frames_through_the_import_path(tmp_path, workspace):
    path = tmp_path / "gt.txt"
    path.write_text(MOT)
    truth = read_ground_truth(path)
    with pytest.raises(FramesiftError, match=r"--oracle-video: .* 2 videos"):
        Oracle(truth, workspace.catalog)
    with pytest.raises(FramesiftError, match="--oracle-video 'nope': not an ingested video"):
        Oracle(truth, workspace.catalog, "nope")
    oracle = Oracle(truth, workspace.catalog, "rare")
    ids = _ids(workspace, "rare", [0, 1, 2, 3]) + _ids(workspace, "shots", [0])
    rows = frame_rows(workspace.catalog, ids)
    assert [r.frame_id for r in oracle.covered(rows)] == ids[:3]  # frame 3 and the other video: not in the GT
    result = oracle.label(workspace.catalog, rows, tmp_path / "labels.json", source="oracle:test")
    assert (result.requested, result.labeled, result.not_covered) == (5, 3, 2)
    labels = workspace.catalog.query("SELECT frame_id, category, x, y, w, h FROM labels WHERE source = 'oracle:test' "
                                     "ORDER BY id")
    assert [tuple(r) for r in labels] == [
        (ids[0], "pedestrian", 10.0, 20.0, 30.0, 40.0), (ids[0], "pedestrian", 50.0, 20.0, 10.0, 10.0),
        (ids[1], "__empty__", None, None, None, None), (ids[2], "pedestrian", 12.0, 22.0, 30.0, 40.0)]
    written = json.loads((tmp_path / "labels.json").read_text())
    assert [i["file_name"] for i in written["images"]] == ["rare-00-mp4.png", "rare-01-mp4.png", "rare-02-mp4.png"]
    again = oracle.label(workspace.catalog, rows[:1], tmp_path / "labels.json", source="oracle:test")
    assert again.imported.replaced == 4  # the same source re-imported replaces its labels
