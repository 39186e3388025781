"""``torchmode lsp``: the language server. Handlers convert; the engine analyses.

Run it with ``python -m torchmode.lsp`` (stdio; ``--stdio`` is accepted as editors append
it) or ``--tcp HOST:PORT``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
import threading
import traceback
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, BinaryIO

from lsprotocol import types
from pygls.exceptions import JsonRpcMethodNotFound
from pygls.io_ import StdoutWriter, run_async
from pygls.lsp.server import LanguageServer

from torchmode import __version__
from torchmode.analysis import IDLE_COLLECT_S, Analysis, Session, Skipped, keep_summary
from torchmode.config import in_project
from torchmode.findings import Position
from torchmode.lsp import (
    inlay_hints,
    notebook_sync,
    project_files,
    pull_diagnostics,
    queries,
    text_documents,
)
from torchmode.lsp.configuration import (
    ClientSettings,
    parse_client_settings,
    section_of,
    settings_for,
)
from torchmode.lsp.diagnostics import Conversions, diagnostics_by_uri
from torchmode.lsp.documents import DocumentStore
from torchmode.lsp.framing import FrameReader, ReadSome
from torchmode.lsp.isolation import (
    AnalysisProcess,
    JobFailed,
    Limits,
    NotHeld,
    OutOfMemory,
    ProcessFailure,
    Stopped,
    TimeLimit,
)
from torchmode.lsp.positions import UTF16
from torchmode.lsp.protocol import TorchmodeProtocol, is_unparsable_body
from torchmode.lsp.results import NOT_ANALYSED, Notice, Result, next_result
from torchmode.lsp.scheduling import Scheduler
from torchmode.lsp.targets import NotebookTarget, Target, TextTarget, analysable, path_of
from torchmode.lsp.workspace_index import WorkspaceIndex
from torchmode.settings import Settings

# Where the user raises the limit a document's analysis ran into (isolation.Limits).
LIMIT_VARIABLES = {
    TimeLimit: "TORCHMODE_ANALYSIS_TIME_LIMIT_S",
    OutOfMemory: "TORCHMODE_ANALYSIS_MEMORY_LIMIT_MB",
}

# Bounded waits on the client at start-up: one that never answers must not stall analysis.
CLIENT_PATIENCE_S = 10.0

NOTEBOOK_SYNC = types.NotebookDocumentSyncOptions(
    notebook_selector=[
        types.NotebookDocumentFilterWithCells(
            notebook="jupyter-notebook", cells=[types.NotebookCellLanguage(language="python")]
        )
    ],
    save=True,
)


class TorchmodeServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__(
            "torchmode",
            __version__,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
            notebook_document_sync=NOTEBOOK_SYNC,
            protocol_cls=TorchmodeProtocol,
        )
        self.documents = DocumentStore()
        self.results: dict[str, Result] = {}
        # per open text document: its findings as last converted (diagnostics.Conversions)
        self.conversions: dict[str, Conversions] = {}
        self.scheduler = Scheduler()
        self.session = Session()
        self._collection: asyncio.TimerHandle | None = None
        # Documents too big for this process are analysed in another (isolation.py); the keys
        # of the open documents analysed there: when none is left, that process is stopped.
        self.limits = Limits.from_environment()
        self.analysis_process = AnalysisProcess("torchmode.lsp.worker", self.limits)
        self.isolated: set[str] = set()
        self._retiring: set[asyncio.Task[None]] = set()
        self.client_settings = ClientSettings()
        # Bumped when settings change: results of an older generation are outdated even
        # for an unchanged text.
        self.generation = 0
        # Analyses wait until the editor's settings have been asked for at start-up.
        self.configured = asyncio.Event()
        # (version, generation) whose analysis raised: not retried until something changes.
        self.failed: dict[str, tuple[int | None, int]] = {}
        self._told: set[str] = set()
        # Problems of pyproject.toml files told so far: each is told once, and again only
        # after a change of such a file (the user saved it, and it is still, or again, wrong).
        self._config_told: set[str] = set()
        # The other files each document's analysis reads (project_files.py).
        self.project_files = project_files.ProjectFiles()
        # diagnosticMode "workspace": the files not open (workspace_index.py)
        self.workspace_index = WorkspaceIndex(self.limits)

    # --- transports: pygls' own, reading through FrameReader ----------------------------
    # After a message with a wrong Content-Length, pygls' reader never found another one
    # (framing.py): the server stayed alive but deaf.

    def start_io(self, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> None:
        source = stdin or sys.stdin.buffer
        self._stop_event = threading.Event()
        self.protocol.set_writer(StdoutWriter(stdout or sys.stdout.buffer))

        async def read_some(size: int) -> bytes:
            # read1: what has arrived, where read(size) would wait for all of it
            read1 = source.read1  # type: ignore[union-attr]  # BinaryIO declares no read1
            return await asyncio.get_running_loop().run_in_executor(self.thread_pool, read1, size)

        try:
            asyncio.run(self._serve(read_some))
        except BrokenPipeError:
            logging.getLogger(__name__).error("the connection to the client is lost")
        except (KeyboardInterrupt, SystemExit):
            pass
        finally:
            self.shutdown()

    def start_tcp(self, host: str, port: int) -> None:
        self._stop_event = threading.Event()

        async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.protocol.set_writer(writer)  # type: ignore[arg-type]
            await self._serve(reader.read)
            self.shutdown()

        async def serve() -> None:
            self._server = await asyncio.start_server(connection, host, port)
            async with self._server:
                await self._server.serve_forever()

        with contextlib.suppress(asyncio.CancelledError):
            asyncio.run(serve())

    async def _serve(self, read_some: ReadSome) -> None:
        assert self._stop_event is not None
        await run_async(
            stop_event=self._stop_event,
            reader=FrameReader(read_some),
            protocol=self.protocol,
            # pygls' own logger, whose records main() filters
            logger=logging.getLogger("pygls.server"),
            error_handler=self.report_server_error,
        )

    # --- what the client can do ------------------------------------------------------

    @property
    def encoding(self) -> str:
        return str(self.server_capabilities.position_encoding or UTF16)

    @property
    def pulls_diagnostics(self) -> bool:
        text = self.client_capabilities.text_document
        return bool(text and text.diagnostic is not None)

    def _workspace_capability(self, name: str) -> Any:
        workspace = self.client_capabilities.workspace
        return getattr(workspace, name, None) if workspace else None

    # --- messages to the user -----------------------------------------------------------

    def log(self, message: str, kind: types.MessageType = types.MessageType.Log) -> None:
        self.window_log_message(types.LogMessageParams(type=kind, message=message))

    def tell_once(self, message: str) -> None:
        """Show a problem of the editor's settings once, not on every keystroke."""
        self.log(message, types.MessageType.Warning)
        if message not in self._told:
            self._told.add(message)
            self.window_show_message(
                types.ShowMessageParams(type=types.MessageType.Warning, message=message)
            )

    def tell_config_problem(self, problem: str) -> None:
        """A pyproject.toml's invalid ``[tool.torchmode]`` (the problem names the file): shown
        and logged once, not on every keystroke. Analysis goes on without that file's table:
        a broken configuration must not look like a server that found nothing."""
        message = (
            f"torchmode: {problem}. Until it is fixed, torchmode ignores this configuration "
            "and uses its default settings (with the editor's torchmode settings)."
        )
        if message in self._config_told:
            return
        self._config_told.add(message)
        self.log(message, types.MessageType.Error)
        self.window_show_message(
            types.ShowMessageParams(type=types.MessageType.Error, message=message)
        )

    def check_configuration(self, directories: Sequence[Path]) -> None:
        """Tell what is wrong with the configuration of these folders, before any file of
        theirs is analysed (the workspace at start-up, a pyproject.toml that changed)."""
        for directory in directories:
            _, problem = settings_for(directory, self.client_settings)
            if problem:
                self.tell_config_problem(problem)

    def configuration_changed(self, uris: Sequence[str]) -> None:
        """A pyproject.toml changed: its problems are told again, and everything is
        analysed again with what it now says."""
        self._config_told.clear()
        paths = [path for uri in uris if (path := path_of(uri)) is not None]
        folders = [path.parent for path in paths if path.parent.is_dir()]
        self.check_configuration([*self.workspace_directories(), *folders])
        self.reanalyse_all()

    def workspace_directories(self) -> list[Path]:
        uris = [folder.uri for folder in self.workspace.folders.values()]
        if not uris and self.workspace.root_uri:
            uris = [self.workspace.root_uri]
        return [path for uri in uris if (path := path_of(uri)) is not None and path.is_dir()]

    def report_server_error(self, error: Exception, source: Any) -> None:
        # pygls' default pops up a message per failure; a bug hit on every keystroke
        # would bury the user in them, so it goes to the log only.
        if is_unparsable_body(error):
            # Only pygls' reader loop reports these: the client sent a body that is not JSON.
            assert isinstance(self.protocol, TorchmodeProtocol)
            self.protocol.unparsable_body(error)
            self.log(f"torchmode: a message from the client is not JSON: {error}")
        elif isinstance(error, JsonRpcMethodNotFound):
            self.log(f"torchmode: {error.message} (answered with an error)")
        else:
            self.log(f"torchmode internal error: {error!r}", types.MessageType.Error)

    # --- targets, analysis and results --------------------------------------------------

    def key_of(self, uri: str) -> str | None:
        """The URI analysis results are kept under: the notebook's for a cell."""
        document = self.documents.get(uri)
        if document is None:
            return None
        return document.notebook_uri or uri

    def snapshot(self, key: str) -> Target | None:
        document = self.documents.get(key)
        if document is not None and document.notebook_uri is None:
            return TextTarget(key, document.version, analysable(document.text), document.index)
        notebook = self.workspace.get_notebook_document(notebook_uri=key)
        if notebook is None:
            return None
        cells = [
            (cell.document, doc.text)
            for cell in notebook.cells
            if cell.kind == types.NotebookCellKind.Code
            and (doc := self.documents.get(cell.document)) is not None
            and doc.language_id in (None, "python")
        ]
        return NotebookTarget.of(key, notebook.version, cells)

    def version_of(self, key: str) -> int | None:
        document = self.documents.get(key)
        if document is not None:
            return document.version
        notebook = self.workspace.get_notebook_document(notebook_uri=key)
        return notebook.version if notebook else None

    def is_open(self, key: str) -> bool:
        return self.documents.get(key) is not None or (
            self.workspace.get_notebook_document(notebook_uri=key) is not None
        )

    def request_analysis(self, key: str, delay_ms: int = 0) -> None:
        self.scheduler.schedule(key, delay_ms / 1000, lambda: self._analyse(key))

    def refresh_pulled(self) -> None:
        """Ask a pulling client to pull again (results changed without an edit)."""
        refresh = self._workspace_capability("diagnostics")
        if self.pulls_diagnostics and refresh is not None and refresh.refresh_support:
            self.workspace_diagnostic_refresh(None)

    def is_current(self, result: Result | None, key: str) -> bool:
        return (
            result is not None
            and result.version == self.version_of(key)
            and result.generation == self.generation
            and result.inputs == self.project_files.inputs.get(key, 0)
        )

    async def _analyse(self, key: str) -> None:
        await self.configured.wait()
        generation = self.generation
        target = self.snapshot(key)
        if target is None:
            return
        settings, problem = settings_for(target.path, self.client_settings)
        if problem:
            self.tell_config_problem(problem)
        if target.path is not None:
            # with the functions it imports from the workspace's other files, their open
            # buffers first (project_files.py)
            buffers = project_files.overlay(self)
            imported = bool(self.project_files.dependents([str(target.path)]))
            roots = self.workspace_directories()
            settings = in_project(settings, target.path, roots, buffers, imported)
        inputs = self.project_files.inputs.get(key, 0)
        previous = self.results.get(key)
        # analysed again for a change of a file it imports, not because it is worked on
        elsewhere = (
            previous is not None
            and (previous.version, previous.generation) == (target.version, generation)
            and previous.inputs != inputs
        )
        if elsewhere and previous is not None and await self._stands(key, previous, settings):
            if self.is_outdated(key, target, generation):
                return  # a newer edit or setting is on its way
            if self.results.get(key) is previous:
                self.results[key] = replace(previous, inputs=inputs)
                return
        if self.limits.isolates(target.text):
            await self._analyse_isolated(key, target, settings, generation, inputs, elsewhere)
            return
        if key in self.isolated:
            self.leave_isolation(key)  # edited down to a size this process analyses
        try:
            # the trees of a document analysed for a change elsewhere must not push out those
            # of the document being edited (memory.py)
            cache = self.session.document_cache(key, recent=not elsewhere)
            analysis: Analysis = await self.scheduler.in_worker(
                self.session.analyze_document, target.text, settings, cache
            )
        except Exception:
            self.failed[key] = (target.version, generation)
            self.log(
                f"torchmode: analysis of {key} failed\n{traceback.format_exc()}",
                types.MessageType.Error,
            )
            return
        if self.is_outdated(key, target, generation):
            return  # a newer edit or setting is on its way: never show outdated results
        result = next_result(self.results.get(key), target, settings, analysis, generation, inputs)
        newly = self.project_files.analysed(key, analysis.depends_on, elsewhere)
        project_files.newly_read(self, key, newly, 0)
        if not self.session.keeps(key, cache):
            # a one-off cache (see above): the findings stay, the trees go at once
            result = result.slimmed()
            self.scheduler.in_worker_later(self.session.release, analysis, cache)
        self.results[key] = result
        self.keep_memory_bounded()
        self.show(result)

    async def _stands(self, key: str, previous: Result, settings: Settings) -> bool:
        """Whether the last result stands after a change of the files it imports from: what
        they give it (their functions' summaries) is unchanged, as after most keystrokes
        there. Asked in the analysis worker, where summaries are computed and kept."""
        if key in self.project_files.unconditional:
            self.project_files.unconditional.discard(key)
            return False  # files were created or deleted: its imports may resolve elsewhere
        try:
            return await self.scheduler.in_worker(
                self.session.reads_the_same, previous.analysis, settings
            )
        except Exception:
            self.log(f"torchmode: {key}\n{traceback.format_exc()}", types.MessageType.Error)
            return False

    def is_outdated(self, key: str, target: Target, generation: int) -> bool:
        return (
            not self.is_open(key)
            or self.version_of(key) != target.version
            or generation != self.generation
        )

    def show(self, result: Result) -> None:
        if not self.pulls_diagnostics:
            self.publish(result)
        elif self.client_settings.run == "onSave":
            self.refresh_pulled()  # pulls in between answered with the saved text's results
        inlay_hints.shown(self, result)

    # --- documents analysed in the analysis process (isolation.py) ----------------------
    # The message loop only waits on a pipe meanwhile, and this process's analysis thread
    # goes on with the other documents. That process holds each document's cache and full
    # result: hover and code actions are asked of it (``in_analysis_process``); the result
    # kept here has the findings to show.

    async def _analyse_isolated(
        self,
        key: str,
        target: Target,
        settings: Settings,
        generation: int,
        inputs: int,
        elsewhere: bool,
    ) -> None:
        if key not in self.isolated:
            self.isolated.add(key)
            self._drop_local(key)
        try:
            plain = await self.analysis_process.call(
                "analyse",
                key,
                target,
                settings,
                generation,
                wanted=lambda: not self.is_outdated(key, target, generation),
            )
        except Stopped:
            return  # closed or changed meanwhile, or this server is shutting down
        except JobFailed as failure:
            self.failed[key] = (target.version, generation)
            self.log(
                f"torchmode: analysis of {key} failed\n{failure.message}", types.MessageType.Error
            )
            return
        except ProcessFailure as failure:  # a limit, or the process died
            if self.is_outdated(key, target, generation):
                return
            message = f"torchmode did not analyse this file: {failure.message}"
            variable = LIMIT_VARIABLES.get(type(failure))
            if variable is not None:
                message += f" (set {variable} in the server's environment to allow more)"
            self.log(f"torchmode: {key}: {failure.message}", types.MessageType.Warning)
            at = Position(0, 0)
            analysis = Analysis(target.text, [], Skipped(message, at))
            notice = Notice(NOT_ANALYSED, message, at)
            result = Result(
                target,
                settings,
                analysis,
                (),
                (),
                generation,
                notice=notice,
                isolated=True,
                inputs=inputs,
            )
        else:
            if self.is_outdated(key, target, generation):
                return
            analysis = Analysis(
                target.text,
                list(plain.shown),
                plain.syntax_error,
                depends_on=plain.depends_on,
                read=plain.read,
            )
            result = Result(
                target,
                settings,
                analysis,
                plain.shown,
                (),
                generation,
                notice=plain.notice,
                isolated=True,
                inputs=inputs,
            )
            newly = self.project_files.analysed(key, plain.depends_on, elsewhere)
            project_files.newly_read(self, key, newly, 0)
            if plain.summary is not None and target.path is not None:
                # summarised there: the documents that import it need not analyse it here
                keep_summary(str(target.path), plain.summary)
        self.results[key] = result
        self.show(result)

    def _drop_local(self, key: str) -> None:
        """What this process holds of a document that moves to the analysis process."""
        cache = self.session.forget(key)
        result = self.results.get(key)
        if result is not None and not result.slim and not result.isolated:
            self.results[key] = result.slimmed()
            if cache is not None:
                # after the jobs already queued in the worker (one may be using them)
                self.scheduler.in_worker_later(self.session.release, result.analysis, cache)

    def leave_isolation(self, key: str) -> None:
        """Document ``key`` was closed, or no longer needs the analysis process: once no
        document is left there, the process is stopped and its memory goes with it."""
        if key not in self.isolated:
            return
        self.isolated.discard(key)
        if not self.isolated:
            self.analysis_process.stop()
            return

        async def forget() -> None:
            with contextlib.suppress(ProcessFailure):
                await self.analysis_process.call("forget", key)

        task = asyncio.get_running_loop().create_task(forget())
        self._retiring.add(task)
        task.add_done_callback(self._retiring.discard)

    async def in_analysis_process(self, result: Result, job: str, *args: Any) -> Any:
        """``job`` on the full result the analysis process holds for ``result``'s text (which
        it analyses again if it no longer holds it: it was restarted after a limit). Raises
        ProcessFailure; None if the document changed meanwhile."""
        key = result.target.key
        for _ in range(2):
            if isinstance(result.analysis.syntax_error, Skipped):
                return None  # not analysed (a limit): nothing to hover or fix
            try:
                return await self.analysis_process.call(
                    job, key, result.version, result.generation, *args
                )
            except NotHeld:
                if self.results.get(key) is result:
                    del self.results[key]  # analyse it there again
                fresh = await self.current_result(key, full=True)
                if fresh is None or not fresh.isolated or fresh.version != result.version:
                    return None
                result = fresh
        return None

    def keep_memory_bounded(self) -> None:
        for cold, cache in self.session.evict_cold():
            result = self.results.get(cold)
            if result is not None and not result.slim:
                self.results[cold] = result.slimmed()
            if self.scheduler.pending(cold) is not None:
                # an analysis on its way uses this cache, and reuses what the old one holds
                self.session.evicted_in_use()
                continue
            full = result.analysis if result is not None and not result.slim else Analysis("")
            # after the jobs already queued in the worker (a code action may be using them)
            self.scheduler.in_worker_later(self.session.release, full, cache)
        if self._collection is not None:
            self._collection.cancel()
        delay = 0.0 if self.session.collection_overdue else IDLE_COLLECT_S
        loop = asyncio.get_running_loop()
        self._collection = loop.call_later(delay, lambda: loop.create_task(self._collect_garbage()))

    async def _collect_garbage(self) -> None:
        session = self.session
        if not session.collection_overdue and (
            self.scheduler.busy() or not session.collection_worth_it
        ):
            return  # not idle after all (the next analysis schedules it again), or no need
        await self.scheduler.in_worker(session.collect)

    def conversions_of(self, result: Result) -> Conversions | None:
        """The findings of ``result``'s document as last converted (diagnostics.py); a
        notebook's are converted afresh each time."""
        if not isinstance(result.target, TextTarget):
            return None
        return self.conversions.setdefault(result.target.key, Conversions())

    def publish(self, result: Result) -> None:
        converted = diagnostics_by_uri(result, self.encoding, self.conversions_of(result))
        for uri, diagnostics in converted.items():
            document = self.documents.get(uri)
            self.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(
                    uri=uri,
                    diagnostics=diagnostics,
                    version=document.version if document else None,
                )
            )

    def clear(self, uris: Sequence[str]) -> None:
        for uri in uris:
            self.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=uri, diagnostics=[])
            )

    async def current_result(self, key: str, full: bool = False) -> Result | None:
        """The result for the document's current text, waiting for a pending analysis
        (other messages are served meanwhile); ``full``: not a slim one (analysis/memory.py)."""
        for _ in range(20):
            result = self.results.get(key)
            if not self.is_open(key):
                return None
            if self.is_current(result, key) and not (
                full and result is not None and result.slim and not result.isolated
            ):
                return result
            if self.failed.get(key) == (self.version_of(key), self.generation):
                return None
            pending = self.scheduler.pending(key)
            if pending is None:
                self.request_analysis(key)
                pending = self.scheduler.pending(key)
            assert pending is not None
            await asyncio.wait([pending])
        return None

    def result_for_hover(self, key: str, uri: str, position: types.Position) -> Result | None:
        """The last result if the text up to the end of the hovered line is unchanged since
        it was analysed: hover then answers at once instead of waiting for the analysis of
        the newest edit (typing further down does not move what is hovered)."""
        result = self.results.get(key)
        if result is None or result.slim:
            return None
        document = self.documents.get(uri)
        index = result.target.index_of(uri)
        if index is None or document is None or position.line >= index.line_count:
            return None
        following = position.line + 1
        end = index.offsets[following] if following < index.line_count else len(index.text)
        return result if document.text[:end] == index.text[:end] else None

    def reanalyse_all(self) -> None:
        self.generation += 1
        keys = {self.key_of(document.uri) for document in self.documents}
        for key in keys - {None}:
            assert key is not None
            self.request_analysis(key)
        self.workspace_index.configure(self)
        self.refresh_pulled()
        inlay_hints.refresh(self)

    def apply_client_settings(self, raw: Any) -> None:
        self.client_settings, problems = parse_client_settings(raw)
        for problem in problems:
            self.tell_once(f"torchmode: {problem}")

    async def pull_configuration(self) -> None:
        if not self._workspace_capability("configuration"):
            return
        try:
            values = await asyncio.wait_for(
                self.workspace_configuration_async(
                    types.ConfigurationParams(items=[types.ConfigurationItem(section="torchmode")])
                ),
                CLIENT_PATIENCE_S,
            )
        except Exception as error:
            self.log(f"torchmode: could not read the editor's settings: {error!r}")
            return
        # An empty answer means the editor has no torchmode settings of its own: keep
        # those of initializationOptions rather than resetting them.
        if values and isinstance(values[0], dict) and values[0]:
            self.apply_client_settings(values[0])

    # --- positions ----------------------------------------------------------------------

    def analysed_position(
        self, result: Result, uri: str, position: types.Position
    ) -> Position | None:
        index = result.target.index_of(uri)
        if index is None:
            return None
        return result.target.to_analysed(uri, index.from_client(position, self.encoding))

    def versions(self, result: Result) -> dict[str, int | None]:
        return {
            uri: document.version
            for uri in result.target.uris
            if (document := self.documents.get(uri)) is not None
        }


server = TorchmodeServer()
notebook_sync.register(server)
inlay_hints.register(server)
project_files.register(server)
queries.register(server)
pull_diagnostics.register(server)
text_documents.register(server)


@server.feature(types.INITIALIZE)
def on_initialize(ls: TorchmodeServer, params: types.InitializeParams) -> None:
    section = section_of(params.initialization_options)
    if section is not None:
        ls.apply_client_settings(section)


@server.feature(types.INITIALIZED)
async def on_initialized(ls: TorchmodeServer, params: types.InitializedParams) -> None:
    await ls.pull_configuration()
    ls.configured.set()
    ls.workspace_index.configure(ls)
    ls.check_configuration(ls.workspace_directories())
    registrations: list[types.Registration] = []
    watched = ls._workspace_capability("did_change_watched_files")
    if watched is not None and watched.dynamic_registration:
        registrations.append(
            types.Registration(
                id="torchmode-files",
                method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                register_options=types.DidChangeWatchedFilesRegistrationOptions(
                    watchers=project_files.watchers()
                ),
            )
        )
    configuration = ls._workspace_capability("did_change_configuration")
    if configuration is not None and configuration.dynamic_registration:
        registrations.append(
            types.Registration(
                id="torchmode-configuration",
                method=types.WORKSPACE_DID_CHANGE_CONFIGURATION,
                register_options=types.DidChangeConfigurationRegistrationOptions(
                    section="torchmode"
                ),
            )
        )
    if registrations:
        try:
            await asyncio.wait_for(
                ls.client_register_capability_async(
                    types.RegistrationParams(registrations=registrations)
                ),
                CLIENT_PATIENCE_S,
            )
        except Exception as error:
            ls.log(f"torchmode: the client did not take the registrations: {error!r}")


@server.feature(types.SHUTDOWN)
def on_shutdown(ls: TorchmodeServer, params: None) -> None:
    ls.scheduler.shutdown()
    ls.analysis_process.stop("the server is shutting down")
    ls.workspace_index.stop()


# --- configuration ------------------------------------------------------------------------


@server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
async def did_change_configuration(
    ls: TorchmodeServer, params: types.DidChangeConfigurationParams
) -> None:
    section = section_of(params.settings)
    if section is not None:
        ls.apply_client_settings(section)
    else:
        # VS Code sends `null` and expects the server to ask (workspace/configuration).
        await ls.pull_configuration()
    ls.reanalyse_all()


# --- diagnostics (pull), hover, code actions ----------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="torchmode lsp", description="Run the torchmode language server."
    )
    transport = parser.add_mutually_exclusive_group()
    transport.add_argument("--stdio", action="store_true", help="talk over stdin/stdout (default)")
    transport.add_argument("--tcp", metavar="HOST:PORT", help="listen on a TCP socket")
    # vscode-languageclient may pass its own process id; the server exits with the pipe.
    parser.add_argument("--clientProcessId", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="torchmode lsp: %(levelname)s %(message)s")
    logging.getLogger("pygls.protocol.json_rpc").addFilter(_late_cancel_filter)
    logging.getLogger("pygls.protocol.json_rpc").addFilter(_answered_filter)
    logging.getLogger("pygls.server").addFilter(_answered_filter)
    if args.tcp:
        host, _, port = args.tcp.rpartition(":")
        if not host or not port.isdigit():
            parser.error(f"--tcp expects HOST:PORT, got {args.tcp!r}")
        server.start_tcp(host, int(port))
    else:
        server.start_io()
    return 0


def _late_cancel_filter(record: logging.LogRecord) -> bool:
    """A client cancelling a request the server has already answered is normal (an editor
    cancels hovers as the cursor moves); pygls warns about it, and editors show stderr as errors."""
    return not record.getMessage().startswith("Cancel notification for unknown message id")


def _answered_filter(record: logging.LogRecord) -> bool:
    """pygls logs a traceback for every message it cannot read; TorchmodeProtocol answers
    those with an error and logs one line instead."""
    if record.getMessage().startswith("Unable to deserialize message"):
        return False
    error = record.exc_info[1] if record.exc_info else None
    return not (error is not None and is_unparsable_body(error))
