"""SARIF 2.1.0 output (code scanning in GitHub and most CI dashboards)."""

from __future__ import annotations

import json
import os
import urllib.parse
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from torchmode import __version__
from torchmode.analysis import RULES
from torchmode.cli.reports import FileResult, FixReport, Place, Report
from torchmode.findings import Range, Severity

SCHEMA_URI = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
INFORMATION_URI = "https://github.com/torchmode/torchmode"
# Versioned: a change to how fingerprints are computed gets a new key, so that old and new
# ones are never compared as if they were the same kind.
FINGERPRINT_KEY = "torchmodeFindingHash/v1"
_LEVELS = {
    Severity.ERROR: "error",
    Severity.WARNING: "warning",
    Severity.INFO: "note",
    Severity.HINT: "note",
}


def _uri(path: Path, root: Path) -> dict[str, str]:
    absolute = Path(os.path.abspath(path))
    try:
        relative = absolute.relative_to(root)
    except ValueError:
        return {"uri": absolute.as_uri()}
    return {"uri": urllib.parse.quote(relative.as_posix()), "uriBaseId": "SRCROOT"}


def _region(range_: Range) -> dict[str, int]:
    return {
        "startLine": range_.start.line + 1,
        "startColumn": range_.start.character + 1,
        "endLine": range_.end.line + 1,
        "endColumn": range_.end.character + 1,
    }


def _location(artifact: dict[str, str], place: Place) -> dict[str, Any]:
    if place.cell is None:
        return {"physicalLocation": {"artifactLocation": artifact, "region": _region(place.range)}}
    # A region would address the notebook's JSON text: name the cell and its lines instead.
    start = place.range.start
    return {
        "physicalLocation": {"artifactLocation": artifact},
        "message": {
            "text": f"cell {place.cell}, line {start.line + 1}, column {start.character + 1}"
        },
        "properties": {"cell": place.cell, **_region(place.range)},
    }


def _fixes(artifact: dict[str, str], fix: FixReport | None) -> list[dict[str, Any]]:
    # Notebook edits are in cell coordinates, which SARIF replacements cannot express.
    if fix is None or not fix.edits or any(e.place.cell is not None for e in fix.edits):
        return []
    return [
        {
            "description": {"text": fix.title},
            "artifactChanges": [
                {
                    "artifactLocation": artifact,
                    "replacements": [
                        {
                            "deletedRegion": _region(edit.place.range),
                            "insertedContent": {"text": edit.new_text},
                        }
                        for edit in fix.edits
                    ],
                }
            ],
            "properties": {"applicability": "safe" if fix.safe else "unsafe"},
        }
    ]


def _result(
    artifact: dict[str, str], report: Report, rule_index: int, root: Path
) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": report.code,
        "ruleIndex": rule_index,
        "level": _LEVELS[report.severity],
        "message": {"text": report.message},
        "locations": [_location(artifact, report.place)],
    }
    if report.fingerprint:
        # A key of our own: GitHub computes its primaryLocationLineHash itself when it is
        # missing, and a tool must not claim another's key for a different computation.
        result["partialFingerprints"] = {FINGERPRINT_KEY: report.fingerprint}
    if report.related:
        result["relatedLocations"] = [
            {
                "id": i,
                **_location(_uri(Path(place.path), root) if place.path else artifact, place),
                "message": {"text": message},
            }
            for i, (place, message) in enumerate(report.related)
        ]
    if fixes := _fixes(artifact, report.fix):
        result["fixes"] = fixes
    return result


def _rules() -> list[dict[str, Any]]:
    return [
        {
            "id": rule.code,
            "name": rule.name,
            "shortDescription": {"text": rule.summary},
            "fullDescription": {"text": rule.summary},
            "help": {"text": rule.docs or rule.summary, "markdown": rule.docs or rule.summary},
            "helpUri": rule.url,
            "defaultConfiguration": {"level": _LEVELS[rule.default_severity]},
        }
        for rule in RULES.values()
    ]


def document(results: Sequence[FileResult], root: Path) -> dict[str, Any]:
    index = {code: i for i, code in enumerate(RULES)}
    sarif_results: list[dict[str, Any]] = []
    notifications = []
    for file_result in results:
        artifact = _uri(file_result.path, root)
        if file_result.error is not None:
            notifications.append(
                {
                    "level": "error",
                    "message": {"text": file_result.error_line()},
                    "locations": [{"physicalLocation": {"artifactLocation": artifact}}],
                }
            )
        sarif_results.extend(
            _result(artifact, report, index[report.code], root) for report in file_result.reports
        )
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "torchmode",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "informationUri": INFORMATION_URI,
                        "rules": _rules(),
                    }
                },
                # Engine columns count code points, not SARIF's default UTF-16 units.
                "columnKind": "unicodeCodePoints",
                "originalUriBaseIds": {"SRCROOT": {"uri": root.as_uri().rstrip("/") + "/"}},
                "invocations": [
                    {
                        "executionSuccessful": not notifications,
                        "toolExecutionNotifications": notifications,
                    }
                ],
                "results": sarif_results,
            }
        ],
    }


def write(results: Sequence[FileResult], out: TextIO, root: Path) -> None:
    json.dump(document(results, Path(os.path.abspath(root))), out, indent=2, ensure_ascii=False)
    out.write("\n")
