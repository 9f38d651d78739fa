"""Fixtures of the report tests (the run itself is built in report_fixtures)."""

from __future__ import annotations

import pytest
from report_fixtures import SyntheticRun, make_run  # tests/report is on pytest's pythonpath (pyproject)


@pytest.fixture(scope="module")
def synthetic_run(tmp_path_factory, rare_video, shots_video) -> SyntheticRun:
    return make_run(tmp_path_factory.mktemp("report"), rare_video, shots_video, predictions=True)
