"""The selection config: LightlyOne's ``selection_config`` accepted as-is, plus video extensions.

A LightlyOne user must be able to bring their config unchanged (snake_case as in the Python
client or camelCase as in the REST API), so the models mirror the LightlyOne schema key by
key; framesift's own keys (temporal constraints, sequence length, global seed) live at the
top level. Validation is strict and explains itself: unknown keys name the closest valid
key, wrong input/strategy combinations name the strategy position and the key. No I/O here.
"""

from __future__ import annotations

import difflib
import math
from collections import Counter
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

# --------------------------------------------------------------------------------------------
# Enums (values exactly as in the LightlyOne API)


class InputType(StrEnum):
    EMBEDDINGS = "EMBEDDINGS"
    SCORES = "SCORES"
    PREDICTIONS = "PREDICTIONS"
    METADATA = "METADATA"
    RANDOM = "RANDOM"


class PredictionsName(StrEnum):
    CLASS_DISTRIBUTION = "CLASS_DISTRIBUTION"
    CATEGORY_COUNT = "CATEGORY_COUNT"


class StrategyType(StrEnum):
    DIVERSITY = "DIVERSITY"
    WEIGHTS = "WEIGHTS"
    THRESHOLD = "THRESHOLD"
    BALANCE = "BALANCE"
    SIMILARITY = "SIMILARITY"
    TYPICALITY = "TYPICALITY"


class ThresholdOperation(StrEnum):
    SMALLER = "SMALLER"
    SMALLER_EQUAL = "SMALLER_EQUAL"
    BIGGER = "BIGGER"
    BIGGER_EQUAL = "BIGGER_EQUAL"


class BalanceDistribution(StrEnum):
    TARGET = "TARGET"
    UNIFORM = "UNIFORM"
    INPUT = "INPUT"


# Old LightlyOne docs called DIVERSITY "DIVERSIFY"; configs from that era still validate.
_LEGACY_STRATEGY_NAMES = {"DIVERSIFY": "DIVERSITY"}

# --------------------------------------------------------------------------------------------
# Unknown-key detection with a suggestion


def _closest(word: str, options: list[str]) -> str | None:
    lowered = {o.lower(): o for o in options}
    hit = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[hit[0]] if hit else None


class _Model(BaseModel):
    """Base: frozen, field names or LightlyOne camelCase aliases, unknown keys rejected with a hint."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _reject_unknown_keys(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        valid = []
        for name, field in cls.model_fields.items():
            valid.append(name)
            if field.alias:
                valid.append(field.alias)
        for key in data:
            if key not in valid:
                if not isinstance(key, str):
                    raise PydanticCustomError("unknown_key", "keys must be strings, got {key!r}", {"key": key})
                hint = _closest(key, [n for n in cls.model_fields])
                raise PydanticCustomError(
                    "unknown_key",
                    "unknown key '{key}'{hint}",
                    {"key": key, "hint": f" (did you mean '{hint}'?)" if hint else ""},
                )
        return data


# --------------------------------------------------------------------------------------------
# Models


class StrategyInput(_Model):
    """What a strategy looks at. LightlyOne keys plus ``query_frames``/``query_images`` for SIMILARITY."""

    type: InputType
    task: str | None = None
    score: str | None = Field(default=None, min_length=1)
    key: str | None = Field(default=None, min_length=1)
    name: PredictionsName | None = None
    dataset_id: str | None = Field(default=None, alias="datasetId")
    tag_name: str | None = Field(default=None, alias="tagName", min_length=1)
    random_seed: int | None = Field(default=None, alias="randomSeed")
    categories: list[str] | None = Field(default=None, min_length=1)
    # framesift extensions: SIMILARITY queries given directly instead of a tag.
    query_frames: list[str] | None = Field(default=None, min_length=1)
    query_images: list[str] | None = Field(default=None, min_length=1)

    @field_validator("categories")
    @classmethod
    def _unique_categories(cls, value: list[str] | None) -> list[str] | None:
        if value is not None:
            dup = [c for c, n in Counter(value).items() if n > 1]
            if dup:
                raise PydanticCustomError("duplicate", "categories must be unique, '{c}' repeats", {"c": dup[0]})
        return value


class TargetRange(_Model):
    """LightlyOne's WEIGHTS ``targetRange``: ``max_sum`` stops like ``stopping_condition_max_sum``."""

    min_sum: float | None = Field(default=None, alias="minSum", ge=0)
    max_sum: float | None = Field(default=None, alias="maxSum", ge=0)


class StrategyParams(_Model):
    """How a strategy turns its input into an objective (LightlyOne ``strategy`` block)."""

    type: StrategyType
    strength: float = Field(default=1.0, ge=-1e9, le=1e9)
    stopping_condition_minimum_distance: float | None = Field(default=None, ge=0)
    stopping_condition_max_sum: float | None = Field(default=None, alias="stoppingConditionMaxSum", ge=0)
    target_range: TargetRange | None = Field(default=None, alias="targetRange")
    threshold: float | None = None
    operation: ThresholdOperation | None = None
    target: dict[str, float] | None = None
    distribution: BalanceDistribution | None = None
    num_nearest_neighbors: int | None = Field(default=None, alias="numNearestNeighbors", ge=2)
    stopping_condition_minimum_typicality: float | None = Field(
        default=None, alias="stoppingConditionMinimumTypicality", gt=0, le=1
    )

    @field_validator("type", mode="before")
    @classmethod
    def _legacy_names(cls, value: Any) -> Any:
        return _LEGACY_STRATEGY_NAMES.get(value, value) if isinstance(value, str) else value

    @field_validator("strength")
    @classmethod
    def _finite_strength(cls, value: float) -> float:
        if not math.isfinite(value):
            raise PydanticCustomError("finite", "strength must be a finite number")
        return value

    @field_validator("target")
    @classmethod
    def _target_fractions(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        if value is None:
            return value
        if not value:
            raise PydanticCustomError("target", "target must name at least one class")
        for cls_name, frac in value.items():
            if not (0.0 <= frac <= 1.0):
                raise PydanticCustomError(
                    "target", "target['{c}'] = {f} is not a fraction in [0, 1]", {"c": cls_name, "f": frac}
                )
        total = sum(value.values())
        if total > 1.0 + 1e-6:
            raise PydanticCustomError("target", "target fractions sum to {t} > 1", {"t": f"{total:.4g}"})
        return value


class StrategySpec(_Model):
    """One LightlyOne strategy entry: an ``input`` and a ``strategy``."""

    input: StrategyInput
    strategy: StrategyParams


# Which inputs each strategy accepts (THRESHOLD and WEIGHTS need one number per frame).
_SCALAR_INPUTS = "SCORES, METADATA (numeric), PREDICTIONS (CATEGORY_COUNT) or RANDOM"
_ALLOWED: dict[StrategyType, tuple[set[InputType], str]] = {
    StrategyType.DIVERSITY: ({InputType.EMBEDDINGS}, "EMBEDDINGS"),
    StrategyType.SIMILARITY: ({InputType.EMBEDDINGS}, "EMBEDDINGS"),
    StrategyType.TYPICALITY: ({InputType.EMBEDDINGS}, "EMBEDDINGS"),
    StrategyType.WEIGHTS: (
        {InputType.SCORES, InputType.METADATA, InputType.PREDICTIONS, InputType.RANDOM},
        _SCALAR_INPUTS,
    ),
    StrategyType.THRESHOLD: (
        {InputType.SCORES, InputType.METADATA, InputType.PREDICTIONS, InputType.RANDOM},
        _SCALAR_INPUTS,
    ),
    StrategyType.BALANCE: ({InputType.PREDICTIONS, InputType.METADATA}, "PREDICTIONS (CLASS_DISTRIBUTION) or METADATA"),
}

# Input keys each input type uses (others are rejected so typos do not pass silently).
_INPUT_KEYS: dict[InputType, set[str]] = {
    InputType.EMBEDDINGS: {"dataset_id", "tag_name", "query_frames", "query_images"},
    InputType.SCORES: {"task", "score"},
    InputType.PREDICTIONS: {"task", "name", "categories"},
    InputType.METADATA: {"key"},
    InputType.RANDOM: {"random_seed"},
}
_INPUT_REQUIRED: dict[InputType, tuple[str, ...]] = {
    InputType.SCORES: ("task", "score"),
    InputType.PREDICTIONS: ("task", "name"),
    InputType.METADATA: ("key",),
}
# Strategy keys each strategy type uses (besides type and strength).
_STRATEGY_KEYS: dict[StrategyType, set[str]] = {
    StrategyType.DIVERSITY: {"stopping_condition_minimum_distance"},
    StrategyType.WEIGHTS: {"stopping_condition_max_sum", "target_range"},
    StrategyType.THRESHOLD: {"threshold", "operation"},
    StrategyType.BALANCE: {"target", "distribution"},
    StrategyType.SIMILARITY: set(),
    StrategyType.TYPICALITY: {"num_nearest_neighbors", "stopping_condition_minimum_typicality"},
}
_QUERY_KEYS = ("tag_name", "query_frames", "query_images")


def _cross_check(i: int, spec: StrategySpec) -> str | None:
    """First problem with strategy ``i`` as ``path: message``, or None."""
    inp, strat = spec.input, spec.strategy
    where = f"strategies[{i}]"
    for key in sorted(inp.model_fields_set - {"type"} - _INPUT_KEYS[inp.type]):
        return f"{where}.input.{key}: not used with input type {inp.type.value}"
    for key in _INPUT_REQUIRED.get(inp.type, ()):
        if getattr(inp, key) is None:
            return f"{where}.input.{key}: required for input type {inp.type.value}"
    allowed, allowed_text = _ALLOWED[strat.type]
    if inp.type not in allowed:
        return f"{where}.strategy.type: {strat.type.value} needs input {allowed_text}, got {inp.type.value}"
    for key in sorted(strat.model_fields_set - {"type", "strength"} - _STRATEGY_KEYS[strat.type]):
        return f"{where}.strategy.{key}: not used with strategy {strat.type.value}"
    if inp.type is InputType.PREDICTIONS:
        if strat.type is StrategyType.BALANCE and inp.name is not PredictionsName.CLASS_DISTRIBUTION:
            return f"{where}.input.name: BALANCE on PREDICTIONS needs name CLASS_DISTRIBUTION, got {inp.name.value}"
        if strat.type is not StrategyType.BALANCE and inp.name is not PredictionsName.CATEGORY_COUNT:
            return (
                f"{where}.input.name: {strat.type.value} on PREDICTIONS needs name CATEGORY_COUNT "
                f"(a number per frame), got {inp.name.value}"
            )
        if inp.categories is not None and inp.name is not PredictionsName.CATEGORY_COUNT:
            return f"{where}.input.categories: only used with name CATEGORY_COUNT"
    if inp.type is InputType.EMBEDDINGS:
        queries = [k for k in _QUERY_KEYS if getattr(inp, k) is not None]
        if strat.type is StrategyType.SIMILARITY:
            if len(queries) != 1:
                return f"{where}.input: SIMILARITY needs exactly one query: tag_name, query_frames or query_images"
        elif queries or inp.dataset_id is not None:
            key = queries[0] if queries else "dataset_id"
            return f"{where}.input.{key}: only used with strategy SIMILARITY"
        if inp.dataset_id is not None and inp.tag_name is None:
            return f"{where}.input.dataset_id: needs tag_name (the query tag in that dataset)"
    if strat.type is StrategyType.THRESHOLD:
        for key in ("threshold", "operation"):
            if getattr(strat, key) is None:
                return f"{where}.strategy.{key}: required for strategy THRESHOLD"
    if strat.type is StrategyType.BALANCE:
        dist = strat.distribution or (BalanceDistribution.TARGET if strat.target is not None else None)
        if dist is None:
            return f"{where}.strategy.target: BALANCE needs a target or a distribution (TARGET, UNIFORM, INPUT)"
        if dist is BalanceDistribution.TARGET and strat.target is None:
            return f"{where}.strategy.target: required with distribution TARGET"
        if dist is not BalanceDistribution.TARGET and strat.target is not None:
            return f"{where}.strategy.target: only used with distribution TARGET, got {dist.value}"
    if strat.target_range is not None and strat.target_range.min_sum is not None:
        hi = strat.target_range.max_sum
        if hi is not None and strat.target_range.min_sum > hi:
            return f"{where}.strategy.targetRange.minSum: larger than maxSum"
    return None


def _has_stopping_condition(spec: StrategySpec) -> bool:
    s = spec.strategy
    if s.strength == 0 and s.type is not StrategyType.THRESHOLD:
        return False
    return (
        s.stopping_condition_minimum_distance is not None
        or s.stopping_condition_max_sum is not None
        or (s.target_range is not None and s.target_range.max_sum is not None)
        or s.stopping_condition_minimum_typicality is not None
    )


class SelectionConfig(_Model):
    """LightlyOne ``selection_config`` + framesift's video extensions (see docs/selection.md)."""

    n_samples: int | None = Field(default=None, alias="nSamples", ge=-1)
    proportion_samples: float | None = Field(default=None, alias="proportionSamples", gt=0, le=1)
    strategies: list[StrategySpec] = Field(min_length=1)
    # LightlyOne keys framesift does not implement: accepted by the schema, rejected with a reason.
    lightly_path_regex: str | None = Field(default=None, alias="lightlyPathRegex")
    auto_tasks: list[Any] | None = Field(default=None, alias="autoTasks")
    # framesift extensions.
    min_frame_gap: int | None = Field(default=None, ge=1)
    min_time_gap: float | None = Field(default=None, gt=0)
    max_per_shot: int | None = Field(default=None, ge=1)
    selected_sequence_length: int = Field(default=1, ge=1)
    random_seed: int | None = None
    # DIVERSITY distance cap: "auto" (estimated for large inputs, exact for small ones), a
    # number (distances >= it count as equal) or null (always exact farthest-first).
    diversity_cap: float | Literal["auto"] | None = "auto"

    @field_validator("diversity_cap")
    @classmethod
    def _positive_cap(cls, value: float | str | None) -> float | str | None:
        if isinstance(value, float | int) and not value > 0:
            raise PydanticCustomError("cap", "diversity_cap must be > 0, 'auto' or null")
        return value

    @model_validator(mode="after")
    def _check(self) -> SelectionConfig:
        for key, alias in (("lightly_path_regex", "lightlyPathRegex"), ("auto_tasks", "autoTasks")):
            if getattr(self, key) is not None:
                raise PydanticCustomError(
                    "unsupported",
                    "{key} ({alias}): not supported by framesift (LightlyOne-specific); remove it",
                    {"key": key, "alias": alias},
                )
        if self.n_samples is not None and self.proportion_samples is not None:
            raise PydanticCustomError("samples", "n_samples and proportion_samples exclude each other: set one")
        for i, spec in enumerate(self.strategies):
            problem = _cross_check(i, spec)
            if problem:
                raise PydanticCustomError("strategy", "{problem}", {"problem": problem})
        if (
            self.n_samples is None
            and self.proportion_samples is None
            and not any(_has_stopping_condition(s) for s in self.strategies)
        ):
            raise PydanticCustomError(
                "samples",
                "n_samples: set n_samples or proportion_samples (or a stopping condition such as "
                "stopping_condition_minimum_distance)",
            )
        return self


# --------------------------------------------------------------------------------------------
# Labels and required inputs (what the pipeline must load)


def _base_label(spec: StrategySpec) -> str:
    inp, strat = spec.input, spec.strategy
    t = inp.type
    if t is InputType.SCORES:
        what = f"SCORES:{inp.task}/{inp.score}"
    elif t is InputType.PREDICTIONS:
        what = f"PREDICTIONS:{inp.task}/{inp.name.value if inp.name else '?'}"
        if inp.categories:
            what += "[" + ",".join(inp.categories) + "]"
    elif t is InputType.METADATA:
        what = f"METADATA:{inp.key}"
    elif t is InputType.EMBEDDINGS and inp.tag_name is not None:
        what = f"EMBEDDINGS:tag={inp.tag_name}"
    elif t is InputType.EMBEDDINGS and inp.query_frames is not None:
        what = "EMBEDDINGS:frames"
    elif t is InputType.EMBEDDINGS and inp.query_images is not None:
        what = "EMBEDDINGS:images"
    else:
        what = t.value
    return f"{strat.type.value}({what})"


def strategy_labels(config: SelectionConfig) -> list[str]:
    """Stable short labels of all strategies, duplicates suffixed ``#2``, ``#3``..."""
    seen: Counter[str] = Counter()
    labels = []
    for spec in config.strategies:
        base = _base_label(spec)
        seen[base] += 1
        labels.append(base if seen[base] == 1 else f"{base}#{seen[base]}")
    return labels


def strategy_label(spec: StrategySpec, config: SelectionConfig | None = None) -> str:
    """Short stable label, e.g. ``WEIGHTS(SCORES:task/uncertainty_entropy)``.

    Pass ``config`` to get the disambiguated label (``#2`` ...) of ``spec`` within it.
    """
    if config is not None:
        for s, label in zip(config.strategies, strategy_labels(config), strict=True):
            if s is spec:
                return label
    return _base_label(spec)


@dataclass(frozen=True)
class NeedEmbeddings:
    """Frame embeddings (N, d)."""


@dataclass(frozen=True)
class NeedScore:
    task: str
    score: str


@dataclass(frozen=True)
class NeedPredictions:
    task: str


@dataclass(frozen=True)
class NeedMetadata:
    key: str


@dataclass(frozen=True)
class NeedShotIds:
    """Shot ids per frame (``max_per_shot``)."""


@dataclass(frozen=True)
class NeedSimilarityQuery:
    """Query embeddings for SIMILARITY strategy ``strategy_index``: from a tag, frame names or image paths."""

    strategy_index: int
    tag_name: str | None = None
    frames: tuple[str, ...] = ()
    images: tuple[str, ...] = ()
    dataset_id: str | None = None


InputRequest = NeedEmbeddings | NeedScore | NeedPredictions | NeedMetadata | NeedShotIds | NeedSimilarityQuery


def is_active(spec: StrategySpec) -> bool:
    """Strength 0 disables a strategy entirely (objective and stopping condition); THRESHOLD always filters."""
    return spec.strategy.type is StrategyType.THRESHOLD or spec.strategy.strength != 0


def required_inputs(config: SelectionConfig) -> set[InputRequest]:
    """What the pipeline has to load for ``config`` (disabled strategies need nothing)."""
    need: set[InputRequest] = set()
    if config.max_per_shot is not None:
        need.add(NeedShotIds())
    for i, spec in enumerate(config.strategies):
        if not is_active(spec):
            continue
        inp = spec.input
        if inp.type is InputType.EMBEDDINGS:
            need.add(NeedEmbeddings())
            if spec.strategy.type is StrategyType.SIMILARITY:
                need.add(
                    NeedSimilarityQuery(
                        strategy_index=i,
                        tag_name=inp.tag_name,
                        frames=tuple(inp.query_frames or ()),
                        images=tuple(inp.query_images or ()),
                        dataset_id=inp.dataset_id,
                    )
                )
        elif inp.type is InputType.SCORES:
            need.add(NeedScore(inp.task or "", inp.score or ""))
        elif inp.type is InputType.PREDICTIONS:
            need.add(NeedPredictions(inp.task or ""))
        elif inp.type is InputType.METADATA:
            need.add(NeedMetadata(inp.key or ""))
    return need


# --------------------------------------------------------------------------------------------
# One-line error messages


def _loc_text(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("function-after[_check(), SelectionConfig]",):
            continue
        else:
            out += ("." if out else "") + str(part)
    return out


def _one_error(e: Any) -> str:
    loc = _loc_text(tuple(p for p in e.get("loc", ()) if not (isinstance(p, str) and p.startswith("function-"))))
    kind = e.get("type", "")
    ctx = e.get("ctx") or {}
    if kind == "enum":
        options = [o.strip().strip("'") for o in str(ctx.get("expected", "")).replace(" or ", ", ").split(",")]
        options = [o for o in options if o]
        given = e.get("input")
        hint = _closest(str(given), options) if isinstance(given, str) else None
        msg = f"{given!r} is not one of {', '.join(options)}" + (f" (did you mean {hint}?)" if hint else "")
    elif kind == "missing":
        msg = "required key is missing"
    else:
        msg = str(e.get("msg", "invalid"))
        for prefix in ("Value error, ", "Assertion failed, "):
            msg = msg.removeprefix(prefix)
    return f"{loc}: {msg}" if loc else msg


def format_validation_error(err: ValidationError, source: str) -> str:
    """All problems of ``err`` on ONE line, prefixed with ``source`` (e.g. the file name)."""
    errors = err.errors()
    parts = [_one_error(e) for e in errors[:3]]
    more = f" (+{len(errors) - 3} more)" if len(errors) > 3 else ""
    return f"{source}: " + "; ".join(parts) + more
