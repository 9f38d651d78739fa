"""Selection engine: LightlyOne-compatible frame selection on arrays (pure numpy/scipy, no I/O)."""

from .engine import select
from .kcenter import covering_radius, exact_kcenter_greedy, kcenter_greedy
from .types import PredictionArrays, SelectionInputs, SelectionResult

__all__ = [
    "PredictionArrays",
    "SelectionInputs",
    "SelectionResult",
    "covering_radius",
    "exact_kcenter_greedy",
    "kcenter_greedy",
    "select",
]
