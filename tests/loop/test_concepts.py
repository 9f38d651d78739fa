import csv
import json
import threading

import numpy as np
import pytest

from framesift.app.demo import build_demo_workspace
from framesift.errors import FramesiftError
from framesift.loop.annotator import ConceptClassifier, TrainingError, average_precision
from framesift.loop.build import build_concept
from framesift.loop.concepts import (
    NotFound,
    create_concept,
    frame_labels,
    label_range,
    label_rows,
    latest_model,
    list_concepts,
    set_labels,
)
from framesift.loop.export import export_concept
from framesift.store.catalog import Catalog
from framesift.store.embeddings import EmbeddingStore


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return build_demo_workspace(tmp_path_factory.mktemp("demo"))


@pytest.fixture()
def catalog(demo):
    cat = demo.workspace.catalog
    yield cat
    with cat.transaction() as conn:
        conn.execute("DELETE FROM concepts")
        conn.execute("DELETE FROM predictions")
        conn.execute("DELETE FROM tasks")


def test_concepts_are_unique_by_name_and_names_are_checked(catalog):
    first = create_concept(catalog, "  red   square ", "a big red box")
    assert create_concept(catalog, "red square").id == first.id
    assert [c["name"] for c in list_concepts(catalog)] == ["red square"]
    for bad in ("", "x" * 101, "tab\x01"):
        with pytest.raises(FramesiftError):
            create_concept(catalog, bad)


def test_labels_upsert_clear_and_reject_unknown_frames_atomically(catalog, demo):
    concept = create_concept(catalog, "c")
    frames = sorted(demo.positive_frame_ids)[:3]
    assert set_labels(catalog, concept.id, frames, 1) == 3
    assert set_labels(catalog, concept.id, frames, 1) == 3  # same click twice: still 3 rows
    set_labels(catalog, concept.id, frames[:1], 0, source="bulk")
    ids, values = frame_labels(catalog, concept.id)
    assert dict(zip(ids.tolist(), values.tolist(), strict=True)) == {frames[0]: 0, frames[1]: 1, frames[2]: 1}
    assert label_rows(catalog, concept.id)[0]["source"] in ("bulk", "app")
    set_labels(catalog, concept.id, frames[1:2], None)
    assert frame_labels(catalog, concept.id)[0].tolist() == [frames[0], frames[2]]
    with pytest.raises(NotFound, match="unknown frame id 999999"):
        set_labels(catalog, concept.id, [frames[1], 999999], 1)
    assert frame_labels(catalog, concept.id)[0].tolist() == [frames[0], frames[2]]
    with pytest.raises(NotFound):
        set_labels(catalog, 12345, frames, 1)
    with pytest.raises(FramesiftError):
        set_labels(catalog, concept.id, frames, 2)


def test_two_writers_labeling_concurrently_both_persist(catalog, demo):
    concept = create_concept(catalog, "concurrent")
    all_ids = sorted(demo.positive_frame_ids | demo.negative_frame_ids)
    halves = [all_ids[0::2], all_ids[1::2]]
    errors = []

    def writer(ids, value):
        other = Catalog(demo.workspace.catalog_path)  # its own connection, like a second server process
        try:
            for fid in ids:
                set_labels(other, concept.id, [fid], value)
        except Exception as err:  # pragma: no cover - reported below
            errors.append(err)
        finally:
            other.close()

    threads = [threading.Thread(target=writer, args=(h, v)) for h, v in zip(halves, (1, 0), strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with Catalog(demo.workspace.catalog_path) as fresh:
        ids, values = frame_labels(fresh, concept.id)
    assert len(ids) == len(all_ids)
    assert int(values.sum()) == len(halves[0])


def test_label_range_and_box_labels(catalog, demo):
    concept = create_concept(catalog, "ranges")
    video = catalog.query_one("SELECT id FROM videos WHERE name = 'parking'")["id"]
    assert label_range(catalog, concept.id, video, 30, 49, 1) == 20
    ids, _ = frame_labels(catalog, concept.id)
    assert len(ids) == 20 and set(ids.tolist()) <= demo.positive_frame_ids  # frames 30-49 show the square
    with pytest.raises(NotFound):
        label_range(catalog, concept.id, 999, 0, 5, 1)
    frame = int(ids[0])
    with catalog.transaction() as conn:
        conn.execute("INSERT INTO tasks (name, task_type, categories) VALUES ('det', 'object-detection', '[]')")
        box = conn.execute("INSERT INTO predictions (task, frame_id, category_id, score, x, y, w, h) "
                           "VALUES ('det', ?, 0, 0.9, 10, 10, 20, 20)", (frame,)).lastrowid
    set_labels(catalog, concept.id, [], 0, box_ids=[box])
    rows = catalog.query("SELECT frame_id, box_id, value FROM annotations WHERE concept_id = ? AND box_id != 0",
                         (concept.id,))
    assert [tuple(r) for r in rows] == [(frame, box, 0)]
    assert len(frame_labels(catalog, concept.id)[0]) == 20  # crop labels do not count as frame labels
    with pytest.raises(NotFound, match="unknown box id"):
        set_labels(catalog, concept.id, [], 1, box_ids=[box + 100])


def test_build_scores_every_frame_and_export_reproduces_them(catalog, demo, tmp_path):
    concept = create_concept(catalog, "red square")
    matrix = EmbeddingStore(demo.workspace, "pixels").load()
    with pytest.raises(TrainingError):
        build_concept(catalog, concept.id, matrix, "pixels")
    pos = sorted(demo.positive_frame_ids)[::6]
    neg = sorted(demo.negative_frame_ids)[::19]
    set_labels(catalog, concept.id, pos, 1)
    set_labels(catalog, concept.id, neg, 0)
    result = build_concept(catalog, concept.id, matrix, "pixels")
    assert result.scores.shape == (len(matrix),)
    truth = np.array([int(f) in demo.positive_frame_ids for f in matrix.frame_ids])
    assert average_precision(truth, result.scores) > 0.95
    stored = latest_model(catalog, concept.id)
    assert stored.id == result.model.id and stored.ap is not None and stored.ap > 0.9
    assert set(stored.oof_scores) == set(pos) | set(neg)

    folder = export_concept(demo.workspace, concept, stored, matrix.frame_ids, result.scores)
    data = json.loads((folder / "classifier.json").read_text())
    assert data["concept"] == "red square" and data["embedder"] == "pixels" and data["dim"] == matrix.vectors.shape[1]
    np.testing.assert_allclose(ConceptClassifier.from_json(data).score(matrix.vectors), result.scores, rtol=1e-5)
    table = np.load(folder / "scores.npy")
    assert table["frame_id"].tolist() == matrix.frame_ids.tolist()
    with open(folder / "scores.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(matrix)
    assert int(rows[0]["frame_id"]) in demo.positive_frame_ids  # sorted by score, best first
    assert rows[0]["file_name"].startswith("parking-") and rows[0]["file_name"].endswith("-mp4.png")
    labeled = {int(r["frame_id"]): r["label"] for r in rows if r["label"] != ""}
    assert labeled == {**{f: "1" for f in pos}, **{f: "0" for f in neg}}
    n_scores = catalog.scalar("SELECT COUNT(*) FROM scores WHERE task = 'concept:red square' AND name = 'score'")
    assert n_scores == len(matrix)
