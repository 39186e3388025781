"""The open text documents (files and notebook cells), kept with LSP line semantics."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field

from lsprotocol import types

from torchmode.lsp.positions import LineIndex

_OPENED = itertools.count()


@dataclass
class Document:
    uri: str
    text: str
    version: int | None = None
    language_id: str | None = None
    notebook_uri: str | None = None  # set for a notebook cell
    # told apart from the same file opened before: versions start again at each opening
    serial: int = field(default_factory=lambda: next(_OPENED))
    _index: LineIndex | None = field(default=None, repr=False)

    @property
    def index(self) -> LineIndex:
        if self._index is None or self._index.text is not self.text:
            self._index = LineIndex(self.text)
        return self._index

    def apply(self, change: types.TextDocumentContentChangeEvent, encoding: str) -> None:
        if isinstance(change, types.TextDocumentContentChangePartial):
            index = self.index
            rng = index.range_from_client(change.range, encoding)
            start, end = index.offset(rng.start), index.offset(rng.end)
            self.text = self.text[:start] + change.text + self.text[max(start, end) :]
        else:
            self.text = change.text


class DocumentStore:
    def __init__(self) -> None:
        self._documents: dict[str, Document] = {}

    def open(self, document: Document) -> None:
        self._documents[document.uri] = document

    def get(self, uri: str) -> Document | None:
        return self._documents.get(uri)

    def close(self, uri: str) -> Document | None:
        return self._documents.pop(uri, None)

    def change(
        self,
        uri: str,
        version: int | None,
        changes: list[types.TextDocumentContentChangeEvent],
        encoding: str,
    ) -> Document | None:
        document = self._documents.get(uri)
        if document is None:
            return None
        for change in changes:
            document.apply(change, encoding)
        document.version = version
        return document

    def __iter__(self) -> Iterator[Document]:
        return iter(list(self._documents.values()))
