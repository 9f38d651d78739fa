"""Shared fixtures: small synthetic videos with known content, generated once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from framesift.util.progress import set_progress
from framesift.video import synthetic

set_progress(False)

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="session")
def video_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("videos")


@pytest.fixture(scope="session")
def rare_video(video_dir: Path) -> tuple[Path, synthetic.RareObjectTruth]:
    path = video_dir / "rare.mp4"
    truth = synthetic.static_scene_with_rare_object(path, n_frames=60, rare_frames=(20, 21, 45), size=(160, 120))
    return path, truth


@pytest.fixture(scope="session")
def shots_video(video_dir: Path) -> tuple[Path, synthetic.ShotsTruth]:
    path = video_dir / "shots.mp4"
    truth = synthetic.multi_shot_video(path, shot_lengths=(20, 15, 25), size=(160, 120))
    return path, truth


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not SHARED_DATA.exists():
        skip = pytest.mark.skip(reason=f"{SHARED_DATA} not present")
        for item in items:
            if "realdata" in item.keywords:
                item.add_marker(skip)
