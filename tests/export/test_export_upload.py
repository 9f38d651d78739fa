"""Server uploads, checked at the SDK boundary (no network): the exact calls and payloads.

CVAT and Encord: a stand-in client records each call after binding its arguments to the real
SDK method's signature (so a renamed or missing parameter fails here). Label Studio: the real
SDK client over an httpx transport that records the HTTP requests it would send.
"""

from __future__ import annotations

import inspect
import json
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from framesift.errors import FramesiftError
from framesift.export.exporter import Uploader, export_run
from framesift.export.upload_cvat import CvatServer
from framesift.export.upload_encord import EncordCredentials
from framesift.export.upload_labelstudio import LabelStudioServer
from framesift.pipeline.runs import get_run


def bound(method, *args, **kwargs) -> dict:
    """Arguments as the real SDK method would receive them (raises TypeError on a mismatch)."""
    signature = inspect.signature(method)
    params = list(signature.parameters)
    if params and params[0] == "self":
        arguments = dict(signature.bind(None, *args, **kwargs).arguments)
        del arguments["self"]
        return arguments
    return dict(signature.bind(*args, **kwargs).arguments)


# -- CVAT -----------------------------------------------------------------------------------
class FakeCvat:
    def __init__(self):
        from cvat_sdk.core.proxies.tasks import TasksRepo

        self.calls, self.closed, self.uploaded = [], False, {}
        outer = self

        class Tasks:
            def create_from_data(self, *args, **kwargs):
                arguments = bound(TasksRepo.create_from_data, *args, **kwargs)
                outer.calls.append(arguments)
                for resource in arguments["resources"]:  # the temporary archive is gone after the call
                    with zipfile.ZipFile(resource) as zf:
                        outer.uploaded = {n: zf.read(n) for n in zf.namelist()}
                outer.annotations = Path(arguments["annotation_path"]).read_bytes()
                return SimpleNamespace(id=42)

        self.tasks = Tasks()

    def close(self):
        self.closed = True


def test_cvat_task_is_created_with_images_labels_and_annotations(run_ws):
    ws, _ = run_ws
    fake = FakeCvat()
    servers = []
    target = CvatServer.resolve("https://cvat.example.com/", "ann", "secret", None)
    result = export_run(ws, get_run(ws.catalog, "r1"), "cvat",
                        upload=Uploader(target, lambda s: servers.append(s) or fake))
    assert servers == [CvatServer("https://cvat.example.com", "ann", "secret", None)]
    assert result.upload == {"server": "https://cvat.example.com", "task_id": 42,
                             "task_url": "https://cvat.example.com/tasks/42"}
    [call] = fake.calls
    assert call["spec"]["name"] == "framesift r1"
    assert [label["name"] for label in call["spec"]["labels"]] == ["red square", "marker"]
    assert all(label["type"] == "rectangle" for label in call["spec"]["labels"])
    assert call["data_params"] == {"image_quality": 100, "sorting_method": "lexicographical"}
    assert call["annotation_format"] == "CVAT 1.1"
    out = result.out_dir
    assert fake.annotations == (out / "annotations.xml").read_bytes()
    xml_names = [i.get("name") for i in ET.parse(out / "annotations.xml").getroot().iter("image")]
    assert sorted(fake.uploaded) == xml_names  # task frames sorted by name = XML image ids
    assert fake.uploaded["rare-20-mp4.png"] == (out / "images" / "rare-20-mp4.png").read_bytes()
    assert fake.closed
    assert json.loads((out / "upload.json").read_text())["task_id"] == 42


def test_cvat_task_in_a_project_and_errors(run_ws, monkeypatch):
    ws, _ = run_ws
    fake = FakeCvat()
    target = CvatServer.resolve("http://cvat:8080", None, None, "tok", project_id=5, task_name="batch 1")
    export_run(ws, get_run(ws.catalog, "r1"), "cvat", upload=Uploader(target, lambda s: fake))
    assert fake.calls[0]["spec"] == {"name": "batch 1", "project_id": 5}

    class Broken(FakeCvat):
        def __init__(self):
            super().__init__()
            self.tasks.create_from_data = lambda **kw: (_ for _ in ()).throw(ConnectionError("refused"))

    with pytest.raises(FramesiftError, match="CVAT upload to http://cvat:8080 failed: refused"):
        export_run(ws, get_run(ws.catalog, "r1"), "cvat", upload=Uploader(target, lambda s: Broken()))
    for var in ("CVAT_URL", "CVAT_USERNAME", "CVAT_PASSWORD", "CVAT_ACCESS_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(FramesiftError, match="--server URL or set CVAT_URL"):
        CvatServer.resolve(None, "a", "b", None)
    with pytest.raises(FramesiftError, match="CVAT_USERNAME/CVAT_PASSWORD"):
        CvatServer.resolve("http://cvat", "a", None, None)
    monkeypatch.setenv("CVAT_URL", "http://env-cvat")
    monkeypatch.setenv("CVAT_ACCESS_TOKEN", "t0k")
    assert CvatServer.resolve(None, None, None, None) == CvatServer("http://env-cvat", token="t0k")


def test_default_cvat_client_is_built_by_make_client(monkeypatch):
    import cvat_sdk

    from framesift.export.upload_cvat import make_cvat_client

    real = cvat_sdk.make_client
    calls = []
    monkeypatch.setattr(cvat_sdk, "make_client", lambda *a, **k: calls.append(bound(real, *a, **k)) or "client")
    assert make_cvat_client(CvatServer("http://cvat", "u", "p")) == "client"
    assert make_cvat_client(CvatServer("http://cvat", token="t")) == "client"
    assert calls == [{"host": "http://cvat", "credentials": ("u", "p")}, {"host": "http://cvat", "access_token": "t"}]


# -- Label Studio ---------------------------------------------------------------------------
def label_studio_recorder():
    from label_studio_sdk import LabelStudio

    requests = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append((request.method, request.url.path, dict(request.url.params), request.headers["authorization"],
                         json.loads(request.content)))
        if request.url.path == "/api/projects/":
            return httpx.Response(201, json={"id": 7, "title": "t"})
        if request.url.path == "/api/storages/localfiles/":
            return httpx.Response(201, json={"id": 3, "project": 7})
        return httpx.Response(201, json={"task_count": 7, "task_ids": list(range(1, 8))})

    def factory(server):
        transport = httpx.Client(transport=httpx.MockTransport(handler))
        return LabelStudio(base_url=server.url, api_key=server.token, httpx_client=transport)

    return requests, factory


def test_label_studio_project_and_tasks_through_the_real_sdk(run_ws):
    ws, _ = run_ws
    requests, factory = label_studio_recorder()
    target = LabelStudioServer.resolve("http://ls.example:8080/", "abc123")
    result = export_run(ws, get_run(ws.catalog, "r1"), "labelstudio", upload=Uploader(target, factory))
    out = result.out_dir
    (m1, p1, _, auth, project), (m2, p2, _, _, storage), (m3, p3, params, _, tasks) = requests
    assert (m1, p1, m2, p2, m3, p3) == ("POST", "/api/projects/", "POST", "/api/storages/localfiles/",
                                        "POST", "/api/projects/7/import")
    assert auth == "Token abc123"
    assert project["label_config"] == (out / "label_config.xml").read_text()
    assert project["title"] == "framesift r1" and project["model_version"] == "detect"
    assert storage == {"project": 7, "path": str(out / "images"), "title": "framesift frames", "use_blob_urls": False}
    assert params == {"return_task_ids": "true"}
    assert tasks == json.loads((out / "tasks.json").read_text())  # floats included, bit for bit
    assert result.upload == {"server": "http://ls.example:8080", "project_id": 7,
                             "project_url": "http://ls.example:8080/projects/7", "local_storage_id": 3,
                             "task_count": 7}


def test_label_studio_tasks_predictions_and_config_agree(run_ws):
    ws, expected = run_ws
    out = export_run(ws, get_run(ws.catalog, "r1"), "labelstudio", image_url_prefix="s3://bucket/frames/").out_dir
    config = ET.fromstring((out / "label_config.xml").read_text())
    image_tag, labels_tag = config.find("Image"), config.find("RectangleLabels")
    assert image_tag.get("value") == "$image" and labels_tag.get("toName") == image_tag.get("name")
    names = {label.get("value") for label in labels_tag}
    tasks = json.loads((out / "tasks.json").read_text())
    assert [t["data"]["image"] for t in tasks][:2] == ["s3://bucket/frames/rare-19-mp4.png",
                                                       "s3://bucket/frames/rare-20-mp4.png"]
    regions = [r for t in tasks for p in t.get("predictions", []) for r in p["result"]]
    assert len(regions) == len(expected)
    for r in regions:
        assert (r["from_name"], r["to_name"]) == (labels_tag.get("name"), image_tag.get("name"))
        assert r["value"]["rectanglelabels"][0] in names
        assert (r["original_width"], r["original_height"]) == (160, 120)
    rare20 = next(t for t in tasks if t["data"]["frame_index"] == 20 and t["data"]["video"] == "rare")
    assert rare20["predictions"][0]["model_version"] == "detect" and rare20["predictions"][0]["score"] == 0.9
    assert rare20["predictions"][0]["result"][0]["value"] == {
        "x": 33.125, "y": 33.333333333333336, "width": 33.125, "height": 33.333333333333336, "rotation": 0,
        "rectanglelabels": ["red square"]}


def test_label_studio_local_files_url_follows_the_document_root(run_ws, monkeypatch):
    ws, _ = run_ws
    monkeypatch.setenv("LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT", str(ws.root))
    out = export_run(ws, get_run(ws.catalog, "r1"), "labelstudio").out_dir
    first = json.loads((out / "tasks.json").read_text())[0]["data"]["image"]
    assert first == "/data/local-files/?d=runs/r1/export/labelstudio/images/rare-19-mp4.png"
    monkeypatch.setenv("LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT", "/somewhere/else")
    with pytest.raises(FramesiftError, match="outside LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT"):
        export_run(ws, get_run(ws.catalog, "r1"), "labelstudio")


# -- Encord ---------------------------------------------------------------------------------
class FakeEncord:
    def __init__(self):
        self.calls = []

    def create_dataset(self, *args, **kwargs):
        from encord.orm.dataset import CreateDatasetResponse
        from encord.user_client import EncordUserClient

        self.calls.append(("create_dataset", bound(EncordUserClient.create_dataset, *args, **kwargs)))
        return CreateDatasetResponse("t", 0, "ds-hash-1", "user-1", None)

    def get_dataset(self, *args, **kwargs):
        from encord.dataset import Dataset
        from encord.user_client import EncordUserClient

        self.calls.append(("get_dataset", bound(EncordUserClient.get_dataset, *args, **kwargs)))
        outer = self

        class FakeDataset:
            def create_image_group(self, *a, **k):
                arguments = bound(Dataset.create_image_group, *a, **k)
                arguments["file_paths"] = list(arguments["file_paths"])
                assert all(Path(p).is_file() for p in arguments["file_paths"])
                outer.calls.append(("create_image_group", arguments))
                return [SimpleNamespace(data_hash=f"data-{len(outer.calls)}")]

        return FakeDataset()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # pydantic deprecation inside encord's models
def test_encord_dataset_and_one_video_sequence_per_video(run_ws, tmp_path):
    from encord.orm.dataset import StorageLocation

    ws, _ = run_ws
    key = tmp_path / "id_ed25519"
    key.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\n")
    fake = FakeEncord()
    credentials = EncordCredentials.resolve(key, None)
    result = export_run(ws, get_run(ws.catalog, "r1"), "encord", upload=Uploader(credentials, lambda c: fake))
    out = result.out_dir
    names = [c[0] for c in fake.calls]
    assert names == ["create_dataset", "get_dataset", "create_image_group", "create_image_group"]
    assert fake.calls[0][1] == {"dataset_title": "framesift r1", "dataset_type": StorageLocation.CORD_STORAGE,
                                "dataset_description": "frames selected by framesift run r1"}
    assert fake.calls[1][1] == {"dataset_hash": "ds-hash-1"}
    rare, shots = fake.calls[2][1], fake.calls[3][1]
    assert rare["title"] == "rare-mp4" and rare["create_video"] is True
    assert [Path(p).name for p in rare["file_paths"]] == [f"rare-{i}-mp4.png" for i in (19, 20, 21, 45)]
    assert [Path(p).name for p in shots["file_paths"]] == ["shots-00-mp4.png", "shots-25-mp4.png", "shots-40-mp4.png"]
    plan = json.loads((out / "encord_upload.json").read_text())
    assert [g["file_paths"] for g in plan["image_groups"]] == [rare["file_paths"], shots["file_paths"]]
    assert [f["frame_index"] for f in plan["image_groups"][0]["frames"]] == [19, 20, 21, 45]
    box = plan["image_groups"][0]["frames"][1]["predictions"][0]
    assert box["name"] == "red square" and box["boundingBox"] == {"x": 53 / 160, "y": 40 / 120, "w": 53 / 160, "h": 40 / 120}
    assert result.upload == {"dataset_hash": "ds-hash-1", "image_groups": [
        {"title": "rare-mp4", "data_hashes": ["data-3"]}, {"title": "shots-mp4", "data_hashes": ["data-4"]}]}


def test_encord_credentials_and_default_client(tmp_path, monkeypatch):
    from encord.user_client import EncordUserClient

    from framesift.export.upload_encord import make_encord_client

    monkeypatch.delenv("ENCORD_SSH_KEY_FILE", raising=False)
    monkeypatch.delenv("ENCORD_SSH_KEY", raising=False)
    with pytest.raises(FramesiftError, match="--ssh-key-file or set ENCORD_SSH_KEY_FILE"):
        EncordCredentials.resolve(None, None)
    with pytest.raises(FramesiftError, match="key file not found"):
        EncordCredentials.resolve(tmp_path / "missing", None)
    monkeypatch.setenv("ENCORD_SSH_KEY", "KEY TEXT")
    assert EncordCredentials.resolve(None, "https://api.us.encord.com") == EncordCredentials(
        None, "KEY TEXT", "https://api.us.encord.com")

    real = EncordUserClient.create_with_ssh_private_key
    calls = []
    monkeypatch.setattr(EncordUserClient, "create_with_ssh_private_key",
                        staticmethod(lambda *a, **k: calls.append(bound(real, *a, **k)) or "client"))
    assert make_encord_client(EncordCredentials(tmp_path / "k", None, None)) == "client"
    assert make_encord_client(EncordCredentials(None, "KEY TEXT", "https://api.us.encord.com")) == "client"
    assert calls == [{"ssh_private_key_path": tmp_path / "k"},
                     {"ssh_private_key": "KEY TEXT", "domain": "https://api.us.encord.com"}]


def test_upload_options_are_refused_for_file_formats(run_ws):
    ws, _ = run_ws
    with pytest.raises(FramesiftError, match="no server upload"):
        export_run(ws, get_run(ws.catalog, "r1"), "coco", upload=Uploader(None))
