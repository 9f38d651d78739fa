"""Readers of files users bring (labeling-tool exports, prediction files): bad shapes become one line.

A reader checks the fields it knows, but a hand-edited or truncated file can break it anywhere
(a missing key, a string where a number belongs, a number too large for an int). Wrapping the
reader turns those into a ``FramesiftError`` naming the file, instead of a traceback.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import yaml

from framesift.errors import FramesiftError

F = TypeVar("F", bound=Callable[..., Any])
SHAPE_ERRORS = (KeyError, IndexError, TypeError, ValueError, AttributeError, OverflowError, ZeroDivisionError,
                RecursionError, yaml.YAMLError)


@contextmanager
def malformed_file(path: str | Path, what: str) -> Iterator[None]:
    try:
        yield
    except FramesiftError:
        raise
    except SHAPE_ERRORS as err:
        detail = " ".join(f"{type(err).__name__}: {err}".split())[:200]
        raise FramesiftError(f"{path}: not a valid {what} ({detail}); fix or re-export the file") from err


def reads_user_file(what: str) -> Callable[[F], F]:
    """Decorate a reader whose first argument is the file (or folder) it reads."""

    def decorate(reader: F) -> F:
        @functools.wraps(reader)
        def wrapper(path: Any, *args: Any, **kwargs: Any) -> Any:
            with malformed_file(path, what):
                return reader(path, *args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate
