"""What checking a file gives the output formats: plain records of its findings, and the job
that asked for them. Plain data that crosses process boundaries and is kept between runs
(result_cache.py)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from torchmode.files.source_files import Snapshot
from torchmode.findings import Range, Severity, full_message
from torchmode.settings import Settings


@dataclass(frozen=True)
class Mode:
    fix: bool = False  # write fixes to disk
    diff: bool = False  # compute fixes, report them as a diff, write nothing
    unsafe: bool = False  # also apply unsafe fixes
    with_fixes: bool = False  # attach each finding's fix to its report (JSON, SARIF)
    add_noqa: bool = False  # write a suppression comment on each finding's line


@dataclass(frozen=True)
class Job:
    path: Path
    display: str
    settings: Settings
    mode: Mode


@dataclass(frozen=True)
class Place:
    """A range in a file, or in one cell of a notebook (``cell`` is 1-based); in the file
    reported on, or in another one (``path``: real and absolute, for a related place)."""

    range: Range
    cell: int | None = None
    path: str | None = None


def display_path(path: Path) -> str:
    """A path as the command line shows it: relative to the working folder, unless above it."""
    relative = os.path.relpath(path) if path.is_absolute() else str(path)
    return str(path) if relative.startswith("..") else relative


@dataclass(frozen=True)
class EditReport:
    place: Place
    new_text: str


@dataclass(frozen=True)
class FixReport:
    title: str
    safe: bool
    edits: tuple[EditReport, ...]


@dataclass(frozen=True)
class Report:
    code: str
    summary: str  # Finding.summary and .details, their lines named as the file's or cell's
    details: str
    severity: Severity
    place: Place
    related: tuple[tuple[Place, str], ...]
    fix_kind: str | None  # "safe", "unsafe" or None: what --fix / --unsafe-fixes could do
    fix: FixReport | None = None
    subject: str = ""
    # identifies the finding across commits that move it (SARIF partialFingerprints)
    fingerprint: str = ""

    @property
    def message(self) -> str:
        return full_message(self.summary, self.details)


@dataclass
class FileResult:
    path: Path
    display: str
    reports: list[Report] = field(default_factory=list)
    error: str | None = None  # one line: why the file could not be checked
    error_location: str = ""  # "line:col" or "cell N:line:col" of a syntax error
    # a syntax error (or an expression too deep to analyse: ``limited``) left some statements
    # out; ``reports`` are those of the others
    partial: bool = False
    limited: bool = False
    fixed: int = 0  # fixes applied (or, with --diff, that would be)
    diff: str = ""
    skipped: bool = False  # no trigger word: not parsed
    not_written: bool = False  # checked, but its fixes could not be written (see error)
    noqa_added: int = 0  # --add-noqa: lines given a suppression comment
    # The fixed file's bytes and what the file was when read: written once the analysis
    # is over (outside its time limit), if the file is still what was read.
    pending_write: tuple[bytes, Snapshot] | None = field(default=None, repr=False)

    def error_line(self) -> str:
        where = f"{self.display}:{self.error_location}" if self.error_location else self.display
        return f"{where}: {self.error}"
