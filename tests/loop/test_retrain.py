"""The detection retrain loop on a synthetic clip with known boxes: two unattended rounds with a COCO
oracle (labels, YOLO training, held-out metrics, predictions, disjoint selections, resume), and a
human-labeled round that waits for `import-labels` and then continues."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from framesift.cli import app
from framesift.config.loader import load_config
from framesift.export.importer import import_labels
from framesift.loop.retrain import LoopOptions, RetrainLoop, prepare_workspace
from framesift.loop.train_yolo import TrainSettings
from framesift.video import synthetic
from framesift.workspace import Workspace

pytest.importorskip("ultralytics")

WIDTH, HEIGHT, N_FRAMES = 128, 96, 30
COLORS = {"car": (220, 30, 30), "person": (30, 60, 220)}
CATEGORY_IDS = {"car": 3, "person": 7}
TINY_YOLO = ["--model", "yolov8n.yaml", "--epochs", "1", "--imgsz", "64", "--batch", "4", "--device", "cpu"]


def clip_boxes(i: int) -> list[tuple[str, int, int, int, int]]:
    """A red car crosses every frame; a blue person walks in the second half."""
    boxes = [("car", 4 + (i * 5) % 90, 20 + (i * 3) % 40, 28, 20)]
    if i >= N_FRAMES // 2:
        boxes.append(("person", 100 - (i % 15) * 3, 50, 12, 30))
    return boxes


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """in/street.mp4 and gt.json: the clip's boxes as COCO for an image sequence 000001.jpg = frame 0."""
    root = tmp_path_factory.mktemp("retrain")
    background = synthetic.textured_background(HEIGHT, WIDTH, seed=5)

    def frames():
        for i in range(N_FRAMES):
            image = background.copy()
            for name, x, y, w, h in clip_boxes(i):
                synthetic.draw_box(image, x, y, w, h, COLORS[name])
            yield image

    synthetic.write_video(root / "in" / "street.mp4", frames(), fps=10, quality=12)
    images, annotations = [], []
    for i in range(N_FRAMES):
        images.append({"id": 100 + i, "file_name": f"{i + 1:06d}.jpg", "width": WIDTH, "height": HEIGHT})
        for name, x, y, w, h in clip_boxes(i):
            annotations.append({"id": len(annotations) + 1, "image_id": 100 + i, "category_id": CATEGORY_IDS[name],
                                "bbox": [x, y, w, h], "area": w * h, "iscrowd": 0})
    categories = [{"id": v, "name": k} for k, v in CATEGORY_IDS.items()]
    (root / "gt.json").write_text(json.dumps({"images": images, "annotations": annotations, "categories": categories}))
    (root / "first.yaml").write_text(json.dumps({
        "selection_config": {"n_samples": 4, "strategies": [{"input": {"type": "EMBEDDINGS"},
                                                             "strategy": {"type": "DIVERSITY"}}]},
        "framesift": {"embedder": "pixels"}}))
    (root / "next.yaml").write_text(json.dumps({
        "selection_config": {"n_samples": 4, "strategies": [
            {"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY"}},
            {"input": {"type": "SCORES", "task": "loop", "score": "objectness_least_confidence"},
             "strategy": {"type": "WEIGHTS"}}]},
        "framesift": {"embedder": "pixels"}}))
    return root


def _labels_by_index(ws: Workspace, frame_ids: list[int]) -> dict[int, list[tuple]]:
    rows = ws.catalog.query(
        "SELECT f.frame_index, l.category, l.x, l.y, l.w, l.h FROM labels l JOIN frames f ON f.id = l.frame_id "
        f"WHERE l.frame_id IN ({','.join('?' * len(frame_ids))}) ORDER BY l.id", frame_ids)
    out: dict[int, list[tuple]] = {}
    for r in rows:
        out.setdefault(r[0], []).append((r[1], r[2], r[3], r[4], r[5]))
    return out


def test_two_unattended_rounds_with_a_coco_oracle(tmp_path, clip):
    ws_path = tmp_path / "ws"
    args = ["loop", "--input", str(clip / "in"), "--out", str(ws_path), "--config", str(clip / "first.yaml"),
            "--next-config", str(clip / "next.yaml"), "--rounds", "2", "--oracle", str(clip / "gt.json"),
            "--oracle-frame-offset", "1", "--val-frames", "6", *TINY_YOLO]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "round 2: loop-r2 selected 4 frames, 4 labeled; trained on 8 frames, held-out 6" in result.output

    ws = Workspace.open(ws_path)
    loop = ws_path / "loop"
    state = json.loads((loop / "state.json").read_text())
    val = set(state["val_frame_ids"])
    assert len(val) == 6 and state["classes"] == ["car", "person"]
    picked = []
    for k in (1, 2):
        record = json.loads((loop / f"round-{k}" / "round.json").read_text())
        assert record["status"] == "done" and set(record) >= {"select", "export", "labels", "train", "predict"}
        ids = record["select"]["frame_ids"]
        assert record["select"]["run"] == f"loop-r{k}" and len(ids) == 4
        picked.append(set(ids))
        # every selected frame got exactly its ground-truth boxes, through the label import path
        labels = _labels_by_index(ws, ids)
        assert {i: sorted(v) for i, v in labels.items()} == {
            i: sorted((n, float(x), float(y), float(w), float(h)) for n, x, y, w, h in clip_boxes(i)) for i in labels}
        assert len(labels) == 4 and record["labels"]["source"] == f"oracle:round-{k}"
        metrics = json.loads((loop / f"round-{k}" / "metrics.json").read_text())
        assert set(metrics) >= {"mAP50", "mAP50-95", "precision", "recall"}
        assert all(0.0 <= metrics[m] <= 1.0 for m in ("mAP50", "mAP50-95", "precision", "recall"))
        assert (metrics["train_frames"], metrics["val_frames"]) == (4 * k, 6)
        assert (loop / f"round-{k}" / "model.pt").stat().st_size > 100_000
        assert (loop / f"round-{k}" / "export" / "annotations.json").is_file()
    assert not picked[0] & picked[1]  # round 2 never reselects round-1 frames ...
    assert not (picked[0] | picked[1]) & val  # ... nor held-out frames

    dataset = loop / "round-2" / "dataset"
    assert len(list((dataset / "train" / "images").iterdir())) == 8
    assert len(list((dataset / "val" / "images").iterdir())) == 6
    lines = sum(len(p.read_text().splitlines()) for p in (dataset / "train" / "labels").glob("*.txt"))
    assert lines == sum(len(clip_boxes(i)) for i in _labels_by_index(ws, sorted(picked[0] | picked[1])))
    # the round-2 model predicted every frame, and round 2 selected with round 1's scores
    assert ws.catalog.scalar("SELECT COUNT(*) FROM predicted_frames WHERE task = 'loop'") == N_FRAMES
    assert "round-2/model.pt" in ws.catalog.scalar("SELECT source FROM tasks WHERE name = 'loop'")
    config = json.loads(ws.catalog.scalar("SELECT config FROM runs WHERE name = 'loop-r2'"))
    assert config["selection_config"]["strategies"][1]["input"]["task"] == "loop"

    before = (loop / "round-2" / "model.pt").stat().st_mtime_ns
    again = CliRunner().invoke(app, args)  # finished rounds are skipped, nothing is retrained
    assert again.exit_code == 0, again.output
    assert "round 1: select" not in again.output and "[done]" in again.output
    assert (loop / "round-2" / "model.pt").stat().st_mtime_ns == before


def test_human_round_waits_for_imported_labels_then_trains(tmp_path, clip):
    folder = tmp_path / "in"
    shutil.copytree(clip / "in", folder)
    ws = Workspace.open(tmp_path / "ws")
    config = load_config(json.loads((clip / "first.yaml").read_text()))
    key = prepare_workspace(ws, config, None, str(folder), [])
    assert key == "pixels"
    options = LoopOptions(rounds=1, train=TrainSettings(epochs=1, imgsz=64, batch=4, device="cpu"), val_fraction=0.0)
    first = RetrainLoop(ws, config, options, embedder_key=key).run()
    assert first.rounds[0]["status"] == "waiting for labels"
    assert "framesift import-labels" in first.waiting and "4 of 4 frames have no labels" in first.waiting

    # a person labels the exported COCO file (identity fields kept) and imports it
    export = json.loads((tmp_path / "ws" / "loop" / "round-1" / "export" / "annotations.json").read_text())
    export["categories"] = [{"id": v, "name": k} for k, v in CATEGORY_IDS.items()]
    export["annotations"] = [
        {"id": n, "image_id": image["id"], "category_id": CATEGORY_IDS[c], "bbox": [x, y, w, h]}
        for n, (image, (c, x, y, w, h)) in enumerate(
            ((image, box) for image in export["images"] for box in clip_boxes(image["frame_index"])), start=1)]
    labeled = tmp_path / "labeled.json"
    labeled.write_text(json.dumps(export))
    assert import_labels(ws.catalog, labeled).matched == 4

    second = RetrainLoop(ws, config, options, embedder_key=key).run()
    record = second.rounds[0]
    assert record["status"] == "done" and second.waiting is None
    assert record["train"]["train_frames"] == 4 and record["train"]["classes"] == ["car", "person"]
    assert any("no held-out frames" in note for note in second.notes)
    selected = np.array(record["select"]["frame_ids"])
    assert ws.catalog.scalar("SELECT COUNT(DISTINCT frame_id) FROM labels") == len(selected) == 4
