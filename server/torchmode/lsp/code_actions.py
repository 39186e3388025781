"""Quick fixes, "Ignore TM101 on this line" and ``source.fixAll.torchmode``.

Offering an action only needs titles; its edits are converted (and fix-all computed) in
``codeAction/resolve`` when the client supports resolving ``edit``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from lsprotocol import types

from torchmode.analysis import compatible_fixes, fix_source, ignore_edit
from torchmode.findings import Finding, Fix, Range, TextEdit
from torchmode.lsp.diagnostics import same_place, texts_for, to_diagnostic
from torchmode.lsp.results import Result
from torchmode.lsp.targets import TextTarget
from torchmode.settings import Settings

FIX_ALL = "source.fixAll.torchmode"
QUICKFIX = types.CodeActionKind.QuickFix


@dataclass(frozen=True)
class Client:
    """What the client can do with code actions."""

    encoding: str
    resolves_edits: bool
    document_changes: bool

    @staticmethod
    def of(capabilities: types.ClientCapabilities, encoding: str) -> Client:
        text = capabilities.text_document
        action = text.code_action if text else None
        resolve = action.resolve_support if action else None
        workspace = capabilities.workspace
        edit = workspace.workspace_edit if workspace else None
        return Client(
            encoding=encoding,
            resolves_edits=bool(
                action and resolve and "edit" in resolve.properties and action.data_support
            ),
            document_changes=bool(edit and edit.document_changes),
        )


def wanted(kind: str, only: Sequence[str] | None) -> bool:
    """Whether ``kind`` falls under the kinds the client asked for (hierarchical)."""
    return only is None or any(kind == o or kind.startswith(o + ".") or o == "" for o in only)


def _key(finding: Finding) -> list[int]:
    r = finding.range
    return [r.start.line, r.start.character, r.end.line, r.end.character]


def find_finding(result: Result, code: str, key: list[int]) -> Finding | None:
    for finding in result.analysis.findings:
        if finding.code == code and _key(finding) == key:
            return finding
    return None


def _overlaps(a: Range, b: Range) -> bool:
    return a.start <= b.end and b.start <= a.end


def actions_for(
    result: Result,
    uri: str,
    requested: Range,
    context: types.CodeActionContext,
    client: Client,
    versions: dict[str, int | None],
    settings: Settings,
) -> list[types.CodeAction]:
    """The actions for a range of ``uri`` (``requested`` is in the analysed text)."""
    target = result.target
    actions: list[types.CodeAction] = []
    only = context.only
    # A finding is asked for where it overlaps the range or is one of the context's
    # diagnostics (same code and place): only those are converted to the client's terms
    # (converting all of a big file's findings cost more than the rest of the request).
    # Its fixes are also offered on its related places: a reader at the `model.eval()` inside
    # `validate()` is looking at the cause of a finding reported at the call of `validate()`.
    codes = {d.code for d in context.diagnostics}
    texts = texts_for(result.settings)
    for finding in result.analysis.findings:
        on_main = _overlaps(finding.range, requested)
        on_related = not on_main and any(
            _overlaps(extra.range, requested) for extra in finding.related if extra.path is None
        )
        if finding.code not in codes and not on_main and not on_related:
            continue
        converted = to_diagnostic(finding, target, client.encoding, texts)
        # (a notebook's finding may be in another cell than the related place asked about)
        if converted is None or (converted[0] != uri and not on_related):
            continue
        diagnostic = converted[1]
        asked = on_main or on_related or any(same_place(diagnostic, d) for d in context.diagnostics)
        if not asked:
            continue
        if wanted(QUICKFIX, only):
            for fix in finding.fixes:
                if not _placeable(result, fix.edits):
                    continue
                data = {"uri": uri, "kind": "fix", "code": finding.code, "range": _key(finding)}
                action = types.CodeAction(
                    title=fix.title,
                    kind=QUICKFIX,
                    diagnostics=[diagnostic],
                    is_preferred=fix.preferred or None,
                    data={**data, "title": fix.title},
                )
                actions.append(action)
            # "on this line" would not be true of a related place: suppressing is offered on
            # the finding's own line only
            if not on_related and _placeable(result, _ignore_edits(result, finding)):
                ignore = types.CodeAction(
                    title=f"Ignore {finding.code} on this line",
                    kind=QUICKFIX,
                    diagnostics=[diagnostic],
                    data={
                        "uri": uri,
                        "kind": "ignore",
                        "code": finding.code,
                        "range": _key(finding),
                    },
                )
                actions.append(ignore)
    # Offered on any fixable finding without building every fix (editors ask on each cursor
    # move); resolving computes it, and the safe fixes it applies.
    if wanted(FIX_ALL, only) and any(finding.fixable for finding in result.analysis.findings):
        actions.append(
            types.CodeAction(
                title="torchmode: fix all safely fixable problems",
                kind=FIX_ALL,
                data={"uri": uri, "kind": "fixAll"},
            )
        )
    if not client.resolves_edits:
        actions = [resolve(a, result, client, versions, settings) for a in actions]
    return [a for a in actions if a.edit is not None or client.resolves_edits]


def resolve(
    action: types.CodeAction,
    result: Result,
    client: Client,
    versions: dict[str, int | None],
    settings: Settings,
) -> types.CodeAction:
    """Fill in the action's edit; an action whose finding is gone is returned without one."""
    data: dict[str, Any] = action.data if isinstance(action.data, dict) else {}
    edits: list[TextEdit] | None = None
    if data.get("kind") == "fixAll":
        edits = _fix_all_edits(result, settings)
    else:
        finding = find_finding(result, str(data.get("code")), list(data.get("range", [])))
        if finding is not None and data.get("kind") == "fix":
            fix = next((f for f in finding.fixes if f.title == data.get("title")), None)
            edits = list(fix.edits) if fix else None
        elif finding is not None and data.get("kind") == "ignore":
            edits = _ignore_edits(result, finding)
    if edits:
        action.edit = workspace_edit(result, edits, client, versions)
    return action


def _placeable(result: Result, edits: Iterable[TextEdit] | None) -> bool:
    """Whether every edit lands in one document (a notebook cell, not masked syntax)."""
    return edits is not None and all(
        result.target.locate(edit.range, editing=True) is not None for edit in edits
    )


def _ignore_edits(result: Result, finding: Finding) -> list[TextEdit] | None:
    line = finding.range.start.line
    edit = ignore_edit(line, result.target.index.line_text(line), finding.code)
    return [edit] if edit else None


def _fix_all_edits(result: Result, settings: Settings) -> list[TextEdit] | None:
    target = result.target
    if isinstance(target, TextTarget):
        fixed = fix_source(target.text, settings).source
        return [_difference(target, fixed)] if fixed != target.text else None
    # A notebook's cells are separate documents: one round of compatible safe fixes,
    # each edit mapped into its cell.
    fixes: list[Fix] = compatible_fixes(result.analysis.findings, unsafe=False)
    return [edit for fix in fixes for edit in fix.edits] or None


def _difference(target: TextTarget, fixed: str) -> TextEdit:
    """One edit replacing only the part that changed, so the cursor and folds elsewhere stay."""
    old = target.text
    start = 0
    limit = min(len(old), len(fixed))
    while start < limit and old[start] == fixed[start]:
        start += 1
    end_old, end_new = len(old), len(fixed)
    while end_old > start and end_new > start and old[end_old - 1] == fixed[end_new - 1]:
        end_old -= 1
        end_new -= 1
    index = target.index
    return TextEdit(
        Range(index.position_at(start), index.position_at(end_old)), fixed[start:end_new]
    )


def workspace_edit(
    result: Result,
    edits: Iterable[TextEdit],
    client: Client,
    versions: dict[str, int | None],
) -> types.WorkspaceEdit | None:
    by_uri: dict[str, list[types.TextEdit]] = {}
    for edit in edits:
        placed = result.target.locate(edit.range, editing=True)
        if placed is None:
            return None  # an edit we cannot place would leave the fix half-applied
        uri, rng = placed
        index = result.target.index_of(uri)
        assert index is not None
        by_uri.setdefault(uri, []).append(
            types.TextEdit(
                range=index.range_to_client(rng, client.encoding), new_text=edit.new_text
            )
        )
    if client.document_changes:
        return types.WorkspaceEdit(
            document_changes=[
                types.TextDocumentEdit(
                    text_document=types.OptionalVersionedTextDocumentIdentifier(
                        uri=uri, version=versions.get(uri)
                    ),
                    edits=list(text_edits),
                )
                for uri, text_edits in by_uri.items()
            ]
        )
    return types.WorkspaceEdit(changes=by_uri)
