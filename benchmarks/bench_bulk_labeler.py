"""UI throughput of the bulk labeler, driven by keyboard in headless Chromium.

Builds a synthetic workspace (a clip with a red square in known frames + a clip with cuts),
serves it with uvicorn, opens the bulk labeler and labels frames the way a user does:

1. per-frame keys: ``1`` / ``0`` for every tile (the cursor advances), ``.`` for the next window
   of 60 frames; the clock runs from the first key until the last label is committed;
2. batch: ``a`` (select the window) + ``Enter`` (accept the model's pre-labels), ``.`` next window;
3. range: ``Shift+Y`` labels a whole range (every indexed frame between the two slider handles).

It prints frames labeled per minute for each mode and checks every stored label against the
ground truth. A robot presses the keys, so this is the UI's capacity (decode, render, save),
the ceiling for a human, not a human's speed.

    .venv/bin/python benchmarks/bench_bulk_labeler.py                # 600 frames per clip, 300 labeled by key
    .venv/bin/python benchmarks/bench_bulk_labeler.py --frames 1200 --keys 600 --key-delay-ms 50
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from pathlib import Path

import httpx
import uvicorn

from framesift.app.demo import build_demo_workspace
from framesift.app.security import LOOPBACK_HOSTS
from framesift.app.server import create_app
from framesift.util.progress import set_progress

set_progress(False)
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
WINDOW = 60


def serve(workspace: Path, port: int) -> uvicorn.Server:
    app = create_app(workspace, allowed_hosts=LOOPBACK_HOSTS)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("server did not start")
        time.sleep(0.05)
    return server


def wait_window(page, start: int) -> None:
    """Until the grid shows exactly frames start..start+WINDOW-1 with their thumbnails."""
    page.wait_for_function(
        f"B.grid.items.length === {WINDOW} && B.grid.items[0].frame_index === {start} && "
        f"B.grid.items[{WINDOW - 1}].frame_index === {start + WINDOW - 1} && "
        "document.querySelectorAll('#grid img[src]').length === B.grid.items.length")


def label_by_keys(page, truth: set[int], n_frames: int, key_delay_ms: int) -> tuple[int, float, list[float]]:
    """Per-frame keys over consecutive windows; returns (frames labeled, seconds, per-window seconds)."""
    page.evaluate(f"setRange(0, {WINDOW - 1})")
    wait_window(page, 0)
    page.click("#grid .tile >> nth=0")
    done, windows = 0, []
    start = time.perf_counter()
    while done < n_frames:
        t = time.perf_counter()
        ids = page.evaluate("B.grid.items.map(i => i.id)")
        for fid in ids[: n_frames - done]:
            page.keyboard.press("1" if fid in truth else "0", delay=0)
            if key_delay_ms:
                page.wait_for_timeout(key_delay_ms)
        done += min(len(ids), n_frames - done)
        if done < n_frames:
            first = page.evaluate("B.grid.items[0].frame_index")
            page.keyboard.press(".")
            wait_window(page, first + WINDOW)
            page.click("#grid .tile >> nth=0")
        windows.append(time.perf_counter() - t)
    page.wait_for_function("FS.pending === 0", timeout=120_000)
    return done, time.perf_counter() - start, windows


def label_by_batches(page, n_windows: int, first_frame: int) -> tuple[int, float]:
    page.evaluate(f"setRange({first_frame}, {first_frame + WINDOW - 1})")
    wait_window(page, first_frame)
    page.click("#grid .tile >> nth=0")
    done = 0
    start = time.perf_counter()
    for k in range(n_windows):
        page.keyboard.press("a")
        page.keyboard.press("Enter")
        done += page.evaluate("B.grid.items.length")
        if k + 1 < n_windows:
            page.keyboard.press(".")
            wait_window(page, first_frame + (k + 1) * WINDOW)
            page.click("#grid .tile >> nth=0")
    page.wait_for_function("FS.pending === 0", timeout=120_000)
    return done, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=600, help="frames per synthetic clip")
    parser.add_argument("--keys", type=int, default=300, help="frames to label with per-frame keys")
    parser.add_argument("--key-delay-ms", type=int, default=0, help="pause after each key (a human is ~300-600)")
    parser.add_argument("--port", type=int, default=8791)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        demo = build_demo_workspace(Path(tmp), n_frames=args.frames, shot_lengths=(args.frames // 3,) * 3)
        print(f"workspace: {len(demo.positive_frame_ids) + len(demo.negative_frame_ids)} frames "
              f"({time.perf_counter() - t:.1f}s to build)")
        server = serve(demo.workspace.root, args.port)
        base = f"http://127.0.0.1:{args.port}"
        http = httpx.Client(timeout=120)
        cid = http.post(f"{base}/api/concepts", json={"name": "red square"}).json()["id"]
        street = next(v["id"] for v in http.get(f"{base}/api/videos").json() if v["name"] == "street")
        parking = next(v["id"] for v in http.get(f"{base}/api/videos").json() if v["name"] == "parking")
        truth = demo.positive_frame_ids
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.goto(f"{base}/bulk?concept={cid}&video={parking}&count={WINDOW}")
            page.wait_for_selector("#grid .tile")

            n, seconds, windows = label_by_keys(page, truth, min(args.keys, args.frames), args.key_delay_ms)
            print(f"per-frame keys:  {n} frames in {seconds:.1f}s = {60 * n / seconds:.0f} frames/min "
                  f"(window of {WINDOW}: median {statistics.median(windows):.2f}s incl. thumbnail decode)")
            keyed = http.get(f"{base}/api/concepts/{cid}/labels").json()
            wrong = sum(1 for r in keyed if r["value"] != int(r["frame_id"] in truth))
            print(f"check: {len(keyed)} keyed labels stored, {wrong} differ from the ground truth")

            assert http.post(f"{base}/api/concepts/{cid}/build", json={}).status_code == 200
            page.goto(f"{base}/bulk?concept={cid}&video={street}&count={WINDOW}")
            page.wait_for_selector("#grid .tile")
            n_windows = max(1, (args.frames // 3 * 3) // WINDOW)
            n, seconds = label_by_batches(page, n_windows, 0)
            print(f"batch (a+Enter): {n} frames in {seconds:.1f}s = {60 * n / seconds:.0f} frames/min")

            page.goto(f"{base}/bulk?concept={cid}&video={parking}")
            page.wait_for_selector("#grid .tile")
            page.evaluate(f"setRange(0, {args.frames - 1})")
            page.wait_for_function("document.querySelector('#range-text').textContent.startsWith('frames 0')")
            before = len(http.get(f"{base}/api/concepts/{cid}/labels").json())
            t = time.perf_counter()
            page.keyboard.press("Shift+N")
            page.wait_for_function("FS.pending === 0")
            seconds = time.perf_counter() - t
            after = http.get(f"{base}/api/concepts/{cid}/labels").json()
            print(f"range (Shift+N): {args.frames} frames in {seconds:.2f}s (1 key); labels {before} -> {len(after)}")
            browser.close()
        rows = http.get(f"{base}/api/concepts/{cid}/labels").json()
        parking_ids = {r[0] for r in demo.workspace.catalog.query("SELECT id FROM frames WHERE video_id = ?",
                                                                     (parking,))}
        street_rows = [r for r in rows if r["frame_id"] not in parking_ids]
        wrong = sum(1 for r in street_rows if r["value"] != int(r["frame_id"] in truth))
        print(f"check: {len(street_rows)} batch labels on the street clip, {wrong} differ from the ground truth")
        server.should_exit = True


if __name__ == "__main__":
    main()
