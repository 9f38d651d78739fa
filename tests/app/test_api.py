"""The web app's JSON API and media routes on a synthetic workspace where the concept is known."""

from __future__ import annotations

import io

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from typer.testing import CliRunner

from framesift.app.security import LOOPBACK_HOSTS
from framesift.app.server import create_app
from framesift.errors import FramesiftError
from framesift.pipeline.runs import create_run, finish_run, save_selection


@pytest.fixture()
def client(clean):
    app = create_app(clean.workspace.root, allowed_hosts=LOOPBACK_HOSTS)
    with TestClient(app, base_url="http://127.0.0.1", raise_server_exceptions=False) as c:
        yield c


def _concept(client, name="red square") -> int:
    r = client.post("/api/concepts", json={"name": name})
    assert r.status_code == 200, r.text
    return r.json()["id"]


def _label(client, cid, ids, value):
    r = client.put(f"/api/concepts/{cid}/labels", json={"frame_ids": sorted(ids), "value": value})
    assert r.status_code == 200, r.text
    return r.json()


def test_info_pages_and_static_files(client, clean):
    info = client.get("/api/info").json()
    assert (info["frames"], info["videos"], info["embedder"], info["embedded_frames"]) == (220, 2, "pixels", 220)
    assert info["text_search"] == "off" and "Search by example works" in info["text_search_reason"]
    for page in ("/", "/search", "/annotate", "/review", "/bulk"):
        r = client.get(page)
        assert r.status_code == 200 and "<script src=\"/static/common.js\"></script>" in r.text
    assert "class Grid" in client.get("/static/common.js").text
    assert client.get("/static/style.css").headers["content-type"].startswith("text/css")


def test_annotator_cycle_build_feeds_review_export(client, clean):
    pos, neg = sorted(clean.positive_frame_ids), sorted(clean.negative_frame_ids)
    cid = _concept(client)
    assert client.get(f"/api/concepts/{cid}/feeds").status_code == 404  # no model yet
    assert client.post(f"/api/concepts/{cid}/build", json={}).status_code == 400  # no labels yet
    _label(client, cid, pos[:3], 1)
    _label(client, cid, neg[::40], 0)
    built = client.post(f"/api/concepts/{cid}/build", json={}).json()
    assert built["n_scored"] == 220 and built["model"]["n_pos"] == 3 and built["model"]["ap"] is not None
    assert built["n_predicted_positive"] == len(pos)  # the red square separates cleanly

    feeds = client.get(f"/api/concepts/{cid}/feeds?n=10").json()
    labeled = set(pos[:3]) | set(neg[::40])
    for name in ("positive", "negative", "borderline", "random"):
        assert len(feeds[name]) == 10 and not {i["id"] for i in feeds[name]} & labeled
    assert {i["id"] for i in feeds["positive"]} <= clean.positive_frame_ids
    assert not {i["id"] for i in feeds["negative"]} & clean.positive_frame_ids
    scores = [i["score"] for i in feeds["positive"]]
    assert scores == sorted(scores, reverse=True)
    assert feeds["n_unlabeled"] == 220 - len(labeled)

    # A wrong label: a red-square frame marked "no". After a rebuild the review shows it first.
    wrong = pos[10]
    _label(client, cid, [wrong], 0)
    _label(client, cid, pos[20:23], 1)
    rebuilt = client.post(f"/api/concepts/{cid}/build", json={}).json()
    assert rebuilt["model"]["model_id"] != built["model"]["model_id"]
    again = client.get(f"/api/concepts/{cid}/feeds?n=10").json()
    assert [i["id"] for i in again["random"]] != [i["id"] for i in feeds["random"]]
    assert wrong not in {i["id"] for i in again["positive"]}
    review = client.get(f"/api/concepts/{cid}/review").json()
    assert review["n_labels"] == len(labeled) + 4
    assert review["items"][0]["id"] == wrong and review["items"][0]["disagrees"] and review["n_disagree"] >= 1
    assert all(not i["disagrees"] for i in review["items"][review["n_disagree"]:])

    exported = client.post(f"/api/concepts/{cid}/export", json={}).json()
    classifier = client.get(exported["download"]["classifier.json"])
    assert classifier.status_code == 200 and classifier.json()["concept"] == "red square"
    csv_text = client.get(exported["download"]["scores.csv"]).text
    assert csv_text.splitlines()[0].startswith("frame_id,video,frame_index") and len(csv_text.splitlines()) == 221
    npy = np.load(io.BytesIO(client.get(exported["download"]["scores.npy"]).content))
    assert len(npy) == 220


def test_labels_are_idempotent_and_range_labels_cover_indexed_frames(client, clean):
    cid = _concept(client, "range")
    video = next(v for v in client.get("/api/videos").json() if v["name"] == "parking")
    r = client.put(f"/api/concepts/{cid}/labels/range",
                   json={"video_id": video["id"], "start_frame": 30, "end_frame": 49, "value": 1})
    assert r.json()["written"] == 20
    _label(client, cid, sorted(clean.positive_frame_ids)[:5], 1)  # already labeled: no duplicates
    rows = client.get(f"/api/concepts/{cid}/labels").json()
    assert len(rows) == 20 and {r["source"] for r in rows} >= {"bulk"}
    timeline = client.get(f"/api/videos/{video['id']}/timeline?start=30&end=60&n=4&concept_id={cid}").json()
    assert [i["frame_index"] for i in timeline["items"]] == [30, 40, 50, 60] and timeline["n_in_range"] == 31
    assert [i["label"] for i in timeline["items"]] == [1, 1, None, None]
    strip = client.get(f"/api/videos/{video['id']}/strip?concept_id={cid}").json()
    assert len(strip["id"]) == 120 and strip["label"].count(1) == 20


def test_map_query_and_filters(client, clean):
    catalog = clean.workspace.catalog
    street = [r[0] for r in catalog.query(
        "SELECT f.id FROM frames f JOIN videos v ON v.id = f.video_id WHERE v.name = 'street' ORDER BY f.id")]
    with catalog.transaction() as conn:
        conn.execute("INSERT INTO labels (frame_id, source, category) VALUES (?, 'coco:x.json', 'car')", (street[0],))
        conn.execute("INSERT INTO metadata (video_id, frame_id, key, value_text, value_type) "
                     "SELECT video_id, NULL, 'weather', 'rain', 'CATEGORICAL_STRING' FROM frames WHERE id = ?",
                     (street[0],))
    run_id, _ = create_run(catalog, "run-a", {}, "pixels")
    save_selection(catalog, run_id, street[5:8], [{}] * 3)
    finish_run(catalog, run_id, {})

    everything = client.post("/api/map", json={}).json()
    assert everything["points"] == 220 and everything["run"] == "run-a"
    assert all(0 <= v <= 1 for v in everything["x"] + everything["y"])
    flags = dict(zip(everything["id"], everything["flags"], strict=True))
    assert flags[street[0]] & 1 and all(flags[f] & 2 for f in street[5:8])
    assert sum(1 for f in flags.values() if f & 3) == 4

    rain = client.post("/api/map", json={"filters": [{"kind": "meta", "key": "weather", "values": ["rain"]}]}).json()
    assert sorted(rain["id"]) == street
    labeled = client.post("/api/map", json={"filters": [{"kind": "labeled", "values": [True]}]}).json()
    assert labeled["id"] == [street[0]]
    sharp = client.post("/api/query", json={"filters": [{"kind": "video", "values": ["parking"]},
                                                        {"kind": "stat", "key": "sharpness", "min": 0}],
                                            "sort": "sharpness", "descending": True, "limit": 5}).json()
    assert sharp["n_match"] == 120 and all(i["video"] == "parking" for i in sharp["items"])
    frames = np.array([(r[0], r[1]) for r in catalog.query(
        "SELECT f.id, f.sharpness FROM frames f JOIN videos v ON v.id = f.video_id WHERE v.name = 'parking'")])
    assert [i["id"] for i in sharp["items"]] == frames[np.argsort(-frames[:, 1], kind="stable")][:5, 0].astype(int).tolist()
    fields = {(f["kind"], f["key"]) for f in client.get("/api/fields").json()}
    assert {("stat", "sharpness"), ("meta", "weather"), ("selected", "run-a"), ("labeled", "labels")} <= fields
    detail = client.get(f"/api/frames/{street[0]}").json()
    assert detail["labels"][0]["category"] == "car" and detail["metadata"] == {"weather": "rain"}


def test_search_by_example_finds_the_concept(client, clean):
    pos = sorted(clean.positive_frame_ids)
    res = client.get(f"/api/search?frame_id={pos[0]}&n=10").json()
    ids = [i["id"] for i in res["items"]]
    assert pos[0] not in ids and set(ids) <= clean.positive_frame_ids
    sims = [i["similarity"] for i in res["items"]]
    assert sims == sorted(sims, reverse=True)
    assert client.get("/api/search?text=a red square").status_code == 400  # pixels embeddings: text search off


def test_thumbnails_frames_and_crops_are_decoded_from_the_video(client, clean):
    red = sorted(clean.positive_frame_ids)[0]
    r = client.get(f"/media/thumb/{red}.jpg?w=80")
    image = np.asarray(Image.open(io.BytesIO(r.content)).convert("RGB"))
    assert r.headers["content-type"] == "image/jpeg" and image.shape == (60, 80, 3)
    r_, g, b = image[30, 40].astype(int)
    assert r_ > 180 and g < 80 and b < 80  # the red square is in the middle of a positive frame
    full = Image.open(io.BytesIO(client.get(f"/media/frame/{red}.jpg").content))
    assert full.size == (160, 120)
    media = clean.workspace.cache_dir / "thumbs"
    assert any(media.rglob("*-80.jpg"))
    ids = sorted(clean.negative_frame_ids)[:12]
    assert client.post("/api/thumbs/warm", json={"frame_ids": ids, "w": 96}).json() == {"decoded": 12}
    assert client.post("/api/thumbs/warm", json={"frame_ids": ids, "w": 96}).json() == {"decoded": 0}
    catalog = clean.workspace.catalog
    with catalog.transaction() as conn:
        conn.execute("INSERT INTO tasks (name, task_type, categories) VALUES ('det', 'object-detection', '[]')")
        box = conn.execute("INSERT INTO predictions (task, frame_id, category_id, score, x, y, w, h) "
                           "VALUES ('det', ?, 0, 0.8, 53, 40, 53, 40)", (red,)).lastrowid
    crop = np.asarray(Image.open(io.BytesIO(client.get(f"/media/crop/{box}.jpg?w=64").content)).convert("RGB"))
    assert crop.shape[1] == 64 and crop[crop.shape[0] // 2, 32, 0] > 180
    cid = _concept(client, "crops")
    video = catalog.scalar("SELECT video_id FROM frames WHERE id = ?", (red,))
    crops = client.get(f"/api/videos/{video}/crops?task=det&concept_id={cid}").json()["items"]
    assert [c["box_id"] for c in crops] == [box]
    assert client.put(f"/api/concepts/{cid}/labels", json={"box_ids": [box], "value": 1}).json()["written"] == 1
    assert client.get(f"/api/videos/{video}/crops?task=det&concept_id={cid}").json()["items"][0]["label"] == 1


@pytest.mark.parametrize(("method", "url", "body", "status"), [
    ("get", "/media/thumb/999999.jpg", None, 404),
    ("get", "/media/frame/999999.jpg", None, 404),
    ("get", "/media/crop/999999.jpg", None, 404),
    ("get", "/media/thumb/..%2F..%2Fcatalog.sqlite", None, 404),
    ("get", "/media/thumb/../../catalog.sqlite", None, 404),
    ("get", "/media/thumb/-1.jpg", None, 404),
    ("get", "/static/../catalog.sqlite", None, 404),
    ("get", "/static/%2e%2e/%2e%2e/catalog.sqlite", None, 404),
    ("get", "/static/..%2F..%2F..%2Fstore%2Fcatalog.py", None, 404),
    ("get", "/api/frames/999999", None, 404),
    ("get", "/api/frames/abc", None, 422),
    ("get", "/api/search?frame_id=999999", None, 404),
    ("get", "/api/search", None, 400),
    ("get", "/api/videos/999/timeline", None, 404),
    ("get", "/api/concepts/999", None, 404),
    ("get", "/api/concepts/999/feeds", None, 404),
    ("put", "/api/concepts/{cid}/labels", {"frame_ids": [999999], "value": 1}, 404),
    ("put", "/api/concepts/{cid}/labels", {"frame_ids": [1], "value": 2}, 422),
    ("put", "/api/concepts/{cid}/labels", {"frame_ids": [], "value": 1}, 422),
    ("put", "/api/concepts/{cid}/labels", {"box_ids": [999999], "value": 1}, 404),
    ("put", "/api/concepts/999/labels", {"frame_ids": [1], "value": 1}, 404),
    ("put", "/api/concepts/{cid}/labels/range", {"video_id": 1, "start_frame": 9, "end_frame": 2, "value": 1}, 400),
    ("put", "/api/concepts/{cid}/labels/range", {"video_id": 99, "start_frame": 0, "end_frame": 2, "value": 1}, 404),
    ("post", "/api/concepts", {"name": ""}, 422),
    ("post", "/api/concepts", {"name": "bad\u0001name"}, 400),
    ("post", "/api/map", {"filters": [{"kind": "nope"}]}, 400),
    ("post", "/api/query", {"sort": "nope"}, 400),
    ("get", "/api/concepts/{cid}/export/..%2F..%2Fcatalog.sqlite", None, 404),
    ("get", "/api/concepts/{cid}/export/classifier.json", None, 404),  # not exported yet
    ("get", "/api/concepts/{cid}/export/catalog.sqlite", None, 404),
])
def test_bad_input_gets_4xx_never_500(client, method, url, body, status):
    cid = _concept(client, "bad input")
    r = getattr(client, method)(url.format(cid=cid), **({"json": body} if body is not None else {}))
    assert r.status_code == status, r.text


def test_writes_must_be_json(client):
    cid = _concept(client, "json only")
    r = client.put(f"/api/concepts/{cid}/labels", content="frame_ids=1&value=1",
                   headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 415


def test_token_and_host_guards(clean):
    app = create_app(clean.workspace.root, token="s3cret")
    with TestClient(app, base_url="http://192.168.1.5") as c:
        assert c.get("/api/info").status_code == 401
        assert c.get("/").status_code == 401
        assert c.get("/api/info", headers={"X-Framesift-Token": "wrong"}).status_code == 401
        assert c.get("/api/info", headers={"X-Framesift-Token": "s3cret"}).status_code == 200
        assert c.get("/api/info", headers={"Authorization": "Bearer s3cret"}).status_code == 200
        assert c.get("/bulk?token=nope", follow_redirects=False).status_code == 401
        login = c.get("/bulk?video=2&token=s3cret", follow_redirects=False)
        assert login.status_code == 303 and login.headers["location"] == "/bulk?video=2"
        assert c.get("/api/info").status_code == 200  # the cookie from the login link
    local = create_app(clean.workspace.root, allowed_hosts=LOOPBACK_HOSTS)
    with TestClient(local, base_url="http://127.0.0.1:8765") as c:
        assert c.get("/api/info").status_code == 200
        assert c.get("/api/info", headers={"host": "localhost:8765"}).status_code == 200
        assert c.get("/api/info", headers={"host": "evil.example:8765"}).status_code == 400


def test_serve_refuses_a_public_host_without_token(clean, monkeypatch):
    from framesift.cli import app

    monkeypatch.delenv("FRAMESIFT_TOKEN", raising=False)
    result = CliRunner().invoke(app, ["serve", str(clean.workspace.root), "--host", "0.0.0.0"])
    assert isinstance(result.exception, FramesiftError) and "--token" in str(result.exception)
    result = CliRunner().invoke(app, ["serve", str(clean.workspace.root / "nope")])
    assert isinstance(result.exception, FramesiftError) and "not a framesift workspace" in str(result.exception)


def test_map_is_thinned_to_max_points_keeping_flagged_frames(client, clean):
    cid = _concept(client, "thin")
    pos = sorted(clean.positive_frame_ids)[:7]
    _label(client, cid, pos, 1)
    res = client.post("/api/map", json={"concept_id": cid, "max_points": 50}).json()
    assert res["points"] == 50 and res["thinned"] and set(pos) <= set(res["id"])
    assert res["n_match"] == 220 and len(res["x"]) == len(res["flags"]) == 50


def test_projection_is_cached_per_embedding_set(clean):
    from framesift.app.projection import cached_projection, project
    from framesift.store.embeddings import EmbeddingStore

    matrix = EmbeddingStore(clean.workspace, "pixels").load()
    xy = cached_projection(clean.workspace, "pixels", matrix)
    assert xy.shape == (220, 2) and xy.min() == 0 and xy.max() == 1
    files = list((clean.workspace.cache_dir / "maps").glob("pixels-pca-*.npy"))
    assert len(files) == 1
    np.testing.assert_array_equal(cached_projection(clean.workspace, "pixels", matrix), xy)
    # The red-square frames sit apart from the rest along the first axis.
    pos = np.isin(matrix.frame_ids, sorted(clean.positive_frame_ids))
    centre = xy.mean(axis=0)
    assert np.linalg.norm(xy[pos].mean(axis=0) - centre) > 0.1
    assert project(np.zeros((0, 4))).shape == (0, 2)


def test_randomized_axes_match_exact_pca():
    from framesift.app.projection import top_axes

    rng = np.random.default_rng(3)
    scale = np.r_[5.0, 3.0, np.linspace(1, 0.1, 38)].astype(np.float32)  # a clear gap after two axes
    x = rng.normal(size=(500, 40)).astype(np.float32) * scale
    x -= x.mean(axis=0)
    exact = np.linalg.svd(x, full_matrices=False)[2][:2]
    approx = top_axes(x, 2, rng)
    assert np.abs(np.abs((approx * exact).sum(axis=1)) - 1).max() < 1e-3


def test_unknown_embedder_key_is_refused_at_start(clean):
    with pytest.raises(FramesiftError, match="it has: pixels"):
        create_app(clean.workspace.root, embedder="efficientnet_lite0")


def test_score_curves_for_the_bulk_timeline(client, clean):
    """Analytics timelines (any stored score) come back per video in frame order, for the strip's curve."""
    catalog = clean.workspace.catalog
    video_id, frames = catalog.query("SELECT id FROM videos ORDER BY id")[0][0], None
    frames = catalog.query("SELECT id, frame_index FROM frames WHERE video_id = ? ORDER BY frame_index", (video_id,))
    with catalog.transaction() as conn:
        conn.executemany("INSERT INTO scores (task, name, frame_id, value) VALUES ('analytics', 'face_count', ?, ?)",
                         [(r[0], float(r[1] % 3)) for r in frames[::2]])
    assert client.get("/api/score-names").json() == ["analytics/face_count"]
    body = client.get(f"/api/videos/{video_id}/series", params={"score": "analytics/face_count"}).json()
    assert body["frame_index"] == [r[1] for r in frames[::2]]
    assert body["value"] == [float(r[1] % 3) for r in frames[::2]]
    assert client.get(f"/api/videos/{video_id}/series", params={"score": "nope/none"}).status_code == 404
    assert client.get(f"/api/videos/{video_id}/series", params={"score": "noslash"}).status_code == 400
    assert client.get("/api/videos/999999/series", params={"score": "analytics/face_count"}).status_code == 404
