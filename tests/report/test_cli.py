import subprocess
import sys

from typer.testing import CliRunner

from framesift.cli import app
from framesift.errors import FramesiftError


def test_report_command_accepts_a_run_folder(synthetic_run):
    run_dir = synthetic_run.workspace.root / "runs" / synthetic_run.run_name
    (run_dir / "report.html").unlink(missing_ok=True)
    result = CliRunner().invoke(app, ["report", str(run_dir), "--maps", "pca", "--no-pdf"])
    assert result.exit_code == 0, result.output
    assert f"report: {run_dir / 'report.html'}" in result.output
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    assert html.count('class="fs-map"') == 1


def test_report_command_accepts_a_name_with_workspace(synthetic_run):
    run_dir = synthetic_run.workspace.root / "runs" / synthetic_run.run_name
    result = CliRunner().invoke(app, ["report", synthetic_run.run_name, "--workspace", str(synthetic_run.workspace.root),
                                      "--maps", "none", "--no-html"])
    assert result.exit_code == 0, result.output
    assert (run_dir / "report.pdf").stat().st_size > 10_000


def test_report_command_user_errors(synthetic_run, tmp_path):
    ws = str(synthetic_run.workspace.root)
    cases = [
        (["report", "nope", "--workspace", ws], "run 'nope' not found; runs in this workspace: run-1"),
        (["report", str(tmp_path)], "not a run folder"),
        (["report", "run-1", "--workspace", ws, "--no-pdf", "--no-html"], "leave nothing to write"),
    ]
    for args, message in cases:
        result = CliRunner().invoke(app, args)
        assert isinstance(result.exception, FramesiftError) and message in str(result.exception), args
        assert "\n" not in str(result.exception)


def test_report_command_error_prints_one_line_and_exits_2(synthetic_run):
    args = ["report", "run-1", "--workspace", str(synthetic_run.workspace.root), "--maps", "pca,isomap"]
    done = subprocess.run([sys.executable, "-m", "framesift.cli", *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert lines == ["error: --maps pca,isomap: unknown map 'isomap'; use auto, none or a comma separated subset of "
                     "pca,umap,tsne"]
