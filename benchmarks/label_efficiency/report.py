"""Tables (markdown) and goal checks from the per-selection results."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .coverage import Result
from .metrics import mean_std

COLUMNS = (  # metric key, header, digits
    ("tracks", "tracks covered", 3),
    ("tracks_n", "tracks (n)", 1),
    ("boxes_per_frame", "boxes/frame", 1),
    ("box_recall", "box recall", 3),
    ("class_size", "class/size cov.", 3),
    ("idle_share", "idle picks", 2),
    ("recall:all", "rare-event recall", 2),
    ("recall:rare:bus", "bus", 2),
    ("recall:rare:bike", "bike", 2),
    ("recall:lighting", "lighting", 2),
)
BASELINE = "uniform-fps"


@dataclass
class Cell:
    mean: float
    std: float
    n: int

    def text(self, digits: int) -> str:
        if not np.isfinite(self.mean):
            return "n/a"
        if self.n <= 1:
            return f"{self.mean:.{digits}f}"
        return f"{self.mean:.{digits}f} ± {self.std:.{digits}f}"


Key = tuple[str, float, str]  # clip, budget, method


def summarize(results: Sequence[Result]) -> dict[Key, dict[str, Cell]]:
    groups: dict[Key, list[Result]] = defaultdict(list)
    for r in results:
        groups[(r.clip, r.budget, r.method)].append(r)
    out: dict[Key, dict[str, Cell]] = {}
    for key, rows in groups.items():
        names = {name for r in rows for name in r.values}
        cells = {}
        for name in names:
            values = [r.values.get(name, float("nan")) for r in rows]
            mean, std = mean_std(values)
            cells[name] = Cell(mean, std, len(rows))
        out[key] = cells
    return out


def coverage_table(summary: dict[Key, dict[str, Cell]], clip: str, methods: Sequence[str],
                   ks: dict[float, int]) -> str:
    """One markdown table for a clip: rows = budget x method, columns = the metrics it has."""
    keys = [k for k in summary if k[0] == clip]
    present = {name for k in keys for name in summary[k]}
    cols = [c for c in COLUMNS if c[0] in present]
    lines = ["| budget | method | " + " | ".join(c[1] for c in cols) + " |",
             "|---|---|" + "---|" * len(cols)]
    for budget in sorted({k[1] for k in keys}):
        for method in methods:
            cells = summary.get((clip, budget, method))
            if cells is None:
                continue
            row = [cells[c[0]].text(c[2]) if c[0] in cells else "n/a" for c in cols]
            lines.append(f"| {budget:.0%} ({ks[budget]} fr.) | {method} | " + " | ".join(row) + " |")
    return "\n".join(lines)


def primary_metric(cells: dict[str, Cell]) -> str:
    """Distinct tracks covered where the clip has tracks, else box recall."""
    return "tracks" if "tracks" in cells and np.isfinite(cells["tracks"].mean) else "box_recall"


@dataclass
class GoalCheck:
    method: str
    wins: int  # clip x budget cells where the method >= uniform-fps (mean) on the primary metric
    cells: int
    losses: list[str]
    ratios: dict[str, float]  # idle clip -> tracks(method) / tracks(uniform-fps) at the smallest budget

    @property
    def goal_a(self) -> bool:
        return self.wins == self.cells

    def goal_b(self, threshold: float = 1.5) -> bool:
        return bool(self.ratios) and all(r >= threshold for r in self.ratios.values())


def goal_checks(summary: dict[Key, dict[str, Cell]], methods: Sequence[str], idle_clips: Sequence[str],
                *, tolerance: float = 1e-9) -> list[GoalCheck]:
    """Goal (a): >= uniform-fps everywhere; goal (b): >= 1.5x its distinct tracks at the smallest budget on idle clips."""
    clips_budgets = sorted({(k[0], k[1]) for k in summary if k[2] == BASELINE})
    smallest = min((b for _, b in clips_budgets), default=0.0)
    out = []
    for method in methods:
        wins, cells, losses, ratios = 0, 0, [], {}
        for clip, budget in clips_budgets:
            mine, base = summary.get((clip, budget, method)), summary[(clip, budget, BASELINE)]
            if mine is None:
                continue
            metric = primary_metric(base)
            cells += 1
            if mine[metric].mean >= base[metric].mean - tolerance:
                wins += 1
            else:
                losses.append(f"{clip} {budget:.0%} ({metric} {mine[metric].mean:.3f} < {base[metric].mean:.3f})")
            if clip in idle_clips and budget == smallest and "tracks_n" in base and base["tracks_n"].mean > 0:
                ratios[clip] = mine["tracks_n"].mean / base["tracks_n"].mean
        out.append(GoalCheck(method, wins, cells, losses, ratios))
    return out


def track_ceiling(summary: dict[Key, dict[str, Cell]], clip: str, budget: float) -> float:
    """The largest possible tracks ratio over uniform-fps: all tracks / uniform-fps's mean tracks."""
    base = summary[(clip, budget, BASELINE)]
    if "tracks" not in base or base["tracks"].mean <= 0:
        return float("nan")
    return 1.0 / base["tracks"].mean


def goal_lines(checks: Sequence[GoalCheck], smallest: float, ceilings: dict[str, float] | None = None) -> list[str]:
    lines = []
    if ceilings:
        lines += ["Most a method can reach on (b) = all tracks / uniform-fps's tracks: "
                  + ", ".join(f"{clip} {c:.2f}x" for clip, c in ceilings.items()) + ".", ""]
    lines += ["| method | (a) >= uniform-fps (clip x budget cells) | (b) tracks vs uniform-fps at "
              f"{smallest:.0%}, idle clips | (a) failures |", "|---|---|---|---|"]
    for c in checks:
        ratios = ", ".join(f"{clip} {r:.2f}x" for clip, r in c.ratios.items()) or "n/a"
        verdict_b = "met" if c.goal_b() else "not met"
        lines.append(f"| {c.method} | {c.wins}/{c.cells} ({'met' if c.goal_a else 'not met'}) | {ratios} "
                     f"({verdict_b}) | {'; '.join(c.losses) or '-'} |")
    return lines


def classification_table(curves: Sequence, collection: str, steps: Sequence[int]) -> str:
    """Rows = method, columns = labels; cell = mean over seeds of the concept-averaged AP, ± std over seeds."""
    rows = [c for c in curves if c.collection == collection]
    methods = list(dict.fromkeys(c.method for c in rows))
    seeds = sorted({c.seed for c in rows})
    lines = ["| method | " + " | ".join(f"AP @ {n} labels" for n in steps) + " |", "|---|" + "---|" * len(steps)]
    for method in methods:
        cells = []
        for j in range(len(steps)):
            per_seed = [float(np.nanmean([c.ap[j] for c in rows if c.method == method and c.seed == s])) for s in seeds]
            mean, std = mean_std(per_seed)
            cells.append(Cell(mean, std, len(per_seed)).text(3))
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def curve_table(points: Sequence) -> str:
    """Part 2: rows = (labeled frames, method); mAP@0.5 and mAP@0.5:0.95 mean ± std over seeds."""
    groups: dict[tuple[int, str], list] = defaultdict(list)
    for p in points:
        groups[(p.k, p.method)].append(p)
    lines = ["| labeled frames | method | mAP@0.5 | mAP@0.5:0.95 | train+eval time |", "|---|---|---|---|---|"]
    for (k, method), rows in sorted(groups.items(), key=lambda kv: kv[0][0]):
        cells = [Cell(*mean_std([r.metrics[name] for r in rows]), len(rows)).text(3) for name in ("mAP50", "mAP50-95")]
        lines.append(f"| {k} | {method} | {cells[0]} | {cells[1]} | {np.mean([r.seconds for r in rows]):.0f} s |")
    return "\n".join(lines)


def rare_event_table(summary: dict[Key, dict[str, Cell]], clips: Sequence[str], methods: Sequence[str],
                     budget: float) -> str:
    """Part 4: rows = method; per stress clip, recall of all rare events and per kind, and idle picks."""
    kinds = [("recall:all", "all"), ("recall:rare:bus", "bus"), ("recall:rare:bike", "bike"),
             ("recall:lighting", "lighting"), ("idle_share", "idle picks")]
    head = [f"{clip}: {label}" for clip in clips for _, label in kinds]
    lines = ["| method | " + " | ".join(head) + " |", "|---|" + "---|" * len(head)]
    for method in methods:
        row = []
        for clip in clips:
            cells = summary.get((clip, budget, method), {})
            row += [cells[key].text(2) if key in cells else "n/a" for key, _ in kinds]
        lines.append(f"| {method} | " + " | ".join(row) + " |")
    return "\n".join(lines)
