"""A one-line progress indicator on stderr, for long runs on a terminal only."""

from __future__ import annotations

import time
from typing import TextIO

# Short runs finish before anyone looks: draw only once a run has taken this long.
_DELAY = 0.5
_INTERVAL = 0.1


class Progress:
    def __init__(self, total: int, stream: TextIO, *, enabled: bool) -> None:
        self.total = total
        self.stream = stream
        self.enabled = enabled and total > 1
        self.started = time.monotonic()
        self.drawn_at = 0.0
        self.visible = False

    def update(self, done: int) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self.started < _DELAY or now - self.drawn_at < _INTERVAL:
            return
        self.drawn_at = now
        self.visible = True
        self.stream.write(f"\rchecking {done}/{self.total} files ({100 * done // self.total}%)")
        self.stream.flush()

    def close(self) -> None:
        if self.visible:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()
            self.visible = False
