"""A raw JSON-RPC client for ``python -m torchmode.lsp`` over stdio.

Raw rather than pytest-lsp: the hostile tests must send bytes no well-behaved client would
(broken headers, malformed JSON, floods) and stop reading on purpose. A reader thread
collects everything the server writes; the test thread waits on it with a deadline that
guards against a hung server and asserts nothing about speed.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

SERVER = [sys.executable, "-m", "torchmode.lsp", "--stdio"]
PATIENCE_S = 120.0

Message = dict[str, Any]


class ServerDied(AssertionError):
    pass


class Wire:
    def __init__(self, cwd: Path | None = None, command: list[str] = SERVER) -> None:
        # A file, not a pipe: a pipe nobody drains could block the server. Closed in stop().
        self.stderr = tempfile.TemporaryFile()  # noqa: SIM115
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            cwd=cwd,
            bufsize=0,
        )
        self.messages: list[Message] = []
        self.changed = threading.Condition()
        self.reading = threading.Event()
        self.reading.set()
        self.ids = itertools.count(1)
        self.final_log = ""
        self.garbage: list[bytes] = []  # output that was not a framed JSON message
        self.write_lock = threading.Lock()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    # --- reading ------------------------------------------------------------------------

    def _read(self) -> None:
        stream = self.process.stdout
        assert stream is not None
        while True:
            self.reading.wait()
            headers: dict[str, str] = {}
            while True:
                line = stream.readline()
                if not line:
                    with self.changed:
                        self.changed.notify_all()
                    return
                if line in (b"\r\n", b"\n"):
                    break
                name, sep, value = line.decode("ascii", "replace").partition(":")
                if not sep:
                    self.garbage.append(line)
                    continue
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length", "0"))
            body = stream.read(length)
            while len(body) < length:
                more = stream.read(length - len(body))
                if not more:
                    return
                body += more
            try:
                message = json.loads(body)
            except ValueError:
                self.garbage.append(body)
                continue
            if "method" in message and "id" in message:
                # A request from the server (configuration, registration...): answer it
                # as a client without those capabilities would.
                self.send({"jsonrpc": "2.0", "id": message["id"], "result": None})
            with self.changed:
                self.messages.append(message)
                self.changed.notify_all()

    def wait_for(
        self, matches: Callable[[Message], bool], timeout: float = PATIENCE_S, start: int = 0
    ) -> Message:
        """The first message from index ``start`` on that ``matches``."""
        seen = start

        def found() -> Message | None:
            nonlocal seen
            for message in self.messages[seen:]:
                if matches(message):
                    return message
            seen = len(self.messages)
            return None

        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                hit = found()
                if hit is not None:
                    return hit
                if self.process.poll() is not None:
                    raise ServerDied(
                        f"the server exited with {self.process.returncode}: {self.log()}"
                    )
                left = deadline - time.monotonic()
                assert left > 0, f"no matching message within {timeout} s"
                # Woken by every message; the short wait also notices a server that died.
                self.changed.wait(min(left, 0.5))

    def log(self) -> str:
        if self.stderr.closed:
            return self.final_log
        self.stderr.seek(0)
        return self.stderr.read().decode("utf-8", "replace")[-4000:]

    # --- writing ------------------------------------------------------------------------

    def send_raw(self, data: bytes) -> None:
        assert self.process.stdin is not None
        with self.write_lock:
            self.process.stdin.write(data)

    def send(self, message: Message) -> None:
        body = json.dumps(message).encode()
        self.send_raw(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def notify(self, method: str, params: Any = None) -> None:
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def request_id(self, method: str, params: Any = None) -> int:
        ident = next(self.ids)
        self.send({"jsonrpc": "2.0", "id": ident, "method": method, "params": params})
        return ident

    def response(self, ident: int, timeout: float = PATIENCE_S) -> Message:
        return self.wait_for(lambda m: m.get("id") == ident and "method" not in m, timeout)

    def request(self, method: str, params: Any = None) -> Message:
        """The whole response: ``result`` or ``error``."""
        return self.response(self.request_id(method, params))

    # --- the LSP life cycle -------------------------------------------------------------

    def initialize(
        self, encodings: list[str] | None = None, settings: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        capabilities: dict[str, Any] = {
            "textDocument": {
                "publishDiagnostics": {"relatedInformation": True, "versionSupport": True},
                "hover": {"contentFormat": ["markdown"]},
                "codeAction": {
                    "codeActionLiteralSupport": {
                        "codeActionKind": {"valueSet": ["quickfix", "source.fixAll"]}
                    }
                },
            },
        }
        if encodings:
            capabilities["general"] = {"positionEncodings": encodings}
        reply = self.request(
            "initialize",
            {
                "processId": None,
                "rootUri": None,
                "capabilities": capabilities,
                "initializationOptions": {"settings": {"debounceMs": 0, **(settings or {})}},
            },
        )
        assert "result" in reply, reply
        self.notify("initialized", {})
        return reply["result"]

    def open(self, uri: str, text: str, version: int = 1) -> None:
        self.notify(
            "textDocument/didOpen",
            {
                "textDocument": {
                    "uri": uri,
                    "languageId": "python",
                    "version": version,
                    "text": text,
                }
            },
        )

    def close_document(self, uri: str) -> None:
        self.notify("textDocument/didClose", {"textDocument": {"uri": uri}})

    def published(self, uri: str, version: int, start: int = 0) -> list[dict[str, Any]]:
        message = self.wait_for(
            lambda m: (
                m.get("method") == "textDocument/publishDiagnostics"
                and m["params"]["uri"] == uri
                and m["params"].get("version") == version
            ),
            start=start,
        )
        return message["params"]["diagnostics"]

    def alive(self) -> bool:
        """Still running and still answering (a request round trip)."""
        if self.process.poll() is not None:
            return False
        reply = self.request(
            "textDocument/hover",
            {"textDocument": {"uri": "file:///probe.py"}, "position": {"line": 0, "character": 0}},
        )
        return "result" in reply

    def memory_kib(self) -> int:
        """The server's resident memory (Linux)."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        line = next(x for x in status.splitlines() if x.startswith("VmRSS:"))
        return int(line.split()[1])

    def stop(self) -> int:
        """Shut down politely if possible; the exit code."""
        if self.process.poll() is None:
            try:
                self.response(self.request_id("shutdown"), timeout=30)
                self.notify("exit")
                self.process.wait(timeout=30)
            except (AssertionError, OSError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait()
        self.final_log = self.log()
        self.stderr.close()
        return self.process.returncode


# --- positions in the negotiated encoding, computed independently of the server -------------

UNITS = {"utf-8": ("utf-8", 1), "utf-16": ("utf-16-le", 2), "utf-32": ("utf-32-le", 4)}


def lsp_lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def units(text: str, encoding: str) -> int:
    codec, width = UNITS[encoding]
    return len(text.encode(codec, "surrogatepass")) // width


def to_position(text: str, index: int, encoding: str) -> dict[str, int]:
    before = text[:index]
    lines = lsp_lines(before)
    return {"line": len(lines) - 1, "character": units(lines[-1], encoding)}


def assert_inside(text: str, position: dict[str, int], encoding: str, what: str) -> None:
    lines = lsp_lines(text)
    line, character = position["line"], position["character"]
    assert 0 <= line < len(lines), f"{what}: line {line} of a {len(lines)}-line text"
    boundaries = list(itertools.accumulate((units(c, encoding) for c in lines[line]), initial=0))
    assert character in boundaries, (
        f"{what}: character {character} is not a character boundary of line {line} "
        f"{lines[line]!r} ({encoding})"
    )


def assert_range_inside(text: str, rng: dict[str, Any], encoding: str, what: str) -> None:
    assert_inside(text, rng["start"], encoding, what)
    assert_inside(text, rng["end"], encoding, what)
    start, end = rng["start"], rng["end"]
    assert (start["line"], start["character"]) <= (end["line"], end["character"]), what
