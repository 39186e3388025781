"""The other files of the project a document's analysis reads, and what the editor does when
one of them changes.

``from evaluate import validate`` in ``train.py``: what ``validate(model)`` does is read from
``evaluate.py`` (engine/project.py). Here:

- the open buffers take precedence over the disk, unsaved changes included: every analysis is
  given a snapshot of the open ``.py`` documents (``overlay``), which the analysis process
  (isolation.py) receives with the document's settings;
- each analysis says which files it read (``Analysis.depends_on``); an edit of one of them
  analyses the open documents that read it again (and those that read those, while the
  summaries they read can change: project.py keeps a summary while its own file and the files
  it imports are unchanged), scheduled and debounced like an edit of their own, a little
  later, so that the edited document's own analysis goes first;
- files changed on disk (``workspace/didChangeWatchedFiles``, registered for ``**/*.py``) are
  collected for a moment, as a ``git checkout`` changes many at once, then handled together;
- a pushed-to client gets the new diagnostics of each document; a pulling client, once the
  batch is analysed, one ``workspace/diagnostic/refresh`` (never both).

A document analysed again for a change elsewhere has the same version: ``inputs`` counts such
changes per document, and a result is current only for the count it was analysed under.
"""

from __future__ import annotations

import asyncio
from collections.abc import Hashable, Iterable
from typing import TYPE_CHECKING

from lsprotocol import types

from torchmode.analysis import Overlay, project_files_changed
from torchmode.lsp import inlay_hints
from torchmode.lsp.targets import analysable, path_of

if TYPE_CHECKING:
    from torchmode.lsp.server import TorchmodeServer

# Dependents are analysed this long after the edited document's own debounce: their analyses
# do not come between the keystrokes of someone typing, ahead of the edited file's own.
DEPENDENTS_LAG_MS = 250
# How long changes on disk are collected before they are handled together.
DISK_SETTLE_MS = 300
# Scheduler keys of the jobs here (no document URI starts with a NUL).
_REFRESH = "\0project-files:refresh"
_DISK = "\0project-files:disk"
WATCHED = ("**/*.py", "**/*.ipynb", "**/pyproject.toml")


class ProjectFiles:
    """The server's state: which open document read which files, and changes not yet handled."""

    def __init__(self) -> None:
        self.reads: dict[str, frozenset[str]] = {}  # key -> paths its last analysis read
        self.inputs: dict[str, int] = {}  # key -> changes to what it reads so far
        # a document was analysed again for such a change since the last refresh
        self.refresh_due = False
        # to be analysed again whatever they read (files were created or deleted)
        self.unconditional: set[str] = set()
        self._on_disk: set[str] = set()
        self._created_or_deleted = False
        self._awaited: set[str] = set()  # analysed again, before the next refresh

    def analysed(self, key: str, depends_on: Iterable[str], elsewhere: bool) -> frozenset[str]:
        """Document ``key`` was analysed; ``elsewhere``: for a change of a file it imports.
        Returns the files it reads now and did not before: it now imports them, and so calls
        their functions, whose entry may change with it (engine/callers.py)."""
        before = self.reads.get(key)
        now = self.reads[key] = frozenset(depends_on)
        if elsewhere:
            self.refresh_due = True
        return now - before if before is not None else frozenset()

    def forget(self, key: str) -> None:
        self.reads.pop(key, None)
        self.inputs.pop(key, None)
        self.unconditional.discard(key)

    def dependents(self, paths: Iterable[str]) -> list[str]:
        """The open documents that read these files, and those that read theirs, in turn."""
        found: list[str] = []
        todo = set(paths)
        seen = set(todo)
        while todo:
            readers = [key for key, read in self.reads.items() if read & todo and key not in found]
            found.extend(readers)
            todo = {str(path) for key in readers if (path := path_of(key)) is not None} - seen
            seen |= todo
        return found


def register(server: TorchmodeServer) -> None:
    server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)(did_change_watched_files)


def watchers() -> list[types.FileSystemWatcher]:
    return [types.FileSystemWatcher(glob_pattern=pattern) for pattern in WATCHED]


def overlay(ls: TorchmodeServer) -> Overlay:
    """The open Python files' texts, by path, as their analyses read them: a snapshot taken
    on the message loop (the analysis runs in another thread, or process, meanwhile)."""
    buffers: dict[str, tuple[Hashable, str]] = {}
    for document in ls.documents:
        if document.notebook_uri is None and document.uri.endswith(".py"):
            path = path_of(document.uri)
            if path is not None:
                version = (document.serial, document.version)
                buffers[str(path)] = (version, analysable(document.text))
    return buffers


def edited(ls: TorchmodeServer, uri: str, delay_ms: int) -> None:
    """An open Python file changed (edited, opened, closed): what it is to the other files'
    analyses changed with it."""
    path = path_of(uri)
    if path is None or path.suffix != ".py":
        return
    _analyse_again(ls, ls.project_files.dependents([str(path)]), delay_ms + DEPENDENTS_LAG_MS)
    ls.workspace_index.paths_changed(ls, [str(path)], (delay_ms + DEPENDENTS_LAG_MS) / 1000)


def newly_read(ls: TorchmodeServer, key: str | None, paths: Iterable[str], delay_ms: int) -> None:
    """Document ``key`` (or a file the workspace index analysed) now imports these files:
    those open, and those indexed, are analysed again, as their functions may have a new
    caller."""
    wanted = set(paths)
    if not wanted:
        return
    ls.workspace_index.files_changed(ls, wanted)
    keys = [
        other
        for document in ls.documents
        if (path := path_of(document.uri)) is not None
        and str(path) in wanted
        and (other := ls.key_of(document.uri)) is not None
        and other != key
    ]
    # what they read did not include the new caller: "reads the same" cannot tell
    ls.project_files.unconditional.update(keys)
    _analyse_again(ls, keys, delay_ms + DEPENDENTS_LAG_MS)


def closed(ls: TorchmodeServer, uri: str) -> None:
    ls.project_files.forget(uri)
    path = path_of(uri)
    if path is not None and path.suffix == ".py":
        # what was kept of its buffer (its trees) goes; the disk speaks for it again
        project_files_changed([str(path)])
        edited(ls, uri, 0)


def did_change_watched_files(
    ls: TorchmodeServer, params: types.DidChangeWatchedFilesParams
) -> None:
    configurations = [c.uri for c in params.changes if c.uri.endswith("pyproject.toml")]
    if configurations:
        ls.configuration_changed(configurations)
    state = ls.project_files
    for change in params.changes:
        path = path_of(change.uri)
        if path is None or path.suffix not in (".py", ".ipynb"):
            continue
        state._on_disk.add(str(path))
        if change.type != types.FileChangeType.Changed:
            state._created_or_deleted = True
    if state._on_disk:
        ls.scheduler.schedule(_DISK, DISK_SETTLE_MS / 1000, lambda: _disk_settled(ls))


async def _disk_settled(ls: TorchmodeServer) -> None:
    state = ls.project_files
    changed, state._on_disk = state._on_disk, set()
    moved, state._created_or_deleted = state._created_or_deleted, False
    ls.workspace_index.disk_changed(ls, changed, moved)
    paths = {path for path in changed if path.endswith(".py")}
    project_files_changed(changed, created_or_deleted=moved)
    # An open file's buffer wins over its file: a change on disk changes nothing for it (the
    # editor sends the buffer's new text if it reloads it).
    open_paths = set(overlay(ls))
    on_disk = [path for path in paths if path not in open_paths]
    if moved:
        # an import that did not resolve may now, or one that did may not: everything open
        keys = {key for document in ls.documents if (key := ls.key_of(document.uri))}
        affected = sorted(keys)
        ls.project_files.unconditional.update(affected)
    else:
        affected = ls.project_files.dependents(on_disk)
    _analyse_again(ls, affected, 0)


def _analyse_again(ls: TorchmodeServer, keys: list[str], delay_ms: int) -> None:
    if not keys:
        return
    for key in keys:
        ls.project_files.inputs[key] = ls.project_files.inputs.get(key, 0) + 1
        ls.request_analysis(key, delay_ms)
    # one refresh for the documents of this change and of those whose refresh it supersedes
    ls.project_files._awaited.update(keys)
    ls.scheduler.schedule(_REFRESH, delay_ms / 1000, lambda: _refresh_when_done(ls))


async def _refresh_when_done(ls: TorchmodeServer) -> None:
    """Once the documents analysed again are: a pulling client is asked to pull (the pushed
    one had each document's diagnostics sent), and inlay hints are asked for again (the mode
    a call leaves a model in may have changed) by any client that can be asked."""
    keys, ls.project_files._awaited = ls.project_files._awaited, set()
    pending = [task for key in keys if (task := ls.scheduler.pending(key)) is not None]
    if pending:
        await asyncio.wait(pending)
    if not ls.project_files.refresh_due:
        return  # what they read is unchanged (most keystrokes there): nothing new to show
    ls.project_files.refresh_due = False
    if ls.client_settings.run == "onType":
        ls.refresh_pulled()  # with "onSave", each result asked for its refresh (server.show)
    if ls.client_settings.inlay_hints:
        inlay_hints.refresh(ls)
