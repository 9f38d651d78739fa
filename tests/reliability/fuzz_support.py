"""Hypothesis strategies for near-valid documents: a valid template with parts dropped, replaced or added.

Random JSON alone rarely gets past the first type check; mutating a valid document reaches the
deep code paths (strategy combinations, per-box fields, category lookups) where a forgotten
check turns into a KeyError or TypeError instead of a one-line FramesiftError.
"""

from __future__ import annotations

import os
from typing import Any

from hypothesis import strategies as st

from framesift.errors import FramesiftError

KEYS = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=8)
LEAF = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=10)
)
ANY_JSON = st.recursive(
    LEAF, lambda children: st.lists(children, max_size=3) | st.dictionaries(KEYS, children, max_size=3), max_leaves=10
)


def mutated(template: Any) -> st.SearchStrategy[Any]:
    """Documents like ``template``: each dict key may vanish, any value may become random JSON."""
    if isinstance(template, dict):
        parts = {key: mutated(value) for key, value in template.items()}
        structural = st.builds(_merge, st.fixed_dictionaries({}, optional=parts),
                               st.dictionaries(KEYS, ANY_JSON, max_size=1))
        return st.one_of(structural, ANY_JSON)
    if isinstance(template, list) and template:
        return st.one_of(st.lists(st.one_of(*[mutated(item) for item in template]), max_size=4), ANY_JSON)
    return st.one_of(st.just(template), ANY_JSON)


def _merge(kept: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    return {**kept, **extra}


def examples(default: int) -> int:
    """Examples per fuzz test: small in the suite; FRAMESIFT_FUZZ_EXAMPLES=2000 for a long session."""
    return int(os.environ.get("FRAMESIFT_FUZZ_EXAMPLES") or default)


def check_user_error(call: Any) -> str | None:
    """Run ``call``; success returns None, a FramesiftError returns its text (asserted one line).

    Any other exception propagates: that is the bug the fuzz tests look for.
    """
    try:
        call()
    except FramesiftError as err:
        text = str(err)
        assert text and "\n" not in text and len(text) < 2000, f"not a one-line error: {text!r}"
        return text
    return None
