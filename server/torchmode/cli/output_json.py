"""JSON output in the shape of ruff's ``--output-format json`` (rows and columns 1-based,
columns in characters), so tools that read ruff's JSON read torchmode's.

torchmode adds ``severity``, ``name``, ``subject`` (the model or optimizer concerned) and
``related`` to each entry (each with its ``filename``: a related place may be in another file
of the project).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any, TextIO

from torchmode.analysis import RULES
from torchmode.cli.reports import FileResult, FixReport, Place, Report
from torchmode.findings import Position


def _point(position: Position) -> dict[str, int]:
    return {"row": position.line + 1, "column": position.character + 1}


def _fix(fix: FixReport | None) -> dict[str, Any] | None:
    if fix is None:
        return None
    return {
        "applicability": "safe" if fix.safe else "unsafe",
        "message": fix.title,
        "edits": [
            {
                "content": edit.new_text,
                "location": _point(edit.place.range.start),
                "end_location": _point(edit.place.range.end),
                **({"cell": edit.place.cell} if edit.place.cell is not None else {}),
            }
            for edit in fix.edits
        ],
    }


def _related(filename: str, place: Place, message: str) -> dict[str, Any]:
    return {
        "message": message,
        "filename": place.path if place.path is not None else filename,
        "cell": place.cell,
        "location": _point(place.range.start),
        "end_location": _point(place.range.end),
    }


def entry(filename: str, report: Report) -> dict[str, Any]:
    return {
        "cell": report.place.cell,
        "code": report.code,
        "name": RULES[report.code].name,
        "severity": report.severity.value,
        "message": report.message,
        "summary": report.summary,
        "subject": report.subject,
        "filename": filename,
        "location": _point(report.place.range.start),
        "end_location": _point(report.place.range.end),
        "fix": _fix(report.fix),
        "url": RULES[report.code].url,
        "noqa_row": report.place.range.start.line + 1,
        "related": [_related(filename, place, message) for place, message in report.related],
    }


def write(results: Sequence[FileResult], out: TextIO) -> None:
    entries = [
        entry(os.path.abspath(result.path), report)
        for result in results
        for report in result.reports
    ]
    json.dump(entries, out, indent=2, ensure_ascii=False)
    out.write("\n")
