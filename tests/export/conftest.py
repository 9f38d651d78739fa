"""A workspace with two ingested synthetic videos (ingested once per session; each test gets a
copy), and a finished run with detection predictions whose boxes are known exactly."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from export_helpers import RARE_PICKS, SHOTS_PICKS, add_predictions, make_run

from framesift.pipeline.ingest import ingest_videos
from framesift.store.videos import SamplingKey, register_videos
from framesift.video.discover import discover_videos
from framesift.workspace import Workspace


@pytest.fixture(scope="session")
def ingested_ws(tmp_path_factory: pytest.TempPathFactory, rare_video, shots_video) -> Path:
    root = tmp_path_factory.mktemp("export-ws")
    videos = root / "videos"
    videos.mkdir()
    shutil.copy(rare_video[0], videos / "rare.mp4")
    shutil.copy(shots_video[0], videos / "shots.mp4")
    ws = Workspace.open(root / "ws")
    ids, _ = register_videos(ws.catalog, discover_videos(str(videos)), SamplingKey(None, None))
    ingest_videos(ws.catalog, ids)
    ws.close()
    return root / "ws"


@pytest.fixture()
def ws(tmp_path: Path, ingested_ws: Path) -> Workspace:
    shutil.copytree(ingested_ws, tmp_path / "ws")
    workspace = Workspace.open(tmp_path / "ws", create=False)
    yield workspace
    workspace.close()


@pytest.fixture()
def run_ws(ws: Workspace, rare_video) -> tuple[Workspace, list[tuple]]:
    """Workspace with run 'r1' (7 frames over both videos) and task 'detect' predictions."""
    make_run(ws, "r1", {"rare": RARE_PICKS, "shots": SHOTS_PICKS})
    return ws, add_predictions(ws, rare_video[1].box)


