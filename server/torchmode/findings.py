"""The one currency of torchmode: Findings with ranges, related locations and fixes.

Positions are 0-based lines and 0-based columns counted in code points (Python ``str``
indices). Adapters convert to their own conventions (1-based for the CLI, UTF-16 for VS
Code...).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True, order=True)
class Position:
    line: int
    character: int


@dataclass(frozen=True, slots=True, order=True)
class Range:
    start: Position
    end: Position

    @staticmethod
    def of(line: int, character: int, end_line: int, end_character: int) -> Range:
        return Range(Position(line, character), Position(end_line, end_character))

    def contains(self, pos: Position) -> bool:
        return self.start <= pos <= self.end


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"
    HINT = "hint"

    @property
    def rank(self) -> int:
        return {"error": 0, "warning": 1, "info": 2, "hint": 3}[self.value]


@dataclass(frozen=True, slots=True)
class TextEdit:
    """Replace ``range`` of the analysed text by ``new_text`` (an insertion has an empty range)."""

    range: Range
    new_text: str


@dataclass(frozen=True, slots=True)
class Fix:
    title: str
    edits: tuple[TextEdit, ...]
    safe: bool = True
    preferred: bool = True


@dataclass(frozen=True, slots=True)
class Related:
    """A second place involved in a finding ("training step here"): in the finding's file, or
    in another file of the project (``path``, real and absolute: a call in ``train.py`` that
    decides how a function of ``evaluate.py`` is entered)."""

    range: Range
    message: str
    path: str | None = None


def full_message(summary: str, details: str) -> str:
    """A finding's whole text: the summary as its first sentence, then the details (SARIF and
    the editors read the first sentence as the summary)."""
    return f"{summary}. {details}" if details else summary


@dataclass(slots=True)
class Finding:
    """A finding's text comes in two parts. ``summary`` is one sentence, without a final full
    stop, that says what is wrong and names the subject and the key lines: it is what fits where
    findings are listed (the Problems panel, a terminal line, an annotation), about 100
    characters. ``details`` says the rest: why it matters, the other places involved. Lines are
    named "line N" in both (the notebook and the editor renumber them by that pattern)."""

    code: str
    summary: str
    range: Range
    severity: Severity
    related: tuple[Related, ...] = ()
    # The model, optimizer or value the finding is about, as written in the code: what a triage
    # label or a baseline keys on, since messages are reworded.
    subject: str = ""
    details: str = ""
    # Fixes are built only when asked for (code action, --fix, JSON): most findings are
    # never fixed, and building edits needs node positions.
    fix_builder: Callable[[], tuple[Fix, ...]] | None = field(default=None, repr=False)
    # Where building a fix means checking it (analysing the fixed text), the fix it will most
    # likely be, unchecked: enough to mark a finding as fixable in a listing of thousands.
    fix_preview: Callable[[], Fix | None] | None = field(default=None, repr=False)
    _fixes: tuple[Fix, ...] | None = field(default=None, repr=False)

    @property
    def message(self) -> str:
        return full_message(self.summary, self.details)

    @property
    def fixable(self) -> bool:
        return self.fix_builder is not None

    @property
    def fixes_built(self) -> bool:
        return self._fixes is not None

    @property
    def fixes(self) -> tuple[Fix, ...]:
        if self._fixes is None:
            self._fixes = self.fix_builder() if self.fix_builder else ()
        return self._fixes

    def sort_key(self) -> tuple[int, int, str]:
        return (self.range.start.line, self.range.start.character, self.code)
