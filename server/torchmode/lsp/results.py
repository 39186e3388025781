"""The outcome of one analysis: what to show, including while the code does not parse."""

from __future__ import annotations

from dataclasses import dataclass, replace

from torchmode.analysis import Analysis, Skipped
from torchmode.findings import Finding, Position
from torchmode.lsp.moving import LineMap
from torchmode.lsp.targets import Target
from torchmode.settings import Settings

SYNTAX_ERROR = "syntax-error"  # the code of the notice of a syntax error
NOT_ANALYSED = "not-analysed"  # the code of the notice of a document (part) not analysed
_CHECKED_THE_REST = " — torchmode checked the rest of the file"


@dataclass(frozen=True)
class Notice:
    """Why a document, or part of it, was not analysed: shown as a diagnostic of its own,
    so that the user knows torchmode did not look there rather than found nothing."""

    code: str  # SYNTAX_ERROR or NOT_ANALYSED
    message: str
    position: Position  # in the analysed text


def notice_of(analysis: Analysis) -> Notice | None:
    problem = analysis.syntax_error
    if problem is None:
        return None
    # The statements that parse were analysed (engine/chunks.py, _parse_around_errors).
    partial = analysis.in_part
    rest = _CHECKED_THE_REST if partial else ""
    if isinstance(problem, Skipped):  # a limit of the tools: size, or nesting
        if problem.message.startswith("torchmode"):
            return Notice(NOT_ANALYSED, problem.message + rest, problem.position)
        where = "this statement" if partial else "this file"
        message = f"torchmode: {where} is {problem.message}{rest}"
        return Notice(NOT_ANALYSED, message, problem.position)
    detail = problem.message
    is_syntax = detail.lower().startswith("syntax error")
    if is_syntax:
        detail = detail[len("syntax error") :].lstrip(": ") or "invalid syntax"
        rest = rest or " — torchmode checks the file once it parses"
        return Notice(SYNTAX_ERROR, f"Syntax error: {detail}{rest}", problem.position)
    message = f"torchmode could not analyse this file: {detail}"
    return Notice(NOT_ANALYSED, message, problem.position)


@dataclass(frozen=True)
class Result:
    target: Target
    settings: Settings
    analysis: Analysis
    shown: tuple[Finding, ...]  # the findings to report
    # findings of the last analysis without a syntax error, in ``last_good_text``
    last_good: tuple[Finding, ...]
    generation: int = 0  # the server's settings generation it was computed under
    # only the findings are kept (see memory.py): no hover, no fixes without a new analysis
    slim: bool = False
    notice: Notice | None = None  # shown beside the findings (see notice_of)
    last_good_text: str | None = None
    # analysed in the analysis process (isolation.py), which holds the full result: this one
    # has the findings to show only, and hover and code actions are asked of that process
    isolated: bool = False
    # changes of the other files it read, when it was analysed (lsp/project_files.py)
    inputs: int = 0

    @property
    def version(self) -> int | None:
        return self.target.version

    def slimmed(self) -> Result:
        """The same findings without what they were computed from (trees, flows, fix builders)."""
        light: dict[int, Finding] = {}

        def keep(findings: tuple[Finding, ...] | list[Finding]) -> tuple[Finding, ...]:
            for f in findings:
                if id(f) not in light:
                    light[id(f)] = replace(f, fix_builder=None, fix_preview=None, _fixes=None)
            return tuple(light[id(f)] for f in findings)

        analysis = Analysis(
            self.analysis.source,
            list(keep(self.analysis.findings)),
            self.analysis.syntax_error,
            depends_on=self.analysis.depends_on,
            read=self.analysis.read,
        )
        shown, last_good = keep(self.shown), keep(self.last_good)
        return replace(self, analysis=analysis, shown=shown, last_good=last_good, slim=True)

    def is_fresh(self, finding: Finding) -> bool:
        """Whether the finding belongs to this very text (only those can be fixed)."""
        return any(finding is own for own in self.analysis.findings)

    def moved_to(self, target: Target) -> Result:
        """This result as seen in a newer text of the same document, not analysed (unsaved
        edits with ``run: onSave``): its findings and notice where their lines are now, those
        on edited lines dropped (moving.py). Only to be shown, never kept."""
        lines = LineMap.between(self.target.text, target.text)
        notice = self.notice
        if notice is not None:
            line = lines.line(notice.position.line)
            at = Position(line, notice.position.character) if line is not None else None
            notice = replace(notice, position=at) if at is not None else None
        return replace(self, target=target, shown=lines.findings(self.shown), notice=notice)


def next_result(
    previous: Result | None,
    target: Target,
    settings: Settings,
    analysis: Analysis,
    generation: int = 0,
    inputs: int = 0,
) -> Result:
    """With a syntax error, the findings of the statements that parse, and those of the last
    text that parsed in the statements that do not, moved to where their lines are now (the
    user is mid-edit: they do not flicker away); a notice says what was not analysed."""
    notice = notice_of(analysis)
    findings = tuple(analysis.findings)
    if analysis.syntax_error is None:
        return Result(
            target,
            settings,
            analysis,
            findings,
            findings,
            generation,
            last_good_text=target.text,
            inputs=inputs,
        )
    if isinstance(analysis.syntax_error, Skipped):
        # Not a passing state: the text is too large to analyse, nothing of it is known.
        return Result(target, settings, analysis, (), (), generation, notice=notice, inputs=inputs)
    last_good: tuple[Finding, ...] = ()
    last_good_text = None
    if previous is not None and previous.settings == settings:
        # findings found under other settings may be of rules now off: not carried
        last_good, last_good_text = previous.last_good, previous.last_good_text
    carried: tuple[Finding, ...] = ()
    if last_good and last_good_text is not None:
        analysed = analysis.analysed_lines()
        carried = tuple(
            f
            for f in LineMap.between(last_good_text, target.text).findings(last_good)
            if not any(start <= f.range.start.line < end for start, end in analysed)
        )
    shown = tuple(sorted(findings + carried, key=Finding.sort_key))
    return Result(
        target,
        settings,
        analysis,
        shown,
        last_good,
        generation,
        notice=notice,
        last_good_text=last_good_text,
        inputs=inputs,
    )
