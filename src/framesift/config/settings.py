"""Pydantic models of the non-selection parts of a config file (no I/O).

A config file may hold LightlyOne's three dicts (``selection_config``, ``worker_config``,
``lightly_config``) plus a ``framesift`` section for what LightlyOne has no name for. Keys
LightlyOne knows but framesift does not act on are accepted with a warning, so a LightlyOne
user's file works unchanged; any other unknown key is an error naming it.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

# worker_config keys of LightlyOne that have no effect here (cloud/Docker specifics).
LIGHTLY_WORKER_KEYS_IGNORED = frozenset(
    {
        "shutdown_when_job_finished",
        "use_datapool",
        "pretagging",
        "pretagging_debug",
        "pretagging_config",
        "upload_dataset",
        "checkpoint",
        "embeddings",
        "num_processes",
        "num_threads",
        "remove_exact_duplicates",
        "sample_count",
        "training",
        "object_level",
        "method",
        "stopping_condition",
        "scorer",
        "scorer_config",
        "active_learning",
        "enable_corruptness_check",
        "relevant_filenames_file",
        "datapool_name",
        "output_image_format",
        "enable_retraining",
    }
)
LIGHTLY_DATASOURCE_KEYS_IGNORED = frozenset({"bypass_verify", "enable_datapool_update", "input_expiration"})
LIGHTLY_CONFIG_SECTIONS = frozenset(
    {"loader", "model", "trainer", "criterion", "optimizer", "collate", "checkpoint_callback", "summary_callback", "seed", "resize"}
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class DatasourceConfig(BaseModel):
    model_config = ConfigDict(extra="allow")
    process_all: bool = False


class CorruptnessCheck(_Strict):
    corruption_threshold: float = Field(0.9, ge=0.0, le=1.0)


class WorkerConfig(BaseModel):
    """LightlyOne ``worker_config``: the keys framesift uses, the rest tolerated (see loader)."""

    model_config = ConfigDict(extra="allow")
    enable_training: bool = False
    selected_sequence_length: int = Field(1, ge=1)
    datasource: DatasourceConfig = Field(default_factory=DatasourceConfig)
    corruptness_check: CorruptnessCheck = Field(default_factory=CorruptnessCheck)


class DatapoolSettings(_Strict):
    seed_tag: str | None = None  # seed DIVERSITY only with this earlier run/tag (default: all runs)
    exclude_labeled: bool = True  # never select frames that already have labels


class CropSettings(_Strict):
    task: str  # prediction task whose boxes are cropped on the selected frames
    padding: float = Field(0.0, ge=0.0)  # fraction of the box size added on each side


class FramesiftSettings(_Strict):
    """framesift's own knobs; every one has a default that works offline."""

    embedder: str = "auto"  # efficientnet_lite0 | pixels | clip | auto
    embedder_options: dict[str, Any] = Field(default_factory=dict)
    embed_batch_size: int | None = Field(None, ge=1)  # None: 4 on CPU (cache-friendly), 64 on GPU
    embed_chunk_frames: int | None = Field(None, ge=1)  # frames per stored, resumable chunk (None: 32)
    device: str | None = None
    threads: int | None = Field(None, ge=1)
    frame_stride: int | None = Field(None, ge=1)
    fps: float | None = Field(None, gt=0)
    embed_fps: float | None = Field(None, gt=0)  # embed ~this many frames/s; others use the nearest embedded frame
    extract: bool = True
    png_compress_level: int = Field(3, ge=0, le=9)
    run_name: str | None = None
    datapool: DatapoolSettings = Field(default_factory=DatapoolSettings)
    engine: Literal["local", "ray"] = "local"
    ray_address: str | None = None  # engine ray: None = start/attach a local cluster; "auto" or "ray://host:10001"
    ray_num_cpus: int | None = Field(None, ge=1)  # engine ray: CPUs of a local cluster started here (default: all)
    crops: CropSettings | None = None  # save predicted boxes of selected frames to WORKSPACE/crops/<task>/
    lightly_dir: str | None = None  # LightlyOne datasource with .lightly/predictions and .lightly/metadata
    allow_unmatched: bool = False  # skip imported predictions/metadata that match no indexed frame

    @model_validator(mode="after")
    def _one_sampling_rate(self) -> FramesiftSettings:
        if self.frame_stride is not None and self.fps is not None:
            raise ValueError("set either framesift.frame_stride or framesift.fps, not both")
        return self


class LightlyConfig(BaseModel):
    """LightlyOne ``lightly_config`` (training/loader settings) kept as nested dicts."""

    model_config = ConfigDict(extra="allow")
    loader: dict[str, Any] = Field(default_factory=dict)
    model: dict[str, Any] = Field(default_factory=dict)
    trainer: dict[str, Any] = Field(default_factory=dict)
    optimizer: dict[str, Any] = Field(default_factory=dict)
    criterion: dict[str, Any] = Field(default_factory=dict)
    collate: dict[str, Any] = Field(default_factory=dict)
