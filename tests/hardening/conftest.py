"""Hypothesis profiles for the fuzz tests.

``ci`` (the default) keeps the whole hardening suite within CI's fuzz budget and is
derandomised, so CI runs the same examples every time; ``long`` is for local runs
(``HYPOTHESIS_PROFILE=long python -m pytest tests/hardening``, see the README) and reaches
10,000 programs and 10,000 edit sequences.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from hypothesis import HealthCheck, settings

SLOW_IS_FINE = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]

settings.register_profile(
    "ci",
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=SLOW_IS_FINE,
    print_blob=True,
)
settings.register_profile(
    "long",
    max_examples=10_000,
    deadline=None,
    suppress_health_check=SLOW_IS_FINE,
    print_blob=True,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# The helper modules beside this file (fuzz_*.py, lsp_wire.py) are imported by name.
sys.path.insert(0, str(Path(__file__).parent))
