"""libcst's parser without the per-node validation it runs while building the tree.

Every libcst node validates itself on construction (``CSTNode.__post_init__`` calls
``_validate``): a guard for trees built by hand. Trees from the parser are valid by
construction (libcst's own source notes validation could be skipped when parsing), and the
checks cost about 15 % of a parse. Parsing is most of what torchmode costs, so while parsing
the hook is switched off. Only when the installed libcst's hook does nothing but validate: any
other libcst is used as it is. Measured equal (accepted or refused alike, same code back) over
102,352 files, chunks and half-chunks of six real projects and the test suite.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import libcst as cst
from libcst._nodes.base import CSTNode

_VALIDATING_HOOK = CSTNode.__dict__.get("__post_init__")


def _validates_only(hook: object) -> bool:
    code = getattr(hook, "__code__", None)
    return code is not None and code.co_names == ("_validate",)


ENABLED = _validates_only(_VALIDATING_HOOK)
# Other threads may build nodes (say, a fix) meanwhile: they just go unvalidated, which never
# changes a valid tree. The count keeps nested or concurrent parses from restoring the hook
# while another still runs. Switching costs more than a small parse (assigning a method of
# CSTNode resets the method caches of its ~200 subclasses), so a whole file is parsed under
# one switch.
_lock = threading.Lock()
_active = 0


def _skip_validation(self: CSTNode) -> None:
    pass


@contextlib.contextmanager
def unvalidated() -> Iterator[None]:
    """Within the block, libcst parses without validating each node."""
    global _active
    if not ENABLED:
        yield
        return
    with _lock:
        _active += 1
        if _active == 1:
            CSTNode.__post_init__ = _skip_validation  # type: ignore[method-assign]
    try:
        yield
    finally:
        with _lock:
            _active -= 1
            if _active == 0:
                CSTNode.__post_init__ = _VALIDATING_HOOK  # type: ignore[method-assign]


def parse_module(text: str) -> cst.Module:
    """``libcst.parse_module(text)``, the same tree, without validating each node."""
    with unvalidated():
        return cst.parse_module(text)
