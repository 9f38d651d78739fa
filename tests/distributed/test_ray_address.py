"""`--ray-address` on a cluster started with `ray start --head`, the way a real cluster runs.

The head node is a separate process tree (as on another machine) and framesift runs as a
separate driver process that attaches to it by address; the catalog it writes must equal the
local engine's.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from catalog_compare import catalog_snapshot
from typer.testing import CliRunner

from framesift.cli import app
from framesift.workspace import Workspace

pytestmark = [pytest.mark.ray, pytest.mark.timeout(240)]
RAY_CLI = Path(sys.executable).with_name("ray")
FRAMESIFT_CLI = Path(sys.executable).with_name("framesift")
# Token authentication is off on both sides: its default differs between Ray versions.
NO_AUTH = {**os.environ, "RAY_AUTH_MODE": "disabled"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def ray_head(tmp_path: Path):
    if not RAY_CLI.exists() or not FRAMESIFT_CLI.exists():
        pytest.skip("the ray and framesift commands are not installed next to this Python")
    port = free_port()
    log = tmp_path / "head.log"
    # Its own temp dir (short: Unix socket paths live there): `ray start` records its address in
    # TEMP/ray_current_cluster, and a record left in the default /tmp/ray would make every later
    # `ray.init()` on this machine try to attach to this dead head.
    temp_dir = tempfile.mkdtemp(prefix="fsray", dir="/tmp")
    with open(log, "wb") as out:
        head = subprocess.Popen(
            [str(RAY_CLI), "start", "--head", "--port", str(port), "--num-cpus", "2", "--include-dashboard", "false",
             "--temp-dir", temp_dir, "--block"], stdout=out, stderr=subprocess.STDOUT, env=NO_AUTH,
            start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while "will now block" not in log.read_text(errors="replace"):
            assert head.poll() is None, log.read_text(errors="replace")[-2000:]
            assert time.monotonic() < deadline, "ray start --head did not come up in 90 s"
            time.sleep(0.5)
        yield f"127.0.0.1:{port}"
    finally:  # the head's processes share its new process group; a graceful `ray stop` takes ~30 s
        for sig, wait in ((signal.SIGTERM, 3), (signal.SIGKILL, 30)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(head.pid, sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                head.wait(wait)
                break
        shutil.rmtree(temp_dir, ignore_errors=True)


def test_ingest_on_a_cluster_address_writes_the_local_catalog(tmp_path, input_dir, ray_head):
    remote, local = tmp_path / "remote", tmp_path / "local"
    result = subprocess.run(
        [str(FRAMESIFT_CLI), "--quiet", "ingest", "--input", str(input_dir), "--out", str(remote), "--engine", "ray",
         "--ray-address", ray_head], env=NO_AUTH, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "2 ingested now" in result.stdout and "1 skipped as unreadable" in result.stdout
    assert CliRunner().invoke(app, ["ingest", "--input", str(input_dir), "--out", str(local)]).exit_code == 0
    a, b = catalog_snapshot(Workspace.open(local)), catalog_snapshot(Workspace.open(remote))
    for table in ("videos", "frames", "shots"):
        assert a[table] == b[table], f"table {table} differs"
    assert len(b["frames"]) == 120
