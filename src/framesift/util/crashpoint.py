"""Test hook: ``kill -9`` this process at a named point, to prove a rerun recovers from there.

``FRAMESIFT_TEST_CRASH_AT=embed.chunk_file:3`` sends SIGKILL to the process the 3rd time it
reaches ``crash_point("embed.chunk_file")`` (``:1`` when the count is left out). The crash tests
in tests/reliability set it; unset, a crash point costs one comparison. Points are listed in
docs/reliability.md.
"""

from __future__ import annotations

import os
import signal

_SPEC = os.environ.get("FRAMESIFT_TEST_CRASH_AT") or None
_seen: dict[str, int] = {}


def crash_point(name: str) -> None:
    if _SPEC is None:
        return
    point, _, count = _SPEC.partition(":")
    if point != name:
        return
    _seen[name] = _seen.get(name, 0) + 1
    if _seen[name] >= int(count or 1):
        os.kill(os.getpid(), signal.SIGKILL)
