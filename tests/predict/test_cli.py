"""The predict commands end to end through the `framesift` CLI."""

from __future__ import annotations

import json
import subprocess
import sys

from predict_support import write_lightly_predictions
from typer.testing import CliRunner

from framesift.cli import app


def test_import_scores_export_commands(workspace, datasource, boxes_video, tmp_path):
    _, truth = boxes_video
    write_lightly_predictions(datasource, truth)
    runner = CliRunner()
    out = str(workspace.root)
    result = runner.invoke(app, ["import-predictions", "--out", out, "--from", str(datasource)])
    assert result.exit_code == 0, result.output
    assert "task detector: 40 frames, 40 predictions imported" in result.output
    result = runner.invoke(app, ["scores", "--out", out])
    assert "task detector (object-detection" in result.output and "objectness_least_confidence: mean" in result.output
    result = runner.invoke(app, ["export-predictions", "--out", out, "--task", "detector", "--to", str(tmp_path / "x")])
    assert result.exit_code == 0 and "40 prediction files written" in result.output
    exported = json.loads((tmp_path / "x/.lightly/predictions/detector/cam1/street-05-mp4.json").read_text())
    assert exported["file_name"] == "cam1/street-05-mp4.png" and exported["predictions"][0]["category_id"] == 1


def test_user_error_is_one_line_and_exit_code_2(workspace, datasource):
    (datasource / ".lightly" / "predictions").mkdir(parents=True)
    (datasource / ".lightly" / "predictions" / "tasks.json").write_text('["missing_task"]')
    proc = subprocess.run(
        [sys.executable, "-c", "from framesift.cli import main; main()", "import-predictions", "--out",
         str(workspace.root), "--from", str(datasource)],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert proc.stderr.startswith("error: ") and "missing_task/schema.json: missing" in proc.stderr
