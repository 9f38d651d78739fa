"""Turn a strategy's ``input`` block into per-unit arrays, with errors that say what is available."""

from __future__ import annotations

import numpy as np

from framesift.config.selection import InputType, PredictionsName, StrategySpec
from framesift.errors import ConfigError

from .types import SelectionInputs
from .units import Units


def _available(names: list[str]) -> str:
    return ", ".join(sorted(names)[:30]) + (" ..." if len(names) > 30 else "") if names else "none loaded"


def _check_len(arr: np.ndarray, n: int, what: str) -> np.ndarray:
    if len(arr) != n:
        raise ValueError(f"{what} has {len(arr)} rows, expected {n} (one per frame)")
    return arr


def numeric(values: np.ndarray) -> np.ndarray | None:
    """Values as float64 (None/NaN -> NaN), or None when they are not numbers (categorical text)."""
    values = np.asarray(values)
    if values.dtype.kind in "fiub":
        return values.astype(np.float64)
    out = np.empty(len(values))
    for i, v in enumerate(values.tolist()):
        if v is None:
            out[i] = np.nan
        elif isinstance(v, bool | int | float | np.number):
            out[i] = float(v)
        else:
            return None
    return out


def _metadata(spec: StrategySpec, where: str, inputs: SelectionInputs) -> np.ndarray:
    key = spec.input.key or ""
    if key not in inputs.metadata:
        raise ConfigError(f"{where}.input.key: no metadata '{key}'; available: {_available(list(inputs.metadata))}")
    return _check_len(np.asarray(inputs.metadata[key]), inputs.n, f"metadata '{key}'")


def _predictions(spec: StrategySpec, where: str, inputs: SelectionInputs):
    task = spec.input.task or ""
    if task not in inputs.predictions:
        raise ConfigError(
            f"{where}.input.task: no predictions for task '{task}'; available: {_available(list(inputs.predictions))}"
        )
    pred = inputs.predictions[task]
    _check_len(np.asarray(pred.counts), inputs.n, f"predictions of task '{task}'")
    return pred


def scalar_values(spec: StrategySpec, where: str, inputs: SelectionInputs, units: Units, seed: int) -> np.ndarray:
    """One number per unit for WEIGHTS / THRESHOLD (NaN = missing)."""
    inp = spec.input
    if inp.type is InputType.SCORES:
        key = (inp.task or "", inp.score or "")
        if key not in inputs.scores:
            names = [f"{t}/{s}" for t, s in inputs.scores]
            raise ConfigError(
                f"{where}.input: no score '{key[0]}/{key[1]}' in the input; available: {_available(names)}"
            )
        values = _check_len(np.asarray(inputs.scores[key], dtype=np.float64), inputs.n, f"score {key}")
        return units.mean_scalar(values)
    if inp.type is InputType.METADATA:
        values = numeric(_metadata(spec, where, inputs))
        if values is None:
            raise ConfigError(
                f"{where}.input.key: metadata '{inp.key}' is text (categorical); "
                f"{spec.strategy.type.value} needs numbers (use BALANCE for categories)"
            )
        return units.mean_scalar(values)
    if inp.type is InputType.PREDICTIONS:
        pred = _predictions(spec, where, inputs)
        cats = list(inp.categories or pred.categories)
        unknown = [c for c in cats if c not in pred.categories]
        if unknown:
            raise ConfigError(
                f"{where}.input.categories: '{unknown[0]}' is not a category of task '{inp.task}'; "
                f"known: {_available(list(pred.categories))}"
            )
        cols = [pred.categories.index(c) for c in cats]
        counts = np.asarray(pred.counts, dtype=np.float64)[:, cols].sum(axis=1)
        counts[~np.asarray(pred.has_prediction, dtype=bool)] = np.nan
        return units.mean_scalar(counts)
    if inp.type is InputType.RANDOM:
        rng = np.random.default_rng(inp.random_seed if inp.random_seed is not None else seed)
        return rng.random(units.n)
    raise AssertionError(f"{inp.type} is not a scalar input")  # config validation prevents this


def categorical_values(spec: StrategySpec, where: str, inputs: SelectionInputs, units: Units) -> np.ndarray:
    """One category per unit (first frame of a sequence) for BALANCE on METADATA."""
    values = _metadata(spec, where, inputs)
    num = numeric(values)
    if num is not None and np.any(np.isfinite(num) & (np.mod(np.nan_to_num(num), 1) != 0)):
        raise ConfigError(
            f"{where}.input.key: metadata '{spec.input.key}' holds fractional numbers; "
            "BALANCE needs categories (text or whole numbers)"
        )
    return units.first(values)


def class_matrix(spec: StrategySpec, where: str, inputs: SelectionInputs, units: Units):
    """(categories, per-unit class mass matrix) for BALANCE on PREDICTIONS CLASS_DISTRIBUTION."""
    assert spec.input.name is PredictionsName.CLASS_DISTRIBUTION
    pred = _predictions(spec, where, inputs)
    counts = np.asarray(pred.counts, dtype=np.float64).copy()
    counts[~np.asarray(pred.has_prediction, dtype=bool)] = 0.0
    return list(pred.categories), units.mean_rows(counts)
