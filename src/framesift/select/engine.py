"""``select``: LightlyOne-compatible selection on arrays, with video constraints and the datapool.

Order of work (LightlyOne's documented combination): THRESHOLD strategies filter first;
then candidates are picked greedily, one at a time, maximising the product of the other
strategies' objectives raised to their strengths. DIVERSITY and BALANCE are re-evaluated
after every pick; temporal constraints remove candidates as picks come in.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from framesift.config.selection import (
    InputType,
    SelectionConfig,
    StrategyType,
    is_active,
    strategy_labels,
)
from framesift.errors import ConfigError
from framesift.util.threads import single_blas_thread

from .balance import BalanceTerm, categorical_balance, vector_balance
from .blocks import build_block_index
from .constraints import TemporalConstraints
from .coverage import Coverage
from .greedy import DiversityTerm, Greedy
from .inputs import categorical_values, class_matrix, scalar_values
from .kcenter import resolve_cap
from .objectives import (
    log_objective,
    similarity_objective,
    threshold_mask,
    typicality_objective,
    weights_objective,
)
from .types import SelectionInputs, SelectionResult
from .units import Units, make_units

_DEFAULT_NEIGHBOURS = 20  # TYPICALITY num_nearest_neighbors when the config does not say
_EXACT_TYPICALITY_MAX = 20000  # above this many units, TYPICALITY searches neighbours per block


@dataclass
class _Plan:
    """Everything resolved from config + inputs before the greedy loop."""

    cand: np.ndarray  # candidate unit numbers
    fixed_log: np.ndarray  # (n_cand,) summed log objectives of fixed strategies
    fixed_objs: dict[str, np.ndarray] = field(default_factory=dict)  # label -> (n_cand,) objective
    filtered: dict[str, int] = field(default_factory=dict)
    max_sums: list[tuple[str, np.ndarray, float]] = field(default_factory=list)  # label, raw values, limit
    typicality_removed: int = 0


def _unit_embeddings(inputs: SelectionInputs, units: Units, which: np.ndarray) -> np.ndarray:
    return units.embeddings(inputs.embeddings, which)


def _require_embeddings(inputs: SelectionInputs, where: str) -> None:
    if inputs.embeddings is None:
        raise ConfigError(f"{where}.input.type: EMBEDDINGS needed but the pipeline loaded no embeddings")
    if len(inputs.embeddings) != inputs.n:
        raise ValueError(f"embeddings have {len(inputs.embeddings)} rows, expected {inputs.n}")


def _plan(config: SelectionConfig, inputs: SelectionInputs, units: Units, labels: list[str]) -> _Plan:
    seed = config.random_seed if config.random_seed is not None else 0
    keep = ~units.excluded & ~units.preselected
    filtered: dict[str, int] = {}
    frame_count = units.length
    # 1. THRESHOLD filters (always active: strength does not apply to a filter).
    for i, spec in enumerate(config.strategies):
        if spec.strategy.type is not StrategyType.THRESHOLD:
            continue
        values = scalar_values(spec, f"strategies[{i}]", inputs, units, seed + i)
        ok = threshold_mask(values, float(spec.strategy.threshold), spec.strategy.operation)
        filtered[labels[i]] = int((~ok & ~units.excluded).sum()) * frame_count
        keep &= ok
    # 2. TYPICALITY minimum (a filter on a fixed objective) is applied with the objectives below.
    cand_all = np.flatnonzero(keep)
    fixed_log = np.zeros(len(cand_all))
    fixed_objs: dict[str, np.ndarray] = {}
    max_sums: list[tuple[str, np.ndarray, float]] = []
    typ_keep = np.ones(len(cand_all), dtype=bool)
    for i, spec in enumerate(config.strategies):
        st = spec.strategy
        if not is_active(spec) or st.type in (StrategyType.THRESHOLD, StrategyType.DIVERSITY, StrategyType.BALANCE):
            continue
        where = f"strategies[{i}]"
        if st.type is StrategyType.WEIGHTS:
            raw = scalar_values(spec, where, inputs, units, seed + i)
            obj = weights_objective(raw[cand_all])
            limit = st.stopping_condition_max_sum
            if limit is None and st.target_range is not None:
                limit = st.target_range.max_sum
            if limit is not None:
                max_sums.append((labels[i], np.nan_to_num(raw[cand_all]), float(limit)))
        elif st.type is StrategyType.SIMILARITY:
            _require_embeddings(inputs, where)
            if i not in inputs.similarity_queries or len(inputs.similarity_queries[i]) == 0:
                raise ConfigError(f"{where}.input: SIMILARITY has no query embeddings (tag or frames not found)")
            obj = similarity_objective(_unit_embeddings(inputs, units, cand_all), inputs.similarity_queries[i])
        elif st.type is StrategyType.TYPICALITY:
            _require_embeddings(inputs, where)
            obj = _typicality(inputs, units, cand_all, st.num_nearest_neighbors or _DEFAULT_NEIGHBOURS, seed)
            if st.stopping_condition_minimum_typicality is not None:
                typ_keep &= obj >= st.stopping_condition_minimum_typicality
        else:  # pragma: no cover - validation covers all combinations
            raise AssertionError(st.type)
        fixed_objs[labels[i]] = obj
        fixed_log += log_objective(obj, st.strength)
    cand = cand_all[typ_keep]
    return _Plan(
        cand=cand,
        fixed_log=fixed_log[typ_keep],
        fixed_objs={k: v[typ_keep] for k, v in fixed_objs.items()},
        filtered=filtered,
        max_sums=[(lab, vals[typ_keep], lim) for lab, vals, lim in max_sums],
        typicality_removed=int((~typ_keep).sum()),
    )


def _typicality(inputs: SelectionInputs, units: Units, cand: np.ndarray, k: int, seed: int) -> np.ndarray:
    emb = _unit_embeddings(inputs, units, cand)
    if len(cand) <= _EXACT_TYPICALITY_MAX:
        return typicality_objective(emb, k)
    index = build_block_index(emb, seed=seed, lb_dims=32)
    groups = [index.rows[index.starts[b] : index.starts[b + 1]] for b in range(index.n_blocks)]
    return typicality_objective(emb, k, groups=groups)


def _balances(
    config: SelectionConfig, inputs: SelectionInputs, units: Units, labels: list[str], cand: np.ndarray
) -> list[BalanceTerm]:
    pre = np.flatnonzero(units.preselected)
    out = []
    for i, spec in enumerate(config.strategies):
        if spec.strategy.type is not StrategyType.BALANCE or not is_active(spec):
            continue
        where = f"strategies[{i}]"
        if spec.input.type is InputType.METADATA:
            values = categorical_values(spec, where, inputs, units)
            out.append(categorical_balance(labels[i], spec.strategy, values, cand, pre, where))
        else:
            categories, matrix = class_matrix(spec, where, inputs, units)
            out.append(vector_balance(labels[i], spec.strategy, categories, matrix, cand, pre, where))
    return out


def _diversity(
    config: SelectionConfig,
    inputs: SelectionInputs,
    units: Units,
    labels: list[str],
    cand: np.ndarray,
    balances: list[BalanceTerm],
    capacity: int,
    combined: bool = False,
) -> DiversityTerm | None:
    active = [
        (i, spec)
        for i, spec in enumerate(config.strategies)
        if spec.strategy.type is StrategyType.DIVERSITY and is_active(spec)
    ]
    if not active:
        return None
    for i, _ in active:
        _require_embeddings(inputs, f"strategies[{i}]")
    if len(cand) == 0:
        return None
    # Several DIVERSITY strategies are one objective: d^s1 * d^s2 = d^(s1 + s2).
    strength = sum(spec.strategy.strength for _, spec in active)
    stops = [s.strategy.stopping_condition_minimum_distance for _, s in active]
    min_distance = max((x for x in stops if x is not None), default=None)
    keys = [b.sort_key() for b in balances]
    seed = config.random_seed if config.random_seed is not None else 0
    if units.length == 1:
        index = build_block_index(inputs.embeddings, units.members[cand, 0], sort_keys=keys, seed=seed)
        frame_to_cand = np.full(inputs.n, -1, dtype=np.int64)
        frame_to_cand[units.members[cand, 0]] = np.arange(len(cand))
        index.rows = frame_to_cand[index.rows]
        seeds = np.asarray(inputs.embeddings[np.flatnonzero(units.preselected)], dtype=np.float32)
    else:
        index = build_block_index(_unit_embeddings(inputs, units, cand), sort_keys=keys, seed=seed)
        seeds = _unit_embeddings(inputs, units, np.flatnonzero(units.preselected))
    cap = float("inf")
    if strength > 0 and (capacity < len(cand) or not isinstance(config.diversity_cap, str)):
        cap = resolve_cap(config.diversity_cap, index, capacity, seed, combined=combined)
    if min_distance is not None:
        cap = max(cap, min_distance)  # keeps the stopping condition exact
    coverage = Coverage(index, capacity=capacity + len(seeds), cap=cap)
    if len(seeds):
        norms = np.linalg.norm(seeds, axis=1, keepdims=True)
        coverage.add_centers(seeds / np.maximum(norms, 1e-12))
    return DiversityTerm(
        label=labels[active[0][0]],
        strength=strength,
        index=index,
        coverage=coverage,
        min_distance=min_distance,
        labels=[labels[i] for i, _ in active],
    )


def _budget(config: SelectionConfig, n_input: int, length: int) -> tuple[int | None, str]:
    """Maximum number of units to pick (None = no limit) and the stop reason when it is reached."""
    if config.n_samples is not None and config.n_samples >= 0:
        return config.n_samples // length, "n_samples reached"
    if config.proportion_samples is not None:
        return math.floor(config.proportion_samples * n_input + 1e-9) // length, "proportion_samples reached"
    return None, ""


def select(
    config: SelectionConfig,
    inputs: SelectionInputs,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> SelectionResult:
    """Pick frames from ``inputs`` as ``config`` says (see docs/selection.md)."""
    for name in ("frame_index", "time_s"):
        if len(getattr(inputs, name)) != inputs.n:
            raise ValueError(f"{name} has {len(getattr(inputs, name))} rows, expected {inputs.n}")
    if config.max_per_shot is not None and inputs.shot_ids is None:
        raise ConfigError("max_per_shot: needs shot ids, but the pipeline passed none")
    labels = strategy_labels(config)
    units = make_units(inputs, config.selected_sequence_length)
    plan = _plan(config, inputs, units, labels)
    cand = plan.cand
    budget, budget_reason = _budget(config, inputs.n, units.length)
    constraints = TemporalConstraints(
        units,
        min_frame_gap=config.min_frame_gap,
        min_time_gap=config.min_time_gap,
        max_per_shot=config.max_per_shot,
    )
    balances = _balances(config, inputs, units, labels, cand)
    capacity = min(len(cand), budget if budget is not None else len(cand))
    combined = bool(plan.fixed_objs) or bool(balances)  # objectives besides DIVERSITY in the product
    diversity = _diversity(config, inputs, units, labels, cand, balances, capacity, combined)
    greedy = Greedy(plan.fixed_log, diversity=diversity, balances=balances)

    cand_of_unit = np.full(units.n, -1, dtype=np.int64)
    cand_of_unit[cand] = np.arange(len(cand))

    def block_units(blocked: np.ndarray) -> None:
        c = cand_of_unit[blocked]
        greedy.make_unavailable(c[c >= 0])

    if constraints.active:
        for u in np.flatnonzero(units.preselected).tolist():
            block_units(constraints.blocked_by(u))

    picks: list[int] = []
    div_obj: list[float] = []
    bal_obj: list[list[float]] = []
    sums = [0.0] * len(plan.max_sums)
    last_pos: int | None = None
    stop = ""
    total = budget if budget is not None else len(cand)
    step = max(1, total // 100)
    with single_blas_thread():
        while True:
            if budget is not None and len(picks) >= budget:
                stop = budget_reason
                break
            pos = greedy.next_pick()
            if pos is None:
                stop = _exhausted_reason(greedy, plan, config, budget, len(cand))
                break
            d, b = greedy.objectives_at(pos)
            last_pos = pos
            c = greedy.commit(pos)
            picks.append(c)
            if d is not None:
                div_obj.append(d)
            bal_obj.append(b)
            if constraints.active:
                block_units(constraints.blocked_by(int(cand[c])))
            if progress is not None and (len(picks) % step == 0):
                progress(len(picks), total)
            hit = None
            for j, (label, values, limit) in enumerate(plan.max_sums):
                sums[j] += float(values[c])
                if sums[j] >= limit and hit is None:
                    hit = label
            if hit is not None:
                stop = f"{hit.split('(')[0]} stopping_condition_max_sum"
                break
    if progress is not None:
        progress(len(picks), total)
    last_distance = _exact_distance(diversity, last_pos) if diversity is not None and last_pos is not None else None
    return _result(units, cand, picks, plan, diversity, balances, div_obj, bal_obj, stop, inputs.n, last_distance)


def _exact_distance(div: DiversityTerm, pos: int) -> float | None:
    """Distance of the last pick (at ``pos``, its own centre logged last) to the picks before it."""
    cov = div.coverage
    before = cov.n_centers - 1
    if before <= 0:
        return None
    d2 = 2.0 - 2.0 * (cov.centers[:before] @ div.index.vectors(pos))
    return float(np.sqrt(max(float(d2.min()), 0.0)))


def _exhausted_reason(greedy: Greedy, plan: _Plan, config: SelectionConfig, budget: int | None, n_cand: int) -> str:
    if (greedy.removed_by_distance & greedy.avail).any():
        return "DIVERSITY stopping_condition_minimum_distance"
    left = int(greedy.avail.sum())
    if left == 0 and greedy.n_picked < n_cand:
        return "no candidates left (temporal constraints excluded the rest)"
    if plan.typicality_removed and greedy.n_picked == n_cand:
        return "TYPICALITY stopping_condition_minimum_typicality"
    if budget is not None and budget > n_cand:
        asked = config.n_samples if config.n_samples is not None else f"{config.proportion_samples:g} of the input"
        return f"no candidates left (asked for {asked}, selected all {n_cand} candidates)"
    return "no candidates left"


def _result(
    units: Units,
    cand: np.ndarray,
    picks: list[int],
    plan: _Plan,
    diversity: DiversityTerm | None,
    balances: list[BalanceTerm],
    div_obj: list[float],
    bal_obj: list[list[float]],
    stop: str,
    n_input: int,
    last_distance: float | None,
) -> SelectionResult:
    picked_units = cand[np.asarray(picks, dtype=np.int64)]
    length = units.length
    indices = units.members[picked_units].reshape(-1) if len(picks) else np.zeros(0, dtype=np.int64)
    pick_idx = np.asarray(picks, dtype=np.int64)

    def per_frame(values: np.ndarray) -> np.ndarray:
        return np.repeat(np.asarray(values, dtype=np.float64), length)

    objectives: dict[str, np.ndarray] = {}
    if diversity is not None:
        for label in diversity.labels or [diversity.label]:
            objectives[label] = per_frame(div_obj)
    for label, obj in plan.fixed_objs.items():
        objectives[label] = per_frame(obj[pick_idx] if len(picks) else [])
    for j, term in enumerate(balances):
        objectives[term.label] = per_frame([b[j] for b in bal_obj])
    return SelectionResult(
        indices=indices.astype(np.int64),
        objectives=objectives,
        stop_reason=stop,
        n_input=n_input,
        n_candidates=int(len(cand) * length),
        filtered=plan.filtered,
        min_distance=last_distance if diversity is not None else None,
    )
