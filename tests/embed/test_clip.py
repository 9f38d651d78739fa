"""The CLIP embedder through its real loading path, with a tiny random-weight model saved in tmp."""

import json

import numpy as np
import pytest

open_clip = pytest.importorskip("open_clip")
torch = pytest.importorskip("torch")

from framesift.embed import get_embedder  # noqa: E402
from framesift.embed.clip import ClipEmbedder, clip_key, is_clip_key  # noqa: E402
from framesift.errors import FramesiftError  # noqa: E402

TINY = {
    "embed_dim": 24,
    "vision_cfg": {"image_size": 32, "layers": 1, "width": 32, "head_width": 16, "patch_size": 16},
    "text_cfg": {"context_length": 16, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1},
}


def write_tiny_clip(folder, name="framesift-tiny-clip", seed=0):
    """A model config JSON and a random state dict, as a user's fine-tuned model would arrive."""
    config = folder / f"{name}.json"
    config.write_text(json.dumps(TINY))
    open_clip.add_model_config(config)
    torch.manual_seed(seed)
    model = open_clip.create_model(name, pretrained=None)
    weights = folder / f"{name}.bin"
    torch.save(model.state_dict(), weights)
    return name, config, weights, model.eval()


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return write_tiny_clip(tmp_path_factory.mktemp("clip"))


def test_loads_local_weights_and_embeds_like_open_clip(tiny):
    name, config, weights, reference = tiny
    embedder = get_embedder("clip", model=name, pretrained=str(weights), model_config=str(config), device="cpu")
    assert isinstance(embedder, ClipEmbedder)
    assert (embedder.key, embedder.dim, embedder.input_size) == (f"clip-{name}", 24, (32, 32))
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (3, 32, 32, 3), dtype=np.uint8)
    vectors = embedder.embed(images)
    assert vectors.shape == (3, 24) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    mean = torch.tensor(open_clip.OPENAI_DATASET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(open_clip.OPENAI_DATASET_STD).view(1, 3, 1, 1)
    x = (torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255 - mean) / std
    with torch.no_grad():
        expected = torch.nn.functional.normalize(reference.encode_image(x), dim=-1).numpy()
    np.testing.assert_allclose(vectors, expected, atol=1e-5)  # the saved weights were loaded, not new random ones
    text = embedder.embed_text(["a red square", "a street"])
    tokens = open_clip.get_tokenizer(name)(["a red square", "a street"])
    with torch.no_grad():
        expected_text = torch.nn.functional.normalize(reference.encode_text(tokens), dim=-1).numpy()
    np.testing.assert_allclose(text, expected_text, atol=1e-5)


def test_missing_weights_fail_with_one_line_naming_the_fix(tiny, tmp_path):
    name, config, _, _ = tiny
    with pytest.raises(FramesiftError) as err:
        ClipEmbedder(name, str(tmp_path / "nope.bin"), model_config=config)
    message = str(err.value)
    assert "\n" not in message and "nope.bin not found" in message and "embedder_options.pretrained" in message
    with pytest.raises(FramesiftError, match="is not cached"):  # a known tag, empty cache: no download attempt
        ClipEmbedder("ViT-B-32", "laion400m_e31", cache_dir=str(tmp_path / "empty-cache"))
    with pytest.raises(FramesiftError, match="unknown CLIP model"):
        ClipEmbedder("no-such-model", "x.bin")
    with pytest.raises(FramesiftError, match="model_config"):
        ClipEmbedder(name, "x.bin", model_config=tmp_path / "missing.json")


def test_weights_of_another_architecture_are_rejected(tiny, tmp_path):
    name, config, _, _ = tiny
    other = dict(TINY, embed_dim=16)
    (tmp_path / "other-tiny.json").write_text(json.dumps(other))
    open_clip.add_model_config(tmp_path / "other-tiny.json")
    wrong = tmp_path / "wrong.bin"
    torch.save(open_clip.create_model("other-tiny").state_dict(), wrong)
    with pytest.raises(FramesiftError, match="do not load into"):
        ClipEmbedder(name, str(wrong), model_config=config)


def test_keys():
    assert clip_key("ViT-B-32-quickgelu") == "clip" and clip_key("ViT-L-14") == "clip-ViT-L-14"
    assert is_clip_key("clip") and is_clip_key("clip-ViT-L-14") and not is_clip_key("pixels")


def test_text_search_in_the_app_uses_the_clip_text_tower(tiny, tmp_path):
    from fastapi.testclient import TestClient

    from framesift.app.demo import build_demo_workspace
    from framesift.app.server import create_app
    from framesift.app.state import ClipOptions
    from framesift.pipeline.embed import embed_videos
    from framesift.store.embeddings import EmbeddingStore

    name, config, weights, _ = tiny
    demo = build_demo_workspace(tmp_path, n_frames=40, shot_lengths=(10, 10))
    embedder = ClipEmbedder(name, str(weights), model_config=config, device="cpu")
    embed_videos(demo.workspace, embedder, batch_size=32)
    app = create_app(demo.workspace.root, clip=ClipOptions(model=name, pretrained=str(weights),
                                                            model_config=str(config)))
    state = app.state.fs
    assert state.embedding_key() == embedder.key  # CLIP embeddings are preferred over pixels
    state.start_text_encoder(wait=True)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        info = client.get("/api/info").json()
        assert (info["text_search"], info["embedder"]) == ("ready", embedder.key)
        res = client.get("/api/search", params={"text": "a red square", "n": 5}).json()
    matrix = EmbeddingStore(demo.workspace, embedder.key).load()
    similarity = matrix.vectors @ embedder.embed_text(["a red square"])[0]
    expected = matrix.frame_ids[np.argsort(-similarity, kind="stable")[:5]]
    assert [i["id"] for i in res["items"]] == expected.tolist()
    np.testing.assert_allclose([i["similarity"] for i in res["items"]], np.sort(similarity)[::-1][:5], atol=1e-3)

    wrong = create_app(demo.workspace.root, clip=ClipOptions(model="ViT-B-32", pretrained=str(weights)))
    wrong.state.fs.start_text_encoder(wait=True)
    status, reason = wrong.state.fs.text_status()
    assert status == "off" and "--clip-model" in reason
