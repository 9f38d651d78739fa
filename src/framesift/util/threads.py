"""Thread counts: BLAS threading for loops of small matrix products (the greedy selection loop,
classifier fits) and the cores a process may use.

The selection loop multiplies small matrices (a block's rows by the picks it has not seen): there,
multi-threaded BLAS spends more time synchronising than computing, and on a busy machine
it collapses (threads spin-waiting for cores other processes hold). The loop therefore runs
with one BLAS thread; the large products of the index build keep all threads.
``threadpoolctl`` is optional: without it this is a no-op.
"""

from __future__ import annotations

import contextlib
import os


def single_blas_thread() -> contextlib.AbstractContextManager:
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - depends on the environment
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def usable_cores() -> int:
    """Cores this process may run on (CPU affinity, e.g. a container's cpuset), at least 1."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)
