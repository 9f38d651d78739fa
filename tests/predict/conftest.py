"""Fixtures: the synthetic street clip (known boxes) and a workspace with it ingested."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # importlib mode: make predict_support importable for the tests
from predict_support import BoxTruth, ingest_folder, make_boxes_video

from framesift.workspace import Workspace


@pytest.fixture(scope="session")
def boxes_video(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, BoxTruth]:
    path = tmp_path_factory.mktemp("boxes") / "street.mp4"
    return path, make_boxes_video(path)


@pytest.fixture()
def datasource(tmp_path: Path, boxes_video) -> Path:
    """An input folder laid out like a LightlyOne datasource: cam1/street.mp4."""
    folder = tmp_path / "in"
    (folder / "cam1").mkdir(parents=True)
    shutil.copy(boxes_video[0], folder / "cam1" / "street.mp4")
    return folder


@pytest.fixture()
def workspace(tmp_path: Path, datasource: Path) -> Workspace:
    ws = Workspace.open(tmp_path / "ws")
    ingest_folder(ws, datasource)
    return ws
