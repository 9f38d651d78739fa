"""What a killed process leaves in run records and embedding folders, and how the next run takes over."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from framesift.errors import FramesiftError
from framesift.pipeline.runs import create_run
from framesift.workspace import Workspace

HOLD_RUN = textwrap.dedent("""
    import os, signal, sys
    from framesift.pipeline.runs import create_run
    from framesift.workspace import Workspace
    catalog = Workspace.open(sys.argv[1]).catalog
    print(create_run(catalog, sys.argv[2] or None, {}, None)[1], flush=True)
    if sys.argv[3] == "die":
        os.kill(os.getpid(), signal.SIGKILL)
    sys.stdin.read()  # hold the run until the test closes stdin
""")


def _start_run(ws, name, mode):
    proc = subprocess.Popen([sys.executable, "-c", HOLD_RUN, str(ws.root), name, mode], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    created = proc.stdout.readline().strip()
    if mode == "die":
        proc.wait()
    return proc, created


def test_a_run_left_running_by_a_killed_process_is_taken_over_under_its_name(tmp_path):
    ws = Workspace.open(tmp_path / "ws")
    _, name = _start_run(ws, "", "die")
    assert name == "run-1"
    run_id, again = create_run(ws.catalog, None, {"k": 1}, None)
    assert again == "run-1"
    rows = ws.catalog.query("SELECT id, name, status, config FROM runs")
    assert [(r["id"], r["name"], r["status"], json.loads(r["config"])) for r in rows] == [(run_id, "run-1", "running",
                                                                                           {"k": 1})]


def test_a_run_another_live_process_is_writing_is_left_alone(tmp_path):
    ws = Workspace.open(tmp_path / "ws")
    proc, name = _start_run(ws, "shared", "hold")
    assert name == "shared"
    try:
        with pytest.raises(FramesiftError, match=r"run 'shared' is being written by process \d+"):
            create_run(ws.catalog, "shared", {}, None)
        assert create_run(ws.catalog, None, {}, None)[1] == "run-2"  # a new name, the live run keeps its own
    finally:
        proc.communicate("")
    assert create_run(ws.catalog, "shared", {}, None)[1] == "shared"  # its process is gone: taken over
