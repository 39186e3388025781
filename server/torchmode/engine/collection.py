"""Python's cyclic garbage collector paused while the engine builds trees and analyses.

A collection walks every young object: during a parse or an analysis those are the tens of
thousands of nodes and values just made, all still alive, so each collection would find
nothing and cost a few milliseconds (~25 % of a big parse). Nothing the engine builds needs
collecting before it finishes; what it leaves is freed by reference counting, the rest by
the next collection once the collector runs again.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def collection_paused() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
