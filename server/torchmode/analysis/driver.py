"""The analysis driver: text in, Findings (and hover answers) out. Never raises.

It runs the engine (chunks, facts, flow), then the rules over what the engine found, applies
the settings and suppression comments, and lends the rules its own ``analyze`` to check a fix
(``RuleContext.reanalyze``): the rules sit below it and never import it.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field

from torchmode.analysis import noqa
from torchmode.analysis.hover import hover_at
from torchmode.analysis.timeline import Hint, timeline
from torchmode.engine import old_keywords, project
from torchmode.engine.chunks import ChunkCache, parse_chunks, split_lines
from torchmode.engine.collection import collection_paused
from torchmode.engine.context import RuleContext
from torchmode.engine.fact_collection import collect_facts
from torchmode.engine.flow import FileFlow
from torchmode.engine.limits import refusal
from torchmode.findings import Finding, Fix, Position, Range
from torchmode.fixing import line_offsets
from torchmode.rules import RULES, checks
from torchmode.settings import DEFAULT_SETTINGS, Settings

# A file that mentions none of these cannot have a finding: it is not parsed at all. Nor
# can one without a function named like an evaluation (``def validate(model, loader)`` with
# no torch call in it is reported when its callers in other files pass a model in train mode).
_TRIGGER = re.compile(
    r"eval|train|no_grad|inference_mode|grad_enabled|backward|zero_grad|step|load_state_dict"
    r"|def\s+_*(?:val|test|predict|infer|sample|generate|score|estimate_loss|compute_metrics"
    r"|\w*accuracy)"
)


def may_have_findings(source: str, settings: Settings = DEFAULT_SETTINGS) -> bool:
    """False when no rule can report anything in ``source`` (it names none of the calls they
    are about, and the project declares no evaluation functions of its own): the CLI counts
    such a file as skipped, and nothing is parsed."""
    return bool(settings.declared.evaluation) or _TRIGGER.search(source) is not None


@dataclass(frozen=True, slots=True)
class SyntaxProblem:
    message: str
    position: Position


@dataclass(frozen=True, slots=True)
class Skipped(SyntaxProblem):
    """Not a syntax error: the text is too large, or holds an expression too long, to analyse
    in reasonable time (engine/limits.py); the message says which."""


@dataclass
class Analysis:
    source: str
    findings: list[Finding] = field(default_factory=list)
    syntax_error: SyntaxProblem | None = None
    context: RuleContext | None = field(default=None, repr=False)
    cache: ChunkCache | None = field(default=None, repr=False)  # what parsed it
    # the other files of the project (paths) whose summaries it read: an editor analyses it
    # again when one of them changes, unless what they give it is unchanged (``read``, kept
    # by an editor's analyses: Session.analyze_document)
    depends_on: tuple[str, ...] = ()
    read: tuple[object, ...] = field(default=(), repr=False)

    @property
    def in_part(self) -> bool:
        """With a syntax error (or a statement too deep): the statements that parse were
        analysed, and ``findings`` are theirs."""
        return self.syntax_error is not None and self.context is not None

    def analysed_lines(self) -> list[tuple[int, int]]:
        """The lines [start, end) of the top-level statements that were analysed."""
        spans = []
        for chunk in self.context.chunks if self.context is not None else ():
            count = len(line_offsets(chunk.text)) - chunk.text.endswith(("\n", "\r"))
            spans.append((chunk.start_line, chunk.start_line + count))
        return spans

    def hover(self, position: Position) -> str | None:
        try:
            return hover_at(self, position)
        except Exception:
            return None

    def timeline(self, lines: tuple[int, int] | None = None) -> list[Hint]:
        """The mode timeline's labels (timeline.py) of the text or of ``lines`` (first and
        last, 0-based), in text order; none on any failure: a missing label is harmless, an
        exception would cost the editor its other answers."""
        try:
            return timeline(self, lines)
        except Exception:
            return []


_SHARED_CACHE = ChunkCache()


def analyze(
    source: str, settings: Settings = DEFAULT_SETTINGS, cache: ChunkCache | None = None
) -> Analysis:
    refused = refusal(source)
    if refused is not None:
        return Analysis(source, [], Skipped(*refused))
    if not may_have_findings(source, settings):
        return Analysis(source)
    if "\x00" in source:
        return Analysis(source, [], SyntaxProblem("source contains NUL bytes", _nul(source)))
    limit = sys.getrecursionlimit()
    # The cyclic GC would walk every libcst tree held in the cache on each collection: ~40 % of
    # an analysis. Nothing here makes reference cycles that need it while the analysis runs.
    cache = cache if cache is not None else _SHARED_CACHE
    try:
        with collection_paused():
            sys.setrecursionlimit(max(limit, 20000))
            analysis = _analyze(source, settings, cache)
            analysis.cache = cache
            return analysis
    except RecursionError:
        return Analysis(source, [], Skipped(_TOO_DEEP_TO_ANALYSE, Position(0, 0)))
    finally:
        sys.setrecursionlimit(limit)


def _analyze(source: str, settings: Settings, cache: ChunkCache) -> Analysis:
    parsed = parse_chunks(source, cache)
    problem = _problem(*parsed.error) if parsed.error is not None else None
    if problem is not None and not parsed.chunks:
        return Analysis(source, [], problem)
    facts = collect_facts(parsed.chunks, cache.records, settings.project)
    flow = FileFlow(parsed.chunks, facts, cache, settings.project, settings.declared)
    flow.run()
    if settings.project is not None and settings.project.gives_summary and parsed.complete:
        # the files that import this open document read its summary from this analysis
        project.offer(settings.project, flow, source)
    cache.trim()
    lines = _without_endings(source, parsed.lines)
    ctx = RuleContext(source, lines, parsed.chunks, facts, flow, settings, analyze)
    findings: list[Finding] = []
    for code, check in checks().items():
        if not settings.enabled(code):
            continue
        default = RULES[code].default_severity
        for finding in check(ctx):
            if not settings.reports(finding.severity):
                continue
            # a user's level replaces the rule's own, not the lower one the rule gave a
            # finding it is less sure of: a hint stays a hint
            if code in settings.severity and finding.severity is default:
                finding.severity = settings.severity[code]
            findings.append(finding)
    findings = [f for f in findings if not _suppressed(f, lines)]
    if parsed.renamed:
        for finding in findings:
            _keep_renamed_out(finding, parsed.renamed)
    findings.sort(key=Finding.sort_key)
    # with a syntax error, the findings of the statements that parse (the others are unknown)
    # the files it imports from, and those whose calls enter its functions
    imported = tuple(path for path, _ in facts.project_files())
    depends_on = imported + tuple(p for p in flow.caller_files if p not in imported)
    return Analysis(source, findings, problem, ctx, depends_on=depends_on)


def project_state(settings: Settings, paths: tuple[str, ...]) -> tuple[object, ...]:
    """What the files ``paths`` of the file's project give it now (their summaries, plain
    comparable data): equal to an analysis's ``read``, that analysis stands."""
    if settings.project is None or not paths:
        return ()
    return settings.project.summaries(paths)


def project_reading(settings: Settings, paths: tuple[str, ...]) -> str | None:
    """A digest of what an analysis that read the files ``paths`` of its project (its
    ``depends_on``) read there, now, and of the project's import graph (ProjectContext.reading):
    equal, the analysis of the same text under the same settings finds the same. None: the file
    is analysed alone."""
    if settings.project is None:
        return None
    return settings.project.reading(paths)


# What the parsers say of nesting beyond their limits: limits of the tools, not syntax errors
# the user made (3,000 nested calls, 100 nested blocks).
_TOO_DEEP = re.compile(
    r"too many nested parentheses|too many levels of indentation|too many statically nested"
    r"|too deeply nested|too complex",
    re.IGNORECASE,
)
_TOO_DEEP_TO_ANALYSE = "too deeply nested to analyse"


def _problem(message: str, position: Position) -> SyntaxProblem:
    if _TOO_DEEP.search(message) is None:
        return SyntaxProblem(message, position)
    detail = message.removeprefix("syntax error: ")
    why = "" if "too deeply nested" in detail else f" ({detail})"
    return Skipped(_TOO_DEEP_TO_ANALYSE + why, position)


def _without_endings(source: str, lines: list[str]) -> list[str]:
    """``lines`` (split_lines of ``source``) without their line endings."""
    if "\r" in source:
        return [line.rstrip("\r\n") for line in lines]
    bare = source.split("\n")  # the common case, without a Python step per line
    if bare[-1] == "":
        bare.pop()
    return bare


def _suppressed(finding: Finding, lines: list[str]) -> bool:
    line = finding.range.start.line
    return line < len(lines) and noqa.is_silenced(finding.code, lines[line])


def _keep_renamed_out(finding: Finding, renamed: tuple[Range, ...]) -> None:
    """Drop the finding's fixes that would write the stand-in of a renamed ``async``
    (engine/old_keywords.py) into the file: those whose edits cover one, or whose new text,
    built from the tree or the lines the engine read, carries one."""
    build, preview = finding.fix_builder, finding.fix_preview
    if build is None:
        return

    def kept() -> tuple[Fix, ...]:
        return tuple(fix for fix in build() if _clean(fix, renamed))

    def kept_preview() -> Fix | None:
        fix = preview() if preview is not None else None
        return fix if fix is not None and _clean(fix, renamed) else None

    finding.fix_builder = kept
    finding.fix_preview = kept_preview if preview is not None else None


def _clean(fix: Fix, renamed: tuple[Range, ...]) -> bool:
    for edit in fix.edits:
        if _STAND_IN.search(edit.new_text):
            return False
        if any(edit.range.start < span.end and span.start < edit.range.end for span in renamed):
            return False
    return True


_STAND_IN = re.compile(rf"\b{re.escape(old_keywords.SUBSTITUTE)}\b")


def _nul(source: str) -> Position:
    before = split_lines(source[: source.index("\x00")] + "\x00")
    return Position(len(before) - 1, len(before[-1]) - 1)


def release(analysis: Analysis, cache: ChunkCache) -> None:
    """Break the reference cycles of a finished analysis, so that reference counting frees its
    trees at once: a batch run then needs no cyclic garbage collection (walking every object of
    every file: 5-9 % of a CLI run). ``analysis`` and ``cache`` are unusable afterwards."""
    context, analysis.context = analysis.context, None
    analysis.findings = []
    cache.clear()
    if context is None:
        return
    for chunk in context.chunks:
        chunk.cache = None
    context.flow.release()
    context.release()
