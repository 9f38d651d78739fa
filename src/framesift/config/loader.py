"""Read a config file (YAML or JSON) into validated models, with one-line errors.

Accepted shapes:
- a bare LightlyOne ``selection_config`` (top-level ``n_samples``/``proportion_samples`` + ``strategies``)
- ``{selection_config, worker_config, lightly_config, framesift}``, LightlyOne's scheduleRun
  arguments plus framesift's own section; every section but ``selection_config`` is optional.
"""

from __future__ import annotations

import difflib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from framesift.config.selection import SelectionConfig, format_validation_error
from framesift.config.settings import (
    LIGHTLY_CONFIG_SECTIONS,
    LIGHTLY_DATASOURCE_KEYS_IGNORED,
    LIGHTLY_WORKER_KEYS_IGNORED,
    FramesiftSettings,
    LightlyConfig,
    WorkerConfig,
)
from framesift.errors import ConfigError

log = logging.getLogger(__name__)

SECTIONS = ("selection_config", "worker_config", "lightly_config", "framesift")
WORKER_KEYS = frozenset(WorkerConfig.model_fields) | LIGHTLY_WORKER_KEYS_IGNORED


@dataclass
class Config:
    selection: SelectionConfig
    worker: WorkerConfig = field(default_factory=WorkerConfig)
    lightly: LightlyConfig = field(default_factory=LightlyConfig)
    framesift: FramesiftSettings = field(default_factory=FramesiftSettings)
    source: str = "<config>"
    raw: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The effective config (defaults filled in), as stored with each run."""
        return {
            "selection_config": self.selection.model_dump(mode="json", exclude_none=True),
            "worker_config": self.worker.model_dump(mode="json"),
            "lightly_config": self.lightly.model_dump(mode="json"),
            "framesift": self.framesift.model_dump(mode="json"),
        }


def read_config_file(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    shown = one_line(str(path))  # a file name may hold a newline or undecodable bytes
    if not path.exists():
        raise ConfigError(f"{shown}: config file not found; pass --config with a YAML or JSON file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise ConfigError(f"{shown}: not UTF-8 text (byte {err.start}); save the config as UTF-8") from err
    except OSError as err:
        raise ConfigError(f"{shown}: cannot read the config ({err.strerror or err}); pass a readable YAML or JSON file") from err
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as err:
        raise ConfigError(f"{shown}: not valid {'JSON' if path.suffix.lower() == '.json' else 'YAML'}: {_first_line(err)}") from err
    if data is None:
        raise ConfigError(f"{shown}: config file is empty; it needs at least n_samples and strategies")
    if not isinstance(data, dict):
        raise ConfigError(f"{shown}: top level must be a mapping, got {type(data).__name__}")
    return data


def load_config(source: str | Path | dict[str, Any], overrides: dict[str, Any] | None = None) -> Config:
    """Validate a config file or dict; ``overrides`` are framesift-section values from the CLI."""
    if isinstance(source, dict):
        data, name = source, "<config>"
    elif isinstance(source, (str, Path)):
        data, name = read_config_file(source), one_line(str(source))
    else:
        raise ConfigError(f"<config>: top level must be a mapping, got {type(source).__name__}")
    _check_text(data, name, "")
    data = dict(data)
    if "selection_config" not in data and not set(data) & set(SECTIONS):
        data = {"selection_config": data}
    unknown = [key for key in data if key not in SECTIONS]
    if unknown:
        raise ConfigError(f"{name}: {_unknown_key_message(unknown[0], SECTIONS)}")
    if "selection_config" not in data:
        raise ConfigError(f"{name}: selection_config: missing; add n_samples (or proportion_samples) and strategies")
    warnings: list[str] = []
    worker_raw = _check_worker(data.get("worker_config") or {}, name, warnings)
    lightly_raw = _check_lightly(data.get("lightly_config") or {}, name)
    framesift_raw = data.get("framesift") or {}
    if not isinstance(framesift_raw, dict):
        raise ConfigError(f"{name}: framesift: must be a mapping")
    framesift_raw = dict(framesift_raw)
    for key, value in (overrides or {}).items():
        if value is not None:
            framesift_raw[key] = value
    worker = _validate(WorkerConfig, worker_raw, name, "worker_config")
    lightly = _validate(LightlyConfig, lightly_raw, name, "lightly_config")
    settings = _validate(FramesiftSettings, framesift_raw, name, "framesift")
    selection_raw = data["selection_config"]
    if not isinstance(selection_raw, dict):
        raise ConfigError(f"{name}: selection_config: must be a mapping with n_samples and strategies")
    selection_raw = dict(selection_raw)
    if worker.selected_sequence_length > 1 and "selected_sequence_length" not in selection_raw:
        selection_raw["selected_sequence_length"] = worker.selected_sequence_length
    try:
        selection = SelectionConfig.model_validate(selection_raw)
    except ValidationError as err:
        raise ConfigError(one_line(format_validation_error(err, f"{name}: selection_config"))) from err
    for message in warnings:
        log.warning(message)
    return Config(selection, worker, lightly, settings, name, data, warnings)


def _check_worker(raw: Any, name: str, warnings: list[str]) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ConfigError(f"{name}: worker_config: must be a mapping")
    for key in raw:
        if key in LIGHTLY_WORKER_KEYS_IGNORED:
            warnings.append(f"{name}: worker_config.{key}: LightlyOne option not used by framesift; ignored")
        elif key not in WorkerConfig.model_fields:
            raise ConfigError(f"{name}: worker_config.{_unknown_key_message(key, sorted(WORKER_KEYS))}")
    datasource = raw.get("datasource") or {}
    if not isinstance(datasource, dict):
        raise ConfigError(f"{name}: worker_config.datasource: must be a mapping")
    for key in datasource:
        if key in LIGHTLY_DATASOURCE_KEYS_IGNORED:
            warnings.append(f"{name}: worker_config.datasource.{key}: LightlyOne option not used by framesift; ignored")
        elif key != "process_all":
            options = ["process_all", *sorted(LIGHTLY_DATASOURCE_KEYS_IGNORED)]
            raise ConfigError(f"{name}: worker_config.datasource.{_unknown_key_message(key, options)}")
    return {k: v for k, v in raw.items() if k in WorkerConfig.model_fields}


def _check_lightly(raw: Any, name: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ConfigError(f"{name}: lightly_config: must be a mapping")
    for key in raw:
        if key not in LIGHTLY_CONFIG_SECTIONS:
            raise ConfigError(f"{name}: lightly_config.{_unknown_key_message(key, sorted(LIGHTLY_CONFIG_SECTIONS))}")
    return raw


def _validate(model: type[BaseModel], raw: Any, name: str, section: str) -> Any:
    if not isinstance(raw, dict):
        raise ConfigError(f"{name}: {section}: must be a mapping")
    try:
        return model.model_validate(raw)
    except ValidationError as err:
        raise ConfigError(one_line(format_validation_error(err, f"{name}: {section}"))) from err


def _unknown_key_message(key: Any, valid: Any) -> str:
    options = [str(v) for v in valid]
    close = difflib.get_close_matches(str(key), options, n=1)
    hint = f" (did you mean {close[0]}?)" if close else f"; valid keys: {', '.join(options)}"
    shown = key if isinstance(key, str) and key.isprintable() and key.strip() == key and key else repr(key)
    return f"{shown}: unknown key{hint}"


def _check_text(value: Any, name: str, where: str) -> None:
    """Reject lone surrogates (JSON/YAML escapes like \\ud800): no encoder or message can hold them."""
    if isinstance(value, str):
        if any(0xD800 <= ord(c) <= 0xDFFF for c in value):
            raise ConfigError(f"{name}: {one_line(where) or 'top level'}: {value!r} holds a lone surrogate, not valid Unicode")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key, name, where)
            _check_text(item, name, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_text(item, name, f"{where}[{index}]")


def one_line(text: str) -> str:
    """Escape newlines and other unprintable characters (from keys or values in the file)."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _first_line(err: Exception) -> str:
    return " ".join(str(err).split())[:200]
