"""Reading Python files as text and writing them back byte-faithfully.

A file is decoded with its PEP 263 encoding (or BOM), and CRLF files are analysed with
"\\n" line ends and written back with CRLF, so a fix changes only what it fixes.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
import tokenize
from dataclasses import dataclass
from pathlib import Path

from torchmode.engine.limits import MAX_SOURCE_BYTES

# Above this size a file is not analysed (a syntax tree costs ~16 kB per line): it is
# reported as not checked rather than exhausting memory. The engine (and so the language
# server) refuses the same.
MAX_FILE_BYTES = MAX_SOURCE_BYTES
# Notebooks carry their outputs (images, tables): the limit applies to their code cells,
# and this one only to the JSON file as a whole.
MAX_NOTEBOOK_BYTES = 200 * 1024 * 1024


class SourceError(Exception):
    """A file that cannot be checked; the message is one line, without the path."""


@dataclass(frozen=True)
class SourceText:
    text: str  # with "\n" line ends when the file uses CRLF throughout
    encoding: str
    newline: str  # "\r\n" when the file's lines all end that way, else "\n"

    def encode(self, text: str) -> bytes:
        if self.newline == "\r\n":
            text = text.replace("\n", "\r\n")
        try:
            return text.encode(self.encoding)
        except UnicodeEncodeError as error:
            raise SourceError(
                f"the fixed text cannot be encoded as {self.encoding}: {error.reason}"
            ) from None


def too_large(size: int, limit: int = MAX_FILE_BYTES) -> SourceError:
    return SourceError(
        f"too large to check ({size / 1e6:.1f} MB; the limit is {limit / 1e6:.0f} MB)"
    )


def read_bytes(path: Path, limit: int = MAX_FILE_BYTES) -> bytes:
    try:
        size = path.stat().st_size
        if size > limit:
            raise too_large(size, limit)
        return path.read_bytes()
    except FileNotFoundError:
        raise SourceError("no such file or directory") from None
    except IsADirectoryError:
        raise SourceError("is a directory") from None
    except OSError as error:
        raise SourceError(f"cannot read: {error.strerror or error}") from None


def _undecodable(encoding: str, error: UnicodeDecodeError) -> str:
    return f"cannot decode as {encoding}: {error.reason} at byte offset {error.start}"


def decode(data: bytes) -> SourceText:
    nul = data.find(b"\0")
    if nul >= 0:
        raise SourceError(f"contains a NUL byte at offset {nul} (not a text file)")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as error:
        # detect_encoding also fails on undecodable bytes in the first two lines: say which.
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as decode_error:
            raise SourceError(_undecodable("utf-8", decode_error)) from None
        raise SourceError(f"bad encoding declaration: {error.msg}") from None
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as error:
        raise SourceError(_undecodable(encoding, error)) from None
    except LookupError:
        raise SourceError(f"unknown encoding {encoding!r}") from None
    newline = "\n"
    crlf = text.count("\r\n")
    if crlf and crlf == text.count("\n"):
        newline = "\r\n"
        text = text.replace("\r\n", "\n")
    return SourceText(text, encoding, newline)


def write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path``'s content: a temporary file in the same directory, then a rename,
    so a crash never leaves a half-written file. Keeps the file's permission bits."""
    mode = path.stat().st_mode & 0o7777
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".torchmode")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
