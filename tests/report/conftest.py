"""Fixtures of the report tests (the run itself is built in report_fixtures)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # importlib mode: make report_fixtures importable for the tests
from report_fixtures import SyntheticRun, make_run


@pytest.fixture(scope="module")
def synthetic_run(tmp_path_factory, rare_video, shots_video) -> SyntheticRun:
    return make_run(tmp_path_factory.mktemp("report"), rare_video, shots_video, predictions=True)
