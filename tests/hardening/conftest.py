"""The hardening tests' helper modules are imported by name from this directory; their
hypothesis profiles are in fuzz_invariants.py."""

from __future__ import annotations

import sys
from pathlib import Path

# The helper modules beside this file (fuzz_*.py, lsp_wire.py) are imported by name.
sys.path.insert(0, str(Path(__file__).parent))
