"""Reading the client's messages, and finding the next one after a wrong Content-Length.

pygls reads a frame's body as exactly Content-Length bytes. When that number is wrong, what
follows is read out of step: too small, the rest of the body shares a line with the next
header, which pygls then never sees (a header must start a line); too large, the next
messages are swallowed as body while pygls waits for bytes the client will never send. Either
way every later message is lost: the server stayed alive and deaf (even to ``shutdown``).

LSP has no resynchronisation, but a header can be recognised in the byte stream:
``Content-Length: N\\r\\n`` never occurs inside valid JSON (a raw line end is not allowed in
a JSON string, and these words outside one are not JSON). ``FrameReader`` gives pygls' reader
loop (pygls.io_.run_async: readline, readexactly) lines and bodies that end where such a
header begins: a body cut short fails to parse and is answered with a parse error, and the
next message is read as sent.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable

logger = logging.getLogger(__name__)

HEADER = re.compile(rb"Content-Length: (\d+)\r\n")
_HEADER_START = b"Content-Length: "
_PARTIAL_HEADER = re.compile(rb"Content-Length: \d+\r?")
# Long enough for a header with any realistic length in it.
_HEADER_MAX = 64
_CHUNK = 65536

ReadSome = Callable[[int], Awaitable[bytes]]  # up to n bytes as soon as any arrive; b"" at EOF


class FrameReader:
    def __init__(self, read_some: ReadSome) -> None:
        self._read_some = read_some
        self._buffer = bytearray()
        self._eof = False

    async def _more(self, size: int) -> bool:
        if self._eof:
            return False
        data = await self._read_some(size)
        if not data:
            self._eof = True
            return False
        self._buffer += data
        return True

    def _take(self, size: int) -> bytes:
        taken = bytes(self._buffer[:size])
        del self._buffer[:size]
        return taken

    async def readline(self) -> bytes:
        while (end := self._buffer.find(b"\n")) < 0:
            if not await self._more(_CHUNK):
                return self._take(len(self._buffer))  # b"" at the end: pygls stops
        line = self._take(end + 1)
        header = HEADER.search(line)
        if header is not None and header.start() > 0:
            # The rest of a body whose Content-Length was too small, then the next header.
            logger.warning(
                "skipped %d bytes before a message header: the previous message was longer "
                "than its Content-Length",
                header.start(),
            )
            return line[header.start() :]
        return line

    async def readexactly(self, size: int) -> bytes:
        """The body: ``size`` bytes, or fewer where the next message's header starts."""
        scanned = 0
        while True:
            header = HEADER.search(self._buffer, scanned, size + _HEADER_MAX)
            if header is not None and header.start() < size:
                logger.warning(
                    "a message's body holds the next message's header: its Content-Length "
                    "(%d) was too large; reading on from that header",
                    size,
                )
                return self._cut(header.start())
            if len(self._buffer) >= size:
                return self._complete(size)
            scanned = max(0, len(self._buffer) - _HEADER_MAX)
            if not await self._more(size - len(self._buffer)):
                return self._take(len(self._buffer))

    def _complete(self, size: int) -> bytes:
        body = self._take(size)
        # A header may begin within the last bytes and end after them: keep it for
        # readline. Valid JSON never ends with the start of one (no "C" outside a string).
        start = body.rfind(b"C", max(0, size - _HEADER_MAX))
        tail = body[start:] if start >= 0 else b""
        if tail and (_HEADER_START.startswith(tail) or _PARTIAL_HEADER.fullmatch(tail)):
            self._buffer[:0] = tail
            logger.warning(
                "a message's body ends with the start of a header: its Content-Length (%d) "
                "was too large; reading on from that header",
                size,
            )
            return body[:start] or b" "
        return body

    def _cut(self, size: int) -> bytes:
        # pygls stops reading at an empty body: a blank one is answered as unparsable.
        return self._take(size) or b" "
