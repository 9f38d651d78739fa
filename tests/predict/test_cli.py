"""The predict commands end to end through the `framesift` CLI."""

from __future__ import annotations

import json
import subprocess
import sys

from predict_support import frame_ids, write_lightly_predictions
from typer.testing import CliRunner

from framesift.cli import app
from framesift.pipeline.predictions_import import sync_lightly_dir
from framesift.pipeline.runs import create_run, finish_run, save_selection


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


def test_extract_with_crops(workspace, datasource, boxes_video):
    write_lightly_predictions(datasource, boxes_video[1])
    sync_lightly_dir(workspace, datasource)
    ids = frame_ids(workspace)
    run_id, _ = create_run(workspace.catalog, "picked", {}, None)
    save_selection(workspace.catalog, run_id, [ids[2], ids[5]], [{}, {}])
    finish_run(workspace.catalog, run_id, {})
    result = CliRunner().invoke(app, ["extract", "picked", "--workspace", str(workspace.root), "--crops", "detector"])
    assert result.exit_code == 0, result.output
    assert "crops (detector): 2 written, 0 already there, from 2 selected frames" in result.output
    assert (workspace.root / "crops/detector/cam1/street-05-mp4-0.png").is_file()
