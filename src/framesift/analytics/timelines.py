"""Score curves over time per video: CSV + PNG under ``WORKSPACE/analytics/timelines/``.

The report and the app show them through ``timeline_series`` (the numbers) and
``timeline_png_path`` (the picture written by ``framesift timeline``). Series are the
``analytics`` scores (face_count, second_person, <name>_probability) plus any other
``TASK/NAME`` asked for, restricted to the video's analysis window when it was aligned.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from framesift.analytics import store
from framesift.store.catalog import Catalog
from framesift.util.atomic import write_text, write_with
from framesift.workspace import Workspace

Series = dict[str, tuple[np.ndarray, np.ndarray]]


def series_label(task: str, name: str) -> str:
    return name if task == store.ANALYTICS_TASK else f"{task}/{name}"


def timeline_series(workspace: Workspace, video_id: int, scores: Sequence[str] | None = None) -> Series:
    """label -> (time_s, values) in time order; default: every ``analytics`` score of the video."""
    return {label: (t, v) for label, (_, t, v) in _frame_series(workspace.catalog, video_id, scores).items()}


def _frame_series(catalog: Catalog, video_id: int, scores: Sequence[str] | None) -> dict[str, tuple[np.ndarray, ...]]:
    """label -> (frame ids, time_s, values) inside the video's analysis window."""
    refs = [store.parse_score_ref(s) for s in scores] if scores else [
        (store.ANALYTICS_TASK, name) for name in store.score_names(catalog)]
    frames = store.frame_rows(catalog, video_id, store.window_of(catalog, video_id))
    time_of = dict(zip(frames.frame_id.tolist(), frames.time_s.tolist(), strict=True))
    out: dict[str, tuple[np.ndarray, ...]] = {}
    for task, name in refs:
        frame_ids, values = store.read_scores(catalog, task, name, video_id)
        keep = np.array([f in time_of for f in frame_ids.tolist()], bool)
        if keep.any():
            ids = frame_ids[keep]
            out[series_label(task, name)] = (ids, np.array([time_of[int(f)] for f in ids]), values[keep])
    return out


def timeline_csv_path(workspace: Workspace, video_id: int) -> Path:
    return store.video_file(workspace, "timelines", _video_name(workspace.catalog, video_id), "csv")


def timeline_png_path(workspace: Workspace, video_id: int) -> Path:
    return store.video_file(workspace, "timelines", _video_name(workspace.catalog, video_id), "png")


def _video_name(catalog: Catalog, video_id: int) -> str:
    return str(catalog.scalar("SELECT name FROM videos WHERE id = ?", (video_id,)))


def smooth(time_s: np.ndarray, values: np.ndarray, seconds: float) -> np.ndarray:
    """Centred moving average over ``seconds`` of time (not of samples: frame sampling may be uneven)."""
    if seconds <= 0 or len(values) < 2:
        return np.asarray(values, np.float64)
    t = np.asarray(time_s, np.float64)
    v = np.asarray(values, np.float64)
    sums = np.concatenate([[0.0], np.cumsum(v)])
    lo = np.searchsorted(t, t - seconds / 2, side="left")
    hi = np.searchsorted(t, t + seconds / 2, side="right")
    return (sums[hi] - sums[lo]) / (hi - lo)


def timeline_csv(series: dict[str, tuple[np.ndarray, ...]], session_offset_s: float | None) -> str:
    """One row per frame that has any value, in time order; one column per series (empty where none)."""
    labels = list(series)
    time_of: dict[int, float] = {}
    lookup: dict[str, dict[int, float]] = {}
    for label, (ids, t, v) in series.items():
        time_of.update(zip(ids.tolist(), t.tolist(), strict=True))
        lookup[label] = dict(zip(ids.tolist(), v.tolist(), strict=True))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["frame_id", "time_s", *(["session_time_s"] if session_offset_s is not None else []), *labels])
    for frame_id in sorted(time_of, key=lambda f: (time_of[f], f)):
        t = time_of[frame_id]
        session = [f"{t + session_offset_s:.6f}"] if session_offset_s is not None else []
        writer.writerow([frame_id, f"{t:.6f}", *session, *(_cell(lookup[label].get(frame_id)) for label in labels)])
    return out.getvalue()


def _cell(value: float | None) -> str:
    return "" if value is None or not np.isfinite(value) else f"{value:.6g}"


def plot_timeline(series: Series, path: Path, *, title: str, smooth_s: float = 0.0) -> None:
    """One stacked panel per series on a shared time axis (raw values thin, smoothed thick)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    n = max(1, len(series))
    fig, axes = plt.subplots(n, 1, figsize=(10, 1.8 * n + 0.6), sharex=True, squeeze=False)
    for ax, (label, (t, v)) in zip(axes[:, 0], series.items(), strict=False):
        ax.plot(t, v, lw=0.8, color="tab:blue", alpha=0.5 if smooth_s > 0 else 1.0, drawstyle="steps-post"
                if label in ("face_count", "second_person") else "default")
        if smooth_s > 0:
            ax.plot(t, smooth(t, v, smooth_s), lw=1.8, color="tab:blue")
        ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=8)
        if label.endswith("_probability") or label == "second_person":
            ax.set_ylim(-0.05, 1.05)
        ax.grid(alpha=0.3)
    if not series:
        axes[0, 0].text(0.5, 0.5, "no scores in the analysis window", ha="center", va="center")
    axes[-1, 0].set_xlabel("time (s)")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    write_with(path, lambda tmp: fig.savefig(tmp, format="png", dpi=100))
    plt.close(fig)


def write_timeline(workspace: Workspace, video_id: int, scores: Sequence[str] | None = None, *,
                   smooth_s: float = 0.0) -> tuple[Path, Path, Series]:
    """CSV + PNG of one video; returns (csv path, png path, the series)."""
    catalog = workspace.catalog
    frame_series = _frame_series(catalog, video_id, scores)
    series = {label: (t, v) for label, (_, t, v) in frame_series.items()}
    aligned = store.load_windows(catalog).get(video_id)
    csv_path, png_path = timeline_csv_path(workspace, video_id), timeline_png_path(workspace, video_id)
    write_text(csv_path, timeline_csv(frame_series, aligned[1] if aligned else None))
    title = _video_name(catalog, video_id)
    if aligned:
        title += f"  (analysis window {aligned[0].start_s:.2f}-{aligned[0].end_s:.2f} s)"
    plot_timeline(series, png_path, title=title, smooth_s=smooth_s)
    return csv_path, png_path, series
