"""Checking (and fixing) one file: what each worker process runs.

Findings carry closures (their fixes are built lazily) and cannot cross process
boundaries, so a worker turns them into plain ``Report`` records here.
"""

from __future__ import annotations

import codecs
import contextlib
import difflib
import hashlib
import re
import signal
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from torchmode.analysis import (
    Analysis,
    Session,
    Skipped,
    SyntaxProblem,
    apply_edits,
    chosen_fix,
    line_offsets,
    may_have_findings,
    noqa_edits,
)
from torchmode.cli.reports import (
    EditReport,
    FileResult,
    FixReport,
    Job,
    Mode,
    Place,
    Report,
)
from torchmode.cli.result_cache import ResultCache, kept, reusable
from torchmode.files.source_files import (
    MAX_FILE_BYTES,
    MAX_NOTEBOOK_BYTES,
    NotWritten,
    Snapshot,
    SourceError,
    decode,
    read_with_snapshot,
    too_large,
    write_fixed,
)
from torchmode.findings import Finding, Fix, Range, TextEdit
from torchmode.notebook import (
    CombinedNotebook,
    Notebook,
    NotebookError,
    apply_cell_edits,
    cell_number,
    combine_cells,
    edits_by_cell,
    parse_notebook,
    spliced,
)

# Each worker process analyses its files through one session.
_SESSION = Session()

# A pathological file (say, loops nested 20 deep) must not stall a whole run.
TIME_LIMIT_SECONDS = 60.0


class _TimeLimitExceeded(BaseException):
    """A BaseException, like KeyboardInterrupt: code that catches Exception to keep going
    (the engine never raises on bad input) must not swallow it."""


@contextlib.contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    """Interrupt the body after ``seconds`` (SIGALRM: main thread of a POSIX process only;
    elsewhere, e.g. inside an editor's worker thread, the body runs unlimited)."""
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable or seconds <= 0:
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise _TimeLimitExceeded

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _fix_kind(finding: Finding) -> str | None:
    """What --fix could do for a finding. A fix that is checked by analysing the fixed text
    (TM101, TM102, TM301) is judged by its unchecked preview: checking them all cost ~15 % of
    a run, and on real code (the benchmark corpus, tests/corpus) the preview and the checked
    fix never differed; --fix applies only checked fixes."""
    if not finding.fixable:
        return None
    if finding.fix_preview is not None and not finding.fixes_built:
        preview = finding.fix_preview()
        return None if preview is None else "safe" if preview.safe else "unsafe"
    fixes = finding.fixes
    if any(f.safe for f in fixes):
        return "safe"
    return "unsafe" if fixes else None


def _fix_report(fix: Fix | None, place_of: _Placer) -> FixReport | None:
    if fix is None:
        return None
    edits = place_of.edits(fix.edits)
    if edits is None:
        return None
    return FixReport(fix.title, fix.safe, edits)


class _Placer:
    """Maps engine ranges to file or cell places."""

    def __init__(self, combined: CombinedNotebook | None = None, numbers: list[int] | None = None):
        self.combined = combined
        self.numbers = numbers or []

    def place(self, range_: Range) -> Place:
        if self.combined is None:
            return Place(range_)
        located = self.combined.cell_range(range_)
        if located is None:
            index, start = self.combined.to_cell(range_.start)
            return Place(Range(start, start), self.numbers[index])
        index, cell_range = located
        return Place(cell_range, self.numbers[index])

    def message(self, text: str) -> str:
        if self.combined is None:
            return text
        return self.combined.relabel_lines(text, self.numbers)

    def edits(self, edits: tuple[TextEdit, ...]) -> tuple[EditReport, ...] | None:
        if self.combined is None:
            return tuple(EditReport(Place(e.range), e.new_text) for e in edits)
        moved = edits_by_cell(self.combined, edits)
        if moved is None:
            return None
        return tuple(
            EditReport(Place(e.range, self.numbers[index]), e.new_text)
            for index, cell_edits in sorted(moved.items())
            for e in cell_edits
        )


def text_lines(text: str) -> list[str]:
    """The lines of ``text`` without their ends, split where the analysis splits them ("\\r\\n",
    "\\r", "\\n"; not at the form feeds and Unicode separators ``str.splitlines`` breaks at)."""
    offsets = line_offsets(text)
    return [
        text[start:end].rstrip("\r\n")
        for start, end in zip(offsets, [*offsets[1:], len(text)], strict=True)
    ]


_SPACES = re.compile(r"\s+")


class _Fingerprints:
    """A finding's identity that survives edits elsewhere in the file: its rule, its subject
    and the text of its line with whitespace collapsed (so re-indenting does not change it),
    plus which occurrence it is among the file's findings with those three equal. The line
    number is left out, since inserting a line above would change it, and so is the path,
    so that a file moved as a whole keeps its findings' identities (the result's location
    still says where it is)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines: list[str] | None = None  # split at the first finding: most files have none
        self.seen: dict[str, int] = {}

    def __call__(self, finding: Finding) -> str:
        if self.lines is None:
            self.lines = text_lines(self.text)
        number = finding.range.start.line
        line = self.lines[number] if number < len(self.lines) else ""
        text = _SPACES.sub(" ", line).strip()
        key = "\0".join((finding.code, finding.subject, text))
        digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]
        occurrence = self.seen.get(digest, 0) + 1
        self.seen[digest] = occurrence
        return f"{digest}:{occurrence}"


def _reports(
    findings: list[Finding] | tuple[Finding, ...], placer: _Placer, mode: Mode, text: str
) -> list[Report]:
    """``text``: the analysed text the findings' lines are in."""
    reports = []
    fingerprint = _Fingerprints(text)
    for finding in sorted(findings, key=Finding.sort_key):
        fix = _fix_report(chosen_fix(finding, unsafe=True), placer) if mode.with_fixes else None
        reports.append(
            Report(
                code=finding.code,
                summary=placer.message(finding.summary),
                details=placer.message(finding.details),
                severity=finding.severity,
                place=placer.place(finding.range),
                related=tuple(
                    (
                        placer.place(r.range) if r.path is None else Place(r.range, path=r.path),
                        placer.message(r.message),
                    )
                    for r in finding.related
                ),
                fix_kind=_fix_kind(finding),
                fix=fix,
                subject=finding.subject,
                fingerprint=fingerprint(finding),
            )
        )
    return reports


_NO_NEWLINE = "\\ No newline at end of file\n"


def _lines(text: str) -> list[str]:
    """Lines as ``patch`` sees them: split at "\\n" only (a form feed or a lone "\\r" is
    part of a line), each with its end ("\\r\\n" stays)."""
    lines = [line + "\n" for line in text.split("\n")]
    lines[-1] = lines[-1][:-1]
    return lines if lines[-1] else lines[:-1]


def _unfixable(reports: list[Report]) -> list[Report]:
    """Reports of a file with a syntax error: no fix is offered, since a fixed text could not
    be checked to parse."""
    return [replace(report, fix_kind=None) for report in reports]


def _unified_diff(before: str, after: str, name: str) -> str:
    """A diff that ``patch`` applies: a last line without a line end is marked as such
    instead of running into the next line (the next file's header)."""
    lines = difflib.unified_diff(
        _lines(before), _lines(after), fromfile=f"a/{name}", tofile=f"b/{name}"
    )
    return "".join(line if line.endswith("\n") else f"{line}\n{_NO_NEWLINE}" for line in lines)


def _syntax_error(problem: SyntaxProblem) -> str:
    message = problem.message
    if isinstance(problem, Skipped) or message.lower().startswith("syntax error"):
        return message
    return f"syntax error: {message}"


def _check_python(job: Job, result: FileResult) -> None:
    data, snapshot = read_with_snapshot(job.path)
    source = decode(data)
    if not may_have_findings(source.text, job.settings):
        result.skipped = True
        return
    keeper = ResultCache(job, data) if reusable(job) else None
    if keeper is not None and keeper.get(result):
        return
    analysis = _SESSION.analyze(source.text, job.settings)
    if analysis.syntax_error is not None:
        pos = analysis.syntax_error.position
        result.error_location = f"{pos.line + 1}:{pos.character + 1}"
        result.error = _syntax_error(analysis.syntax_error)
        # the statements that parse were analysed: their findings, without fixes (a file
        # that does not parse cannot be checked to still parse once fixed)
        result.reports = _unfixable(_reports(analysis.findings, _Placer(), Mode(), source.text))
        result.partial = analysis.in_part
        result.limited = isinstance(analysis.syntax_error, Skipped)
        _keep(keeper, result, analysis)
        _SESSION.release(analysis)
        return
    findings: list[Finding] | tuple[Finding, ...] = analysis.findings
    analysed = source.text
    if job.mode.add_noqa:
        planned = noqa_edits(text_lines(source.text), findings)
        findings = planned.unplaced
        if planned.edits:
            result.noqa_added = len(planned.edits)
            result.pending_write = source.encode(apply_edits(source.text, planned.edits)), snapshot
    elif job.mode.fix or job.mode.diff:
        outcome = _SESSION.fix(source.text, job.settings, unsafe=job.mode.unsafe, analysis=analysis)
        findings = outcome.remaining
        if outcome.source != source.text:
            result.fixed = outcome.applied
            if job.mode.diff:
                result.diff = _unified_diff(
                    source.as_in_file(source.text), source.as_in_file(outcome.source), job.display
                )
            else:
                result.pending_write = source.encode(outcome.source), snapshot
        analysed = outcome.source
    result.reports = _reports(findings, _Placer(), job.mode, analysed)
    _keep(keeper, result, analysis)
    _SESSION.release(analysis)


def _keep(keeper: ResultCache | None, result: FileResult, analysis: Analysis) -> None:
    if keeper is not None and kept(result):
        keeper.put(result, analysis.depends_on)


def _check_notebook(job: Job, result: FileResult) -> None:
    data, snapshot = read_with_snapshot(job.path, MAX_NOTEBOOK_BYTES)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise SourceError(
            f"cannot decode as utf-8: {error.reason} at byte offset {error.start}"
        ) from None
    try:
        notebook = parse_notebook(text)
    except NotebookError as error:
        raise SourceError(str(error)) from None
    cells = notebook.cells
    numbers = [cell_number(notebook, i) for i in range(len(cells))]
    combined = combine_cells(cells)
    if len(combined.source) > MAX_FILE_BYTES:
        raise too_large(len(combined.source.encode("utf-8")))
    if not may_have_findings(combined.source, job.settings):
        result.skipped = True
        return
    keeper = ResultCache(job, data) if reusable(job) else None
    if keeper is not None and keeper.get(result):
        return
    analysis = _SESSION.analyze(combined.source, job.settings)
    if analysis.syntax_error is not None:
        index, pos = combined.to_cell(analysis.syntax_error.position)
        result.error_location = f"cell {numbers[index]}:{pos.line + 1}:{pos.character + 1}"
        result.error = _syntax_error(analysis.syntax_error)
        result.reports = _unfixable(
            _reports(analysis.findings, _Placer(combined, numbers), Mode(), combined.source)
        )
        result.partial = analysis.in_part
        result.limited = isinstance(analysis.syntax_error, Skipped)
        _keep(keeper, result, analysis)
        _SESSION.release(analysis)
        return
    findings: list[Finding] | tuple[Finding, ...] = analysis.findings
    if job.mode.add_noqa:
        new_cells, result.noqa_added, findings = _noqa_in_cells(analysis.findings, combined, cells)
        if result.noqa_added:
            result.pending_write = _spliced(data, text, notebook, new_cells), snapshot
    elif job.mode.fix or job.mode.diff:
        outcome = _SESSION.fix_cells(cells, job.settings, unsafe=job.mode.unsafe)
        combined, analysis = outcome.combined, outcome.analysis
        if outcome.cells != cells:
            result.fixed = outcome.applied
            if job.mode.diff:
                result.diff = "".join(
                    _unified_diff(old, new, f"{job.display}:cell {numbers[i]}")
                    for i, (old, new) in enumerate(zip(cells, outcome.cells, strict=True))
                    if old != new
                )
            else:
                result.pending_write = _spliced(data, text, notebook, outcome.cells), snapshot
        findings = analysis.findings
    placer = _Placer(combined, numbers)
    result.reports = _reports(findings, placer, job.mode, combined.source)
    _keep(keeper, result, analysis)
    _SESSION.release(analysis)


def _spliced(data: bytes, text: str, notebook: Notebook, cells: list[str]) -> bytes:
    """The notebook's bytes with these cell sources, the rest of its JSON as it was."""
    try:
        fixed = spliced(text, notebook, cells).encode("utf-8")
    except NotebookError as error:
        raise NotWritten(f"not fixed: {error}") from None
    bom = codecs.BOM_UTF8 if data.startswith(codecs.BOM_UTF8) else b""
    return bom + fixed


def _noqa_in_cells(
    findings: list[Finding], combined: CombinedNotebook, cells: list[str]
) -> tuple[list[str], int, list[Finding]]:
    """The cells with a suppression comment on each line with a finding (the analysis reads
    them on the combined program's lines, which are the cells' own), how many lines got one,
    and the findings that could not."""
    # a masked line (IPython syntax) is not the cell's text as analysed: its comment would be
    # read on a line that is not there
    masked: list[Finding] = []
    placeable: list[Finding] = []
    for finding in findings:
        start = finding.range.start
        (masked if combined.touches_masked(Range(start, start)) else placeable).append(finding)
    planned = noqa_edits(text_lines(combined.source), placeable)
    by_cell = edits_by_cell(combined, planned.edits) or {}
    if planned.edits and not by_cell:
        return cells, 0, findings
    new_cells = [
        apply_cell_edits(cell, by_cell[index]) if index in by_cell else cell
        for index, cell in enumerate(cells)
    ]
    return new_cells, len(planned.edits), [*masked, *planned.unplaced]


def _write(path: Path, data: bytes, snapshot: Snapshot) -> None:
    try:
        write_fixed(path, data, snapshot)
    except OSError as error:
        raise NotWritten(f"not fixed: cannot write: {error.strerror or error}") from None


def check_file(job: Job) -> FileResult:
    """Never raises: a file that cannot be checked gets ``error`` (one line, no path)."""
    result = FileResult(job.path, job.display)
    try:
        with _time_limit(TIME_LIMIT_SECONDS):
            if job.path.suffix == ".ipynb":
                _check_notebook(job, result)
            else:
                _check_python(job, result)
        if result.pending_write is not None and result.error is None:
            _write(job.path, *result.pending_write)
    except NotWritten as error:
        result.error, result.not_written = str(error), True
    except _TimeLimitExceeded:
        result.error = f"analysis took longer than {TIME_LIMIT_SECONDS:g} s; not checked"
    except SourceError as error:
        result.error = str(error)
    except RecursionError:
        result.error = "too deeply nested to analyse"
    except MemoryError:
        result.error = "out of memory while analysing"
    except Exception as error:  # one bad file must not stop the others
        result.error = f"internal error while analysing ({type(error).__name__}: {error})"
    if result.error is not None and not result.partial:
        # nothing was written: "Fixed" must not be reported
        result.reports, result.fixed, result.noqa_added = [], 0, 0
    result.pending_write = None
    return result
