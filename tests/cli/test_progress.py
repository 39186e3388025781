"""The progress line: drawn on a terminal only, and erased at the end."""

from __future__ import annotations

import io

import pytest
from torchmode.cli import progress
from torchmode.cli.progress import Progress


@pytest.fixture
def no_delay(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress, "_DELAY", 0.0)
    monkeypatch.setattr(progress, "_INTERVAL", 0.0)


@pytest.mark.usefixtures("no_delay")
def test_draws_and_erases_when_enabled():
    stream = io.StringIO()
    bar = Progress(4, stream, enabled=True)
    bar.update(1)
    bar.update(4)
    bar.close()
    assert stream.getvalue() == ("\rchecking 1/4 files (25%)\rchecking 4/4 files (100%)\r\x1b[2K")


@pytest.mark.usefixtures("no_delay")
def test_silent_when_disabled_or_for_one_file():
    for bar in (
        Progress(4, io.StringIO(), enabled=False),
        Progress(1, io.StringIO(), enabled=True),
    ):
        bar.update(1)
        bar.close()
        assert bar.stream.getvalue() == ""


def test_cli_draws_nothing_when_stderr_is_not_a_terminal(project, run, fake_engine):
    for i in range(5):
        (project / f"m{i}.py").write_text("step()\n")
    code, _, err = run("check", "-j", "1", ".")
    assert (code, err) == (0, "")
