"""Findings as LSP diagnostics, per document (a notebook's findings go to their cells)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from lsprotocol import types

from torchmode.analysis import RULES
from torchmode.files.source_files import SourceError, decode, read_bytes
from torchmode.findings import Finding, Position, Range, Related, Severity
from torchmode.lsp.positions import UTF32, LineIndex
from torchmode.lsp.results import Result
from torchmode.lsp.targets import NotebookFile, Target
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


def diagnostics_by_uri(result: Result, encoding: str) -> dict[str, list[types.Diagnostic]]:
    """Every document of the target, with an empty list where nothing was found."""
    out: dict[str, list[types.Diagnostic]] = {uri: [] for uri in result.target.uris}
    notice = notice_diagnostic(result, encoding)
    if notice is not None:
        out[notice[0]].append(notice[1])
    texts = texts_for(result.settings)
    for finding in sorted(result.shown, key=Finding.sort_key):
        converted = to_diagnostic(finding, result.target, encoding, texts)
        if converted is not None:
            out[converted[0]].append(converted[1])
    return out


def same_place(diagnostic: types.Diagnostic, other: types.Diagnostic) -> bool:
    return diagnostic.code == other.code and diagnostic.range == other.range
