"""JSON-RPC errors pygls leaves unanswered.

pygls turns a message whose JSON parses but whose params do not fit the method's types into
an exception inside its reader loop: the exception is logged and the request never gets a
response, so the client waits for it forever. A body that is not JSON, or JSON that is not a
message object, is likewise only logged. JSON-RPC 2.0 (section 5.1) and LSP ask for an error
response instead: -32700 with a null id for a body that does not parse, -32600 for something
that is not a request, -32602 with the request's id for params that do not fit, -32600 for
requests after ``shutdown`` and -32002 for requests before ``initialize``. Notifications never
get a response, whatever their shape.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable, Generator
from concurrent.futures import Future
from functools import partial
from typing import Any

import attrs
from cattrs import transform_error
from cattrs.errors import BaseValidationError
from lsprotocol import types
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method

logger = logging.getLogger(__name__)

MsgId = int | str

# A message can be wrong in many places at once: the first few are enough to fix a client.
_DETAILS = 3


@attrs.define
class Unreadable:
    """A message object whose params (or result) do not fit its method's types."""

    jsonrpc: str
    id: MsgId | None
    method: str | None
    reason: str


def _message_id(value: Any) -> MsgId | None:
    # JSON-RPC ids are strings or numbers; true and false are not numbers here.
    return value if isinstance(value, (int, str)) and not isinstance(value, bool) else None


def _reason(error: BaseException) -> str:
    """What is wrong, where: cattrs' "required field missing @ $.params.position" rather
    than pygls' "Invalid Params"."""
    while error.__cause__ is not None:
        error = error.__cause__
    if isinstance(error, BaseValidationError):
        return "; ".join(transform_error(error, path="$")[:_DETAILS])
    text = str(error).splitlines()[0] if str(error) else ""
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


# What a client may send before the initialize request (exit: to stop a server it never
# initialized).
_BEFORE_INITIALIZE = frozenset({types.INITIALIZE, types.EXIT})


class TorchmodeProtocol(LanguageServerProtocol):
    # Set by the first initialize request that could be read (its params fit).
    _initialize_seen = False

    def structure_message(self, data: dict[str, Any]) -> Any:
        # pygls calls this for every JSON object in a body, innermost first; only the
        # message itself has a "jsonrpc" member.
        if "jsonrpc" not in data:
            return data
        try:
            return super().structure_message(data)
        except Exception as error:
            method = data.get("method")
            return Unreadable(
                jsonrpc=str(data.get("jsonrpc")),
                id=_message_id(data.get("id")),
                method=method if isinstance(method, str) else None,
                reason=_reason(error),
            )

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: types.DidChangeTextDocumentParams) -> Any:
        # The server keeps the text itself (lsp/documents.py). pygls' own copy splits lines
        # at form feeds and "\u2028" (str.splitlines) and, updating it, clamps a position
        # beyond its shorter line in place, in the very params the server then applies (a
        # fuzzer found edits moved that way): skip pygls' copy and hand the change on untouched.
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_CHANGE)) is not None:
            yield handler, (params,), None

    @lsp_method(types.EXIT)
    def lsp_exit(self, *args: Any) -> Generator[Any, Any, None]:
        # pygls exits with sys.exit: the interpreter then frees every object one by one, and
        # after a long session (libcst trees in the caches, RSS near 1 GB after 5,000 fuzzed
        # edit sequences) that took more than a minute, long after the editor gave up and
        # killed the process. Nothing is left to save at exit: leave at once.
        if (handler := self.fm.features.get(types.EXIT)) is not None:
            yield handler, args, None
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0 if self._shutdown else 1)

    def _execute_handler(
        self,
        msg_id: MsgId,
        handler: Callable[..., Any],
        callback: Callable[[Future[Any]], None],
        args: tuple[Any, ...] | None = None,
        kwargs: dict[str, Any] | None = None,
    ) -> None:
        super()._execute_handler(msg_id, handler, callback, args, kwargs)
        # pygls files the future of every coroutine or generator handler under msg_id and
        # forgets it only when it answers a request: those of notifications (every didChange,
        # i.e. every keystroke, goes through a generator) piled up for the whole session.
        future = self._request_futures.get(msg_id)
        if future is not None:
            future.add_done_callback(partial(self._forget, msg_id))

    def _forget(self, msg_id: MsgId, future: Future[Any]) -> None:
        # a cancelled one stays: pygls cancels them while iterating over the dict (shutdown)
        if not future.cancelled() and self._request_futures.get(msg_id) is future:
            del self._request_futures[msg_id]

    def handle_message(self, message: Any) -> None:
        jsonrpc = getattr(message, "jsonrpc", None)
        method = getattr(message, "method", None)
        ident = _message_id(getattr(message, "id", None))
        is_request = method is not None and ident is not None
        if jsonrpc is None:
            # JSON that is no message object at all: an array (LSP has no batches), a
            # number, null, or an object without "jsonrpc".
            if isinstance(message, dict):
                ident = _message_id(message.get("id"))
                answer = ident if "method" in message else None
            else:
                answer = None
            self.reply_error(answer, types.ErrorCodes.InvalidRequest, "not a JSON-RPC message")
        elif jsonrpc != self.VERSION:
            if is_request:
                self.reply_error(
                    ident,
                    types.ErrorCodes.InvalidRequest,
                    f"unsupported JSON-RPC version {jsonrpc!r} (expected {self.VERSION!r})",
                )
            else:
                logger.warning("ignored a message with JSON-RPC version %r", jsonrpc)
        elif method is not None and not self._initialize_seen and method not in _BEFORE_INITIALIZE:
            self._before_initialize(method, ident if is_request else None)
        elif self._shutdown and is_request and method != types.EXIT:
            self.reply_error(ident, types.ErrorCodes.InvalidRequest, "the server is shutting down")
        elif isinstance(message, Unreadable):
            self._unreadable(message)
        else:
            if method == types.INITIALIZE:
                self._initialize_seen = True
            super().handle_message(message)

    def _before_initialize(self, method: str, ident: MsgId | None) -> None:
        # LSP: a request before initialize gets -32002, a notification is dropped. pygls ran
        # them, against a workspace and settings that do not exist yet.
        if ident is not None:
            self.reply_error(
                ident,
                types.ErrorCodes.ServerNotInitialized,
                f"{method} before initialize: the server is not initialized yet",
            )
        else:
            logger.warning("ignored a %s notification before initialize", method)

    def _unreadable(self, message: Unreadable) -> None:
        if message.method is not None and message.id is not None:
            self.reply_error(
                message.id,
                types.ErrorCodes.InvalidParams,
                f"invalid params for {message.method}: {message.reason}",
            )
        elif message.method is not None:
            logger.warning(
                "ignored a %s notification with invalid params: %s", message.method, message.reason
            )
        elif message.id is not None:
            # A response of the client to one of our requests, in a shape that does not
            # fit: whoever waits for it gets an error instead of waiting forever.
            future = self._request_futures.pop(message.id, None)
            self._result_types.pop(message.id, None)
            if future is not None and not future.done():
                future.set_exception(
                    ValueError(f"unreadable response from the client: {message.reason}")
                )
            logger.warning("unreadable response %r: %s", message.id, message.reason)
        else:
            self.reply_error(
                None, types.ErrorCodes.InvalidRequest, "a message without method or id"
            )

    def unparsable_body(self, error: BaseException) -> None:
        """Called for a body that is not JSON (or JSON nested too deeply to read)."""
        self.reply_error(None, types.ErrorCodes.ParseError, f"parse error: {_reason(error)}")

    def reply_error(self, ident: MsgId | None, code: int, message: str) -> None:
        logger.warning("answered %s with error %d: %s", ident, code, message)
        if ident is not None:
            self._send_response(ident, error=types.ResponseError(code=code, message=message))
        else:
            # pygls' serialiser drops a None id, but JSON-RPC wants "id": null here.
            self._send_data(
                {"jsonrpc": self.VERSION, "id": None, "error": {"code": code, "message": message}}
            )


def is_unparsable_body(error: BaseException) -> bool:
    """The reader loop's own failure to read a body, as opposed to a handler's."""
    return isinstance(error, (json.JSONDecodeError, UnicodeDecodeError, RecursionError))
