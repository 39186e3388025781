"""``diagnosticMode: "workspace"``: every Python file of the workspace analysed in the
background, its findings shown without opening it, and kept current as files change.

The files are those ``torchmode check`` would check in each workspace folder (its excludes,
``.gitignore`` included), analysed in a process of their own (index_worker.py): typing in an
open document is analysed in the server's process meanwhile, at the speed it is when nothing
is indexed. The open documents are the server's: the index reads their buffers (unsaved
changes count) and never reports them; a document closed is indexed again from the disk.

What each file's analysis read (the files it imports, the files whose calls enter its
functions) is kept, and a change of one of those analyses it again:

- an edit of an open document: the indexed files that read it, a little after the document's
  own analysis (project_files.py schedules both);
- a change on disk (``workspace/didChangeWatchedFiles``): the file itself and the files that
  read it; a file created or deleted also lists the folders again and analyses the files whose
  imports name its module; a notebook, the files it imports (it may call their functions);
- an analysis that now reads a file it did not (a new import): that file, which has a new
  caller.

Diagnostics reach a client that pulls them through ``workspace/diagnostic``, answered at once
when something changed since the result ids the client holds and otherwise held until
something does (a long poll: VS Code asks again two seconds after each answer); a client that
does not pull gets ``textDocument/publishDiagnostics`` for each file whose findings changed.
Never both: the server decides once, from the client's capabilities (server.py).

The build shows as work-done progress when the client supports it.
"""

from __future__ import annotations

import asyncio
import itertools
import traceback
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types

from torchmode.analysis import import_words, module_word
from torchmode.lsp import project_files
from torchmode.lsp.index_worker import Indexed
from torchmode.lsp.isolation import AnalysisProcess, Limits, ProcessFailure
from torchmode.lsp.targets import path_of

if TYPE_CHECKING:
    from torchmode.lsp.server import TorchmodeServer

# Files per job in the index's process: few enough that an edit's invalidation waits little
# behind a batch, enough that a job's round trip is small beside its analyses.
BATCH = 16
# Below this many files to analyse, no progress is shown (an invalidation, not a build).
PROGRESS_ABOVE = 20
START_DELAY_S = 0.05
TITLE = "torchmode: indexing the workspace"


@dataclass
class Entry:
    uri: str
    diagnostics: tuple[types.Diagnostic, ...]
    depends_on: frozenset[str]
    imports: frozenset[str]
    serial: int  # bumped when its diagnostics change: its result id


class WorkspaceIndex:
    """The server's index of the workspace's files (one per server)."""

    def __init__(self, limits: Limits) -> None:
        self.process = AnalysisProcess("torchmode.lsp.index_worker", limits)
        self.active = False
        self.epoch = 0  # a new one each time the index is started: result ids of older ones
        self.listed: set[str] = set()  # the workspace's Python files, open ones included
        self.entries: dict[str, Entry] = {}  # path -> what its last analysis found
        self.pending: set[str] = set()
        self.relist = False  # the folders are to be listed again
        self.pushed: dict[str, tuple[types.Diagnostic, ...]] = {}  # uri -> last published
        # closed documents: whatever the index finds next is sent (pushed or pulled)
        self.unsure: set[str] = set()
        self.building = True  # until the first listing and its analyses are done
        self.told: list[tuple[list[str], bool]] = []  # changes on disk its process is to hear
        self._serials = itertools.count(1)
        self._task: asyncio.Task[None] | None = None
        self._start: asyncio.TimerHandle | None = None
        self._changed = asyncio.Event()
        self._tokens = itertools.count(1)

    # --- what the server tells it ---------------------------------------------------------

    def configure(self, ls: TorchmodeServer) -> None:
        """The editor's settings are read (at start-up, or changed): the index is started,
        analysed again under the new settings, or stopped."""
        if ls.client_settings.diagnostic_mode == "workspace":
            if self._task is not None:
                self._task.cancel()  # a build under the old settings
                self._task = None
            self.active = True
            self.epoch += 1
            self.relist = True
            self.building = True
            self.pending.update(self.entries)
            self._kick(ls)
        elif self.active:
            self.stop(ls)

    def stop(self, ls: TorchmodeServer | None = None) -> None:
        self.active = False
        self.epoch += 1
        if self._task is not None:
            self._task.cancel()
            self._task = None
        self.entries.clear()
        self.listed.clear()
        self.pending.clear()
        self.told.clear()
        self.unsure.clear()
        if ls is not None and not ls.pulls_diagnostics:
            for uri in [u for u in self.pushed if not self._is_open(ls, u)]:
                ls.clear([uri])
        self.pushed.clear()
        self.process.stop("the workspace index was stopped")
        self._notify()

    def paths_changed(self, ls: TorchmodeServer, paths: Iterable[str], delay_s: float) -> None:
        """These files changed (an open buffer edited, or files on disk): the indexed files
        that read them are analysed again."""
        if not self.active:
            return
        changed = set(paths)
        self.pending.update(p for p, e in self.entries.items() if e.depends_on & changed)
        if self.pending:  # most keystrokes: no indexed file reads the edited one
            self._kick(ls, delay_s)

    def files_changed(self, ls: TorchmodeServer, paths: Iterable[str]) -> None:
        """These files were saved, changed on disk, closed, or gained a caller: each is
        analysed again (if it is of the workspace and not open)."""
        if not self.active:
            return
        self.pending.update(p for p in paths if p in self.listed)
        if self.pending:
            self._kick(ls)

    def disk_changed(
        self, ls: TorchmodeServer, paths: Iterable[str], created_or_deleted: bool
    ) -> None:
        if not self.active:
            return
        paths = set(paths)
        # what the index's process keeps of them (summaries, which file imports which) first
        self.told.append((sorted(paths), created_or_deleted))
        python = {p for p in paths if p.endswith(".py")}
        notebooks = {p for p in paths if p.endswith(".ipynb")}
        self.files_changed(ls, python | notebooks)
        self.paths_changed(ls, python, 0)
        words = {module_word(p) for p in python}
        for notebook in notebooks:
            # its imports: the files it may call functions of
            words_in = _notebook_import_words(notebook)
            self.pending.update(p for p in self.entries if module_word(p) in words_in)
        if created_or_deleted:
            self.relist = True
            # imports that did not resolve may now, and those that did may not
            self.pending.update(p for p, e in self.entries.items() if e.imports & words)
        self._kick(ls)

    def closed(self, ls: TorchmodeServer, uri: str) -> bool:
        """A document was closed: True if the index speaks for it now (its last diagnostics
        stay until the file on disk is analysed)."""
        path = path_of(uri)
        if not self.active or path is None or str(path) not in self.listed:
            return False
        # What the client shows is the open document's last analysis, not the index's: the
        # index reports the file once it is analysed from disk, even with nothing found.
        self.entries.pop(str(path), None)
        self.pushed.pop(uri, None)
        self.unsure.add(uri)
        self.files_changed(ls, [str(path)])
        return True

    def notebook_opened(self, ls: TorchmodeServer, uri: str) -> None:
        """A notebook was opened: its cells show its findings now, and what the index showed
        of it in the ``.ipynb`` file goes (a text document's own analysis replaces the index's
        in the same document; a notebook's is shown in other documents, its cells)."""
        if not self.active:
            return
        if not ls.pulls_diagnostics and self.pushed.pop(uri, ()):
            ls.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=uri, diagnostics=[])
            )
        self._notify()

    # --- the analyses ---------------------------------------------------------------------

    def _kick(self, ls: TorchmodeServer, delay_s: float = START_DELAY_S) -> None:
        if self._task is not None and not self._task.done():
            return  # the running build takes the new work in its next batch
        if self._start is not None:
            self._start.cancel()
        loop = asyncio.get_running_loop()
        self._start = loop.call_later(delay_s, lambda: self._begin(ls))

    def _begin(self, ls: TorchmodeServer) -> None:
        self._start = None
        if self.active and (self._task is None or self._task.done()):
            self._task = asyncio.ensure_future(self._run(ls))

    async def _run(self, ls: TorchmodeServer) -> None:
        await ls.configured.wait()
        epoch = self.epoch
        progress = None
        try:
            while self.active and epoch == self.epoch and (self.relist or self.pending):
                while self.told:
                    await self.process.call("files_changed", *self.told.pop(0))
                if self.relist:
                    self.relist = False
                    await self._list(ls)
                todo = sorted(p for p in self.pending if not self._path_open(ls, p))
                self.pending.difference_update(self.pending)
                if progress is None and len(todo) > PROGRESS_ABOVE:
                    progress = await _Progress.start(ls, next(self._tokens), len(todo))
                elif progress is not None:
                    progress.total += len(todo)
                for start in range(0, len(todo), BATCH):
                    if epoch != self.epoch:
                        return
                    await self._analyse(ls, todo[start : start + BATCH], epoch)
                    if progress is not None:
                        progress.done += len(todo[start : start + BATCH])
                        progress.report(ls)
            if self.building:
                self.building = False
                self._notify()
        except asyncio.CancelledError:
            raise
        except Exception:
            ls.log(f"torchmode: the workspace index failed\n{traceback.format_exc()}")
        finally:
            if progress is not None:
                progress.end(ls)

    async def _list(self, ls: TorchmodeServer) -> None:
        roots = [str(root) for root in ls.workspace_directories()]
        try:
            found = set(await self.process.call("python_files", roots))
        except ProcessFailure as failure:
            ls.log(f"torchmode: the workspace's files could not be listed: {failure}")
            return
        for gone in set(self.entries) - found:
            entry = self.entries.pop(gone)
            self._show(ls, entry.uri, ())
        self.pending.update(found - self.listed)
        self.listed = found

    async def _analyse(self, ls: TorchmodeServer, paths: list[str], epoch: int) -> None:
        args = (
            ls.client_settings,
            [str(root) for root in ls.workspace_directories()],
            project_files.overlay(ls),
            ls.encoding,
        )
        try:
            results: list[Indexed] = await self.process.call("analyse_files", paths, *args)
        except ProcessFailure as failure:
            if len(paths) > 1:  # one file of the batch, alone, is the cause
                for path in paths:
                    await self._analyse(ls, [path], epoch)
                return
            ls.log(f"torchmode: {paths[0]} was not indexed: {failure}")
            results = [Indexed(paths[0], Path(paths[0]).as_uri(), (), (), frozenset())]
        if epoch != self.epoch:
            return
        newly: set[str] = set()
        for found in results:
            if found.problem:
                ls.tell_config_problem(found.problem)
            before = self.entries.get(found.path)
            depends_on = frozenset(found.depends_on)
            if before is not None:
                newly |= depends_on - before.depends_on
            changed = before is None or before.diagnostics != found.diagnostics
            serial = next(self._serials) if changed else before.serial  # type: ignore[union-attr]
            entry = Entry(found.uri, found.diagnostics, depends_on, found.imports, serial)
            self.entries[found.path] = entry
            if not self._path_open(ls, found.path):
                self._show(ls, entry.uri, entry.diagnostics)
        if newly:
            # imported now, so called maybe: open or indexed, they are analysed again
            project_files.newly_read(ls, None, newly, 0)
        self._notify()

    # --- what the client is shown ---------------------------------------------------------

    def _show(
        self, ls: TorchmodeServer, uri: str, diagnostics: tuple[types.Diagnostic, ...]
    ) -> None:
        if ls.pulls_diagnostics:
            return  # pulled: workspace_reports
        if self.pushed.get(uri, ()) == diagnostics and uri not in self.unsure:
            return
        self.unsure.discard(uri)
        self.pushed[uri] = diagnostics
        ls.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=list(diagnostics))
        )

    def result_id(self, entry: Entry) -> str:
        return f"w{self.epoch}.{entry.serial}"

    def reports(
        self, ls: TorchmodeServer, previous: dict[str, str]
    ) -> list[types.WorkspaceDocumentDiagnosticReport]:
        """The reports of the files not open: unchanged where the client holds the current
        result id, and empty ones for the files it holds a result of and the index no longer
        reports (deleted, or the index stopped)."""
        reports: list[types.WorkspaceDocumentDiagnosticReport] = []
        reported: set[str] = set()
        for entry in self.entries.values() if self.active else ():
            if self._is_open(ls, entry.uri):
                continue
            reported.add(entry.uri)
            result_id = self.result_id(entry)
            if previous.get(entry.uri) == result_id:
                reports.append(
                    types.WorkspaceUnchangedDocumentDiagnosticReport(
                        uri=entry.uri, result_id=result_id, version=None
                    )
                )
            elif entry.diagnostics or entry.uri in previous or entry.uri in self.unsure:
                self.unsure.discard(entry.uri)
                reports.append(
                    types.WorkspaceFullDocumentDiagnosticReport(
                        uri=entry.uri,
                        items=list(entry.diagnostics),
                        result_id=result_id,
                        version=None,
                    )
                )
        for uri, result_id in previous.items():
            # an open notebook's findings are in its cells: the file's own report is emptied
            if uri not in reported and result_id.startswith("w") and ls.documents.get(uri) is None:
                reports.append(
                    types.WorkspaceFullDocumentDiagnosticReport(uri=uri, items=[], version=None)
                )
        return reports

    def next_change(self) -> asyncio.Event:
        """Set at the next change of what the index reports."""
        return self._changed

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    # --- helpers --------------------------------------------------------------------------

    @staticmethod
    def _is_open(ls: TorchmodeServer, uri: str) -> bool:
        return ls.is_open(uri)

    def _path_open(self, ls: TorchmodeServer, path: str) -> bool:
        entry = self.entries.get(path)
        uri = entry.uri if entry is not None else Path(path).as_uri()
        return self._is_open(ls, uri)


class _Progress:
    """Work-done progress of a build, when the client takes it."""

    def __init__(self, token: str, total: int) -> None:
        self.token = token
        self.total = total
        self.done = 0

    @staticmethod
    async def start(ls: TorchmodeServer, number: int, total: int) -> _Progress | None:
        window = ls.client_capabilities.window
        if window is None or not window.work_done_progress:
            return None
        token = f"torchmode-index-{number}"
        try:
            await asyncio.wait_for(ls.work_done_progress.create_async(token), 10.0)
        except Exception:
            return None
        progress = _Progress(token, total)
        ls.work_done_progress.begin(
            token,
            types.WorkDoneProgressBegin(
                title=TITLE, message=f"0/{total} files", percentage=0, cancellable=False
            ),
        )
        return progress

    def report(self, ls: TorchmodeServer) -> None:
        percentage = min(100, 100 * self.done // max(self.total, 1))
        ls.work_done_progress.report(
            self.token,
            types.WorkDoneProgressReport(
                message=f"{self.done}/{self.total} files", percentage=percentage
            ),
        )

    def end(self, ls: TorchmodeServer) -> None:
        ls.work_done_progress.end(
            self.token, types.WorkDoneProgressEnd(message=f"{self.done} files indexed")
        )


def _notebook_import_words(path: str) -> frozenset[str]:
    try:
        return import_words(Path(path).read_text("utf-8", errors="replace"), notebook=True)
    except OSError:
        return frozenset()
