"""Reading Python files as text and writing them back byte-faithfully.

A file is decoded with its PEP 263 encoding (or BOM), and CRLF files are analysed with
"\\n" line ends and written back with CRLF, so a fix changes only what it fixes. A fixed
file is written only if it is still what was read, at the file a symbolic link points
to, keeping its owner, mode and hard links, and never when it is read-only.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import stat
import tempfile
import tokenize
from dataclasses import dataclass
from pathlib import Path

from torchmode.analysis import MAX_SOURCE_BYTES

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

    def as_in_file(self, text: str) -> str:
        """``text`` (an analysed text) with the file's line ends and BOM: what a diff must
        show for ``patch`` to apply it to the file."""
        if self.newline == "\r\n":
            text = text.replace("\n", "\r\n")
        return "\ufeff" + text if self.encoding == "utf-8-sig" else text

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


@dataclass(frozen=True)
class Snapshot:
    """A file as it was read: a fix is written only over that same file."""

    size: int
    mtime_ns: int
    digest: bytes

    @classmethod
    def of(cls, status: os.stat_result, data: bytes) -> Snapshot:
        return cls(status.st_size, status.st_mtime_ns, hashlib.sha256(data).digest())


def read_bytes(path: Path, limit: int = MAX_FILE_BYTES) -> bytes:
    return read_with_snapshot(path, limit)[0]


def read_with_snapshot(path: Path, limit: int = MAX_FILE_BYTES) -> tuple[bytes, Snapshot]:
    try:
        # The status is taken before reading: a write during the read changes the
        # modification time after it, so the fix of a half-old text is never written.
        status = path.stat()
        if status.st_size > limit:
            raise too_large(status.st_size, limit)
        data = path.read_bytes()
        return data, Snapshot.of(status, data)
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
        # A cookie naming a codec that a package registers at run time
        # (``# -*- coding: future_fstrings -*-``): read the file as UTF-8, as ruff does.
        if not error.msg.startswith("unknown encoding"):
            raise SourceError(f"bad encoding declaration: {error.msg}") from None
        encoding = "utf-8"
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


class NotWritten(Exception):
    """The fixed file was not written; the message is one line, without the path."""


CHANGED = "not fixed: changed while it was being checked (run torchmode again)"
READ_ONLY = "not fixed: the file is read-only (no permission to write it)"


def write_fixed(path: Path, data: bytes, before: Snapshot) -> None:
    """Write the fixed ``data`` over ``path`` if it still holds what ``before`` describes.

    The file a symbolic link points to is the one rewritten (the link stays a link). It is
    replaced atomically (a temporary file, then a rename) with its owner and mode, unless
    it has several hard links (a rename would split them), or the directory cannot take
    a temporary file or the owner cannot be kept: then it is overwritten in place, as an
    editor would. Raises NotWritten (read-only, changed since it was read) or OSError.
    """
    target = Path(os.path.realpath(path, strict=True))
    status = _unchanged(target, before)
    if not _writable(target, status):
        raise NotWritten(READ_ONLY)
    if status.st_nlink > 1 or not _replace(target, data, status):
        _overwrite(target, data)


def _unchanged(target: Path, before: Snapshot) -> os.stat_result:
    """The file's status, if its size, modification time and content are as read."""
    with open(target, "rb") as file:
        status = os.fstat(file.fileno())
        if (status.st_size, status.st_mtime_ns) != (before.size, before.mtime_ns):
            raise NotWritten(CHANGED)
        if hashlib.sha256(file.read()).digest() != before.digest:
            raise NotWritten(CHANGED)
    return status


def _writable(target: Path, status: os.stat_result) -> bool:
    effective = os.access in os.supports_effective_ids
    if not os.access(target, os.W_OK, effective_ids=effective):
        return False
    # access() always says yes to root: a file whose owner took away its own write
    # permission is read-only to root too.
    is_root = hasattr(os, "geteuid") and os.geteuid() == 0
    return not is_root or bool(status.st_mode & stat.S_IWUSR)


def _replace(target: Path, data: bytes, status: os.stat_result) -> bool:
    """Replace ``target`` by a new file with ``data``, its owner and its mode; False (and
    nothing changed) when the directory takes no new file or the owner cannot be kept."""
    try:
        fd, temp = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name}.", suffix=".torchmode"
        )
    except PermissionError:
        return False
    try:
        with os.fdopen(fd, "wb") as file:
            if not _keep_owner(file.fileno(), status):
                os.unlink(temp)
                return False
            # after the owner: chown clears the set-user-ID and set-group-ID bits
            os.fchmod(file.fileno(), stat.S_IMODE(status.st_mode))
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    return True


def _keep_owner(fd: int, status: os.stat_result) -> bool:
    new = os.fstat(fd)
    if (new.st_uid, new.st_gid) == (status.st_uid, status.st_gid):
        return True
    try:
        os.fchown(fd, status.st_uid, status.st_gid)
    except PermissionError:
        return False
    return True


def _overwrite(target: Path, data: bytes) -> None:
    # Not atomic, but the only way to keep the file itself: its inode, links and owner.
    with open(target, "r+b") as file:
        file.write(data)
        file.truncate()
        file.flush()
        os.fsync(file.fileno())
