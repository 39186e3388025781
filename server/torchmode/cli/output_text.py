"""Human-readable output: ``path:line:col: CODE summary`` with related lines below."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from torchmode.analysis import RULES
from torchmode.cli.reports import FileResult, Place, display_path
from torchmode.findings import Severity

_RESET = "\x1b[0m"
_BOLD = "\x1b[1m"
_DIM = "\x1b[2m"
_CYAN = "\x1b[36m"
_SEVERITY_COLOURS = {
    Severity.ERROR: "\x1b[1;31m",
    Severity.WARNING: "\x1b[1;33m",
    Severity.INFO: "\x1b[1;34m",
    Severity.HINT: "\x1b[1;32m",
}


class Styler:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, text: str, style: str) -> str:
        return f"{style}{text}{_RESET}" if self.enabled else text


def location(display: str, place: Place) -> str:
    """``path:line:col`` (1-based), or ``path:cell N:line:col`` for a notebook cell; ``display``
    names the file reported on, and a related place in another file is named by its own path."""
    if place.path is not None:
        display = display_path(Path(place.path))
    start = place.range.start
    cell = f"cell {place.cell}:" if place.cell is not None else ""
    return f"{display}:{cell}{start.line + 1}:{start.character + 1}"


def write_reports(
    results: Sequence[FileResult], out: TextIO, style: Styler, *, details: bool = False
) -> None:
    """One line per finding with its summary, which fits a terminal's width; with ``details``,
    the rest of its message on an indented line below it. Its related places follow."""
    for result in results:
        for report in result.reports:
            mark = " [*]" if report.fix_kind == "safe" else ""
            code = style(report.code, _SEVERITY_COLOURS[report.severity])
            where = style(location(result.display, report.place) + ":", _BOLD)
            out.write(f"{where} {code} {report.summary}{mark}\n")
            if details and report.details:
                out.write(f"  {report.details}\n")
            for place, message in report.related:
                out.write(style(f"  {location(result.display, place)}: {message}", _DIM) + "\n")


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def summary(
    results: Sequence[FileResult], *, fixing: bool, unsafe: bool, not_found: int = 0
) -> str:
    """``not_found``: paths given or found that could not be looked at (missing, broken
    links, folders that cannot be listed); their messages are on stderr."""
    reports = [r for result in results for r in result.reports]
    fixed = sum(result.fixed for result in results)
    checked = sum(1 for result in results if result.error is None or result.partial)
    partial = sum(1 for result in results if result.partial)
    limited = sum(1 for result in results if result.partial and result.limited)
    # A file whose fixes could not be written has no findings to show (they were those of
    # the fixed text): it is counted apart, as not fixed rather than not checked.
    unwritten = sum(1 for result in results if result.not_written)
    failed = len(results) - checked - unwritten + partial
    sentences = [f"Fixed {plural(fixed, 'problem')}."] if fixed else []
    if not reports and not failed and not unwritten and not not_found:
        sentences.append(f"All checks passed ({plural(checked, 'file')} checked).")
    elif not reports and (checked or not unwritten):
        sentences.append(f"No problems found in {plural(checked, 'file')} checked.")
    else:
        line = f"Found {plural(len(reports), 'problem')} in {plural(checked, 'file')} checked"
        safe = sum(1 for r in reports if r.fix_kind == "safe")
        unsafe_only = sum(1 for r in reports if r.fix_kind == "unsafe")
        hints = []
        if safe and not fixing:
            hints.append(f"{safe} fixable with --fix")
        if unsafe_only and not unsafe:
            hints.append(f"{unsafe_only} more with --fix --unsafe-fixes")
        if hints:
            line += f" ({', '.join(hints)})"
        sentences.append(line + ".")
    if unwritten:
        sentences.append(f"{plural(unwritten, 'file')} could not be fixed.")
    if failed - partial:
        sentences.append(f"{plural(failed - partial, 'file')} could not be checked.")
    if partial - limited:
        sentences.append(
            f"{plural(partial - limited, 'file')} with a syntax error checked in part (see above)."
        )
    if limited:
        sentences.append(
            f"{plural(limited, 'file')} checked in part: too deeply nested to analyse (see above)."
        )
    if not_found:
        sentences.append(f"{plural(not_found, 'path')} could not be checked (see above).")
    return " ".join(sentences)


def write_statistics(results: Sequence[FileResult], out: TextIO) -> None:
    counts = Counter(r.code for result in results for r in result.reports)
    fixable = {r.code for result in results for r in result.reports if r.fix_kind == "safe"}
    for code, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        mark = "[*]" if code in fixable else "   "
        out.write(f"{count:>5}  {code}  {mark} {RULES[code].name}\n")


def statistics_records(results: Sequence[FileResult]) -> list[dict[str, object]]:
    counts = Counter(r.code for result in results for r in result.reports)
    kinds: dict[str, set[str | None]] = {}
    for result in results:
        for report in result.reports:
            kinds.setdefault(report.code, set()).add(report.fix_kind)
    return [
        {"code": code, "name": RULES[code].name, "count": count, "fixable": "safe" in kinds[code]}
        for code, count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ]
