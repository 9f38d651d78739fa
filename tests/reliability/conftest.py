"""Fixtures of the reliability tests: helper modules on sys.path (pytest importlib mode)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
