"""The one front door over the engine and the rules, for the CLI, the server and the fixer.

    session = Session()
    analysis = session.analyze(source, settings)  # never raises on any input text
    analysis.findings                              # list[Finding], noqa and settings applied
    analysis.syntax_error                          # SyntaxProblem | None
    analysis.hover(Position(line, character))      # Markdown str | None
    analysis.timeline()                            # list[Hint]: the mode timeline's labels
    session.release(analysis)                      # frees its trees at once

A file's settings may place it in its project (``Settings.project``, a ``ProjectContext``): the
functions it imports from other files are then read from those files, or from an editor's
open buffers (``ProjectContext.overlay``); ``analysis.depends_on`` names the files read, and
``project_files_changed`` drops what is kept of files changed on disk; within
``disk_unchanged()`` (a batch run that writes nothing) files on disk are taken not to change.

Adapters import from here (and the plain data of ``torchmode.findings``, ``settings``,
``config`` and ``notebook``), never from the engine or the rules' modules.
"""

from torchmode.analysis.driver import (
    Analysis,
    Skipped,
    SyntaxProblem,
    analyze,
    may_have_findings,
    project_reading,
)
from torchmode.analysis.explain import explain
from torchmode.analysis.fixes import FixOutcome, NotebookFixOutcome, fix_cells, fix_source
from torchmode.analysis.memory import IDLE_COLLECT_S
from torchmode.analysis.noqa import NoqaEdits, ignore_edit, noqa_edits
from torchmode.analysis.session import Session
from torchmode.analysis.timeline import Hint
from torchmode.engine.callers import import_words, module_word
from torchmode.engine.chunks import ChunkCache
from torchmode.engine.limits import MAX_SOURCE_BYTES
from torchmode.engine.project import Kept as KeptSummary
from torchmode.engine.project import ProjectContext
from torchmode.engine.project import files_changed as project_files_changed
from torchmode.engine.project import keep as keep_summary
from torchmode.engine.project import kept as kept_summary
from torchmode.engine.project_files import Overlay, disk_unchanged
from torchmode.engine.summary_store import folder_tag as cache_folder_tag
from torchmode.fixing import apply_edits, chosen_fix, compatible_fixes, line_offsets
from torchmode.rules import RULES, lookup

__all__ = [
    "IDLE_COLLECT_S",
    "MAX_SOURCE_BYTES",
    "RULES",
    "Analysis",
    "ChunkCache",
    "FixOutcome",
    "Hint",
    "KeptSummary",
    "NoqaEdits",
    "NotebookFixOutcome",
    "Overlay",
    "ProjectContext",
    "Session",
    "Skipped",
    "SyntaxProblem",
    "analyze",
    "apply_edits",
    "cache_folder_tag",
    "chosen_fix",
    "compatible_fixes",
    "disk_unchanged",
    "explain",
    "fix_cells",
    "fix_source",
    "ignore_edit",
    "import_words",
    "keep_summary",
    "kept_summary",
    "line_offsets",
    "lookup",
    "may_have_findings",
    "module_word",
    "noqa_edits",
    "project_files_changed",
    "project_reading",
]
