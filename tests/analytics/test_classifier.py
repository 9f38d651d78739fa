"""Small classifiers: grouped splits never leak a person, smiling is learned (AUC > 0.9 held out)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from framesift.analytics import store
from framesift.analytics.augment import Augmenter
from framesift.analytics.classifier import SplitError, evaluate, grouped_splits, learning_curve, subsample
from framesift.analytics.dataset import labeled_examples, training_data
from framesift.analytics.faces import CropSpec
from framesift.cli import app
from framesift.embed import get_embedder


def test_grouped_splits_keep_every_group_on_one_side():
    groups = np.repeat(np.array(["ann", "bob", "cid", "dan", "eve", "fay"]), 10)
    labels = np.tile([0, 1], 30)
    splits = grouped_splits(groups, labels, test_size=0.3, repeats=5, seed=1)
    assert len(splits) == 5
    for train, test in splits:
        assert not set(groups[train]) & set(groups[test])
        assert len(train) + len(test) == 60 and len(set(groups[test])) == 2
    assert len({tuple(sorted(set(groups[test]))) for _, test in splits}) == 5  # distinct held-out groups
    with pytest.raises(SplitError, match="at least 2 groups"):
        grouped_splits(np.array(["a"] * 6), np.tile([0, 1], 3))
    with pytest.raises(SplitError, match="both classes"):  # each group holds one class only
        grouped_splits(np.array(["a", "a", "b", "b"]), np.array([0, 0, 1, 1]))


def test_subsample_has_both_classes_and_the_size_asked():
    labels = np.array([0] * 40 + [1] * 3)
    rng = np.random.default_rng(0)
    for size in (2, 5, 20):
        picked = subsample(labels, np.arange(43), size, rng)
        assert len(picked) == size and set(labels[picked]) == {0, 1} and len(set(picked.tolist())) == size


@pytest.fixture(scope="module")
def smile_data(smile_set):
    """Face crops of the smile set, pixel embeddings, two augmented copies each."""
    examples = labeled_examples(smile_set.workspace.catalog, concept="smiling", on="faces")
    return training_data(smile_set.workspace, examples, get_embedder("pixels"), on="faces", spec=CropSpec(),
                         augmenter=Augmenter(), n_augment=2)


def test_smiling_is_learned_on_held_out_people(smile_set, smile_data):
    examples = smile_data.examples
    assert len(examples) == 80 and int(examples.label.sum()) == 40 and len(set(examples.group)) == 5
    assert smile_data.augmented.shape == (80, 2, smile_data.base.shape[1])
    estimate = evaluate(smile_data.base, smile_data.augmented, examples.label, examples.group, repeats=5)
    assert len(estimate.aucs) == 5 and estimate.auc > 0.9


def test_labels_unrelated_to_the_pictures_are_not_learned(smile_data):
    """Control: the same inputs with labels by frame position inside each 8-frame cycle (not the drawing)."""
    examples = smile_data.examples
    scrambled = np.random.default_rng(7).permutation(examples.label)
    estimate = evaluate(smile_data.base, smile_data.augmented, scrambled, examples.group, repeats=5)
    assert estimate.auc < 0.8


def test_learning_curve_sizes_and_final_auc(smile_data):
    examples = smile_data.examples
    points = learning_curve(smile_data.base, smile_data.augmented, examples.label, examples.group, [4, 16, 48],
                            repeats=3)
    assert [p.size for p in points] == [4, 16, 48]  # 48: all of the 3 training people and all(p.n_splits == 3 for p in points)
    assert points[-1].auc > 0.9 and all(0 <= p.auc <= 1 for p in points)


def test_train_classifier_cli_on_faces_saves_the_model_and_scores_frames(smile_set):
    ws = smile_set.workspace
    runner = CliRunner()
    result = runner.invoke(app, ["train-classifier", "--out", str(ws.root), "--concept", "smiling", "--on", "faces",
                                 "--name", "smile", "--embedder", "pixels", "--clahe", "--gray", "--repeats", "3"])
    assert result.exit_code == 0, result.output
    assert "80 labeled examples (40 positive) in 5 groups" in result.output
    auc = float(result.output.split("ROC AUC ")[1].split()[0])
    assert auc > 0.9
    model = json.loads((ws.root / "analytics" / "models" / "smile.json").read_text())
    assert model["on"] == "faces" and model["crop"]["clahe"] and model["crop"]["gray"]
    assert model["roc_auc"] == pytest.approx(auc, abs=5e-4) and model["score"] == "analytics/smile_probability"
    # every frame has a face, so every frame gets a probability; smiling frames score higher
    for video in store.videos(ws.catalog):
        frames = store.frame_rows(ws.catalog, video.id)
        ids, values = store.read_scores(ws.catalog, "analytics", "smile_probability", video.id)
        assert ids.tolist() == frames.frame_id.tolist()
        smiling = np.array(smile_set.truths[video.name].smile)[frames.frame_index]
        assert values[smiling].min() > values[~smiling].max()  # trained on these very frames: ranked perfectly
    before = store.read_scores(ws.catalog, "analytics", "smile_probability", store.videos(ws.catalog)[0].id)[1]
    again = runner.invoke(app, ["apply-classifier", "--out", str(ws.root), "--name", "smile"])
    assert again.exit_code == 0, again.output
    after = store.read_scores(ws.catalog, "analytics", "smile_probability", store.videos(ws.catalog)[0].id)[1]
    assert np.allclose(before, after)


def test_train_classifier_cli_from_csv_on_frames_grouped_by_csv_column(smile_set, tmp_path):
    """Whole frames: is a second person in the picture? Labels and person groups from a CSV."""
    ws = smile_set.workspace
    lines = ["video,frame_index,label,group"]
    for name, truth in smile_set.truths.items():
        for i, boxes in enumerate(truth.boxes):
            lines.append(f"{name},{i},{int(len(boxes) > 1)},{name}")
    (tmp_path / "second.csv").write_text("\n".join(lines) + "\n")
    result = CliRunner().invoke(app, ["train-classifier", "--out", str(ws.root), "--labels",
                                      str(tmp_path / "second.csv"), "--group-by", "group", "--embedder", "pixels",
                                      "--no-score"])
    assert result.exit_code == 0, result.output
    assert "80 labeled examples (24 positive) in 5 groups" in result.output
    assert float(result.output.split("ROC AUC ")[1].split()[0]) > 0.9
    assert (ws.root / "analytics" / "models" / "second.json").is_file()
    assert store.read_scores(ws.catalog, "analytics", "second_probability", 1)[0].size == 0  # --no-score


def test_learning_curve_cli_writes_csv_and_png(smile_set):
    ws = smile_set.workspace
    result = CliRunner().invoke(app, ["learning-curve", "--out", str(ws.root), "--concept", "smiling", "--on",
                                      "faces", "--embedder", "pixels", "--sizes", "4,16", "--repeats", "2",
                                      "--augment", "0"])
    assert result.exit_code == 0, result.output
    rows = (ws.root / "analytics" / "learning_curves" / "smiling.csv").read_text().splitlines()
    assert rows[0] == "train_size,roc_auc,roc_auc_std,n_splits" and [r.split(",")[0] for r in rows[1:]] == ["4", "16"]
    assert (ws.root / "analytics" / "learning_curves" / "smiling.png").read_bytes()[:4] == b"\x89PNG"


def test_train_classifier_cli_errors_name_the_fix(smile_set):
    ws = smile_set.workspace
    missing = CliRunner().invoke(app, ["train-classifier", "--out", str(ws.root), "--concept", "nope"])
    assert missing.exit_code != 0 and "known: smiling" in str(missing.exception)
    both = CliRunner().invoke(app, ["train-classifier", "--out", str(ws.root), "--concept", "smiling", "--labels",
                                    "x.csv"])
    assert "not both" in str(both.exception)
