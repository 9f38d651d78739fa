"""kill -9 during ingest, embed, select and extract; the rerun ends exactly where an unbroken run does.

Each chain runs `framesift run` and kills it with SIGKILL at a crash point (the
FRAMESIFT_TEST_CRASH_AT hook), checks that the workspace is not corrupt, reruns it and kills
it at the next point, and so on; the last rerun finishes. The finished workspace must equal
the one of a run that was never killed: catalog rows, embedding matrices, picks in order,
PNG bytes, selection files. The random cases send SIGKILL from outside after a seeded delay.
"""

from __future__ import annotations

import random

import pytest
from crash_support import (
    CONFIG,
    assert_not_corrupt,
    cli,
    differences,
    make_videos,
    run_args,
    run_finished,
    snapshot,
)

CHAINS = {
    # points reached right after a file rename or a commit, and before the next one
    "between-file-and-row": ["ingest.frames:2", "embed.chunk_file:3", "embed.matrix_file:2",
                             "select.run_created", "extract.png_tmp:2", "files.selection"],
    "after-commits": ["ingest.video:1", "embed.chunk:5", "embed.finalized:1", "select.saved", "extract.png:3"],
}
RANDOM_SEEDS = (1, 2, 3)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    root = tmp_path_factory.mktemp("crash")
    videos = make_videos(root / "videos")
    config = root / "config.yaml"
    config.write_text(CONFIG)
    return root, videos, config


@pytest.fixture(scope="module")
def baseline(inputs):
    root, videos, config = inputs
    result = cli(run_args(videos, root / "unbroken", config), watch=root / "unbroken" / "catalog.sqlite")
    assert result.returncode == 0, result.stderr
    assert result.appeared_s is not None
    shot = snapshot(root / "unbroken")
    assert shot["leftovers"] == []
    picks = shot["data"]["table selections"]
    assert len(picks) == 8 and len({p["frame_id"] for p in picks}) == 8
    return shot, (result.appeared_s, result.seconds)


def _resume_and_compare(workspace, videos, config, expected):
    result = cli(run_args(videos, workspace, config))
    assert result.returncode == 0, result.stderr
    actual = snapshot(workspace)
    assert differences(expected["data"], actual["data"]) == []
    return actual


@pytest.mark.parametrize("chain", sorted(CHAINS))
def test_killed_at_each_point_then_rerun_equals_an_unbroken_run(tmp_path, inputs, baseline, chain):
    _, videos, config = inputs
    expected = baseline[0]
    workspace = tmp_path / "ws"
    for point in CHAINS[chain]:
        killed = cli(run_args(videos, workspace, config), crash_at=point)
        assert killed.returncode == -9, f"{point}: the run was not killed there ({killed.returncode}): {killed.stderr}"
        assert_not_corrupt(workspace)
    actual = _resume_and_compare(workspace, videos, config, expected)
    # a kill between a temporary file and its rename leaves that temp file (hidden, never read)
    assert all(name.rsplit("/", 1)[-1].startswith(".") for name in actual["leftovers"])


@pytest.mark.parametrize("seed", RANDOM_SEEDS)
def test_killed_at_a_random_moment_then_rerun_equals_an_unbroken_run(tmp_path, inputs, baseline, seed):
    _, videos, config = inputs
    expected, (work_starts, work_ends) = baseline
    workspace = tmp_path / "ws"
    rng = random.Random(seed)
    for _ in range(2):
        # the first unbroken run was cold: aim at the first 80 % of its work so most draws land mid-run
        attempt = cli(run_args(videos, workspace, config),
                      kill_after=rng.uniform(work_starts, work_starts + 0.8 * (work_ends - work_starts)))
        assert_not_corrupt(workspace)
        assert attempt.returncode in (0, -9), attempt.stderr
        if run_finished(workspace):
            break  # the kill came after the run was done (or never came): rerunning now would start run-2
    else:
        _resume_and_compare(workspace, videos, config, expected)
    assert differences(expected["data"], snapshot(workspace)["data"]) == []
