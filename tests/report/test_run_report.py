"""`framesift run` writes the report at the end, with the numbers of the run it just made."""

import json
import re
import shutil

from framesift.config.loader import load_config
from framesift.pipeline.run import run_pipeline

CONFIG = {
    "selection_config": {
        "n_samples": 8,
        "strategies": [{"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY"}}],
    },
    "framesift": {"embedder": "pixels"},
}


def _count(html: str, key: str) -> int:
    return int(re.search(rf'<tr data-key="{key}"><th>[^<]*</th><td class="n">([\d,]+)</td>', html).group(1).replace(",", ""))


def test_run_writes_the_report_of_its_selection(tmp_path, rare_video, shots_video):
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(rare_video[0], folder / "rare.mp4")
    shutil.copy(shots_video[0], folder / "shots.mp4")
    summary = run_pipeline(str(folder), tmp_path / "ws", load_config(CONFIG))
    run_dir = summary.run_dir
    assert summary.report_files == [run_dir / "report.html", run_dir / "report.pdf"]
    assert "report" in summary.timings
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    stats = summary.selection.stats
    assert _count(html, "frames_selected") == stats["n_selected"] == 8
    assert _count(html, "frames_indexed") == 120 and _count(html, "videos") == 2
    for stage in ("ingest", "embed", "select", "extract"):
        assert f'<tr data-stage="{stage}">' in html
    selection = json.loads((run_dir / "selection.json").read_text())
    labels = {label for frame in selection["frames"] for label in frame["scores"]}
    assert len(labels) == 1  # one strategy: one group of examples, its first 6 picks
    assert re.search(rf'<h3 data-group="{re.escape(labels.pop())}">[^<]*: 8 picks</h3>', html)
    assert html.count('<img src="data:image/jpeg') == 6
    assert '<tr data-method="this selection"><th>this selection</th><td class="n">120</td>' in html
    # a second run with --no-report (ingest and embeddings are reused) writes no report
    again = run_pipeline(str(folder), tmp_path / "ws", load_config(CONFIG, {"run_name": "quiet"}), report=False)
    assert again.report_files == [] and again.run_dir.name == "quiet"
    assert not (again.run_dir / "report.html").exists() and not (again.run_dir / "report.pdf").exists()
