"""BALANCE: steer the class distribution of the selection towards a target.

Objective. Classes are merged into *groups*: every class named in ``target`` is a group, all
other classes (and frames without a value) share one remainder group whose target is
``1 - sum(target)`` (LightlyOne: "the remainder is assumed to be the target for the other
classes"). With ``S_g`` the mass already selected in group ``g`` (earlier runs included),
``T = sum(S)`` and ``m`` the mass of a typical frame (1 for categorical metadata), the
*deficit* of a group is how many frames it is behind its target after one more pick::

    deficit_g = (t_g * (T + m) - S_g) / m

A frame whose mass splits into fractions ``f_g`` (one-hot for metadata, object shares for
detections, probabilities for classification) gets ``log objective = sum_g f_g * deficit_g
- max_g deficit_g`` (<= 0). A frame with no mass (no predicted object) counts as the smallest
deficit of any group (at most 0): it moves no group towards its target, so it never outranks a
frame of any class, however over-represented (otherwise empty frames would fill the budget once
the rare-class frames are used up). Picking with BALANCE
alone therefore always takes the group furthest behind its target, which keeps every group
within one frame of its target while candidates last. ``strength`` scales the log: a group
one frame behind is preferred by a factor ``e ** strength``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from framesift.config.selection import BalanceDistribution, StrategyParams
from framesift.errors import ConfigError

OTHER = "<other>"
MISSING = "<missing>"


@dataclass
class BalanceTerm:
    """One BALANCE strategy over the candidate units."""

    label: str
    strength: float
    group_names: list[str]
    target: np.ndarray  # (G,) fractions summing to 1
    counts: np.ndarray  # (G,) mass selected so far (preselected included)
    unit_mass: float
    group_of: np.ndarray | None = None  # (n,) group per candidate (categorical)
    fractions: np.ndarray | None = None  # (n, G + 1) float32 shares per candidate, last column = no mass
    mass: np.ndarray | None = None  # (n,) total mass per candidate (vector mode)

    @property
    def one_hot(self) -> bool:
        return self.group_of is not None

    def deficits(self) -> np.ndarray:
        total = self.counts.sum()
        return (self.target * (total + self.unit_mass) - self.counts) / self.unit_mass

    def log_weights(self) -> np.ndarray:
        """Per-column log objective for this round: (G,) one-hot or (G + 1,) with the no-mass column."""
        d = self.deficits()
        if self.one_hot:
            return d - d.max(initial=0.0)
        top = max(d.max(initial=0.0), 0.0)
        return np.append(d, min(d.min(initial=0.0), 0.0)) - top

    def row_log_objective(self, cand: np.ndarray, weights: np.ndarray) -> np.ndarray:
        if self.one_hot:
            return weights[self.group_of[cand]]
        return self.fractions[cand] @ weights

    def add(self, cand: int) -> None:
        if self.one_hot:
            self.counts[self.group_of[cand]] += 1.0
        else:
            self.counts += self.fractions[cand, :-1] * self.mass[cand]

    def sort_key(self) -> np.ndarray:
        """Group (or dominant group) per candidate: rows sharing it form BALANCE segments."""
        return self.group_of if self.one_hot else np.argmax(self.fractions, axis=1)


def _targets(
    params: StrategyParams, known: list[str], input_share: np.ndarray, where: str
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Groups, their target fractions and the class -> group map (index into groups)."""
    dist = params.distribution or BalanceDistribution.TARGET
    if dist is BalanceDistribution.TARGET:
        assert params.target is not None
        unknown = [c for c in params.target if c not in known]
        if unknown:
            shown = ", ".join(known[:30]) + (" ..." if len(known) > 30 else "")
            raise ConfigError(f"{where}.strategy.target: class '{unknown[0]}' does not occur in the input; known: {shown}")
        listed = list(params.target)
        groups = [*listed, OTHER]
        target = np.array([params.target[c] for c in listed] + [max(0.0, 1.0 - sum(params.target.values()))])
        class_to_group = np.array([listed.index(c) if c in params.target else len(listed) for c in known])
        return groups, target / target.sum() if target.sum() > 0 else target, class_to_group
    groups = list(known)
    if dist is BalanceDistribution.UNIFORM:
        target = np.full(len(groups), 1.0 / max(len(groups), 1))
    else:  # INPUT: keep the distribution of the input
        total = input_share.sum()
        target = input_share / total if total > 0 else np.full(len(groups), 1.0 / max(len(groups), 1))
    return groups, target, np.arange(len(known))


def categorical_balance(
    label: str,
    params: StrategyParams,
    values: np.ndarray,
    cand: np.ndarray,
    pre: np.ndarray,
    where: str,
) -> BalanceTerm:
    """BALANCE on categorical per-unit values (object array of str/None, or numbers; NaN = missing)."""
    codes, known = _encode(values)
    missing = codes < 0
    share = np.bincount(codes[~missing], minlength=len(known)).astype(np.float64)
    groups, target, class_to_group = _targets(params, known, share, where)
    dist = params.distribution or BalanceDistribution.TARGET
    if dist is BalanceDistribution.TARGET:
        missing_group = len(groups) - 1  # remainder
    else:
        if missing.any():
            groups.append(MISSING)
            extra = missing.sum() / len(values) if dist is BalanceDistribution.INPUT else 0.0
            target = np.append(target * (1.0 - extra), extra)
        missing_group = len(groups) - 1
    group = np.where(missing, missing_group, class_to_group[np.maximum(codes, 0)] if len(known) else 0)
    counts = np.bincount(group[pre], minlength=len(groups)).astype(np.float64)
    return BalanceTerm(
        label=label,
        strength=params.strength,
        group_names=groups,
        target=np.asarray(target, dtype=np.float64),
        counts=counts,
        unit_mass=1.0,
        group_of=group[cand].astype(np.int64),
    )


def vector_balance(
    label: str,
    params: StrategyParams,
    categories: list[str],
    matrix: np.ndarray,
    cand: np.ndarray,
    pre: np.ndarray,
    where: str,
) -> BalanceTerm:
    """BALANCE on per-unit class vectors (detection counts or classification probabilities)."""
    matrix = np.nan_to_num(np.maximum(np.asarray(matrix, dtype=np.float64), 0.0))
    share = matrix.sum(axis=0)
    groups, target, class_to_group = _targets(params, list(categories), share, where)
    grouped = np.zeros((len(matrix), len(groups)))
    for c, g in enumerate(class_to_group):
        grouped[:, g] += matrix[:, c]
    mass = grouped.sum(axis=1)
    positive = mass[cand][mass[cand] > 0]
    unit_mass = float(positive.mean()) if len(positive) else 1.0
    fractions = np.zeros((len(cand), len(groups) + 1), dtype=np.float32)
    m = mass[cand]
    has = m > 0
    fractions[has, :-1] = grouped[cand][has] / m[has, None]
    fractions[~has, -1] = 1.0
    return BalanceTerm(
        label=label,
        strength=params.strength,
        group_names=groups,
        target=np.asarray(target, dtype=np.float64),
        counts=grouped[pre].sum(axis=0),
        unit_mass=unit_mass,
        fractions=fractions,
        mass=m.astype(np.float64),
    )


def _encode(values: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Category codes (-1 = missing) and sorted category names as strings."""
    values = np.asarray(values)
    if values.dtype.kind in "fc":
        ok = ~np.isnan(values)
        if ok.any() and not np.all(np.mod(values[ok], 1) == 0):
            raise ValueError("not categorical")
        names = np.where(ok, np.nan_to_num(values).astype(np.int64).astype(str), "")
    elif values.dtype.kind in "iub":
        ok = np.ones(len(values), bool)
        names = values.astype(str)
    else:
        ok = np.array([v is not None and v == v for v in values.tolist()], dtype=bool)  # v == v: not NaN
        names = np.array(["" if not o else str(v) for v, o in zip(values.tolist(), ok.tolist(), strict=True)])
    known, codes = np.unique(names[ok], return_inverse=True)
    out = np.full(len(values), -1, dtype=np.int64)
    out[ok] = codes
    return out, [str(k) for k in known]
