"""Highlights: top-k with a minimum time gap (property-checked), and the GIF/MP4 reel on a real clip."""

from __future__ import annotations

import av
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from typer.testing import CliRunner

from framesift.analytics import store
from framesift.analytics.highlights import top_k_with_gap
from framesift.cli import app
from framesift.video import synthetic
from framesift.workspace import Workspace


def test_top_k_skips_near_duplicates_and_returns_time_order():
    t = np.arange(0, 10, 0.5)  # 20 frames, 0.5 s apart
    scores = np.zeros(20)
    scores[[4, 5, 6]] = [0.9, 1.0, 0.95]  # one moment around 2.5 s
    scores[15] = 0.8  # 7.5 s
    scores[1] = 0.7  # 0.5 s
    assert top_k_with_gap(t, scores, 3, 1.0).tolist() == [1, 5, 15]
    assert top_k_with_gap(t, scores, 3, 0.0).tolist() == [4, 5, 6]
    assert top_k_with_gap(t, scores, 10, 100.0).tolist() == [5]
    scores[3] = np.nan
    assert 3 not in top_k_with_gap(t, scores, 20, 0.0).tolist()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 100), st.floats(0, 1)), min_size=1, max_size=60),
       st.integers(1, 10), st.floats(0, 20))
def test_top_k_is_the_greedy_best_with_the_gap(items, k, gap):
    t = np.array([x for x, _ in items])
    s = np.array([y for _, y in items])
    picks = top_k_with_gap(t, s, k, gap)
    assert len(picks) <= k and np.all(np.diff(t[picks]) >= 0)  # time order
    chosen = t[picks]
    assert all(abs(a - b) >= gap for i, a in enumerate(chosen) for b in chosen[i + 1 :])
    for j in set(range(len(t))) - set(picks.tolist()):
        # every frame left out is blocked by a better-or-equal pick within the gap, or the reel is full of better ones
        blocked = any(abs(t[i] - t[j]) < gap and s[i] >= s[j] for i in picks)
        full = len(picks) == k and s[picks].min() >= s[j]
        assert blocked or full


def _coded_clip(path, n_frames=50, fps=10.0):
    """Frame i is a flat gray of level 4 * i with a coloured bar: identifiable after GIF quantisation."""
    frames = []
    for i in range(n_frames):
        image = np.full((72, 96, 3), 4 * i + 20, np.uint8)
        image[:, : 8 + i] = (200, 40, 40)
        frames.append(image)
    synthetic.write_video(path, frames, fps=fps, quality=10)
    return frames


def _nearest(image, frames):
    errors = [np.abs(image[:56].astype(int) - f[:56].astype(int)).mean() for f in frames]  # top: no time stamp
    return int(np.argmin(errors))


def test_highlights_cli_writes_gif_and_mp4_of_k_frames_in_time_order(tmp_path):
    from analytics_support import ingest

    folder = tmp_path / "in"
    source = _coded_clip(folder / "lesson.mp4")
    ws = Workspace.open(tmp_path / "ws")
    ingest(ws, folder)
    frames = store.frame_rows(ws.catalog, store.videos(ws.catalog)[0].id)
    t = frames.time_s
    scores = np.exp(-((t - 1.0) ** 2) / 0.1) + 0.9 * np.exp(-((t - 3.0) ** 2) / 0.1) + 0.5 * np.exp(
        -((t - 4.5) ** 2) / 0.1) + 0.01 * t  # bumps at 1.0, 3.0, 4.5 s; the slope breaks ties
    store.write_scores(ws.catalog, "smile_probability", [store.videos(ws.catalog)[0].id], frames.frame_id, scores)
    k, gap = 3, 1.0
    result = CliRunner().invoke(app, ["highlights", "--out", str(ws.root), "--score", "analytics/smile_probability",
                                      "--k", str(k), "--min-gap", str(gap), "--width", "96"])
    assert result.exit_code == 0, result.output
    expected = top_k_with_gap(t, scores, k, gap)
    assert frames.frame_index[expected].tolist() == [10, 30, 45]  # the bump peaks, not their neighbours

    gif = Image.open(ws.root / "analytics" / "highlights" / "lesson.gif")
    assert gif.n_frames == k
    shown = []
    for i in range(gif.n_frames):
        gif.seek(i)
        shown.append(_nearest(np.asarray(gif.convert("RGB")), source))
    assert shown == [10, 30, 45]
    assert np.all(np.diff(t[shown]) >= gap)

    with av.open(str(ws.root / "analytics" / "highlights" / "lesson.mp4")) as container:
        decoded = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert [_nearest(f, source) for f in decoded] == [10, 30, 45]
    listing = (ws.root / "analytics" / "highlights" / "lesson.csv").read_text().splitlines()
    assert [int(line.split(",")[2]) for line in listing[1:]] == [10, 30, 45]


def test_highlights_cli_names_a_missing_score(tmp_path):
    from analytics_support import ingest

    _coded_clip(tmp_path / "in" / "a.mp4", n_frames=5)
    ws = Workspace.open(tmp_path / "ws")
    ingest(ws, tmp_path / "in")
    result = CliRunner().invoke(app, ["highlights", "--out", str(ws.root), "--score", "analytics/nope"])
    assert result.exit_code != 0 and "analytics/nope not found" in str(result.exception)
