"""`framesift export` / `framesift import-labels` from the command line."""

from __future__ import annotations

import json
import sys
from types import SimpleNamespace

import pytest
from export_helpers import stored_labels
from typer.testing import CliRunner

from framesift.cli import app, main

runner = CliRunner()


def invoke(*args: str):
    result = runner.invoke(app, ["--quiet", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_export_then_import_from_the_command_line(run_ws, tmp_path):
    ws, expected = run_ws
    out = invoke("export", str(ws.root / "runs" / "r1"), "--format", "coco")
    assert "coco: 7 images, 7 pre-annotation boxes from task 'detect'" in out
    labels = ws.root / "runs" / "r1" / "export" / "coco" / "annotations.json"
    out = invoke("import-labels", str(labels))  # the workspace is found from the path
    assert "7 of 7 images matched; 7 boxes, 0 frame labels, 1 frames with no objects" in out
    assert len(stored_labels(ws, f"coco:{labels}")) == len(expected) + 1

    out = invoke("export", "r1", "--workspace", str(ws.root), "-f", "yolo", "--to", str(tmp_path / "y"),
                 "--no-predictions", "--labels", "car,truck")
    assert "yolo: 7 images, 0 pre-annotation boxes" in out
    assert (tmp_path / "y" / "data.yaml").read_text().count("car") == 1
    out = invoke("import-labels", str(tmp_path / "y"), "--workspace", str(ws.root))
    assert "7 of 7 images matched; 0 boxes, 0 frame labels, 7 frames with no objects" in out


def test_cli_errors_are_one_line_with_exit_code_2(run_ws, tmp_path, monkeypatch, capsys):
    ws, _ = run_ws
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"images": [{"id": 1, "file_name": "nowhere-01-mp4.png"}], "annotations": [],
                               "categories": []}))
    monkeypatch.setattr(sys, "argv", ["framesift", "import-labels", str(bad), "--workspace", str(ws.root)])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "1 of 1 images match no frame" in err
    assert stored_labels(ws) == []

    monkeypatch.setattr(sys, "argv", ["framesift", "export", "r1", "--workspace", str(ws.root), "-f", "coco",
                                      "--server", "http://x", "--upload"])
    with pytest.raises(SystemExit):
        main()
    assert "no server upload" in capsys.readouterr().err


def test_cvat_upload_from_the_command_line(run_ws, monkeypatch):
    import framesift.export.upload_cvat as upload_cvat

    ws, _ = run_ws
    seen = []

    class Client:
        tasks = SimpleNamespace(create_from_data=lambda **kw: seen.append(kw) or SimpleNamespace(id=9))

    monkeypatch.setattr(upload_cvat, "make_cvat_client", lambda server: seen.append(server) or Client())
    out = invoke("export", "r1", "--workspace", str(ws.root), "-f", "cvat", "--server", "http://cvat.local",
                 "--user", "me", "--password", "pw", "--name", "round 2")
    assert "uploaded: http://cvat.local/tasks/9" in out
    server, call = seen
    assert (server.url, server.username, server.password, server.task_name) == ("http://cvat.local", "me", "pw", "round 2")
    assert call["spec"]["name"] == "round 2"
