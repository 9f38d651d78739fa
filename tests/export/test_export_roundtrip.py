"""export → (labeling tool) → import gives back the same boxes on the same frames, for every format."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from export_helpers import AWKWARD, RARE_PICKS, SHOTS_PICKS, stored_labels

from framesift.export.exporter import export_run
from framesift.export.importer import import_labels
from framesift.export.model import EMPTY_FRAME
from framesift.pipeline.runs import get_run
from framesift.video.naming import parse_frame_stem

LABEL_FILE = {"coco": "annotations.json", "yolo": "", "cvat": "annotations.xml", "labelstudio": "annotated.json"}


def annotate_in_labelstudio(export_dir):
    """What Label Studio exports after an annotator accepts every prediction: result copied into an annotation."""
    tasks = json.loads((export_dir / "tasks.json").read_text())
    for task_id, task in enumerate(tasks, start=1):
        task["id"] = task_id
        result = task.get("predictions", [{}])[0].get("result", [])
        task["annotations"] = [
            {"id": 100 + task_id, "completed_by": 1, "was_cancelled": False, "ground_truth": False,
             "created_at": "2024-05-01T10:00:00Z", "updated_at": "2024-05-01T10:00:00Z", "result": result}
        ]
    (export_dir / "annotated.json").write_text(json.dumps(tasks))


def _few_decimals(value: float) -> bool:
    return -Decimal(repr(value)).as_tuple().exponent <= 9


@pytest.mark.parametrize("fmt", ["coco", "yolo", "cvat", "labelstudio"])
def test_round_trip_gives_the_same_boxes_on_the_same_frames(run_ws, fmt):
    ws, expected = run_ws
    result = export_run(ws, get_run(ws.catalog, "r1"), fmt)
    assert result.out_dir == ws.root / "runs" / "r1" / "export" / fmt
    if fmt == "labelstudio":
        annotate_in_labelstudio(result.out_dir)
    summary = import_labels(ws.catalog, result.out_dir / LABEL_FILE[fmt])
    assert (summary.images, summary.matched, summary.boxes, summary.empty_frames) == (7, 7, len(expected), 1)

    got = stored_labels(ws, summary.source)
    assert [g for g in got if g[2] == EMPTY_FRAME] == [("rare", 19, EMPTY_FRAME, None, None, None, None)]
    boxes = [g for g in got if g[2] != EMPTY_FRAME]
    assert [b[:3] for b in boxes] == [e[:3] for e in expected]
    for b, e in zip(boxes, expected, strict=True):
        assert b[3:] == pytest.approx(e[3:], abs=1e-9, rel=0)
        for got_value, want in zip(b[3:], e[3:], strict=True):
            if fmt == "coco" or _few_decimals(want):  # exact, bit for bit
                assert got_value == want, (fmt, b, e)


def test_reimporting_the_same_file_replaces_its_labels(run_ws):
    ws, expected = run_ws
    out = export_run(ws, get_run(ws.catalog, "r1"), "coco").out_dir
    first = import_labels(ws.catalog, out / "annotations.json")
    second = import_labels(ws.catalog, out / "annotations.json")
    assert second.replaced == len(expected) + 1  # boxes + the empty-frame row
    assert len(stored_labels(ws, first.source)) == len(expected) + 1
    other = import_labels(ws.catalog, out / "annotations.json", source="review-2")
    assert other.replaced == 0
    assert len(stored_labels(ws)) == 2 * (len(expected) + 1)


def test_coco_images_keep_frame_identity_in_names_and_fields(run_ws):
    ws, _ = run_ws
    out = export_run(ws, get_run(ws.catalog, "r1"), "coco").out_dir
    coco = json.loads((out / "annotations.json").read_text())
    rows = {
        (r["name"], r["frame_index"]): r
        for r in ws.catalog.query(
            "SELECT v.name, f.frame_index, f.pts, f.time_s, f.id FROM frames f JOIN videos v ON v.id = f.video_id")
    }
    seen = set()
    for image in coco["images"]:
        video, frame_index, ext = parse_frame_stem(image["file_name"])
        assert (video, frame_index, ext) == (image["video"], image["frame_index"], image["video_ext"])
        row = rows[(video, frame_index)]
        assert (image["pts"], image["time_s"], image["frame_id"]) == (row["pts"], row["time_s"], row["id"])
        assert (out / "images" / image["file_name"]).is_file()
        assert (image["width"], image["height"]) == (160, 120)
        seen.add((video, frame_index))
    assert seen == {("rare", i) for i in RARE_PICKS} | {("shots", i) for i in SHOTS_PICKS}
    assert {c["name"] for c in coco["categories"]} == {"red square", "marker"}
    scores = sorted(a.get("score") for a in coco["annotations"] if a.get("score") is not None)
    assert scores == sorted([0.9, 0.9, 0.9] + [a[2] for a in AWKWARD if a[2] is not None])


def test_exported_png_is_the_frame_itself(run_ws, rare_video):
    import numpy as np
    from PIL import Image

    ws, _ = run_ws
    out = export_run(ws, get_run(ws.catalog, "r1"), "yolo", predictions=False).out_dir
    x, y, w, h = rare_video[1].box
    with_square = np.asarray(Image.open(out / "images" / "rare-20-mp4.png"))
    without = np.asarray(Image.open(out / "images" / "rare-19-mp4.png"))
    assert with_square[y + 5 : y + h - 5, x + 5 : x + w - 5, 0].mean() > 180  # the red square of rare frame 20
    assert without[y + 5 : y + h - 5, x + 5 : x + w - 5, 0].mean() < 180
    assert all((out / "labels" / f"{n}.txt").read_text() == "" for n in ("rare-20-mp4", "shots-00-mp4"))


def test_no_predictions_and_task_selection(run_ws):
    ws, _ = run_ws
    run = get_run(ws.catalog, "r1")
    bare = export_run(ws, run, "coco", predictions=False, labels=("car",))
    assert bare.export.n_boxes == 0 and bare.export.category_names() == ["car"]
    high = export_run(ws, run, "coco", min_score=0.5)
    kept = sorted((b.score for f in high.export.frames for b in f.boxes), key=lambda s: -1 if s is None else s)
    assert kept == [None, 0.77, 0.9, 0.9, 0.9]  # a box without a score is not dropped by --min-score
    with ws.catalog.transaction() as conn:
        conn.execute("INSERT INTO tasks (name, task_type, categories) VALUES ('other', 'object-detection', '[]')")
        conn.execute("INSERT INTO predictions (task, frame_id, category_id, score, x, y, w, h) "
                     "SELECT 'other', frame_id, 0, 0.5, 1, 1, 2, 2 FROM selections LIMIT 1")
    from framesift.errors import FramesiftError

    with pytest.raises(FramesiftError, match=r"several tasks .*detect, other.*--task"):
        export_run(ws, run, "coco")
    assert export_run(ws, run, "coco", task="other").export.n_boxes == 1
    with pytest.raises(FramesiftError, match="--task 'nope' not found"):
        export_run(ws, run, "coco", task="nope")


def test_export_again_removes_images_of_the_previous_export(run_ws):
    from export_helpers import make_run

    ws, _ = run_ws
    out = ws.root / "handoff"
    export_run(ws, get_run(ws.catalog, "r1"), "yolo", out_dir=out)
    assert (out / "images" / "rare-45-mp4.png").exists() and (out / "labels" / "rare-45-mp4.txt").exists()
    make_run(ws, "r2", {"rare": (19, 20)})
    export_run(ws, get_run(ws.catalog, "r2"), "yolo", out_dir=out)
    assert sorted(p.name for p in (out / "images").iterdir()) == ["rare-19-mp4.png", "rare-20-mp4.png"]
    assert sorted(p.name for p in (out / "labels").iterdir()) == ["rare-19-mp4.txt", "rare-20-mp4.txt"]
