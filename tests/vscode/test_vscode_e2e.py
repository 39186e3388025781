"""VS Code itself, end to end: code-server in headless Chromium with the built torchmode.vsix.

``e2e.mjs`` (playwright-core) installs the .vsix into a fresh code-server, opens a copy of the
shipped example, waits for the server's ready state in the status bar, reads the TM101 problem,
hovers over ``eval``, applies the quick fix and saves, runs "torchmode: Fix All in File" on a
second copy, opens the notebook example, then changes settings as a person would: a missing
interpreter, another environment selected in a stand-in Python extension, ``fromEnvironment``, and
an environment without torchmode (taking the offer of the bundled copy). It reports what it saw
as JSON and these tests judge it.

A second session (``--restricted``) has workspace trust on and leaves a hostile workspace
untrusted: the workspace's venv comes first on the PATH and is its choice in the (stand-in)
Python extension and in its torchmode settings, and its code records when it runs. The server
must still check the file, with the bundled copy in an isolated Python from outside the
workspace, and nothing of the workspace may run until the driver trusts it.

Needs ``npm ci && npm run package`` (the .vsix), code-server (``.ci/run`` installs it into
``~/.cache/torchmode-ci``; or set TORCHMODE_CODE_SERVER) and Debian's chromium. Without them
the tests skip, except under CI, where they fail.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
DRIVER = Path(__file__).with_name("e2e.mjs")
EXAMPLE = ROOT / "examples" / "train_sst.py"
NOTEBOOK = ROOT / "examples" / "train_sst.ipynb"
CODE_SERVER_VERSION = "4.100.3"
DEFAULT_CODE_SERVER = (
    Path.home()
    / ".cache"
    / "torchmode-ci"
    / f"code-server-{CODE_SERVER_VERSION}"
    / "node_modules"
    / ".bin"
    / "code-server"
)
CHROMIUM = Path(os.environ.get("TORCHMODE_CHROMIUM", "/usr/bin/chromium"))
VSIX = Path(os.environ.get("TORCHMODE_VSIX", ROOT / "torchmode.vsix"))
CODE_SERVER = Path(os.environ.get("TORCHMODE_CODE_SERVER", DEFAULT_CODE_SERVER))
# A Python older than 3.11 (pyenv's, as on the CI machine), for the search for a newer one.
OLD_PYTHON = next(
    (str(p) for p in sorted(Path("/root/.pyenv/versions").glob("3.[6-9].*/bin/python3"))[::-1]),
    None,
)
# The whole VS Code session, installation and start-up included, must stay under 3 minutes: the
# driver gives up after 170 s by itself; this is the last resort if node itself hangs.
SESSION_TIMEOUT_S = 190


def _missing() -> list[str]:
    missing = []
    if shutil.which("node") is None:
        missing.append("node")
    if not (ROOT / "node_modules" / "playwright-core").is_dir():
        missing.append("node_modules/playwright-core (npm ci)")
    if not VSIX.is_file():
        missing.append(f"{VSIX} (npm run package)")
    if not CODE_SERVER.is_file():
        missing.append(f"{CODE_SERVER} (code-server {CODE_SERVER_VERSION})")
    if not CHROMIUM.is_file():
        missing.append(f"{CHROMIUM} (apt-get install chromium)")
    return missing


def _run_driver(out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            "node",
            str(DRIVER),
            "--code-server",
            str(CODE_SERVER),
            "--vsix",
            str(VSIX),
            "--example",
            str(EXAMPLE),
            "--python",
            sys.executable,
            "--chromium",
            str(CHROMIUM),
            "--out",
            str(out),
            *extra,
        ],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=SESSION_TIMEOUT_S,
    )


def _stop_code_server(out: Path) -> None:
    """Ends code-server's process group if the driver could not (it runs detached)."""
    pid_file = out / "code-server.pid"
    if pid_file.exists():
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.killpg(int(pid_file.read_text()), signal.SIGTERM)


def _require_prerequisites() -> None:
    missing = _missing()
    if missing:
        message = "VS Code end-to-end prerequisites missing: " + ", ".join(missing)
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def _report(out: Path, *extra: str) -> dict[str, Any]:
    try:
        completed = _run_driver(out, *extra)
    finally:
        _stop_code_server(out)
    lines = completed.stdout.strip().splitlines()
    assert lines, f"the driver printed no report:\n{completed.stderr}"
    report: dict[str, Any] = json.loads(lines[-1])
    report["driverLog"] = completed.stderr
    return report


@pytest.fixture(scope="module")
def session(request: pytest.FixtureRequest) -> dict[str, Any]:
    _require_prerequisites()
    # Outside pytest's tmp_path, so that the screenshots outlive the run for a person to look at.
    out = Path(tempfile.mkdtemp(prefix="torchmode-vscode-"))
    # A Python >= 3.11 without torchmode, for the "not installed" notification.
    bare = out / "bare-venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True)
    import torchmode  # the environment's own copy, which `fromEnvironment` must find

    environment_torchmode = Path(torchmode.__file__).parent
    report = _report(
        out,
        "--notebook",
        str(NOTEBOOK),
        "--environment-torchmode",
        str(environment_torchmode),
        "--bare-python",
        str(bare / "bin" / "python"),
        *(["--old-python", OLD_PYTHON] if OLD_PYTHON else []),
    )
    hover = (report.get("hover") or "").replace("\n", " ")
    summary = [
        f"VS Code e2e screenshots: {report.get('screenshot')} (and the others in {out})",
        f"VS Code e2e status bar: {report.get('status')}",
        f"VS Code e2e problem: {report.get('diagnosticLabel')}",
        f"VS Code e2e hover: {hover[:300]}",
        f"VS Code e2e quick fixes: {report.get('quickFixes')}",
    ]
    # Shown even when the tests pass: a person should be able to find and look at the screenshot.
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
        print("\n" + "\n".join(summary))
    return report


@pytest.fixture(scope="module")
def restricted_session() -> dict[str, Any]:
    _require_prerequisites()
    out = Path(tempfile.mkdtemp(prefix="torchmode-vscode-restricted-"))
    report = _report(out, "--restricted")
    report["out"] = str(out)
    return report


def _succeeded(session: dict[str, Any], step: str) -> None:
    """Fails with the driver's account when `step`, or a step it needs, went wrong."""
    needed = {"ready": ["open"], "problems": ["open", "ready"]}.get(step, ["open", "ready"])
    for name in ["driver", *needed, step]:
        if name in session["failures"]:
            pytest.fail(
                f"VS Code step {name!r} failed: {session['failures'][name]}\n"
                f"--- driver log ---\n{session['driverLog']}\n"
                f"--- extension log ---\n{session.get('log', '')}\n"
                f"screenshot: {session.get('screenshot')}"
            )


def test_the_bundled_server_reaches_the_ready_state(session: dict[str, Any]) -> None:
    _succeeded(session, "ready")
    status = session["status"]
    assert status.startswith("torchmode server ready"), status
    # The default import strategy runs the copy shipped inside the .vsix.
    assert "/bundled/libs/torchmode" in status, status


def test_the_tm101_diagnostic_is_in_the_problems_panel(session: dict[str, Any]) -> None:
    _succeeded(session, "problems")
    diagnostic = session["diagnostic"]
    assert "TM101" in diagnostic
    assert "`model` trains in eval mode" in diagnostic
    eval_line = EXAMPLE.read_text().splitlines().index("            model.eval()") + 1
    assert f"[Ln {eval_line}, Col 13]" in diagnostic, diagnostic
    # The related location ("training step here") points at loss.backward().
    backward_line = EXAMPLE.read_text().splitlines().index("            loss.backward()") + 1
    assert any(f"[Ln {backward_line}, Col 13]" in row for row in session["problems"]), session


def test_hover_over_eval_explains_it(session: dict[str, Any]) -> None:
    _succeeded(session, "hover")
    hover = session["hover"]
    assert "eval" in hover
    assert "mode" in hover


def test_inlay_hints_show_the_mode_timeline(session: dict[str, Any]) -> None:
    _succeeded(session, "inlayHints")
    # The head of the training loop: trained in train mode, left in eval mode by the last step.
    lines = [" ".join(line.split()) for line in session["inlayHintLines"]]
    assert "for batch_idx, batch in enumerate(train_loader): model: train|eval" in lines, lines


def _assert_only_model_train_inserted(fixed_source: str) -> None:
    original = EXAMPLE.read_text().splitlines()
    fixed = fixed_source.splitlines()
    added = [line for line in fixed if line not in original]
    assert [line.strip() for line in added] == ["model.train()"], added
    # Nothing else changed: removing the inserted line gives the original back.
    position = len(fixed) - 1 - fixed[::-1].index(added[0])
    assert fixed[:position] + fixed[position + 1 :] == original


def test_the_quick_fix_inserts_model_train(session: dict[str, Any]) -> None:
    _succeeded(session, "quickFix")
    assert any("train()" in title for title in session["quickFixes"]), session["quickFixes"]
    _assert_only_model_train_inserted(session["fixedSource"])
    # ... and the server, re-checking the fixed file, took TM101 out of the Problems panel.
    assert not any("TM101" in row for row in session["problemsAfterFix"]), session


def test_fix_all_in_file_command(session: dict[str, Any]) -> None:
    _succeeded(session, "fixAll")
    _assert_only_model_train_inserted(session["fixAllSource"])


def test_a_fix_in_another_file_clears_the_problem_it_caused(session: dict[str, Any]) -> None:
    _succeeded(session, "crossFile")
    assert "TM101" in session["crossFileProblem"]
    assert "validate" in session["crossFileProblem"]
    assert not any("TM101" in row for row in session["crossFileProblemsAfterFix"])
    # typed in evaluate_cross.py only: train_cross.py is as it was
    assert "model.train()" not in session["crossTrainSource"]
    assert "    model.train()\n    return correct" in session["crossEvaluateSource"]


def test_notebook_cells_are_checked(session: dict[str, Any]) -> None:
    _succeeded(session, "notebook")
    rows = session["notebookProblems"]
    assert rows[0].startswith(NOTEBOOK.name), rows
    assert any("TM101" in row and "`model` trains in eval mode" in row for row in rows), rows


def test_a_missing_interpreter_is_explained_and_the_server_recovers(
    session: dict[str, Any],
) -> None:
    _succeeded(session, "settings")
    expected = "could not run /nonexistent/bin/python3"
    assert session["errorStatus"].startswith(f"torchmode server error: {expected}")
    assert expected in session["errorNotification"]
    assert "Select Interpreter" in session["errorNotification"]
    assert session["recoveredStatus"].startswith("torchmode server ready"), session


def test_the_python_extensions_interpreter_is_used_and_followed(session: dict[str, Any]) -> None:
    # tests/vscode/fake-python-extension stands in for ms-python.python and its API.
    selected = f"interpreter: {sys.executable} (selected in the Python extension)"
    assert session["status"].endswith(selected), session["status"]
    _succeeded(session, "pythonExtension")
    assert "could not run /nonexistent/env/bin/python" in session["switchedStatus"]
    assert session["switchedBackStatus"].startswith("torchmode server ready"), session


def test_from_environment_and_the_offer_when_torchmode_is_missing(
    session: dict[str, Any],
) -> None:
    _succeeded(session, "importStrategy")
    import torchmode

    location = Path(torchmode.__file__).parent
    assert session["environmentStatus"].startswith("torchmode server ready"), session
    assert f"({location})" in session["environmentStatus"]
    assert "torchmode is not installed in" in session["missingStatus"]
    assert "No module named 'torchmode'" in session["missingStatus"]
    for offer in ("Install with pip", "Use Bundled Copy"):
        assert offer in session["missingNotification"]
    # Taking the offer rewrote the workspace setting and the bundled copy runs on that Python.
    assert session["workspaceSettingsAfterRemedy"]["torchmode.importStrategy"] == "useBundled"
    assert "/bundled/libs/torchmode" in session["bundledAgainStatus"]
    assert "bare-venv/bin/python" in session["bundledAgainStatus"]


def test_the_extension_log_is_clean(session: dict[str, Any]) -> None:
    _succeeded(session, "ready")
    log = session["log"]
    assert "torchmode 0.1.0 on Python" in log
    # The client sends the server only the settings it knows...
    assert "unknown torchmode setting" not in log, log
    # ... and the only errors are the ones the test provoked.
    provoked = ("/nonexistent/", "torchmode is not installed in")
    errors = [line for line in log.splitlines() if "[error]" in line]
    assert all(any(cause in line for cause in provoked) for line in errors), log


def test_restricted_mode_runs_the_bundled_server_isolated_and_outside_the_workspace(
    restricted_session: dict[str, Any],
) -> None:
    _succeeded(restricted_session, "restricted")
    status = restricted_session["status"]
    workspace = str(Path(restricted_session["out"]) / "workspace")
    restricted = "torchmode server ready: restricted mode (untrusted workspace): "
    assert status.startswith(restricted), status
    assert "/bundled/libs/torchmode" in status, status
    # python3 from the PATH, after the workspace venv the PATH starts with.
    found = re.search(r"; interpreter: (\S+) \(found on the PATH outside the workspace\)$", status)
    assert found, status
    python3 = found[1]
    assert workspace not in status
    log = restricted_session["restrictedLog"]
    assert "workspace not trusted: restricted mode" in log
    assert f"skipped {workspace}/.venv/bin/python3: it is inside the workspace folder" in log
    command = next(line for line in log.splitlines() if "server command:" in line)
    assert f"server command: {python3} -I -S -X utf8 " in command, command
    assert workspace not in command, command
    # Started in the extension's own folder, not in the extension host's (maybe the workspace).
    cwd = command.rsplit(" (in ", 1)[1].removesuffix(")")
    assert Path(cwd).parent == Path(restricted_session["out"]) / "extensions", command


def test_restricted_mode_checks_files(restricted_session: dict[str, Any]) -> None:
    _succeeded(restricted_session, "problems")
    assert "TM101" in restricted_session["diagnostic"]


def test_restricted_mode_runs_no_workspace_code(restricted_session: dict[str, Any]) -> None:
    _succeeded(restricted_session, "restricted")
    ran = restricted_session["workspaceCodeBeforeTrust"]
    assert ran == "", ran


def test_trusting_the_workspace_restarts_the_server_with_its_settings(
    restricted_session: dict[str, Any],
) -> None:
    _succeeded(restricted_session, "trust")
    venv_python = str(Path(restricted_session["out"]) / "workspace" / ".venv" / "bin" / "python3")
    status = restricted_session["trustedStatus"]
    # The workspace's torchmode.interpreter and fromEnvironment now apply, and the mode is normal.
    assert status.startswith("torchmode server error: torchmode is not installed in"), status
    assert "restricted mode" not in status
    # ... and its venv's .pth file ran: the record the restricted checks read does work.
    assert f".pth of {venv_python}" in restricted_session["workspaceCodeAfterTrust"]


def test_an_older_python_is_replaced_by_a_newer_one_on_the_path(session: dict[str, Any]) -> None:
    if OLD_PYTHON is None:
        pytest.skip("no Python older than 3.11 under /root/.pyenv/versions")
    _succeeded(session, "olderPython")
    status = session["olderPythonStatus"]
    assert status.startswith("torchmode server ready"), status
    assert "(found by torchmode, as the chosen interpreter is older than 3.11)" in status, status
    assert "/bundled/libs/torchmode" in status, status
    assert f"torchmode needs Python 3.11 or newer; {OLD_PYTHON} is Python 3." in session["log"]
