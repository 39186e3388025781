"""A file's check kept between runs, with everything it was computed from.

A second ``torchmode check`` of an unchanged project should cost a fraction of the first. The
summaries of other files (the project's cache, ``summary_store``) spare their analyses, but
each file reported on would still be parsed and analysed again. Here the outcome of that
analysis (the reports, as the output formats print them) is kept under the project's cache
folder, keyed by all it depends on:

- the file's bytes, its real path and the project root (imports resolve from both);
- the settings that apply to it and what the run asks for (fixes attached or not);
- the torchmode that computed it (the versioned cache folder);
- what the analysis read of the rest of the project: the summaries, as they are now, of each
  file it read (``Analysis.depends_on``: its imports, and the files whose calls enter its
  functions) and the project's import graph, which says which files may call it at all
  (``project_reading``). An editor decides by the same reading whether an analysis still
  stands after another file changed.

So an entry holds only while a fresh analysis would find the same: a kept result is never
served for a text, a configuration or a project it was not computed for. Runs that write
(``--fix``, ``--diff``, ``--add-noqa``) always analyse. An entry is plain JSON, read back field
by field into the report classes (reading the user's cache folder never runs anything), and
written to a temporary file renamed over it, so that concurrent runs never see half of one.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from torchmode.analysis import project_reading
from torchmode.cli.reports import (
    EditReport,
    FileResult,
    FixReport,
    Job,
    Place,
    Report,
)
from torchmode.findings import Position, Range, Severity
from torchmode.settings import Settings

_SCHEMA = 1


def _settings_key(settings: Settings) -> dict[str, Any]:
    """The settings as plain data in a fixed order (sets sorted: their iteration order
    changes from one process to the next)."""
    declared = settings.declared
    return {
        "select": None if settings.select is None else sorted(settings.select),
        "ignore": sorted(settings.ignore),
        "severity": sorted((code, level.value) for code, level in settings.severity.items()),
        "fix_no_grad_with": settings.fix_no_grad_with,
        "min_severity": settings.min_severity.value,
        "grad_off": sorted(declared.grad_off),
        "evaluation": list(declared.evaluation),
        "entry_points": list(declared.entry_points),
    }


def _entry_key(job: Job, content: bytes) -> str | None:
    project = job.settings.project
    if project is None or project.cache_dir is None:
        return None
    key = {
        "path": os.path.realpath(job.path),
        "root": project.root,
        "content": hashlib.sha256(content).hexdigest(),
        "settings": _settings_key(job.settings),
        "with_fixes": job.mode.with_fixes,
    }
    text = json.dumps(key, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def reusable(job: Job) -> bool:
    """Whether a check of ``job`` may be kept or read: it writes nothing, and its project has a
    cache folder."""
    mode = job.mode
    if mode.fix or mode.diff or mode.add_noqa:
        return False
    return job.settings.project is not None and job.settings.project.cache_dir is not None


class ResultCache:
    """The kept checks of one job's project (``<cache folder>/results``)."""

    def __init__(self, job: Job, content: bytes) -> None:
        project = job.settings.project
        assert project is not None and project.cache_dir is not None
        self.settings = job.settings
        self.key = _entry_key(job, content)
        name = self.key or ""
        self.entry = Path(project.cache_dir) / "results" / name[:2] / f"{name}.json"

    def get(self, result: FileResult) -> bool:
        """Fill ``result`` from the kept check, if there is one that still holds."""
        try:
            data = json.loads(self.entry.read_text("utf-8"))
            if data.get("schema") != _SCHEMA or data.get("key") != self.key:
                return False
            read = tuple(str(path) for path in data["depends_on"])
            if project_reading(self.settings, read) != data["reading"]:
                return False
            _fill(result, data["result"])
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return False
        return True

    def put(self, result: FileResult, depends_on: tuple[str, ...]) -> None:
        reading = project_reading(self.settings, depends_on)
        if reading is None:
            return
        data = {
            "schema": _SCHEMA,
            "key": self.key,
            "depends_on": list(depends_on),
            "reading": reading,
            "result": _plain(result),
        }
        try:
            self.entry.parent.mkdir(parents=True, exist_ok=True)
            fd, temporary = tempfile.mkstemp(dir=self.entry.parent, prefix=".entry-")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as out:
                    json.dump(data, out, separators=(",", ":"))
                os.replace(temporary, self.entry)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        except OSError:
            pass  # a read-only checkout or a full disk: the run goes on without keeping it


def kept(result: FileResult) -> bool:
    """Whether a check's outcome is the file's own, the same on any run: not an error of the
    moment (a time limit hit under load, a file that could not be read)."""
    return result.error is None or bool(result.error_location) or result.limited


# -- plain data of a check's outcome, both ways ---------------------------------------------------
def _plain(result: FileResult) -> dict[str, Any]:
    return {
        "reports": [_plain_report(report) for report in result.reports],
        "error": result.error,
        "error_location": result.error_location,
        "partial": result.partial,
        "limited": result.limited,
        "skipped": result.skipped,
    }


def _fill(result: FileResult, data: dict[str, Any]) -> None:
    result.reports = [_report(report) for report in data["reports"]]
    result.error = _optional_str(data["error"])
    result.error_location = str(data["error_location"])
    result.partial = bool(data["partial"])
    result.limited = bool(data["limited"])
    result.skipped = bool(data["skipped"])


def _plain_report(report: Report) -> dict[str, Any]:
    fix = report.fix
    return {
        "code": report.code,
        "summary": report.summary,
        "details": report.details,
        "severity": report.severity.value,
        "place": _plain_place(report.place),
        "related": [[_plain_place(place), message] for place, message in report.related],
        "fix_kind": report.fix_kind,
        "fix": None
        if fix is None
        else {
            "title": fix.title,
            "safe": fix.safe,
            "edits": [[_plain_place(e.place), e.new_text] for e in fix.edits],
        },
        "subject": report.subject,
        "fingerprint": report.fingerprint,
    }


def _report(data: dict[str, Any]) -> Report:
    fix = data["fix"]
    return Report(
        code=str(data["code"]),
        summary=str(data["summary"]),
        details=str(data["details"]),
        severity=Severity(data["severity"]),
        place=_place(data["place"]),
        related=tuple((_place(place), str(message)) for place, message in data["related"]),
        fix_kind=_optional_str(data["fix_kind"]),
        fix=None
        if fix is None
        else FixReport(
            str(fix["title"]),
            bool(fix["safe"]),
            tuple(EditReport(_place(place), str(text)) for place, text in fix["edits"]),
        ),
        subject=str(data["subject"]),
        fingerprint=str(data["fingerprint"]),
    )


def _plain_place(place: Place) -> list[Any]:
    start, end = place.range.start, place.range.end
    return [start.line, start.character, end.line, end.character, place.cell, place.path]


def _place(data: list[Any]) -> Place:
    line, character, end_line, end_character, cell, path = data
    range_ = Range(Position(int(line), int(character)), Position(int(end_line), int(end_character)))
    return Place(range_, None if cell is None else int(cell), _optional_str(path))


def _optional_str(value: object) -> str | None:
    return None if value is None else str(value)
