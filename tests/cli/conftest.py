"""Fixtures for the CLI tests.

``fake_engine`` replaces ``torchmode.analysis.driver.analyze`` by a small, fully predictable
analyser, so the CLI's own behaviour (formats, fix-all, notebooks, encodings, exit codes)
is tested independently of the real rules. Tests of the real engine through the CLI are in
test_real_engine.py.

The fake reports:
- TM101 on each ``NAME.eval()`` line not directly followed by ``NAME.train()``, with the
  latest earlier ``.backward()`` as related location and a safe fix inserting
  ``NAME.train()`` on the next line;
- TM204 on each ``total += loss`` (unsafe fix: ``loss.item()``);
- a syntax error for text that ``ast.parse`` rejects.
Suppressions: ``# noqa`` on the line; settings' select/ignore/severity apply.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import torchmode.analysis.driver
from torchmode.analysis import Analysis, SyntaxProblem
from torchmode.cli.main import main
from torchmode.findings import Finding, Fix, Position, Range, Related, Severity, TextEdit
from torchmode.settings import DEFAULT_SETTINGS, Settings

_EVAL = re.compile(r"^(\s*)(\w+)\.eval\(\)")
_ACCUMULATE = re.compile(r"^\s*total \+= (loss)\s*$")


def fake_analyze(
    source: str, settings: Settings = DEFAULT_SETTINGS, cache: object = None
) -> Analysis:
    try:
        ast.parse(source)
    except SyntaxError as error:
        position = Position((error.lineno or 1) - 1, max((error.offset or 1) - 1, 0))
        return Analysis(source, syntax_error=SyntaxProblem(error.msg, position))
    lines = source.splitlines()
    findings: list[Finding] = []
    backward: Range | None = None
    for number, line in enumerate(lines):
        if "# noqa" in line:
            continue
        if (column := line.find(".backward()")) >= 0:
            start = len(line) - len(line.lstrip())
            backward = Range.of(number, start, number, column + len(".backward()"))
        if (m := _EVAL.match(line)) and settings.enabled("TM101"):
            indent, name = m.group(1), m.group(2)
            following = lines[number + 1].strip() if number + 1 < len(lines) else ""
            if following == f"{name}.train()":
                continue
            insert = Range.of(number + 1, 0, number + 1, 0)
            fix = Fix(f"Insert `{name}.train()`", (TextEdit(insert, f"{indent}{name}.train()\n"),))
            findings.append(
                Finding(
                    "TM101",
                    f"`{name}` stays in eval mode for the training step",
                    Range.of(number, len(indent), number, m.end()),
                    settings.severity_of("TM101", Severity.WARNING),
                    related=(Related(backward, "training step here"),) if backward else (),
                    fix_builder=lambda fix=fix: (fix,),
                )
            )
        if (m := _ACCUMULATE.match(line)) and settings.enabled("TM204"):
            loss = Range.of(number, m.start(1), number, m.end(1))
            fix = Fix("Use `loss.item()`", (TextEdit(loss, "loss.item()"),), safe=False)
            findings.append(
                Finding(
                    "TM204",
                    "`loss` is accumulated with its autograd graph",
                    loss,
                    settings.severity_of("TM204", Severity.WARNING),
                    fix_builder=lambda fix=fix: (fix,),
                )
            )
    return Analysis(source, findings=findings)


@pytest.fixture
def fake_engine(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Analysis]:
    monkeypatch.setattr(torchmode.analysis.driver, "analyze", fake_analyze)
    return fake_analyze


TRAINING = """\
for batch in loader:
    loss = model(batch).sum()
    loss.backward()
    optimizer.step()
    model.eval()
    validate(model)
"""

FIXED_TRAINING = TRAINING.replace("    model.eval()\n", "    model.eval()\n    model.train()\n")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty project directory (with its own pyproject.toml) as the working directory."""
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    yield tmp_path


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    """Run the CLI in-process: (exit code, stdout, stderr)."""

    def invoke(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return invoke


@pytest.fixture
def training() -> str:
    """Training code with one TM101 (line 5, related line 3)."""
    return TRAINING


@pytest.fixture
def fixed_training() -> str:
    return FIXED_TRAINING
