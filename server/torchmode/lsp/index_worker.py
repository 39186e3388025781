"""The workspace index's process: the files of the workspace no editor has open, found as
``torchmode check`` finds them and analysed as the CLI analyses them, for the language server's
``diagnosticMode: "workspace"`` (workspace_index.py).

It runs apart from the server (isolation.py's protocol, with its time and memory limits) so
that typing in an open document is analysed at the speed it is when nothing is indexed: the
server's own analyses and this process's share no interpreter lock. It keeps what the engine
keeps between analyses of a project (the other files' summaries, the reverse index of imports)
and no syntax tree: each file's trees are released once its diagnostics are made. Only plain
data crosses the pipe: each file's diagnostics in the client's position encoding, the files
its analysis read and the words of its imports.

    python -m torchmode.lsp.index_worker   (started by the server, never by hand)
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from lsprotocol import types

from torchmode.analysis import (
    ChunkCache,
    Overlay,
    Session,
    import_words,
    project_files_changed,
)
from torchmode.config import in_project
from torchmode.files.discovery import ProjectConfigs, discover
from torchmode.files.source_files import MAX_NOTEBOOK_BYTES, SourceError, decode, read_bytes
from torchmode.findings import Finding
from torchmode.lsp.configuration import ClientSettings, settings_for
from torchmode.lsp.diagnostics import texts_for, to_diagnostic
from torchmode.lsp.isolation import serve
from torchmode.lsp.positions import LineIndex
from torchmode.lsp.targets import NotebookFile, TextTarget
from torchmode.notebook import NotebookError, parse_notebook

# Between analyses the engine pauses the cyclic collector; a full collection after this many
# files keeps the garbage of released trees from piling up over a big workspace.
COLLECT_EVERY = 50
# The index runs at a lower priority than the server: on a machine with fewer free cores than
# busy processes (2 cores: the server, the index, the editor), the scheduler gives the core to
# the analysis of the document being typed in first, and the index takes what is left.
NICENESS = 10
_ANALYSED = (".py", ".ipynb")


@dataclass(frozen=True)
class Indexed:
    """One file of the workspace, analysed from disk (or from the open buffers it reads)."""

    path: str
    uri: str
    diagnostics: tuple[types.Diagnostic, ...]
    depends_on: tuple[str, ...]  # the other files its analysis read
    imports: frozenset[str]  # the words of its import statements (callers.import_words)
    problem: str | None = None  # its configuration's, told to the user once


_session = Session()
_analysed = 0


def niceness() -> int:
    """This process's niceness (os.nice(0)), for the tests."""
    return os.nice(0)


def python_files(roots: list[str]) -> list[str]:
    """The ``.py`` and ``.ipynb`` files of the workspace folders, with the CLI's excludes:
    version control and tool folders, virtual environments, ``.gitignore`` and
    ``[tool.torchmode] exclude``."""
    found = discover(roots, ProjectConfigs(None).excluded)
    return sorted({str(Path(path).absolute()) for path in found.files if path.suffix in _ANALYSED})


def analyse_files(
    paths: list[str],
    client: ClientSettings,
    roots: list[str],
    overlay: Overlay,
    encoding: str,
) -> list[Indexed]:
    return [_analyse(path, client, [Path(r) for r in roots], overlay, encoding) for path in paths]


def _analyse(
    path: str, client: ClientSettings, roots: list[Path], overlay: Overlay, encoding: str
) -> Indexed:
    global _analysed
    uri = Path(path).as_uri()
    notebook = path.endswith(".ipynb")
    try:
        if notebook:
            text = read_bytes(Path(path), MAX_NOTEBOOK_BYTES).decode("utf-8-sig")
        else:
            text = decode(read_bytes(Path(path))).text
        target, program = _target(uri, text, notebook)
    except (OSError, SourceError, NotebookError, UnicodeDecodeError):
        return Indexed(path, uri, (), (), frozenset())  # gone, unreadable, too large or invalid
    settings, problem = settings_for(Path(path), client)
    settings = in_project(settings, Path(path), roots, overlay)
    cache = ChunkCache()
    analysis = _session.analyze(program, settings, cache)
    texts = texts_for(settings)
    diagnostics = tuple(
        placed[1]
        for finding in analysis.findings
        if (placed := to_diagnostic(_in_cells(finding, target), target, encoding, texts))
        is not None
    )
    imports = import_words(text, notebook=notebook)
    indexed = Indexed(path, uri, diagnostics, analysis.depends_on, imports, problem)
    _session.release(analysis, cache)
    _analysed += 1
    if _analysed % COLLECT_EVERY == 0:
        gc.collect()
    return indexed


def _target(uri: str, text: str, notebook: bool) -> tuple[TextTarget | NotebookFile, str]:
    """Where the file's findings are shown, and the program that is analysed."""
    if not notebook:
        return TextTarget(uri, None, text, LineIndex(text)), text
    target = NotebookFile.of(uri, text, parse_notebook(text))
    return target, target.combined.source


def _in_cells(finding: Finding, target: TextTarget | NotebookFile) -> Finding:
    """A notebook's finding names the lines of its cells ("line 3 of cell 5"), not those of
    the program its cells make together."""
    if not isinstance(target, NotebookFile):
        return finding
    numbers = target.cell_numbers
    return replace(
        finding,
        summary=target.combined.relabel_lines(finding.summary, numbers),
        details=target.combined.relabel_lines(finding.details, numbers),
    )


JOBS: dict[str, Callable[..., Any]] = {
    "files_changed": project_files_changed,
    "python_files": python_files,
    "analyse_files": analyse_files,
    "niceness": niceness,
}

if __name__ == "__main__":
    # the jobs of the module under its own name, so that what they return pickles as
    # torchmode.lsp.index_worker.Indexed (the server imports it), not __main__.Indexed
    from torchmode.lsp import index_worker

    serve(index_worker.JOBS, NICENESS)
