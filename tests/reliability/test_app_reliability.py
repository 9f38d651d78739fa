"""The web app as users start it (`framesift serve`): bind address, token, path traversal, concurrent writes."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from framesift.app.demo import build_demo_workspace

SECRET = b"framesift-reliability-secret"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served:
    """`framesift serve WS [args]` in a subprocess, until stop()."""

    def __init__(self, workspace: Path, *args: str, env: dict[str, str] | None = None):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.args = [str(workspace), "--port", str(self.port), *args]
        self.env = dict(os.environ, FRAMESIFT_PROGRESS="0", OPENBLAS_NUM_THREADS="1", **(env or {}))
        self.env.pop("FRAMESIFT_TOKEN", None) if not env or "FRAMESIFT_TOKEN" not in env else None
        self.proc: subprocess.Popen | None = None

    def start(self, headers: dict[str, str] | None = None) -> Served:
        self.proc = subprocess.Popen([sys.executable, "-c", "from framesift.cli import main; main()", "serve", *self.args],
                                     env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"serve exited: {self.proc.stdout.read()}")
            try:
                if httpx.get(f"{self.url}/api/info", headers=headers, timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError("serve did not answer in 60 s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=20)
        self.proc = None


def listening_addresses(port: int) -> set[str]:
    """Local addresses with a LISTEN socket on ``port`` (from /proc/net/tcp and tcp6)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not os.path.exists(table):
            continue
        with open(table) as fh:
            for line in fh.readlines()[1:]:
                local, state = line.split()[1], line.split()[3]
                address, hex_port = local.rsplit(":", 1)
                if state == "0A" and int(hex_port, 16) == port:
                    raw = bytes.fromhex(address)
                    words = [raw[i : i + 4][::-1] for i in range(0, len(raw), 4)]  # little-endian 32-bit words
                    family = socket.AF_INET if len(raw) == 4 else socket.AF_INET6
                    found.add(socket.inet_ntop(family, b"".join(words)))
    return found


def raw_get(port: int, target: str, headers: str = "") -> tuple[int, bytes]:
    """Send the request target byte for byte (HTTP clients normalise '..' and '%2e' away)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{headers}Connection: close\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    status = int(data.split(b" ", 2)[1])
    return status, data


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("app-reliability")
    demo = build_demo_workspace(root)
    demo.workspace.close()
    outside = root / "outside.txt"  # a file outside the workspace that must never be served
    outside.write_bytes(SECRET)
    return demo, root


@pytest.fixture(scope="module")
def served(demo):
    _, root = demo
    server = Served(root / "ws").start()
    yield server
    server.stop()


def test_serve_binds_loopback_unless_told_otherwise(served):
    assert listening_addresses(served.port) == {"127.0.0.1"}
    assert httpx.get(f"{served.url}/api/info", headers={"host": "attacker.example"}).status_code == 400


def test_serve_off_loopback_needs_a_token_and_checks_it(demo):
    _, root = demo
    refused = subprocess.run([sys.executable, "-c", "from framesift.cli import main; main()", "serve", str(root / "ws"),
                              "--host", "0.0.0.0", "--port", str(_free_port())], capture_output=True, text=True,
                             env={k: v for k, v in os.environ.items() if k != "FRAMESIFT_TOKEN"}, timeout=120)
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1 and "--token" in refused.stderr
    server = Served(root / "ws", "--host", "0.0.0.0", env={"FRAMESIFT_TOKEN": "s3cret-token"})
    server.start(headers={"X-Framesift-Token": "s3cret-token"})
    try:
        assert listening_addresses(server.port) == {"0.0.0.0"}
        for headers in ({}, {"X-Framesift-Token": "wrong"}, {"Authorization": "Bearer nope"}):
            assert httpx.get(f"{server.url}/api/info", headers=headers).status_code == 401
            assert httpx.get(f"{server.url}/media/frame/1.jpg", headers=headers).status_code == 401
        ok = {"Authorization": "Bearer s3cret-token", "host": "lab-machine.example:8765"}
        assert httpx.get(f"{server.url}/api/info", headers=ok).status_code == 200
    finally:
        server.stop()


TRAVERSALS = [
    "/static/../catalog.sqlite",
    "/static/../../outside.txt",
    "/static/%2e%2e/%2e%2e/outside.txt",
    "/static/%2e%2e%2f%2e%2e%2foutside.txt",
    "/static/..%2f..%2f..%2fcatalog.sqlite",
    "/static/..%5c..%5ccatalog.sqlite",
    "/static//etc/passwd",
    "/static/%2fetc%2fpasswd",
    "/media/frame/../../catalog.sqlite",
    "/media/frame/%2e%2e%2f%2e%2e%2fcatalog.sqlite",
    "/media/thumb/1.jpg/../../../catalog.sqlite",
    "/media/crop/..%2f..%2fcatalog.sqlite",
    "/%2e%2e/%2e%2e/etc/passwd",
    "//etc/passwd",
    "/api/concepts/{cid}/export/..%2f..%2f..%2fcatalog.sqlite",
    "/api/concepts/{cid}/export/%2e%2e%2f%2e%2e%2f%2e%2e%2foutside.txt",
    "/api/concepts/{cid}/export/%2fetc%2fpasswd",
    "http://127.0.0.1/../../etc/passwd",
]


def test_path_traversal_attempts_get_4xx_and_no_file(served, demo):
    concept = httpx.post(f"{served.url}/api/concepts", json={"name": "traversal"}).json()["id"]
    for target in TRAVERSALS:
        status, body = raw_get(served.port, target.format(cid=concept))
        assert 400 <= status < 500, (target, status, body[:200])
        assert b"SQLite format 3" not in body and SECRET not in body and b"root:x:0:0" not in body, target


def test_symlinks_out_of_the_workspace_are_not_followed(served, demo):
    _, root = demo
    ws = root / "ws"
    headers = {"content-type": "application/json"}
    concept = httpx.post(f"{served.url}/api/concepts", json={"name": "symlinked"}, headers=headers).json()
    folder = ws / "concepts" / "symlinked"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "classifier.json").symlink_to(root / "outside.txt")
    response = httpx.get(f"{served.url}/api/concepts/{concept['id']}/export/classifier.json")
    assert 400 <= response.status_code < 500 and SECRET not in response.content
    # a thumbnail cache entry replaced by a link to a file outside the workspace
    assert httpx.get(f"{served.url}/media/thumb/1.jpg?w=64").status_code == 200
    (cached,) = list((ws / "cache" / "thumbs").glob("1-*/0-64.jpg"))
    cached.unlink()
    cached.symlink_to(root / "outside.txt")
    response = httpx.get(f"{served.url}/media/thumb/1.jpg?w=64")
    assert response.status_code == 404 and SECRET not in response.content


def test_two_clients_writing_200_labels_each_all_persist_across_a_restart(served, demo):
    _, root = demo
    with sqlite3.connect(root / "ws" / "catalog.sqlite") as conn:
        frames = [r[0] for r in conn.execute("SELECT id FROM frames ORDER BY id LIMIT 200")]
    assert len(frames) == 200
    concepts = [httpx.post(f"{served.url}/api/concepts", json={"name": name}).json()["id"] for name in ("left", "right")]
    # client k writes half of the frames of both concepts, one label per request, interleaved with the other
    plans = {k: [(c, f, (f + c) % 2) for c in concepts for f in frames[k * 100 : (k + 1) * 100]] for k in (0, 1)}
    errors: list[str] = []

    def client(plan):
        with httpx.Client(base_url=served.url, timeout=30) as http:
            for concept, frame, value in plan:
                r = http.put(f"/api/concepts/{concept}/labels", json={"frame_ids": [frame], "value": value})
                if r.status_code != 200:
                    errors.append(f"{r.status_code} {r.text[:100]}")

    threads = [threading.Thread(target=client, args=(plans[k],)) for k in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    expected = {(c, f): v for plan in plans.values() for c, f, v in plan}
    assert len(expected) == 400

    served.stop()
    served.start()
    stored = {}
    for concept in concepts:
        for row in httpx.get(f"{served.url}/api/concepts/{concept}/labels").json():
            stored[(concept, row["frame_id"])] = row["value"]
    assert stored == expected
