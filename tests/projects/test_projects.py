"""Whole-program analysis on realistic training projects of several files.

Each folder under ``cases/`` is a small project as people write them (a script, a package, a
``src/`` layout, a trainer class...) with ``expected.toml`` beside its files: every finding
``torchmode check`` must report (rule, file, line, and the words of its message or related
locations that show how the evaluation or training is reached), what it must not report (and
why), and variants (a few text edits to the project, with their own findings). A project is
checked through the command line's front door, in-process (``torchmode check --format json``
run from the project's folder), and its findings must be exactly the expected ones.

The same findings must come from checking one file of the project at a time (as pre-commit
does), and from one or two worker processes.

``expected.toml``::

    xfail = "why the engine gets this wrong today"   # optional: a strict xfail

    [[expect]]
    rule = "TM201"
    file = "train.py"
    line = 51
    shows = ["line 74: evaluation called here: validate(model, val_loader)"]

    [[silent]]            # must not be reported (file and line optional)
    rule = "TM101"
    file = "train.py"
    why = "train() at the top of every epoch"

    [[variant]]
    name = "eval-never-undone"
    [[variant.edit]]
    file = "fit.py"
    old = "    model.train()\\n"     # must occur exactly once
    new = ""
    [[variant.expect]]
    ...

``shows`` is matched against the finding's message followed by one line per related location,
``line N: <its message>``.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from torchmode.analysis import project_files_changed
from torchmode.cli.main import main

CASES_DIR = Path(__file__).resolve().parent / "cases"
EXPECTATIONS = "expected.toml"
PROJECT_FILES = ("*.py", "pyproject.toml", "setup.py", "setup.cfg")


@dataclass(frozen=True)
class Expected:
    rule: str
    file: str
    line: int
    shows: tuple[str, ...]


@dataclass(frozen=True)
class Silent:
    rule: str
    file: str | None
    line: int | None
    why: str


@dataclass(frozen=True)
class Edit:
    file: str
    old: str
    new: str


@dataclass(frozen=True)
class Case:
    project: str
    variant: str | None
    edits: tuple[Edit, ...]
    expected: tuple[Expected, ...]
    silent: tuple[Silent, ...]
    xfail: str | None

    @property
    def name(self) -> str:
        return self.project if self.variant is None else f"{self.project}[{self.variant}]"


def _expected(table: dict[str, Any]) -> tuple[Expected, ...]:
    return tuple(
        Expected(e["rule"], e["file"], int(e["line"]), tuple(e.get("shows", ())))
        for e in table.get("expect", ())
    )


def _silent(table: dict[str, Any]) -> tuple[Silent, ...]:
    return tuple(
        Silent(s["rule"], s.get("file"), s.get("line"), s["why"]) for s in table.get("silent", ())
    )


def _cases() -> list[Case]:
    cases = []
    for expectations in sorted(CASES_DIR.glob(f"*/{EXPECTATIONS}")):
        project = expectations.parent.name
        table = tomllib.loads(expectations.read_text(encoding="utf-8"))
        xfail = table.get("xfail")
        cases.append(Case(project, None, (), _expected(table), _silent(table), xfail))
        for variant in table.get("variant", ()):
            edits = tuple(Edit(e["file"], e["old"], e["new"]) for e in variant.get("edit", ()))
            cases.append(
                Case(
                    project,
                    variant["name"],
                    edits,
                    _expected(variant),
                    _silent(variant),
                    variant.get("xfail", xfail),
                )
            )
    return cases


CASES = _cases()


def _params(cases: list[Case], expecting: bool = True) -> list[Any]:
    """``expecting``: the test compares with the expectations (an ``xfail`` applies)."""
    return [
        pytest.param(
            case,
            id=case.name,
            marks=[pytest.mark.xfail(strict=True, reason=case.xfail)]
            if case.xfail and expecting
            else [],
        )
        for case in cases
    ]


def _sources(root: Path) -> list[str]:
    """The project's Python files, as paths relative to its folder."""
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*.py"))


def _materialise(case: Case, into: Path) -> Path:
    """A copy of the project (its variant's edits applied) in a folder of its own."""
    source = CASES_DIR / case.project
    root = into / case.project
    shutil.copytree(source, root, ignore=shutil.ignore_patterns(EXPECTATIONS, "__pycache__"))
    for edit in case.edits:
        path = root / edit.file
        text = path.read_text(encoding="utf-8")
        assert text.count(edit.old) == 1, f"{case.name}: {edit.old!r} in {edit.file}"
        path.write_text(text.replace(edit.old, edit.new), encoding="utf-8")
    return root


def check(root: Path, *argv: str) -> list[dict[str, Any]]:
    """``torchmode check --format json ARGV`` run in ``root``, as a user runs it there."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.chdir(root), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["check", "--format", "json", *argv])
    assert code in (0, 1), err.getvalue()
    found: list[dict[str, Any]] = json.loads(out.getvalue())
    real = root.resolve()
    for finding in found:
        finding["filename"] = Path(finding["filename"]).relative_to(root).as_posix()
        for related in finding["related"]:
            related["filename"] = Path(related["filename"]).resolve().relative_to(real).as_posix()
    return found


def _key(finding: dict[str, Any]) -> tuple[str, str, int]:
    return finding["filename"], finding["code"], finding["location"]["row"]


def _text(finding: dict[str, Any]) -> str:
    """The message, then ``line N: <message>`` for each related location in the finding's file
    and ``other.py:N: <message>`` for one in another file."""
    related = [
        f"line {r['location']['row']}: {r['message']}"
        if r["filename"] == finding["filename"]
        else f"{r['filename']}:{r['location']['row']}: {r['message']}"
        for r in finding["related"]
    ]
    return "\n".join([finding["message"], *related])


def _describe(found: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"  {f['filename']}:{f['location']['row']} {f['code']}\n    "
        + _text(f).replace("\n", "\n    ")
        for f in sorted(found, key=_key)
    )


@pytest.fixture
def project(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Case, Path]]:
    case: Case = request.param
    yield case, _materialise(case, tmp_path)


@pytest.mark.parametrize("project", _params(CASES), indirect=True)
def test_the_project_reports_exactly_what_is_expected(project: tuple[Case, Path]) -> None:
    case, root = project
    found = check(root, "-j1", ".")
    by_key = {_key(f): f for f in found}
    assert len(by_key) == len(found), _describe(found)
    for silent in case.silent:
        wrong = [
            f
            for f in found
            if f["code"] == silent.rule
            and silent.file in (None, f["filename"])
            and silent.line in (None, f["location"]["row"])
        ]
        assert not wrong, f"must not be reported ({silent.why}):\n{_describe(wrong)}"
    expected = {(e.file, e.rule, e.line): e for e in case.expected}
    assert set(by_key) == set(expected), f"found:\n{_describe(found)}"
    for key, expectation in expected.items():
        text = _text(by_key[key])
        for words in expectation.shows:
            assert words in text, f"{key}: {words!r} not in\n{text}"


@pytest.mark.parametrize("project", _params(CASES, expecting=False), indirect=True)
def test_each_file_alone_gets_the_findings_the_project_has_there(
    project: tuple[Case, Path],
) -> None:
    """As pre-commit runs it: only the changed files are named, the project is still read."""
    _, root = project
    whole = check(root, "-j1", ".")
    for name in _sources(root):
        alone = check(root, "-j1", name)
        assert alone == [f for f in whole if f["filename"] == name], name


def test_two_workers_find_what_one_finds(tmp_path: Path) -> None:
    """Every case in one run (each folder named on the command line is its own project)."""
    folders = [
        _materialise(case, tmp_path / case.name).relative_to(tmp_path).as_posix() for case in CASES
    ]
    one = check(tmp_path, "-j1", *folders)
    assert one, "the projects have findings"
    assert check(tmp_path, "-j2", *folders) == one


def test_a_warm_cache_finds_what_a_cold_one_and_none_find(tmp_path: Path) -> None:
    """The summaries kept on disk by a first run, read back by a second one (the memory of
    the first dropped, as a new process would start), change nothing."""
    folders = [
        _materialise(case, tmp_path / case.name).relative_to(tmp_path).as_posix() for case in CASES
    ]
    cache = tmp_path / "cache"
    uncached = check(tmp_path, "-j1", "--no-cache", *folders)
    project_files_changed(str(p) for p in tmp_path.rglob("*.py"))
    cold = check(tmp_path, "-j1", "--cache-dir", str(cache), *folders)
    assert any(cache.rglob("summaries/*/*.json")), "the first run keeps summaries"
    project_files_changed(str(p) for p in tmp_path.rglob("*.py"))
    warm = check(tmp_path, "-j1", "--cache-dir", str(cache), *folders)
    assert cold == uncached
    assert warm == cold


def test_every_project_has_files_and_expectations() -> None:
    folders = sorted(p for p in CASES_DIR.iterdir() if p.is_dir() and p.name != "__pycache__")
    assert folders, "no projects"
    for folder in folders:
        assert (folder / EXPECTATIONS).is_file(), folder.name
        assert _sources(folder), folder.name
    # a case may hold its own test_*.py (pytest_without_import): pytest must not collect them
    pyproject = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text("utf-8"))
    assert CASES_DIR.name in pyproject["tool"]["pytest"]["ini_options"]["norecursedirs"]
