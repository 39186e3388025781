"""GitHub Actions workflow commands: each finding becomes an annotation on the pull request."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from torchmode.cli.output_text import location
from torchmode.cli.reports import FileResult
from torchmode.findings import Severity

_LEVELS = {
    Severity.ERROR: "error",
    Severity.WARNING: "warning",
    Severity.INFO: "notice",
    Severity.HINT: "notice",
}


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def write(results: Sequence[FileResult], out: TextIO) -> None:
    for result in results:
        file = _escape_property(result.display)
        if result.error is not None:
            message = _escape_data(result.error_line())
            out.write(f"::error file={file},title=torchmode::{message}\n")
        for report in result.reports:
            start, end = report.place.range.start, report.place.range.end
            message = report.message
            where = (
                f",line={start.line + 1},col={start.character + 1},"
                f"endLine={end.line + 1},endColumn={end.character + 1}"
            )
            if report.place.cell is not None:
                # Annotations address lines of the file, and a notebook's lines are its JSON:
                # annotate the file as a whole and say where in the message.
                message = f"cell {report.place.cell}, line {start.line + 1}: {message}"
                where = ""
            for place, text in report.related:
                message += f"\n  {location(result.display, place)}: {text}"
            out.write(
                f"::{_LEVELS[report.severity]} file={file}{where},"
                f"title={report.code}::{_escape_data(message)}\n"
            )
