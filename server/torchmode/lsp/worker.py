"""The analysis process: documents too big to analyse in the server's process (isolation.py).

It holds, per document, the engine's cache (the next edit re-parses only the statements it
changed, as in the server) and the last full result, so that hover and code actions on a big
document are answered here, from its trees, and only plain data crosses the pipe: the server
gets the findings to show (without their fix builders) and the notice, and asks for a hover,
the mode timeline, the code actions of a range or the edit of an action by the document's key,
version and settings generation. A job about a version this process does not hold (it was
restarted after a limit, or evicted the document) raises NotHeld: the server analyses it here
again.

Only the few most recently analysed documents are kept (analysis/memory.py, as in the server);
the server stops this process when none of its documents is open any more.

    python -m torchmode.lsp.worker   (started by the server, never by hand)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from lsprotocol import types

from torchmode.analysis import (
    Analysis,
    Hint,
    KeptSummary,
    Session,
    SyntaxProblem,
    kept_summary,
)
from torchmode.findings import Finding, Position, Range
from torchmode.lsp.code_actions import Client, actions_for, resolve
from torchmode.lsp.isolation import NotHeld, serve
from torchmode.lsp.results import Notice, Result, next_result
from torchmode.lsp.targets import Target
from torchmode.settings import Settings


@dataclass(frozen=True)
class Plain:
    """What the server keeps of an analysis done here: plain, picklable data."""

    shown: tuple[Finding, ...]
    syntax_error: SyntaxProblem | None
    notice: Notice | None
    depends_on: tuple[str, ...] = ()  # the other files of the project it read
    read: tuple[object, ...] = ()  # what they gave it (Analysis.read)
    summary: KeptSummary | None = None  # its own, for the open documents that import it


_session = Session()
_results: dict[str, Result] = {}


def analyse(key: str, target: Target, settings: Settings, generation: int) -> Plain:
    cache = _session.document_cache(key)
    frozen = _session.frozen_since_collection
    replaces = key in _results
    analysis = _session.analyze_document(target.text, settings, cache)
    result = _results[key] = next_result(_results.get(key), target, settings, analysis, generation)
    for cold, cold_cache in _session.evict_cold():
        _release(cold, cold_cache)
    # No idle time to wait for here, as the server does (memory.py): the garbage a big
    # analysis leaves (the one it replaced, hidden among frozen objects) is collected right
    # after it, a second or two beside the analysis itself, so that it does not pile up to
    # the memory limit. A keystroke's small analysis leaves its garbage to young collections.
    big = _session.frozen_since_collection > frozen
    if (big and replaces) or _session.collection_overdue:
        _session.collect()
    return Plain(
        _plain(result.shown),
        analysis.syntax_error,
        result.notice,
        analysis.depends_on,
        analysis.read,
        _summary(settings, target),
    )


def _summary(settings: Settings, target: Target) -> KeptSummary | None:
    project = settings.project
    if project is None or not project.gives_summary or target.path is None:
        return None
    return kept_summary(str(target.path))


def forget(key: str) -> None:
    """The document was closed, or is now small enough for the server's own process."""
    cache = _session.document_cache(key)
    _session.forget(key)
    _release(key, cache)
    _session.collect()


def hover(key: str, version: int | None, generation: int, position: Position) -> str | None:
    return _held(key, version, generation).analysis.hover(position)


def timeline(
    key: str, version: int | None, generation: int, lines: tuple[int, int] | None = None
) -> list[Hint]:
    return _held(key, version, generation).analysis.timeline(lines)


def code_actions(
    key: str,
    version: int | None,
    generation: int,
    uri: str,
    requested: Range,
    context: types.CodeActionContext,
    client: Client,
    versions: dict[str, int | None],
) -> list[types.CodeAction]:
    result = _held(key, version, generation)
    return actions_for(result, uri, requested, context, client, versions, result.settings)


def resolve_action(
    key: str,
    version: int | None,
    generation: int,
    action: types.CodeAction,
    client: Client,
    versions: dict[str, int | None],
) -> types.CodeAction:
    result = _held(key, version, generation)
    return resolve(action, result, client, versions, result.settings)


def _held(key: str, version: int | None, generation: int) -> Result:
    result = _results.get(key)
    if result is None or result.version != version or result.generation != generation:
        raise NotHeld()
    return result


def _release(key: str, cache: Any) -> None:
    result = _results.pop(key, None)
    _session.release(result.analysis if result is not None else Analysis(""), cache)


def _plain(findings: tuple[Finding, ...]) -> tuple[Finding, ...]:
    return tuple(replace(f, fix_builder=None, fix_preview=None, _fixes=None) for f in findings)


JOBS: dict[str, Callable[..., Any]] = {
    "analyse": analyse,
    "forget": forget,
    "hover": hover,
    "timeline": timeline,
    "code_actions": code_actions,
    "resolve": resolve_action,
}

if __name__ == "__main__":
    # the jobs of the module under its own name, so that what they return pickles as
    # torchmode.lsp.worker.Plain (the server imports it), not __main__.Plain
    from torchmode.lsp import worker

    serve(worker.JOBS)
