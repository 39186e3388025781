"""``textDocument/inlayHint``: the mode timeline (analysis/timeline.py) as inlay hints.

The timeline is computed once per analysed text and kept here by document, text and settings
generation: an editor asks again on every scroll, and a document whose trees were
let go (analysis/memory.py) would otherwise be analysed again for each request. A notebook's
labels go to their cells, as its diagnostics do; ``torchmode.inlayHints: false`` turns them off.
"""

from __future__ import annotations

import traceback
from collections import OrderedDict
from typing import TYPE_CHECKING

from lsprotocol import types

from torchmode.analysis import Hint
from torchmode.findings import Range
from torchmode.lsp.isolation import ProcessFailure
from torchmode.lsp.results import Result
from torchmode.lsp.targets import NotebookTarget, Target

if TYPE_CHECKING:
    from torchmode.lsp.server import TorchmodeServer

# Documents whose timeline is kept: more than an editor shows at once.
KEPT = 32
# by document: (settings generation, changes of the other files it read, text, the lines
# computed, labels)
_kept: OrderedDict[str, tuple[int, int, str, tuple[int, int] | None, list[Hint]]] = OrderedDict()


def register(server: TorchmodeServer) -> None:
    server.feature(types.TEXT_DOCUMENT_INLAY_HINT, types.InlayHintOptions(resolve_provider=False))(
        inlay_hints
    )


async def inlay_hints(
    ls: TorchmodeServer, params: types.InlayHintParams
) -> list[types.InlayHint] | None:
    if not ls.client_settings.inlay_hints:
        return []
    uri = params.text_document.uri
    key = ls.key_of(uri)
    found = await _timeline(ls, key, uri, params.range) if key is not None else None
    if found is None:
        return []
    target, hints = found
    return to_inlay_hints(hints, target, uri, params.range, ls.encoding)


async def _timeline(
    ls: TorchmodeServer, key: str, uri: str, requested: types.Range
) -> tuple[Target, list[Hint]] | None:
    result = await ls.current_result(key)
    if result is None:
        return None
    lines = _analysed_lines(result.target, uri, requested, ls.encoding)
    kept = _kept.get(key)
    # the text itself, not only its version: a document closed and opened again starts over;
    # and what it read of the other files (``validate(model)  model: eval`` comes from one)
    if kept is not None and kept[:4] == (
        result.generation,
        result.inputs,
        result.target.text,
        lines,
    ):
        _kept.move_to_end(key)
        return result.target, kept[4]
    if result.slim and not result.isolated:
        result = await ls.current_result(key, full=True)
        if result is None:
            return None
    try:
        if result.isolated:
            hints = await ls.in_analysis_process(result, "timeline", lines)
        else:
            analysis = result.analysis
            hints = await ls.scheduler.in_query_thread(lambda: analysis.timeline(lines))
    except ProcessFailure as failure:
        ls.log(f"torchmode: no inlay hints for {key}: {failure.message}")
        return None
    except Exception:
        ls.log(f"torchmode: inlay hints failed\n{traceback.format_exc()}", types.MessageType.Error)
        return None
    if hints is None:
        return None  # the analysis process no longer holds this text (it changed)
    if ls.results.get(key) is result:
        # Not kept otherwise: a result let go meanwhile (memory.py) may have lost its trees
        # while the labels were read, and given none.
        _kept[key] = (result.generation, result.inputs, result.target.text, lines, hints)
        _kept.move_to_end(key)
        while len(_kept) > KEPT:
            _kept.popitem(last=False)
    return result.target, hints


def _analysed_lines(
    target: Target, uri: str, requested: types.Range, encoding: str
) -> tuple[int, int] | None:
    """The lines of the analysed text the requested range covers (None: all of them), so that
    only the top-level statements on screen have their labels computed."""
    index = target.index_of(uri)
    if index is None:
        return None
    wanted = index.range_from_client(requested, encoding)
    start = target.to_analysed(uri, wanted.start)
    end = target.to_analysed(uri, wanted.end)
    if start is None or end is None:
        return None
    return start.line, end.line


def to_inlay_hints(
    hints: list[Hint], target: Target, uri: str, requested: types.Range, encoding: str
) -> list[types.InlayHint]:
    """The hints that fall in document ``uri`` (a notebook's cell, or the file) within the
    requested range, in the client's positions."""
    index = target.index_of(uri)
    if index is None:
        return []
    wanted = index.range_from_client(requested, encoding)
    out = []
    for hint in hints:
        placed = target.locate(Range(hint.position, hint.position))
        if placed is None or placed[0] != uri or not wanted.contains(placed[1].start):
            continue
        lines = "\n".join(f"- {line}" for line in hint.tooltip)
        out.append(
            types.InlayHint(
                position=index.to_client(placed[1].start, encoding),
                label=hint.label,
                padding_left=True,
                tooltip=types.MarkupContent(
                    kind=types.MarkupKind.Markdown, value=f"{hint.title}:\n\n{lines}"
                ),
            )
        )
    return out


def shown(ls: TorchmodeServer, result: Result) -> None:
    """A new analysis is shown. The editor asks for a document's hints when it changes; a
    notebook cell's also change with the cells above it, which the editor does not know."""
    if isinstance(result.target, NotebookTarget) and ls.client_settings.inlay_hints:
        refresh(ls)


def refresh(ls: TorchmodeServer) -> None:
    """Ask the client for the hints again (the settings changed; no text did)."""
    workspace = ls.client_capabilities.workspace
    capability = workspace.inlay_hint if workspace else None
    if capability is not None and capability.refresh_support:
        ls.workspace_inlay_hint_refresh(None)
