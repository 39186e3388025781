"""The hardening tests' helper modules are imported by name from this directory; their
hypothesis profiles are in fuzz_invariants.py."""

from __future__ import annotations

import sys
from pathlib import Path

# The helper modules beside this file (fuzz_*.py, lsp_wire.py) are imported by name.
sys.path.insert(0, str(Path(__file__).parent))


import fuzz_log
import pytest


@pytest.fixture(scope="session", autouse=True)
def _fuzz_log_directory(tmp_path_factory: pytest.TempPathFactory) -> None:
    if fuzz_log.LONG:
        fuzz_log.LOG.directory = tmp_path_factory.mktemp("fuzz-failures", numbered=False)


@pytest.hookimpl(wrapper=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> object:
    """A long-profile fuzz test that carried on after failures fails at its end."""
    fuzz_log.LOG.current = pyfuncitem.nodeid
    result = yield
    verdict = fuzz_log.LOG.verdict(pyfuncitem.nodeid)
    if verdict is not None:
        pytest.fail(verdict, pytrace=False)
    return result


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not fuzz_log.LOG.tests:
        return
    terminalreporter.section("fuzzing (long profile)")
    for nodeid, log in fuzz_log.LOG.tests.items():
        minutes = (log.last - log.started) / 60
        terminalreporter.write_line(
            f"{nodeid}: {log.examples} examples, {len(log.failures)} failed "
            f"({len(log.kinds())} kinds), {minutes:.0f} min"
        )
        for kind, count in log.kinds().most_common():
            terminalreporter.write_line(f"    {count} x {kind}")
    if fuzz_log.LOG.directory is not None:
        terminalreporter.write_line(f"failing examples: {fuzz_log.LOG.directory}")
