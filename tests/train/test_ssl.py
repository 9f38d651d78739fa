"""SimCLR fine-tuning on a few synthetic frames: weights and embeddings change, checkpoints reload exactly,
training resumes per epoch, and `framesift run` with enable_training selects with the fine-tuned model."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch

from framesift.config.loader import load_config
from framesift.embed.efficientnet import EfficientNetEmbedder, load_pretrained
from framesift.embed.pixels import PixelEmbedder
from framesift.embed.ssl import SslEmbedder, embedder_key, load_checkpoint
from framesift.pipeline.embed import embed_videos
from framesift.pipeline.run import RunSummary, ingest_input, run_pipeline
from framesift.store.embeddings import EmbeddingStore
from framesift.train.settings import ssl_settings
from framesift.train.ssl import LAST, train_ssl
from framesift.workspace import Workspace

pytest.importorskip("lightly")

TINY = {"collate": {"input_size": 32}, "loader": {"batch_size": 8, "num_workers": 0, "max_frames": 16},
        "trainer": {"max_epochs": 1}, "optimizer": {"lr": 0.05}}


@pytest.fixture(autouse=True)
def one_thread():
    """One PyTorch thread: tiny models on a shared 2-core machine run several times faster."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


SELECT = {"n_samples": 4, "strategies": [{"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY"}}]}


def _workspace(tmp_path, video, name="ws") -> Workspace:
    folder = tmp_path / f"{name}-in"
    folder.mkdir()
    shutil.copy(video, folder / "shots.mp4")
    ws = Workspace.open(tmp_path / name)
    ingest_input(ws, str(folder), load_config(SELECT), RunSummary(ws.root))
    return ws


def _frames(ws: Workspace, size: int) -> np.ndarray:
    from framesift.video.extract import read_frames

    path = ws.catalog.scalar("SELECT path FROM videos")
    return np.stack([img for _, img in read_frames(path, [(i, None) for i in range(0, 60, 6)], size=(size, size))])


def test_one_epoch_changes_weights_and_embeddings_and_reloads_bit_exactly(tmp_path, shots_video):
    ws = _workspace(tmp_path, shots_video[0])
    result = train_ssl(ws, ssl_settings(TINY), threads=1)
    assert (result.epochs, result.epochs_now, result.n_frames, result.reused) == (1, 1, 16, False)
    assert result.key.startswith("ssl-") and np.isfinite(result.losses[0])

    document = load_checkpoint(result.checkpoint)
    trained = document["state_dict"]
    before = load_pretrained().state_dict()
    changed = [k for k in trained if not torch.equal(trained[k], before[k])]
    assert any(k.endswith("weight") and "_bn" not in k for k in changed)  # convolutions learned
    assert not [k for k in changed if "running_" in k]  # ImageNet BatchNorm statistics stay frozen
    # the file holds exactly the weights the training ended with, and its key is their hash
    last = torch.load(result.checkpoint.parent / LAST, weights_only=True)["model"]
    assert all(torch.equal(trained[k], last[f"backbone.{k}"]) for k in trained)
    assert embedder_key("efficientnet-lite0", 32, trained) == result.key == document["key"]

    images = _frames(ws, 32)
    first, second = SslEmbedder(result.checkpoint, device="cpu"), SslEmbedder(result.checkpoint, device="cpu")
    assert first.key == result.key and first.dim == 1280 and first.input_size == (32, 32)
    fine_tuned = first.embed(images)
    assert np.array_equal(fine_tuned, second.embed(images))  # reload is bit-exact
    imagenet = EfficientNetEmbedder(device="cpu").embed(images)
    assert np.abs(fine_tuned - imagenet).max() > 1e-3
    assert np.allclose(np.linalg.norm(fine_tuned, axis=1), 1.0, atol=1e-5)


def test_training_resumes_per_epoch_and_reuses_a_finished_model(tmp_path, shots_video):
    straight = train_ssl(_workspace(tmp_path, shots_video[0], "a"), ssl_settings(TINY).with_overrides(max_epochs=2),
                         threads=1)
    ws = _workspace(tmp_path, shots_video[0], "b")
    one = train_ssl(ws, ssl_settings(TINY), threads=1)
    resumed = train_ssl(ws, ssl_settings(TINY).with_overrides(max_epochs=2), threads=1)
    assert resumed.checkpoint == one.checkpoint  # same training folder: max_epochs is not part of its identity
    assert (resumed.epochs_now, resumed.epochs) == (1, 2)
    assert resumed.key == straight.key != one.key  # epoch 2 after a restart = epoch 2 of an uninterrupted run
    again = train_ssl(ws, ssl_settings(TINY).with_overrides(max_epochs=2), threads=1)
    assert again.reused and again.key == resumed.key and again.epochs_now == 0
    other = train_ssl(ws, ssl_settings(TINY).with_overrides(max_epochs=2, lr=0.01), threads=1)
    assert other.checkpoint.parent != resumed.checkpoint.parent and other.key != resumed.key


def test_run_with_enable_training_embeds_and_selects_with_the_fine_tuned_model(tmp_path, shots_video):
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(shots_video[0], folder / "shots.mp4")
    config = load_config({"selection_config": SELECT, "worker_config": {"enable_training": True},
                          "lightly_config": TINY, "framesift": {"threads": 1, "extract": False}})
    summary = run_pipeline(str(folder), tmp_path / "ws", config, report=False)
    ws = Workspace.open(tmp_path / "ws")
    run = ws.catalog.query_one("SELECT embedder, config FROM runs")
    assert run["embedder"].startswith("ssl-") and summary.embed.model == run["embedder"]
    stored = json.loads(run["config"])["framesift"]
    assert stored["embedder"] == "ssl" and stored["embedder_options"]["checkpoint"].endswith("model.pt")
    assert len(EmbeddingStore(ws, run["embedder"]).load(np.arange(1, 61))) == 60
    assert "train" in summary.timings and any(n.startswith("ssl: 1 epochs trained now") for n in summary.notes)
    assert summary.selection.stats["n_selected"] == 4

    pixels = embed_videos(ws, PixelEmbedder(), batch_size=16)
    assert pixels.model == "pixels" and pixels.embedded_frames == 60  # other models' vectors live under their keys
    assert ws.catalog.scalar("SELECT COUNT(DISTINCT model) FROM embedding_sets") == 2

    again = run_pipeline(str(folder), tmp_path / "ws", config.__class__(**{**config.__dict__}), report=False)
    assert any(n.startswith(f"ssl: reused {run['embedder']}") for n in again.notes)
    assert again.embed.embedded_frames == 0 and again.embed.model == run["embedder"]
