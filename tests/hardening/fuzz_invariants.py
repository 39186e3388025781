"""What must hold for the engine's answer on any text, and for every fix it offers."""

from __future__ import annotations

import ast
import os
import signal
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from hypothesis import HealthCheck, settings
from torchmode.analysis import RULES, Analysis, analyze, fix_source
from torchmode.engine.chunks import ChunkCache
from torchmode.findings import Finding, Fix, Position, Range, TextEdit

# A guard against a hung engine, not a speed assertion: far above any real analysis.
PATIENCE_S = 120


class Hung(Exception):
    pass


@contextmanager
def patience(seconds: int = PATIENCE_S) -> Iterator[None]:
    def ring(signum: int, frame: object) -> None:
        raise Hung(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, ring)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def lines_of(text: str) -> list[str]:
    """The lines as editors count them ("\\n", "\\r\\n" and "\\r" end a line), without ends.
    Written independently of torchmode.fixing.line_offsets so that one checks the other."""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def offset(text: str, lines: list[str], pos: Position) -> int:
    assert 0 <= pos.line < len(lines), f"{pos} is beyond the last line ({len(lines) - 1})"
    assert 0 <= pos.character <= len(lines[pos.line]), (
        f"{pos} is beyond the end of line {pos.line} ({len(lines[pos.line])} characters)"
    )
    start = 0
    for line in range(pos.line):
        start += len(lines[line])
        start += 2 if text.startswith("\r\n", start) else 1
    return start + pos.character


def check_range(text: str, lines: list[str], rng: Range, what: str) -> tuple[int, int]:
    assert rng.start <= rng.end, f"{what}: {rng} ends before it starts"
    try:
        return offset(text, lines, rng.start), offset(text, lines, rng.end)
    except AssertionError as error:
        raise AssertionError(f"{what}: {error}") from None


def compiles(text: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SyntaxWarning)  # `1()` in generated code
            compile(text.removeprefix("\ufeff"), "<fuzz>", "exec", ast.PyCF_ONLY_AST, True)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def apply(text: str, spans: list[tuple[int, int, str]]) -> str:
    out, last = [], 0
    for start, end, new in sorted(spans):
        assert start >= last, f"edits overlap at offset {start}"
        out += [text[last:start], new]
        last = end
    return "".join([*out, text[last:]])


def mapped(spans: list[tuple[int, int, str]], point: int) -> int:
    """Where ``point`` of the old text is after the edits (inside an edit: its start)."""
    shift = 0
    for start, end, new in sorted(spans):
        if point < start or (point == start and start != end):
            break
        if point < end:
            return start + shift
        shift += len(new) - (end - start)
    return point + shift


# Known bugs that the fuzzers step over so that they keep looking for new ones; each has a
# strict-xfail regression test in test_known_gaps.py. Remove an entry when its bug is fixed.
# (None open: the last ones, fixes that left their finding, were fixed by offering only fixes
# that remove their finding.)
KNOWN_GAPS: dict[str, Callable[[str, Finding, Fix], bool]] = {}


def known_gap(text: str, finding: Finding, fix: Fix) -> str | None:
    return next((gap for gap, hit in KNOWN_GAPS.items() if hit(text, finding, fix)), None)


# ``ci`` (the default) keeps the hardening suite within CI's fuzz budget and is derandomised,
# so CI runs the same examples every time; ``long`` is for local runs (docs/architecture.md) and
# reaches 10,000 programs and 10,000 edit sequences. Only these tests use them: other test
# suites keep hypothesis' own defaults.
SLOW_IS_FINE = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]
settings.register_profile(
    "ci",
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=SLOW_IS_FINE,
    print_blob=True,
)
settings.register_profile(
    "long",
    # FUZZ_LONG_EXAMPLES=4000 for a shorter long run (programs; edit sequences: half per encoding).
    max_examples=int(os.environ.get("FUZZ_LONG_EXAMPLES", "10000")),
    deadline=None,
    suppress_health_check=SLOW_IS_FINE,
    print_blob=True,
)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
LONG = PROFILE == "long"


def fuzzing(share: float) -> settings:
    """The profile's settings with ``share`` of its example count (at least one): tests
    whose examples cost more run fewer of them."""
    profile = settings.get_profile(PROFILE)
    return settings(profile, max_examples=max(1, round(profile.max_examples * share)))


def describe(finding: Finding) -> str:
    return f"{finding.code} at {finding.range.start.line}:{finding.range.start.character}"


def check_fix(text: str, lines: list[str], finding: Finding, fix: Fix) -> None:
    try:
        _check_fix(text, lines, finding, fix)
    except AssertionError:
        if known_gap(text, finding, fix) is None:
            raise


def _check_fix(text: str, lines: list[str], finding: Finding, fix: Fix) -> None:
    what = f"fix {fix.title!r} of {describe(finding)}"
    assert fix.edits, f"{what} has no edits"
    spans = []
    for edit in fix.edits:
        assert isinstance(edit, TextEdit)
        start, end = check_range(text, lines, edit.range, what)
        spans.append((start, end, edit.new_text))
    fixed = apply(text, spans)
    from torchmode.fixing import apply_edits

    assert apply_edits(text, fix.edits) == fixed, f"{what}: apply_edits changed other text"
    if not compiles(text):
        return  # beyond CPython's limits (200 nested parentheses...) that libcst accepts
    assert compiles(fixed), f"{what} gives code that does not compile:\n{fixed}"
    after = analyze(fixed)
    assert after.syntax_error is None, f"{what}: the engine cannot parse the fixed code"
    start = mapped(spans, offset(text, lines, finding.range.start))
    new_lines = lines_of(fixed)
    for other in after.findings:
        if other.code == finding.code and offset(fixed, new_lines, other.range.start) == start:
            raise AssertionError(f"{what} does not remove its finding:\n{fixed}")


def check_analysis(text: str, analysis: Analysis) -> None:
    lines = lines_of(text)
    if analysis.syntax_error is not None:
        assert not analysis.findings
        check_range(
            text,
            lines,
            Range(analysis.syntax_error.position, analysis.syntax_error.position),
            "syntax error",
        )
    for finding in analysis.findings:
        check_range(text, lines, finding.range, describe(finding))
        for related in finding.related:
            check_range(text, lines, related.range, f"related location of {describe(finding)}")
        assert finding.message and finding.code in RULES


def signature(analysis: Analysis) -> list[tuple[object, ...]]:
    return [(f.code, f.range, f.severity, f.message, tuple(f.related)) for f in analysis.findings]


def check_program(text: str, *, fixes: bool = True, hover_at: list[Position] = ()) -> Analysis:
    """Every invariant for one text: call with any string."""
    with patience():
        analysis = analyze(text)
        check_analysis(text, analysis)
        # The shared cache holds chunks of every earlier text: a cold cache must agree.
        cold = analyze(text, cache=ChunkCache())
        if signature(cold) != signature(analysis):
            raise AssertionError(f"the findings depend on what was analysed before:\n{text}")
        for position in [*hover_at, *(f.range.start for f in analysis.findings)]:
            answer = analysis.hover(position)
            assert answer is None or isinstance(answer, str)
        if not fixes or analysis.syntax_error is not None:
            return analysis
        lines = lines_of(text)
        for finding in analysis.findings:
            for fix in finding.fixes:
                check_fix(text, lines, finding, fix)
        once = fix_source(text).source
        assert compiles(once) or not compiles(text), f"fix-all broke the code:\n{once}"
        twice = fix_source(once).source
        assert twice == once, f"fix-all is not idempotent:\n--- once\n{once}\n--- twice\n{twice}"
    return analysis
