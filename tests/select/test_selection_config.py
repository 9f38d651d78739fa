"""The selection config: LightlyOne configs validate unchanged; mistakes get one-line, pointed errors."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from framesift.config.selection import (
    NeedEmbeddings,
    NeedMetadata,
    NeedPredictions,
    NeedScore,
    NeedShotIds,
    NeedSimilarityQuery,
    SelectionConfig,
    StrategyType,
    format_validation_error,
    required_inputs,
    strategy_label,
    strategy_labels,
)

# Configs as printed in the LightlyOne docs (selection pages, docker "selection" guide).
LIGHTLY_EXAMPLES = {
    "coreset": {"n_samples": 100, "strategies": [{"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY"}}]},
    "coreset_camelcase_legacy": {
        "nSamples": 100,
        "strategies": [{"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSIFY"}}],
    },
    "active_learning": {
        "n_samples": 100,
        "strategies": [
            {
                "input": {"type": "SCORES", "task": "my_object_detection_task", "score": "uncertainty_entropy"},
                "strategy": {"type": "WEIGHTS"},
            }
        ],
    },
    "coral_with_strengths": {
        "proportion_samples": 0.1,
        "strategies": [
            {"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY", "strength": 0.6}},
            {
                "input": {"type": "SCORES", "task": "lightly_pretagging", "score": "uncertainty_entropy"},
                "strategy": {"type": "WEIGHTS", "strength": -1.0},
            },
        ],
    },
    "metadata_threshold": {
        "n_samples": 100,
        "strategies": [
            {
                "input": {"type": "METADATA", "key": "lightly.sharpness"},
                "strategy": {"type": "THRESHOLD", "threshold": 20, "operation": "BIGGER"},
            }
        ],
    },
    "object_balancing": {
        "n_samples": 100,
        "strategies": [
            {
                "input": {"type": "PREDICTIONS", "task": "lightly_pretagging", "name": "CLASS_DISTRIBUTION"},
                "strategy": {
                    "type": "BALANCE",
                    "target": {"car": 0.1, "bicycle": 0.5, "bus": 0.1, "motorcycle": 0.1, "person": 0.1},
                },
            }
        ],
    },
    "metadata_balancing": {
        "n_samples": 100,
        "strategies": [
            {
                "input": {"type": "METADATA", "key": "weather.description"},
                "strategy": {"type": "BALANCE", "target": {"sunny": 0.2, "cloudy": 0.4}},
            }
        ],
    },
    "balance_uniform_and_min_distance_only": {
        "strategies": [
            {
                "input": {"type": "EMBEDDINGS"},
                "strategy": {"type": "DIVERSITY", "stopping_condition_minimum_distance": 0.2},
            },
            {"input": {"type": "METADATA", "key": "video_name"}, "strategy": {"type": "BALANCE", "distribution": "UNIFORM"}},
        ]
    },
    "weights_max_sum_and_random": {
        "n_samples": 50,
        "strategies": [
            {
                "input": {"type": "SCORES", "task": "det", "score": "objectness_least_confidence"},
                "strategy": {"type": "WEIGHTS", "stoppingConditionMaxSum": 10.5},
            },
            {"input": {"type": "RANDOM", "randomSeed": 42}, "strategy": {"type": "WEIGHTS", "strength": 0.5}},
        ],
    },
    "category_count_threshold": {
        "n_samples": 10,
        "strategies": [
            {
                "input": {"type": "PREDICTIONS", "task": "det", "name": "CATEGORY_COUNT", "categories": ["car", "bus"]},
                "strategy": {"type": "THRESHOLD", "threshold": 2, "operation": "BIGGER_EQUAL"},
            }
        ],
    },
    "similarity_and_typicality": {
        "n_samples": 10,
        "strategies": [
            {
                "input": {"type": "EMBEDDINGS", "dataset_id": "0123456789abcdef01234567", "tag_name": "initial-tag"},
                "strategy": {"type": "SIMILARITY"},
            },
            {
                "input": {"type": "EMBEDDINGS"},
                "strategy": {"type": "TYPICALITY", "numNearestNeighbors": 10, "stoppingConditionMinimumTypicality": 0.2},
            },
        ],
    },
}


@pytest.mark.parametrize("name", sorted(LIGHTLY_EXAMPLES))
def test_lightly_doc_configs_validate_unchanged(name):
    cfg = SelectionConfig.model_validate(LIGHTLY_EXAMPLES[name])
    assert len(cfg.strategies) == len(LIGHTLY_EXAMPLES[name]["strategies"])


def test_aliases_and_legacy_names_map_to_fields():
    cfg = SelectionConfig.model_validate(LIGHTLY_EXAMPLES["coreset_camelcase_legacy"])
    assert cfg.n_samples == 100
    assert cfg.strategies[0].strategy.type is StrategyType.DIVERSITY
    cfg = SelectionConfig.model_validate(LIGHTLY_EXAMPLES["weights_max_sum_and_random"])
    assert cfg.strategies[0].strategy.stopping_condition_max_sum == 10.5
    assert cfg.strategies[1].input.random_seed == 42


def _error(data: dict) -> str:
    with pytest.raises(ValidationError) as info:
        SelectionConfig.model_validate(data)
    return format_validation_error(info.value, "selection.yaml")


def _one(strategy: dict, **top) -> dict:
    return {"n_samples": 5, "strategies": [strategy], **top}


def test_misspelled_strategy_type_suggests_the_right_one():
    msg = _error(_one({"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVRSITY"}}))
    assert msg.startswith("selection.yaml: strategies[0].strategy.type: 'DIVRSITY' is not one of DIVERSITY, WEIGHTS")
    assert msg.endswith("(did you mean DIVERSITY?)")
    assert "\n" not in msg


def test_unknown_key_names_key_and_closest_valid_one():
    msg = _error(_one({"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY", "stoping_condition_minimum_distance": 1}}))
    assert "strategies[0].strategy" in msg
    assert "'stoping_condition_minimum_distance'" in msg
    assert "did you mean 'stopping_condition_minimum_distance'" in msg
    msg = _error({**_one({"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY"}}), "min_frame_gapp": 3})
    assert "unknown key 'min_frame_gapp' (did you mean 'min_frame_gap'?)" in msg


def test_balance_on_embeddings_names_strategy_position_and_key():
    data = {
        "n_samples": 5,
        "strategies": [
            {"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY"}},
            {"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY"}},
            {"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "BALANCE", "target": {"a": 0.5}}},
        ],
    }
    assert _error(data) == (
        "selection.yaml: strategies[2].strategy.type: BALANCE needs input PREDICTIONS (CLASS_DISTRIBUTION) "
        "or METADATA, got EMBEDDINGS"
    )


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [
        ({"input": {"type": "SCORES", "task": "t"}, "strategy": {"type": "WEIGHTS"}}, "strategies[0].input.score: required"),
        ({"input": {"type": "METADATA"}, "strategy": {"type": "WEIGHTS"}}, "strategies[0].input.key: required"),
        ({"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "WEIGHTS"}}, "WEIGHTS needs input SCORES"),
        ({"input": {"type": "METADATA", "key": "x"}, "strategy": {"type": "THRESHOLD", "threshold": 1}}, "operation: required"),
        ({"input": {"type": "METADATA", "key": "x"}, "strategy": {"type": "BALANCE"}}, "BALANCE needs a target or a distribution"),
        (
            {"input": {"type": "METADATA", "key": "x"}, "strategy": {"type": "BALANCE", "distribution": "UNIFORM", "target": {"a": 1}}},
            "only used with distribution TARGET",
        ),
        (
            {"input": {"type": "METADATA", "key": "x"}, "strategy": {"type": "BALANCE", "target": {"a": 0.7, "b": 0.6}}},
            "sum to 1.3 > 1",
        ),
        (
            {"input": {"type": "PREDICTIONS", "task": "t", "name": "CATEGORY_COUNT"}, "strategy": {"type": "BALANCE", "distribution": "UNIFORM"}},
            "BALANCE on PREDICTIONS needs name CLASS_DISTRIBUTION",
        ),
        (
            {"input": {"type": "PREDICTIONS", "task": "t", "name": "CLASS_DISTRIBUTION"}, "strategy": {"type": "WEIGHTS"}},
            "needs name CATEGORY_COUNT",
        ),
        ({"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "SIMILARITY"}}, "SIMILARITY needs exactly one query"),
        ({"input": {"type": "EMBEDDINGS", "tag_name": "tag"}, "strategy": {"type": "DIVERSITY"}}, "only used with strategy SIMILARITY"),
        ({"input": {"type": "METADATA", "key": "x", "score": "s"}, "strategy": {"type": "WEIGHTS"}}, "input.score: not used with input type METADATA"),
        ({"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY", "threshold": 3}}, "strategy.threshold: not used with strategy DIVERSITY"),
    ],
)
def test_wrong_combinations_are_rejected_with_the_key(strategy, expected):
    msg = _error(_one(strategy))
    assert expected in msg
    assert msg.startswith("selection.yaml: ")


def test_sample_count_rules():
    strat = {"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY"}}
    assert "exclude each other" in _error({"n_samples": 3, "proportion_samples": 0.5, "strategies": [strat]})
    assert "set n_samples or proportion_samples" in _error({"strategies": [strat]})
    assert "proportion_samples" in _error({"proportion_samples": 1.5, "strategies": [strat]})


def test_lightly_features_framesift_lacks_are_refused_explicitly():
    strat = {"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY"}}
    assert "lightly_path_regex (lightlyPathRegex): not supported by framesift" in _error(
        {"n_samples": 3, "strategies": [strat], "lightlyPathRegex": "(.*)"}
    )


def test_several_errors_stay_on_one_line():
    data = {"n_samples": "x", "strategies": [{"input": {"type": "EMBEDING"}, "strategy": {"type": "DIVERSITY", "strength": "y"}}]}
    msg = _error(data)
    assert "\n" not in msg
    assert msg.count(";") >= 1


def test_labels_are_short_stable_and_disambiguated():
    cfg = SelectionConfig.model_validate(
        {
            "n_samples": 5,
            "strategies": [
                {"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY"}},
                {"input": {"type": "SCORES", "task": "task", "score": "uncertainty_entropy"}, "strategy": {"type": "WEIGHTS"}},
                {"input": {"type": "METADATA", "key": "video_name"}, "strategy": {"type": "BALANCE", "distribution": "UNIFORM"}},
                {"input": {"type": "RANDOM"}, "strategy": {"type": "WEIGHTS"}},
                {"input": {"type": "RANDOM", "random_seed": 3}, "strategy": {"type": "WEIGHTS"}},
            ],
        }
    )
    assert strategy_labels(cfg) == [
        "DIVERSITY(EMBEDDINGS)",
        "WEIGHTS(SCORES:task/uncertainty_entropy)",
        "BALANCE(METADATA:video_name)",
        "WEIGHTS(RANDOM)",
        "WEIGHTS(RANDOM)#2",
    ]
    assert strategy_label(cfg.strategies[4]) == "WEIGHTS(RANDOM)"
    assert strategy_label(cfg.strategies[4], cfg) == "WEIGHTS(RANDOM)#2"


def test_required_inputs_lists_only_what_active_strategies_need():
    cfg = SelectionConfig.model_validate(
        {
            "n_samples": 5,
            "max_per_shot": 2,
            "strategies": [
                {"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY"}},
                {"input": {"type": "SCORES", "task": "t", "score": "s"}, "strategy": {"type": "WEIGHTS"}},
                {"input": {"type": "SCORES", "task": "t", "score": "off"}, "strategy": {"type": "WEIGHTS", "strength": 0}},
                {"input": {"type": "PREDICTIONS", "task": "det", "name": "CLASS_DISTRIBUTION"}, "strategy": {"type": "BALANCE", "distribution": "INPUT"}},
                {"input": {"type": "METADATA", "key": "lightly.sharpness"}, "strategy": {"type": "THRESHOLD", "threshold": 1, "operation": "BIGGER", "strength": 0}},
                {"input": {"type": "EMBEDDINGS", "query_frames": ["a-001-mp4.png"]}, "strategy": {"type": "SIMILARITY"}},
            ],
        }
    )
    assert required_inputs(cfg) == {
        NeedEmbeddings(),
        NeedShotIds(),
        NeedScore("t", "s"),
        NeedPredictions("det"),
        NeedMetadata("lightly.sharpness"),
        NeedSimilarityQuery(strategy_index=5, frames=("a-001-mp4.png",)),
    }
