"""Malformed selection configs give one-line ConfigErrors (exit 2 at the CLI), never tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml
from fuzz_support import ANY_JSON, check_user_error, examples, mutated
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from framesift.config.loader import load_config

VALID = {
    "selection_config": {
        "n_samples": 10,
        "min_frame_gap": 3,
        "strategies": [
            {"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY", "stopping_condition_minimum_distance": 0.1}},
            {"input": {"type": "METADATA", "key": "lightly.sharpness"},
             "strategy": {"type": "THRESHOLD", "threshold": 5, "operation": "BIGGER"}},
            {"input": {"type": "METADATA", "key": "video_name"},
             "strategy": {"type": "BALANCE", "distribution": "TARGET", "target": {"a": 0.5}, "strength": 2}},
            {"input": {"type": "SCORES", "task": "t", "score": "uncertainty_entropy"}, "strategy": {"type": "WEIGHTS"}},
            {"input": {"type": "PREDICTIONS", "task": "t", "name": "CLASS_DISTRIBUTION"},
             "strategy": {"type": "BALANCE", "target": {"car": 0.3, "bus": 0.3}}},
            {"input": {"type": "EMBEDDINGS", "tag_name": "run-1"}, "strategy": {"type": "SIMILARITY"}},
            {"input": {"type": "RANDOM", "random_seed": 3}, "strategy": {"type": "WEIGHTS"}},
        ],
    },
    "worker_config": {"enable_training": False, "selected_sequence_length": 1, "datasource": {"process_all": True},
                      "corruptness_check": {"corruption_threshold": 0.1}},
    "lightly_config": {"loader": {"batch_size": 16}},
    "framesift": {"embedder": "pixels", "embed_batch_size": 8, "fps": 2.0, "datapool": {"seed_tag": "x"},
                  "crops": {"task": "t", "padding": 0.1}, "png_compress_level": 3},
}


def test_the_template_itself_is_valid():
    assert load_config(VALID).selection.n_samples == 10


@settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated(VALID))
def test_mutated_config_dicts_load_or_fail_with_one_line(document):
    check_user_error(lambda: load_config(document))


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated(VALID["selection_config"]))
def test_bare_lightly_selection_configs_load_or_fail_with_one_line(document):
    check_user_error(lambda: load_config(document if isinstance(document, dict) else {"selection_config": document}))


FILE_CONTENT = st.one_of(
    st.binary(max_size=200),
    st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
    mutated(VALID).map(lambda d: yaml.safe_dump(d, allow_unicode=True).encode("utf-8", "surrogatepass")),
    mutated(VALID).map(lambda d: json.dumps(d).encode("utf-8", "surrogatepass")),
    ANY_JSON.map(lambda d: json.dumps(d).encode("utf-8", "surrogatepass")),
)


@settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(FILE_CONTENT, st.sampled_from(["yaml", "yml", "json"]))
def test_config_files_of_any_bytes_load_or_fail_with_one_line(content, suffix):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"config.{suffix}"
        path.write_bytes(content)
        check_user_error(lambda: load_config(path))


def test_config_paths_that_are_not_readable_files_fail_with_one_line(tmp_path):
    (tmp_path / "folder.yaml").mkdir()
    unreadable = tmp_path / "locked.yaml"
    unreadable.write_text(yaml.safe_dump(VALID))
    unreadable.chmod(0)
    for path in (tmp_path / "folder.yaml", tmp_path / "missing.yaml", unreadable):
        message = check_user_error(lambda p=path: load_config(p))
        if path is unreadable and os.geteuid() == 0:
            continue  # root reads mode-000 files
        assert message is not None and message.startswith(str(path))


def test_config_paths_with_newlines_or_undecodable_bytes_give_one_line(tmp_path):
    """Found by fuzzing: a path holding a newline split the 'not found' error over two lines."""
    odd = tmp_path / os.fsdecode(b"caf\xe9\nconfig.yaml")
    assert "\\n" in check_user_error(lambda: load_config(odd))  # missing: the newline is shown escaped
    odd.write_text("selection_config: [1]\n")
    assert "\\udce9" in check_user_error(lambda: load_config(odd))


BAD_FILES = {
    "latin1.yaml": "n_samples: 5\nstrategies: caf\xe9\n".encode("latin-1"),
    "typo.yaml": b"selection_config:\n  n_sample: 5\n  strategies: []\n",
    "wrong_type.yaml": b"selection_config:\n  n_samples: many\n  strategies:\n    - input: {type: EMBEDDINGS}\n"
                       b"      strategy: {type: DIVERSITY}\n",
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_cli_exits_2_with_one_line_on_a_bad_config(tmp_path, name):
    config = tmp_path / name
    config.write_bytes(BAD_FILES[name])
    (tmp_path / "videos").mkdir()
    result = subprocess.run(
        [sys.executable, "-c", "from framesift.cli import main; main()", "run", "--input", str(tmp_path / "videos"),
         "--out", str(tmp_path / "ws"), "--config", str(config)],
        capture_output=True, text=True, env=dict(os.environ, FRAMESIFT_PROGRESS="0"), timeout=120,
    )
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {config}: "), result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "ws").exists()
