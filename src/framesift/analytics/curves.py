"""Learning-curve files: ``WORKSPACE/analytics/learning_curves/<name>.csv`` and ``.png``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from framesift.analytics import store
from framesift.analytics.classifier import CurvePoint
from framesift.util.atomic import write_text, write_with
from framesift.workspace import Workspace


def write_learning_curve(workspace: Workspace, name: str, points: Sequence[CurvePoint], *,
                         title: str) -> tuple[Path, Path]:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    folder = store.analytics_dir(workspace, "learning_curves")
    csv_path, png_path = folder / f"{name}.csv", folder / f"{name}.png"
    lines = ["train_size,roc_auc,roc_auc_std,n_splits"]
    lines += [f"{p.size},{p.auc:.6f},{p.auc_std:.6f},{p.n_splits}" for p in points]
    write_text(csv_path, "\n".join(lines) + "\n")
    fig, ax = plt.subplots(figsize=(6, 4))
    sizes = [p.size for p in points]
    aucs = [p.auc for p in points]
    ax.errorbar(sizes, aucs, yerr=[p.auc_std for p in points], marker="o", capsize=3)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("training examples")
    ax.set_ylabel("held-out ROC AUC")
    ax.set_ylim(min(0.4, *aucs) if aucs else 0.4, 1.01)
    ax.axhline(0.5, color="gray", lw=0.8, ls="--")
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    write_with(png_path, lambda tmp: fig.savefig(tmp, format="png", dpi=100))
    plt.close(fig)
    return csv_path, png_path
