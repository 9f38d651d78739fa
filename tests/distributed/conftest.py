"""One local Ray cluster (2 CPUs) for the whole module: starting Ray costs seconds."""

from __future__ import annotations

import logging
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # importlib mode: make catalog_compare importable for the tests
ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def ray_cluster():
    ray.init(num_cpus=2, include_dashboard=False, logging_level=logging.WARNING, object_store_memory=200 * 1024**2,
             log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def input_dir(tmp_path_factory: pytest.TempPathFactory, rare_video, shots_video) -> Path:
    """Two readable clips with known content and one unreadable file, as one input folder."""
    folder = tmp_path_factory.mktemp("ray_input")
    shutil.copy(shots_video[0], folder / "a_shots.mp4")
    shutil.copy(rare_video[0], folder / "b_rare.mp4")
    (folder / "c_broken.mp4").write_bytes(b"not a video" * 50)
    return folder
