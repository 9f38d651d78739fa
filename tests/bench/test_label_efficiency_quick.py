"""Smoke test: the benchmark's --quick mode end to end on the shared clips (real framesift pipeline)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.realdata
@pytest.mark.slow
@pytest.mark.timeout(400)
def test_quick_run_selects_budgets_and_reports_every_method(tmp_path: Path):
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.label_efficiency", "--quick", "--parts", "1,3,4", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=380,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = (out / "results.md").read_text()
    assert "python -m benchmarks.label_efficiency --quick" in text and "seeds: [0, 1, 2]" in text
    data = json.loads((out / "results.json").read_text())
    assert set(data["clips"]) == {"tud-campus", "tud-campus+idle", "stress", "stress-sparse"}
    for clip in data["clips"].values():
        assert clip["decode_check"] < 4.0  # every decoded frame is its clip frame
    methods = {r["method"] for r in data["coverage"]}
    assert methods == {"uniform-fps", "random", "diversity", "div+uncertainty", "div+unc+balance",
                       "div+unc+bal+gap", "diversity+gap"}
    for r in data["coverage"]:
        n = data["clips"][r["clip"]]["frames"]
        assert len(set(r["frames"])) == r["k"] and min(r["frames"]) >= 0 and max(r["frames"]) < n
        assert 0.0 <= r["values"]["box_recall"] <= 1.0
    seeded = [r for r in data["coverage"] if r["method"] == "random" and r["clip"] == "stress" and r["budget"] == 0.05]
    assert sorted(r["seed"] for r in seeded) == [0, 1, 2]
    stress = [r for r in data["coverage"] if r["clip"] == "stress"]
    assert all("recall:all" in r["values"] for r in stress)
    assert {c["collection"] for c in data["classification"]} == {"asl", "stress"}
    assert len({c["concept"] for c in data["classification"] if c["collection"] == "asl"}) == 20
    assert "### Goals" in text and "rare-event recall" in text
