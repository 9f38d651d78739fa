"""Malformed prediction, metadata and label files give one-line FramesiftErrors, never tracebacks.

The templates are real files: framesift's own exports of a small workspace (COCO, Label Studio,
CVAT, YOLO) and a hand-written LightlyOne ``.lightly`` folder. Hypothesis drops keys, swaps
values for random JSON and adds keys, then the files go through the same import functions the
CLI commands call (`import-labels`, `import-predictions`, `run` with a `.lightly` folder).
"""

from __future__ import annotations

import copy
import json
import shutil
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml
from fuzz_support import check_user_error, examples, mutated
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from framesift.export.exporter import export_run
from framesift.export.importer import import_labels
from framesift.pipeline.ingest import ingest_videos
from framesift.pipeline.predictions_import import import_task, sync_lightly_dir
from framesift.pipeline.runs import create_run, finish_run, get_run, save_selection
from framesift.predict.coco import read_coco
from framesift.predict.yolo_txt import read_yolo_txt
from framesift.store.videos import SamplingKey, register_videos
from framesift.video import synthetic
from framesift.video.discover import discover_videos
from framesift.workspace import Workspace

FUZZ = settings(max_examples=examples(20), deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
CATEGORIES = [{"id": 0, "name": "car"}, {"id": 1, "name": "bus"}]


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """A workspace with clip.mp4 (8 frames, 64x48), task 'det' with two boxes, run 'r1', its exports."""
    root = tmp_path_factory.mktemp("fuzz-imports")
    synthetic.static_scene_with_rare_object(root / "videos" / "clip.mp4", n_frames=8, rare_frames=(3,), size=(64, 48))
    ws = Workspace.open(root / "ws")
    ids, _ = register_videos(ws.catalog, discover_videos(str(root / "videos")), SamplingKey(None, None))
    ingest_videos(ws.catalog, ids)
    frame_ids = [r[0] for r in ws.catalog.query("SELECT id FROM frames ORDER BY frame_index")]
    with ws.catalog.transaction() as conn:
        conn.execute("INSERT INTO tasks (name, task_type, categories, source) VALUES ('det', 'object-detection', ?, 'yolo:m.pt')",
                     (json.dumps(CATEGORIES),))
        conn.execute("INSERT INTO predictions (task, frame_id, category_id, score, x, y, w, h) "
                     "VALUES ('det', ?, 0, 0.9, 4, 5, 20, 10)", (frame_ids[3],))
        conn.execute("INSERT INTO predictions (task, frame_id, category_id, score, x, y, w, h) "
                     "VALUES ('det', ?, 1, 0.4, 30, 20, 12, 12)", (frame_ids[5],))
    run_id, _ = create_run(ws.catalog, "r1", {}, None)
    save_selection(ws.catalog, run_id, [frame_ids[i] for i in (1, 3, 5)], [{}] * 3)
    finish_run(ws.catalog, run_id, {})
    exports = {fmt: export_run(ws, get_run(ws.catalog, "r1"), fmt, out_dir=root / "exports" / fmt, task="det").out_dir
               for fmt in ("coco", "labelstudio", "cvat", "yolo")}
    yield ws, exports
    ws.close()


def _copy(folder: Path, into: str) -> Path:
    target = Path(into) / folder.name
    shutil.copytree(folder, target)
    return target


# -- labels back from labeling tools -----------------------------------------------------
def _templates(exports):
    coco = json.loads((exports["coco"] / "annotations.json").read_text())
    tasks = json.loads((exports["labelstudio"] / "tasks.json").read_text())
    for task in tasks:  # a reviewed annotation per task, as Label Studio exports it
        task["annotations"] = [{"id": 7, "result": [{"type": "rectanglelabels", "id": "r1", "original_width": 64,
                                                      "original_height": 48,
                                                      "value": {"x": 10.0, "y": 20.0, "width": 30.0, "height": 25.0,
                                                                "rectanglelabels": ["car"]}},
                                                     {"type": "choices", "value": {"choices": ["bus"]}}]}]
    return coco, tasks


def _import_mutated_json(setup, data, fmt: str, template, file_name: str) -> None:
    """Write a mutation of ``template`` over the export's file and import it like `import-labels`."""
    ws, exports = setup
    document = data.draw(mutated(template))
    with tempfile.TemporaryDirectory() as tmp:
        folder = _copy(exports[fmt], tmp)
        (folder / file_name).write_text(json.dumps(document))
        check_user_error(lambda: import_labels(ws.catalog, folder / file_name, fmt=fmt,
                                               allow_unmatched=data.draw(st.booleans())))


@FUZZ
@given(data=st.data())
def test_mutated_coco_labels_import_or_fail_with_one_line(setup, data):
    _import_mutated_json(setup, data, "coco", _templates(setup[1])[0], "annotations.json")


@FUZZ
@given(data=st.data())
def test_mutated_label_studio_tasks_import_or_fail_with_one_line(setup, data):
    _import_mutated_json(setup, data, "labelstudio", _templates(setup[1])[1], "tasks.json")


XML_VALUES = st.one_of(st.just(""), st.text(max_size=6), st.integers(-5, 10**6).map(str),
                       st.floats(allow_nan=True).map(str), st.sampled_from(["1/0", "1e999", "-0", "nan", "2;3,4"]))


@FUZZ
@given(data=st.data())
def test_mutated_cvat_xml_imports_or_fails_with_one_line(setup, data):
    ws, exports = setup
    tree = ET.parse(exports["cvat"] / "annotations.xml")
    for element in tree.getroot().iter():
        for key in list(element.attrib):
            choice = data.draw(st.sampled_from(["keep", "keep", "drop", "value"]))
            if choice == "drop":
                del element.attrib[key]
            elif choice == "value":
                element.set(key, data.draw(XML_VALUES))
    for image in tree.getroot().iter("image"):
        if data.draw(st.booleans()):
            image.append(ET.Element(data.draw(st.sampled_from(["box", "polygon", "ellipse", "tag", "points", "mask"])),
                                    {k: data.draw(XML_VALUES) for k in data.draw(st.lists(st.sampled_from(
                                        ["label", "xtl", "ytl", "xbr", "ybr", "points", "cx", "cy", "rx", "ry"]),
                                        max_size=6))}))
    text = ET.tostring(tree.getroot(), encoding="unicode")
    if data.draw(st.booleans()):
        text = text[: data.draw(st.integers(0, len(text)))]  # a cut-off file
    with tempfile.TemporaryDirectory() as tmp:
        folder = _copy(exports["cvat"], tmp)
        (folder / "annotations.xml").write_text(text)
        check_user_error(lambda: import_labels(ws.catalog, folder / "annotations.xml", fmt="cvat",
                                               allow_unmatched=data.draw(st.booleans())))


YOLO_LINE = st.one_of(
    st.lists(st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(repr), st.integers(-3, 5).map(str)),
             max_size=8).map(" ".join),
    st.text(max_size=20),
)


@FUZZ
@given(data=st.data())
def test_mutated_yolo_datasets_import_or_fail_with_one_line(setup, data):
    ws, exports = setup
    with tempfile.TemporaryDirectory() as tmp:
        folder = _copy(exports["yolo"], tmp)
        labels = sorted((folder / "labels").glob("*.txt"))
        for path in labels:
            if data.draw(st.booleans()):
                path.write_text("\n".join(data.draw(st.lists(YOLO_LINE, max_size=3))))
        names = yaml.safe_load((folder / "data.yaml").read_text())
        (folder / "data.yaml").write_text(yaml.safe_dump(data.draw(mutated(names))))
        check_user_error(lambda: import_labels(ws.catalog, folder, fmt="yolo", allow_unmatched=data.draw(st.booleans())))


# -- predictions and metadata ------------------------------------------------------------
LIGHTLY = {
    "predictions/tasks.json": ["ldet", "lcls"],
    "predictions/ldet/schema.json": {"task_type": "object-detection", "categories": CATEGORIES},
    "predictions/ldet/clip-3-mp4.json": {"file_name": "clip-3-mp4.png", "predictions": [
        {"category_id": 0, "bbox": [1, 2, 10, 12], "score": 0.8, "probabilities": [0.8, 0.2]}]},
    "predictions/ldet/clip-5-mp4.json": {"file_name": "clip-5-mp4.png", "predictions": []},
    "predictions/lcls/schema.json": {"task_type": "classification", "categories": CATEGORIES},
    "predictions/lcls/clip-4-mp4.json": {"file_name": "clip-4-mp4.png", "predictions": [
        {"category_id": 1, "probabilities": [0.3, 0.7]}]},
    "metadata/schema.json": [
        {"name": "weather", "path": "weather.kind", "defaultValue": "sun", "valueDataType": "CATEGORICAL_STRING"},
        {"name": "speed", "path": "speed", "defaultValue": 0, "valueDataType": "NUMERIC_FLOAT"},
        {"name": "night", "path": "night", "defaultValue": False, "valueDataType": "CATEGORICAL_BOOLEAN"}],
    "metadata/clip.json": {"file_name": "clip.mp4", "type": "video", "metadata": {"weather": {"kind": "rain"},
                                                                                   "speed": 3, "night": True}},
    "metadata/clip-2-mp4.json": {"file_name": "clip-2-mp4.png", "type": "frame", "metadata": {"speed": 5}},
}


@FUZZ
@given(data=st.data())
def test_mutated_lightly_folders_import_or_fail_with_one_line(setup, data):
    ws, _ = setup
    files = {name: data.draw(st.one_of(st.just(content), mutated(content))) for name, content in LIGHTLY.items()}
    with tempfile.TemporaryDirectory() as tmp:
        for name, content in files.items():
            path = Path(tmp) / ".lightly" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(content))
        check_user_error(lambda: sync_lightly_dir(ws, tmp, allow_unmatched=data.draw(st.booleans())))


COCO_RESULTS = [{"image_id": "clip-3-mp4.png", "category_id": 0, "bbox": [1, 2, 10, 12], "score": 0.8},
                {"image_id": "clip-4-mp4.png", "category_id": 1, "bbox": [3, 4, 5, 6], "score": 0.3}]


@FUZZ
@given(document=st.one_of(mutated(COCO_RESULTS), mutated({"images": [{"id": 1, "file_name": "clip-1-mp4.png"}],
                                                        "annotations": [dict(COCO_RESULTS[0], image_id=1)],
                                                        "categories": CATEGORIES})))
def test_mutated_coco_predictions_import_or_fail_with_one_line(setup, document):
    ws, _ = setup
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "results.json"
        path.write_text(json.dumps(document))
        check_user_error(lambda: import_task(ws, read_coco(path, task="coco_fuzz"), allow_unmatched=True))


@FUZZ
@given(lines=st.dictionaries(st.sampled_from(["clip-1-mp4", "clip-2-mp4", "other"]), st.lists(YOLO_LINE, max_size=3),
                             min_size=1),
       names=mutated({"names": ["car", "bus"]}))
def test_mutated_yolo_txt_predictions_import_or_fail_with_one_line(setup, lines, names):
    ws, _ = setup
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "labels"
        folder.mkdir()
        for stem, content in lines.items():
            (folder / f"{stem}.txt").write_text("\n".join(content))
        (Path(tmp) / "data.yaml").write_text(yaml.safe_dump(copy.deepcopy(names)))
        check_user_error(lambda: import_task(ws, read_yolo_txt(folder, task="yolo_fuzz"), allow_unmatched=True))


def test_templates_import_cleanly(setup):
    """The unmutated templates are valid, so the fuzzing starts from files that work."""
    ws, exports = setup
    _, tasks = _templates(exports)
    assert import_labels(ws.catalog, exports["coco"] / "annotations.json", fmt="coco").boxes == 2
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "tasks.json").write_text(json.dumps(tasks))
        shutil.copy(exports["labelstudio"] / "manifest.json", Path(tmp) / "manifest.json")
        assert import_labels(ws.catalog, Path(tmp) / "tasks.json", fmt="labelstudio").boxes == 3
        for name, content in LIGHTLY.items():
            path = Path(tmp) / ".lightly" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(content))
        notes = sync_lightly_dir(ws, tmp)
        assert any("ldet" in n for n in notes) and any("metadata" in n for n in notes)


@pytest.mark.parametrize("field, value", [("frame_index", []), ("frame_index", "7b"), ("pts", [1]), ("pts", "x"),
                                          ("frame_index", float("inf"))])
def test_identity_fields_of_the_wrong_type_make_an_unmatched_image(setup, tmp_path, field, value):
    """Found by a 1000-example session: a list as frame_index crashed the frame matcher with a TypeError."""
    ws, exports = setup
    _, tasks = _templates(exports)
    tasks[0]["data"][field] = value
    (tmp_path / "tasks.json").write_text(json.dumps(tasks))
    message = check_user_error(lambda: import_labels(ws.catalog, tmp_path / "tasks.json", fmt="labelstudio"))
    assert message is not None and "1 of 3 images match no frame" in message and field in message
    summary = import_labels(ws.catalog, tmp_path / "tasks.json", fmt="labelstudio", allow_unmatched=True)
    assert len(summary.unmatched) == 1 and summary.boxes == 2 and summary.frame_labels == 2  # the other two tasks
