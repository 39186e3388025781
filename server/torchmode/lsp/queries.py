"""Hover and code actions: requests answered from a document's analysis, in the query thread,
the analysis worker (a fix is checked by analysing the fixed text) or the analysis process of
a document analysed in isolation."""

from __future__ import annotations

import traceback
from typing import TYPE_CHECKING

from lsprotocol import types

from torchmode.findings import Range
from torchmode.lsp.code_actions import FIX_ALL, QUICKFIX, Client, actions_for, resolve
from torchmode.lsp.isolation import ProcessFailure

if TYPE_CHECKING:
    from torchmode.lsp.server import TorchmodeServer


def register(server: TorchmodeServer) -> None:
    server.feature(types.TEXT_DOCUMENT_HOVER)(hover)
    server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=[QUICKFIX, FIX_ALL], resolve_provider=True),
    )(code_action)
    server.feature(types.CODE_ACTION_RESOLVE)(code_action_resolve)


async def hover(ls: TorchmodeServer, params: types.HoverParams) -> types.Hover | None:
    uri = params.text_document.uri
    key = ls.key_of(uri)
    if key is None:
        return None
    result = ls.result_for_hover(key, uri, params.position) or await ls.current_result(
        key, full=True
    )
    if result is None:
        return None
    position = ls.analysed_position(result, uri, params.position)
    if position is None:
        return None
    try:
        if result.isolated:
            text = await ls.in_analysis_process(result, "hover", position)
        else:
            text = await ls.scheduler.in_query_thread(result.analysis.hover, position)
    except ProcessFailure as failure:
        ls.log(f"torchmode: no hover for {key}: {failure.message}", types.MessageType.Warning)
        return None
    except Exception:
        ls.log(f"torchmode: hover failed\n{traceback.format_exc()}", types.MessageType.Error)
        return None
    if not text:
        return None
    return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text))


async def code_action(
    ls: TorchmodeServer, params: types.CodeActionParams
) -> list[types.CodeAction] | None:
    uri = params.text_document.uri
    key = ls.key_of(uri)
    result = await ls.current_result(key, full=True) if key else None
    if result is None:
        return []
    start = ls.analysed_position(result, uri, params.range.start)
    end = ls.analysed_position(result, uri, params.range.end)
    if start is None or end is None:
        return []
    client = Client.of(ls.client_capabilities, ls.encoding)
    if result.isolated:
        try:
            answer = await ls.in_analysis_process(
                result,
                "code_actions",
                uri,
                Range(start, end),
                params.context,
                client,
                ls.versions(result),
            )
        except ProcessFailure as failure:
            ls.log(f"torchmode: no code actions for {key}: {failure.message}")
            return []
        except Exception:
            ls.log(f"torchmode: code actions failed\n{traceback.format_exc()}")
            return []
        return answer or []
    # Building a fix checks it by analysing the fixed text with the document's cache: that is
    # the analysis worker's job (its caches are single-threaded).
    try:
        return await ls.scheduler.in_worker(
            actions_for,
            result,
            uri,
            Range(start, end),
            params.context,
            client,
            ls.versions(result),
            result.settings,
        )
    except Exception:
        ls.log(f"torchmode: code actions failed\n{traceback.format_exc()}", types.MessageType.Error)
        return []


async def code_action_resolve(ls: TorchmodeServer, action: types.CodeAction) -> types.CodeAction:
    data = action.data if isinstance(action.data, dict) else {}
    key = ls.key_of(str(data.get("uri", "")))
    result = await ls.current_result(key, full=True) if key else None
    if result is None:
        return action
    client = Client.of(ls.client_capabilities, ls.encoding)
    if result.isolated:
        try:
            answer = await ls.in_analysis_process(
                result, "resolve", action, client, ls.versions(result)
            )
        except ProcessFailure as failure:
            ls.log(f"torchmode: resolving {action.title!r} failed: {failure.message}")
            return action
        except Exception:
            ls.log(f"torchmode: resolving {action.title!r} failed\n{traceback.format_exc()}")
            return action
        return answer if isinstance(answer, types.CodeAction) else action
    # Fixes are checked (and fix-all applied) by analysing the fixed text: the worker's job.
    try:
        return await ls.scheduler.in_worker(
            resolve, action, result, client, ls.versions(result), result.settings
        )
    except Exception:
        ls.log(f"torchmode: resolving {action.title!r} failed\n{traceback.format_exc()}")
        return action
