"""Findings as LSP diagnostics, per document (a notebook's findings go to their cells)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from lsprotocol import types

from torchmode.analysis import RULES
from torchmode.files.source_files import SourceError, decode, read_bytes
from torchmode.findings import Finding, Position, Range, Related, Severity
from torchmode.lsp.positions import UTF32, LineIndex
from torchmode.lsp.results import Result
from torchmode.lsp.targets import NotebookFile, Target, TextTarget
from torchmode.settings import Settings

# The lines of another file of the project (a related place there is converted to the
# client's encoding in them): its open buffer if the analysis read one, else the file on disk
OtherText = Callable[[str], LineIndex | None]

SOURCE = "torchmode"

_SEVERITY = {
    Severity.ERROR: types.DiagnosticSeverity.Error,
    Severity.WARNING: types.DiagnosticSeverity.Warning,
    Severity.INFO: types.DiagnosticSeverity.Information,
    Severity.HINT: types.DiagnosticSeverity.Hint,
}


def _disk_text(path: str) -> str | None:
    try:
        return decode(read_bytes(Path(path))).text
    except (OSError, SourceError):
        return None


def texts_for(settings: Settings | None = None) -> OtherText:
    """Other files' lines as the analysis under ``settings`` read them, each file read and
    split once for as long as the returned function is kept (one publication of findings)."""
    project = settings.project if settings is not None else None
    overlay = project.overlay if project is not None else None
    known: dict[str, LineIndex | None] = {}

    def lines(path: str) -> LineIndex | None:
        if path not in known:
            buffer = overlay.get(path) if overlay else None
            text = buffer[1] if buffer is not None else _disk_text(path)
            known[path] = LineIndex(text) if text is not None else None
        return known[path]

    return lines


def _elsewhere(extra: Related, encoding: str, texts: OtherText) -> types.Location | None:
    """A related place in another file (``extra.path``)."""
    assert extra.path is not None
    uri = Path(extra.path).as_uri()
    rng = extra.range
    if encoding == UTF32:
        start, end = rng.start, rng.end
        return types.Location(
            uri=uri,
            range=types.Range(
                start=types.Position(start.line, start.character),
                end=types.Position(end.line, end.character),
            ),
        )
    lines = texts(extra.path)
    if lines is None:
        return None
    return types.Location(uri=uri, range=lines.range_to_client(rng, encoding))


def to_diagnostic(
    finding: Finding,
    target: Target | NotebookFile,
    encoding: str,
    texts: OtherText | None = None,
) -> tuple[str, types.Diagnostic] | None:
    placed = target.locate(finding.range)
    if placed is None:
        return None
    uri, rng = placed
    index = target.index_of(uri)
    assert index is not None
    related: list[types.DiagnosticRelatedInformation] = []
    for extra in finding.related:
        if extra.path is not None:
            texts = texts or texts_for()
            elsewhere = _elsewhere(extra, encoding, texts)
            if elsewhere is not None:
                related.append(
                    types.DiagnosticRelatedInformation(location=elsewhere, message=extra.message)
                )
            continue
        where = target.locate(extra.range)
        if where is None or (where_index := target.index_of(where[0])) is None:
            continue
        location = types.Location(
            uri=where[0], range=where_index.range_to_client(where[1], encoding)
        )
        related.append(types.DiagnosticRelatedInformation(location=location, message=extra.message))
    rule = RULES.get(finding.code)
    return uri, types.Diagnostic(
        range=index.range_to_client(rng, encoding),
        message=finding.message,
        severity=_SEVERITY[finding.severity],
        code=finding.code,
        code_description=types.CodeDescription(href=rule.url) if rule else None,
        source=SOURCE,
        related_information=related or None,
    )


def notice_diagnostic(result: Result, encoding: str) -> tuple[str, types.Diagnostic] | None:
    """The result's notice (a syntax error, a document not analysed) where it applies, in the
    document holding it; a notebook's notice that no cell holds goes to the first cell.

    Information, not Error: the editor's Python language server (Pylance, Pyright, Jedi)
    already reports a syntax error as an error, and a second one for the same mistake would
    only double the count in the Problems panel. What torchmode adds is what it did not
    check, which is information."""
    notice = result.notice
    target = result.target
    if notice is None or not target.uris:
        return None
    placed = target.locate(Range(notice.position, notice.position))
    if placed is None:
        placed = target.uris[0], Range(Position(0, 0), Position(0, 0))
    uri, rng = placed
    index = target.index_of(uri)
    assert index is not None
    return uri, types.Diagnostic(
        range=index.range_to_client(rng, encoding),
        message=notice.message,
        severity=types.DiagnosticSeverity.Information,
        code=notice.code,
        source=SOURCE,
    )


# what a finding's diagnostic is made of: its code, texts, severity and ranges
_FindingKey = tuple[str, str, str, Severity, Range, tuple[Related, ...]]


@dataclass
class Conversions:
    """A document's findings as last converted to diagnostics. A keystroke re-analyses one
    function, and most of the file's findings come out as they were, on lines whose text is
    unchanged: their diagnostics are those of the last publication, not built again (a
    5,000-line module with 335 findings: a good part of a keystroke's time otherwise)."""

    encoding: str = ""
    # finding -> (the text of the lines its ranges are on, its document, its diagnostic)
    known: dict[_FindingKey, tuple[tuple[str, ...], str, types.Diagnostic]] = field(
        default_factory=dict
    )


def _key(finding: Finding) -> _FindingKey:
    return (
        finding.code,
        finding.summary,
        finding.details,
        finding.severity,
        finding.range,
        finding.related,
    )


def _lines_of(finding: Finding, index: LineIndex) -> tuple[str, ...]:
    """The text of the lines the finding's ranges start and end on: where they are equal, so
    are the client's positions (the client counts units on those lines only)."""
    lines = [finding.range.start.line, finding.range.end.line]
    for extra in finding.related:
        lines += (extra.range.start.line, extra.range.end.line)
    return tuple(index.line_text(line) for line in lines)


def diagnostics_by_uri(
    result: Result, encoding: str, conversions: Conversions | None = None
) -> dict[str, list[types.Diagnostic]]:
    """Every document of the target, with an empty list where nothing was found; with
    ``conversions`` (the document's), the unchanged findings' diagnostics are reused."""
    out: dict[str, list[types.Diagnostic]] = {uri: [] for uri in result.target.uris}
    notice = notice_diagnostic(result, encoding)
    if notice is not None:
        out[notice[0]].append(notice[1])
    texts = texts_for(result.settings)
    target = result.target
    # a notebook's cells move findings between documents: converted afresh each time
    reuse = conversions if isinstance(target, TextTarget) else None
    if reuse is not None and reuse.encoding != encoding:
        reuse.encoding, reuse.known = encoding, {}
    kept: dict[_FindingKey, tuple[tuple[str, ...], str, types.Diagnostic]] = {}
    for finding in sorted(result.shown, key=Finding.sort_key):
        # a related place in another file: converted in that file's current text, always
        if reuse is None or any(extra.path is not None for extra in finding.related):
            converted = to_diagnostic(finding, target, encoding, texts)
            if converted is not None:
                out[converted[0]].append(converted[1])
            continue
        key = _key(finding)
        lines = _lines_of(finding, target.index)  # type: ignore[union-attr]
        known = reuse.known.get(key)
        if known is None or known[0] != lines:
            made = to_diagnostic(finding, target, encoding, texts)
            if made is None:
                continue
            known = (lines, *made)
        kept[key] = known
        out[known[1]].append(known[2])
    if reuse is not None:
        reuse.known = kept
    return out


def same_place(diagnostic: types.Diagnostic, other: types.Diagnostic) -> bool:
    return diagnostic.code == other.code and diagnostic.range == other.range
