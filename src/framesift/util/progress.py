"""Progress bars on stderr for long work; silent when disabled or not on a terminal-like run."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

from tqdm.auto import tqdm

T = TypeVar("T")

_ENABLED = os.environ.get("FRAMESIFT_PROGRESS", "1") != "0"


def set_progress(enabled: bool) -> None:
    global _ENABLED
    _ENABLED = enabled


def progress_enabled() -> bool:
    return _ENABLED


def bar(total: int | None = None, desc: str = "", unit: str = "frame", **kwargs: Any) -> tqdm:
    """A tqdm bar writing to stderr; ``disable`` follows the global switch."""
    return tqdm(
        total=total,
        desc=desc,
        unit=unit,
        file=sys.stderr,
        disable=not _ENABLED,
        dynamic_ncols=True,
        leave=False,
        mininterval=0.5,
        **kwargs,
    )


def track(items: Iterable[T], total: int | None = None, desc: str = "", unit: str = "it") -> Iterator[T]:
    with bar(total=total, desc=desc, unit=unit) as progress:
        for item in items:
            yield item
            progress.update(1)
