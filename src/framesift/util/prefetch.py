"""Run an iterator in a background thread, a few items ahead of its consumer.

Ingest decodes a video with one decoder thread here while the caller computes statistics on
the frames already decoded: two cores busy on different frames, instead of FFmpeg's frame
threads and the statistics taking turns on the same cores. The work must release the GIL
(PyAV decoding, OpenCV and the numba kernels do), or the threads only take turns.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")
_DONE = object()


def prefetch(
    items: Iterable[T], *, depth: int = 2, batch: int = 4, item_bytes: Callable[[T], int] | None = None,
    batch_bytes: int = 32 << 20,
) -> Iterator[T]:
    """Yield ``items`` in order, produced by a background thread up to ``depth`` batches ahead.

    Items travel in lists of up to ``batch`` to keep the hand-over cost per item small; with
    ``item_bytes``, the first item sets a smaller batch so one batch stays under ``batch_bytes``
    (at most ``depth + 2`` batches are alive at once: 4K frames travel in pairs, 8K ones alone).
    An exception raised by the producer is raised here after the items produced before it.
    Closing the returned generator early stops the producer and closes ``items``.
    """
    handoff: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        iterator = iter(items)
        chunk: list[T] = []
        batch_size = batch
        sized = item_bytes is None
        try:
            for item in iterator:
                if not sized:  # on the first item
                    batch_size = max(1, min(batch, batch_bytes // max(1, item_bytes(item))))  # type: ignore[misc]
                    sized = True
                chunk.append(item)
                if len(chunk) >= batch_size:
                    if not _put(handoff, chunk, stop):
                        return
                    chunk = []
            if chunk:
                _put(handoff, chunk, stop)
            _put(handoff, _DONE, stop)
        except BaseException as err:  # handed to the consumer, which re-raises it
            if chunk:
                _put(handoff, chunk, stop)
            _put(handoff, err, stop)
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=produce, name="framesift-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            got = handoff.get()
            if got is _DONE:
                return
            if isinstance(got, BaseException):
                raise got
            yield from got
    finally:
        stop.set()
        while thread.is_alive():  # unblock a producer waiting on a full queue, then let it finish
            with contextlib.suppress(queue.Empty):
                handoff.get(timeout=0.05)
        thread.join()


def _put(handoff: queue.Queue, value: object, stop: threading.Event) -> bool:
    """Put unless the consumer has gone; False when it has."""
    while not stop.is_set():
        try:
            handoff.put(value, timeout=0.1)
            return True
        except queue.Full:
            continue
    return False
