"""Connect to Ray and run one ordered, streaming Ray Data pipeline of per-video tasks.

Every task is one video; its worker yields small messages ``(kind, payload)`` that Ray
streams back to the driver while the video is still being decoded. ``preserve_order`` makes
the driver see all messages of video k before those of video k+1, so it can write the
catalog in the same order as the local engine (same frame ids) without buffering frames
itself: blocks waiting for their turn sit in Ray's object store, which spills to disk.
"""

from __future__ import annotations

import logging
import os
import pickle
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from framesift.errors import FramesiftError

log = logging.getLogger(__name__)

# Ray Data joins consecutive yields of a task into one block until it reaches this size (or the
# task ends) before sending it: 1 MiB is ~17,000 frames of index rows or a few embedding chunks,
# so long videos stream to the driver and in-flight results stay small.
BLOCK_BYTES = 1024 * 1024


@dataclass(frozen=True)
class ClusterOptions:
    address: str | None = None  # None: attach to RAY_ADDRESS / a local `ray start` cluster, else start one here
    num_cpus: int | None = None  # CPUs of a local cluster started here (default: all)
    cpus_per_worker: float = 1.0  # CPUs reserved by each decode/model worker

    @classmethod
    def from_settings(cls, settings: Any) -> ClusterOptions:
        return cls(address=settings.ray_address, num_cpus=settings.ray_num_cpus)


@dataclass
class Message:
    index: int  # position of the task in the submitted list
    kind: str
    payload: Any


def connect(options: ClusterOptions) -> None:
    """Start or attach to Ray once per process; a cluster started by the caller is reused as is."""
    try:
        import ray
    except ImportError as err:
        raise FramesiftError("framesift.engine: ray needs Ray Data; pip install 'framesift[ray]'") from err
    if ray.is_initialized():
        return
    kwargs: dict[str, Any] = {"include_dashboard": False, "logging_level": logging.WARNING}
    if options.address:
        kwargs["address"] = options.address
    elif options.num_cpus:
        kwargs["num_cpus"] = options.num_cpus
    try:
        ray.init(**kwargs)
    except (ConnectionError, ValueError, RuntimeError) as err:
        where = options.address or "a local cluster"
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        hint = "start it with `ray start --head` or fix the address"
        if options.address and not os.environ.get("RAY_AUTH_MODE"):
            hint += ("; if the cluster uses token authentication (the default of `ray start` since Ray 2.59), "
                     "export RAY_AUTH_MODE=token with the head's token (RAY_AUTH_TOKEN or ~/.ray/auth_token) first")
        raise FramesiftError(f"framesift.ray_address: cannot connect to Ray at {where} ({first}); {hint}") from err


def cluster_cpus() -> int:
    import ray

    return max(1, int(ray.cluster_resources().get("CPU", 1)))


def run_ordered(
    tasks: list[Any],
    udf: Callable[..., Any] | type,
    options: ClusterOptions,
    *,
    constructor_args: tuple[Any, ...] = (),
) -> Iterator[Message]:
    """Run ``udf`` over ``tasks`` (one per block) and yield its messages in task order.

    A class ``udf`` runs on a fixed pool of actors (its model is loaded once per actor); a
    function runs as plain Ray tasks.
    """
    if not tasks:
        return
    import ray

    connect(options)
    _quiet_console()
    items = [{"index": i, "task": pickle.dumps(task)} for i, task in enumerate(tasks)]
    ds = ray.data.from_items(items, override_num_blocks=len(items))
    ctx = ds.context  # a copy owned by this dataset: settings here do not leak to the caller's datasets
    ctx.execution_options.preserve_order = True
    ctx.enable_progress_bars = False
    ctx.print_on_execution_start = False
    ctx.target_max_block_size = BLOCK_BYTES
    map_args: dict[str, Any] = {"batch_size": 1, "batch_format": "numpy", "num_cpus": options.cpus_per_worker}
    if isinstance(udf, type):
        size = max(1, min(len(tasks), int(cluster_cpus() // options.cpus_per_worker)))
        map_args["compute"] = ray.data.ActorPoolStrategy(size=size)
        map_args["fn_constructor_args"] = constructor_args
    for row in ds.map_batches(udf, **map_args).iter_rows():
        yield Message(int(row["index"]), str(row["kind"]), pickle.loads(row["payload"]))


def _quiet_console() -> None:
    """Keep Ray Data's per-execution INFO lines off the terminal (they stay in Ray's session log files)."""
    import ray.data  # noqa: F401  (configures the 'ray.data' logger on import)

    if log.isEnabledFor(logging.DEBUG):
        return
    for handler in logging.getLogger("ray.data").handlers:
        if type(handler).__name__ != "SessionFileHandler":
            handler.setLevel(logging.ERROR)


def message_batches(batch: dict[str, np.ndarray], handle: Callable[[Any], Iterator[tuple[str, Any]]]) -> Iterator[dict]:
    """Worker side of ``run_ordered``: unpack each task of a batch and pack what ``handle`` yields."""
    from framesift.util.progress import set_progress

    set_progress(False)  # no per-video bars on workers; the driver shows one
    for index, blob in zip(batch["index"], batch["task"], strict=True):
        for kind, payload in handle(pickle.loads(blob)):
            yield {"index": np.array([index], np.int64), "kind": np.array([kind]),
                   "payload": np.array([pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)], dtype=object)}
