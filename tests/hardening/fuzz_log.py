"""The long profile keeps fuzzing after a failure.

Hypothesis stops a test at its first failing example and spends the rest of the run
shrinking it: a long run that hits a known-but-open bug in its first minute then says
nothing about the other 9,999 examples. Under ``HYPOTHESIS_PROFILE=long`` a test body wrapped
in :func:`carry_on` records a failing example instead of raising, reduces it (greedily, with
the test's own reducer and a bounded budget, the first few of each kind), writes it to the
fuzz log and lets hypothesis go on; the test still fails at its end, with a summary, when any
example failed (``conftest.py`` checks :data:`LOG` after each test). Under the ``ci`` profile
the wrapper does nothing: failures raise and hypothesis shrinks them as usual.

A dead language server is not carried on: every later example would fail with it.
"""

from __future__ import annotations

import functools
import inspect
import re
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fuzz_invariants import LONG
from hypothesis.errors import HypothesisException

# Failures of one kind reduced per test (the rest are only counted and logged as drawn), and
# the re-runs of the test body and the time one reduction may cost (a server that never
# answers costs its full patience per re-run).
REDUCED_PER_KIND = 2
REDUCTION_BUDGET = 150
REDUCTION_SECONDS = 120
PROGRESS_EVERY = 250

Reducer = Callable[[Callable[..., None], tuple[Any, ...]], Iterator[tuple[Any, ...]]]


@dataclass
class Failure:
    kind: str
    message: str
    drawn: tuple[Any, ...]
    reduced: tuple[Any, ...] | None = None


@dataclass
class TestLog:
    examples: int = 0
    failures: list[Failure] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    last: float = field(default_factory=time.monotonic)

    def kinds(self) -> Counter[str]:
        return Counter(failure.kind for failure in self.failures)


@dataclass
class FuzzLog:
    """Every carried-on test's examples and failures of this pytest session."""

    tests: dict[str, TestLog] = field(default_factory=dict)
    current: str = ""
    directory: Path | None = None

    def test(self) -> TestLog:
        return self.tests.setdefault(self.current, TestLog())

    def file(self) -> Path | None:
        if self.directory is None:
            return None
        name = re.sub(r"[^\w.-]+", "_", self.current.rpartition("::")[2]) or "fuzz"
        return self.directory / f"{name}.md"

    def write(self, failure: Failure) -> None:
        path = self.file()
        if path is None:
            return
        with path.open("a", encoding="utf-8") as out:
            out.write(f"## {failure.kind}\n\n```\n{failure.message}\n```\n\n")
            if failure.reduced is not None:
                out.write(f"Reduced:\n\n```python\n{_show(failure.reduced)}\n```\n\n")
            out.write(f"As drawn:\n\n```python\n{_show(failure.drawn)}\n```\n\n")

    def progress(self, log: TestLog) -> None:
        """A line per PROGRESS_EVERY examples: how far a long run has got, while it runs."""
        if self.directory is None:
            return
        minutes = (log.last - log.started) / 60
        with (self.directory / "progress.txt").open("a", encoding="utf-8") as out:
            out.write(
                f"{time.strftime('%H:%M:%S')} {self.current}: {log.examples} examples, "
                f"{len(log.failures)} failed, {minutes:.1f} min\n"
            )

    def verdict(self, nodeid: str) -> str | None:
        """The failure summary of a test that recorded failures, else None."""
        log = self.tests.get(nodeid)
        if log is None or not log.failures:
            return None
        lines = [
            f"{len(log.failures)} of {log.examples} examples failed, "
            f"{len(log.kinds())} kinds (all written to {self.file() or 'no file'}):"
        ]
        shown: set[str] = set()
        for failure in log.failures:
            if failure.kind in shown:
                continue
            shown.add(failure.kind)
            example = failure.reduced if failure.reduced is not None else failure.drawn
            lines.append(f"- {log.kinds()[failure.kind]} x {failure.kind}\n{_show(example)}")
        return "\n".join(lines)


LOG = FuzzLog()


def _show(args: tuple[Any, ...]) -> str:
    """Each argument as a Python literal; a text as one string literal per line, so that line
    ends, tabs and form feeds are seen (and can be pasted into a regression test)."""
    return "\n".join(_literal(arg) if isinstance(arg, str) else repr(arg) for arg in args)


def _literal(text: str) -> str:
    lines = text.splitlines(keepends=True) or [""]
    return "(\n" + "".join(f"    {line!r}\n" for line in lines) + ")"


def kind_of(error: BaseException) -> str:
    """What makes two failures the same bug, roughly: where the check failed and, for the
    shared invariants (whose messages name the rule and the fix), the message without its
    numbers and code."""
    frames = traceback.extract_tb(error.__traceback__)
    ours = [f for f in frames if "/tests/hardening/" in f.filename] or frames[-1:]
    where = f"{Path(ours[-1].filename).name}:{ours[-1].lineno}" if ours else "?"
    kind = f"{type(error).__name__} at {where}"
    if ours and not Path(ours[-1].filename).name.startswith("test_"):
        first = str(error).split("\n", 1)[0]
        kind += ": " + re.sub(r"\b\d+\b", "N", first)[:160]
    return kind


def _fails_alike(body: Callable[..., None], args: tuple[Any, ...], kind: str) -> bool:
    try:
        body(*args)
    except HypothesisException:
        raise
    except Exception as error:
        return kind_of(error) == kind
    return False


def reduce(
    body: Callable[..., None], args: tuple[Any, ...], kind: str, reducer: Reducer
) -> tuple[Any, ...]:
    """Greedy: take the first smaller candidate that fails the same way, until none does or
    the budget is spent."""
    budget = REDUCTION_BUDGET
    deadline = time.monotonic() + REDUCTION_SECONDS
    progress = True
    while progress and budget > 0:
        progress = False
        for candidate in reducer(body, args):
            budget -= 1
            if _fails_alike(body, candidate, kind):
                args, progress = candidate, True
                break
            if budget <= 0 or time.monotonic() > deadline:
                return args
    return args


def carry_on(
    reducer: Reducer | None = None,
    *,
    fatal: tuple[type[BaseException], ...] = (),
    fixtures: int = 0,
) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Under the long profile, record a failing example and go on (see the module doc).
    ``fatal`` failures end the test as usual; the first ``fixtures`` arguments are not
    drawn (a server) and are left out of the log."""

    def decorate(body: Callable[..., None]) -> Callable[..., None]:
        if not LONG:
            return body

        signature = inspect.signature(body)

        @functools.wraps(body)
        def run(*given: Any, **named: Any) -> None:
            # hypothesis passes drawn values by name; reducers work on positions.
            args = tuple(signature.bind(*given, **named).arguments.values())
            log = LOG.test()
            log.examples += 1
            try:
                body(*args)
            except (HypothesisException, *fatal):
                raise  # hypothesis' own control flow (assume...), or the end of the run
            except Exception as error:
                kind = kind_of(error)
                failure = Failure(kind, str(error)[:4000], args[fixtures:])
                if reducer is not None and log.kinds()[kind] < REDUCED_PER_KIND:
                    try:
                        failure.reduced = reduce(body, args, kind, reducer)[fixtures:]
                    except fatal:
                        raise
                    except Exception as problem:
                        failure.message += f"\n(not reduced: {problem!r})"
                log.failures.append(failure)
                LOG.write(failure)
            finally:
                log.last = time.monotonic()
                if log.examples % PROGRESS_EVERY == 0:
                    LOG.progress(log)

        return run

    return decorate


# --- reducers ---------------------------------------------------------------------------------


def _blocks(lines: list[str]) -> Iterator[tuple[int, int]]:
    """(start, end) of each line together with the more indented lines that follow it."""

    def indent(line: str) -> int:
        return len(line) - len(line.lstrip(" \t\x0c"))

    for start, line in enumerate(lines):
        end = start + 1
        while end < len(lines) and (not lines[end].strip() or indent(lines[end]) > indent(line)):
            end += 1
        yield start, end


def smaller_texts(text: str) -> Iterator[str]:
    """The text without one block, without one line, then with one block's header removed
    and its body dedented into its place (line ends kept as they are)."""
    lines = text.splitlines(keepends=True)
    seen: set[str] = set()
    blocks = sorted(_blocks(lines), key=lambda span: span[0] - span[1])
    candidates = [lines[:start] + lines[end:] for start, end in blocks]
    candidates += [lines[:i] + lines[i + 1 :] for i in range(len(lines))]
    candidates += [
        lines[:start] + _dedented(lines[start], lines[start + 1 : end]) + lines[end:]
        for start, end in blocks
        if end > start + 1
    ]
    for candidate in map("".join, candidates):
        if candidate != text and candidate not in seen:
            seen.add(candidate)
            yield candidate


def _dedented(header: str, body: list[str]) -> list[str]:
    """``body`` moved to ``header``'s indentation (lines indented otherwise are kept)."""
    outer = header[: len(header) - len(header.lstrip(" \t\x0c"))]
    first = next((line for line in body if line.strip()), "")
    inner = first[: len(first) - len(first.lstrip(" \t\x0c"))]
    if not inner.startswith(outer) or inner == outer:
        return body
    return [outer + line[len(inner) :] if line.startswith(inner) else line for line in body]


def smaller_text(position: int) -> Reducer:
    """Candidates with the program at ``args[position]`` made smaller."""

    def candidates(body: Callable[..., None], args: tuple[Any, ...]) -> Iterator[tuple[Any, ...]]:
        for text in smaller_texts(args[position]):
            yield (*args[:position], text, *args[position + 1 :])

    return candidates


def fewer_items(position: int) -> Reducer:
    """Candidates with one item less in the list at ``args[position]`` (an edit sequence)."""

    def candidates(body: Callable[..., None], args: tuple[Any, ...]) -> Iterator[tuple[Any, ...]]:
        items = args[position]
        for index in range(len(items)):
            yield (*args[:position], items[:index] + items[index + 1 :], *args[position + 1 :])

    return candidates


def chain(*reducers: Reducer) -> Reducer:
    def candidates(body: Callable[..., None], args: tuple[Any, ...]) -> Iterator[tuple[Any, ...]]:
        for reducer in reducers:
            yield from reducer(body, args)

    return candidates
