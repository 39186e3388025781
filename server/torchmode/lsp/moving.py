"""Findings of an older text moved to where their lines are in a newer one.

The server shows findings that were not computed for the text on screen in two cases: the
last findings of a text that parsed, while the code being typed does not (results.py), and,
with ``run: onSave``, the saved text's findings while unsaved edits are pulled (server.py).
Shown at their old line numbers they would point at whatever the edits moved there.

A finding moves only when every line it points at (its range, its related places and each
"line N" its message names) lies in the lines before or after the edited region, which are
the same text in both versions; any other finding is dropped. So a finding is never shown on
a line other than the one whose text it was found on. The edited region is the span from the
first line that differs to the last one: several edits far apart make one large region,
which drops more than it must, never less.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from torchmode.findings import Finding, Position, Range

_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # the LSP's line ends (positions.py)
_LINE_NUMBER = re.compile(r"\bline (\d+)\b")  # "on line 31", as rule messages quote lines


@dataclass(frozen=True)
class LineMap:
    before: int  # lines [0, before) are the same in both texts
    after: int  # old lines from ``after`` on are the same, ``shift`` lines further down
    shift: int

    @staticmethod
    def between(old: str, new: str) -> LineMap:
        if old == new:
            count = len(_LINE_BREAK.findall(old)) + 1
            return LineMap(count, count, 0)
        a, b = _LINE_BREAK.split(old), _LINE_BREAK.split(new)
        common = min(len(a), len(b))
        before = 0
        while before < common and a[before] == b[before]:
            before += 1
        same = 0  # lines equal at the end, not overlapping those at the start
        while same < common - before and a[len(a) - 1 - same] == b[len(b) - 1 - same]:
            same += 1
        return LineMap(before, len(a) - same, len(b) - len(a))

    def line(self, line: int) -> int | None:
        if line < self.before:
            return line
        if line >= self.after:
            return line + self.shift
        return None

    def range(self, rng: Range) -> Range | None:
        """The range in the new text; None if it touches the edited region (a range that
        starts above it and ends below it spans it)."""
        start, end = self.line(rng.start.line), self.line(rng.end.line)
        if start is None or end is None or (rng.start.line < self.before <= rng.end.line):
            return None
        return Range(Position(start, rng.start.character), Position(end, rng.end.character))

    def finding(self, finding: Finding) -> Finding | None:
        """The finding where its lines are now, or None if any of them was edited."""
        rng = self.range(finding.range)
        if rng is None:
            return None
        summary = self._message(finding.summary)
        details = self._message(finding.details)
        if summary is None or details is None:
            return None
        related = []
        for extra in finding.related:
            if extra.path is not None:
                related.append(extra)  # in another file, which this edit did not change
                continue
            moved = self.range(extra.range)
            text = self._message(extra.message)
            if moved is not None and text is not None:
                related.append(replace(extra, range=moved, message=text))
        # no fixes: they were built for the old text (and only fresh findings are fixed)
        return replace(
            finding,
            range=rng,
            summary=summary,
            details=details,
            related=tuple(related),
            fix_builder=None,
            fix_preview=None,
            _fixes=None,
        )

    def findings(self, findings: tuple[Finding, ...]) -> tuple[Finding, ...]:
        if self.shift == 0 and self.before == self.after:
            return findings  # the same text
        return tuple(moved for f in findings if (moved := self.finding(f)) is not None)

    def _message(self, message: str) -> str | None:
        """The message with the lines it names renumbered; None if one of them was edited."""
        if "line " not in message:
            return message
        gone = False

        def renumber(match: re.Match[str]) -> str:
            nonlocal gone
            moved = self.line(int(match.group(1)) - 1)
            if moved is None:
                gone = True
                return match.group(0)
            return f"line {moved + 1}"

        text = _LINE_NUMBER.sub(renumber, message)
        return None if gone else text
