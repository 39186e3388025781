"""Settings from initializationOptions, didChangeConfiguration, workspace/configuration and
the file's pyproject.toml, and re-analysis when any of them changes."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from lsprotocol import types
from torchmode.analysis import RULES


def codes(diagnostics: list[types.Diagnostic]) -> list[str]:
    return [str(d.code) for d in diagnostics]


async def test_initialization_options(starter, tmp_path: Path, example_text: str) -> None:
    session = await starter(
        "neovim", settings={"ignore": ["TM101"], "severity": {"TM201": "error"}}
    )
    uri = (tmp_path / "train_sst.py").as_uri()
    session.open(uri, example_text)
    diagnostics = await session.diagnostics(uri)
    assert "TM101" not in codes(diagnostics)
    for diagnostic in diagnostics:
        if diagnostic.code == "TM201":
            assert diagnostic.severity == types.DiagnosticSeverity.Error


async def test_pushed_settings_change(starter, tmp_path: Path, example_text: str) -> None:
    session = await starter("visual-studio-code")
    uri = (tmp_path / "train_sst.py").as_uri()
    session.open(uri, example_text)
    tm101 = next(d for d in await session.diagnostics(uri) if d.code == "TM101")
    assert tm101.severity != types.DiagnosticSeverity.Hint
    mark = len(session.client.published)
    session.client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(
            settings={"torchmode": {"severity": {"TM101": "hint"}, "select": ["TM1"]}}
        )
    )
    after = await session.pushed(uri, session.versions[uri], mark)
    assert set(codes(after)) <= {code for code in RULES if code.startswith("TM1")}
    assert next(d for d in after if d.code == "TM101").severity == types.DiagnosticSeverity.Hint


async def test_pulled_settings_and_diagnostic_refresh(
    starter, caps, tmp_path: Path, example_text: str
) -> None:
    """A client that pulls both settings and diagnostics (as VS Code does today)."""
    capabilities = caps("visual-studio-code")
    capabilities.text_document.diagnostic = types.DiagnosticClientCapabilities()
    capabilities.workspace.diagnostics = types.DiagnosticWorkspaceClientCapabilities(
        refresh_support=True
    )
    session = await starter("visual-studio-code", capabilities)
    assert session.pulls
    uri = (tmp_path / "train_sst.py").as_uri()
    session.open(uri, example_text)
    assert "TM101" in codes(await session.diagnostics(uri))
    # Asked again with the answer's resultId: nothing changed, so nothing is sent again.
    identifier = types.TextDocumentIdentifier(uri=uri)
    first = await session.client.text_document_diagnostic_async(
        types.DocumentDiagnosticParams(text_document=identifier)
    )
    again = await session.client.text_document_diagnostic_async(
        types.DocumentDiagnosticParams(text_document=identifier, previous_result_id=first.result_id)
    )
    assert first.result_id and isinstance(again, types.RelatedUnchangedDocumentDiagnosticReport)
    session.client.set_configuration({"ignore": ["TM1"]}, section="torchmode")
    # VS Code announces a change with `null` and lets the server ask for the values.
    session.client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings=None)
    )
    refreshes = session.client.diagnostic_refresh_count
    for _ in range(1000):
        if session.client.diagnostic_refresh_count > refreshes:
            break
        await asyncio.sleep(0.01)
    assert session.client.diagnostic_refresh_count > refreshes
    assert not [c for c in codes(await session.diagnostics(uri)) if c.startswith("TM1")]
    changed = await session.client.text_document_diagnostic_async(
        types.DocumentDiagnosticParams(text_document=identifier, previous_result_id=first.result_id)
    )
    assert isinstance(changed, types.RelatedFullDocumentDiagnosticReport)


async def test_configuration_is_asked_for_at_start(
    starter, lsp_client, tmp_path: Path, example_text: str
) -> None:
    lsp_client.set_configuration({"ignore": ["TM101"]}, section="torchmode")
    session = await starter("neovim")
    uri = (tmp_path / "train_sst.py").as_uri()
    session.open(uri, example_text)
    assert "TM101" not in codes(await session.diagnostics(uri))


async def test_pyproject_applies_underneath_and_is_watched(
    starter, tmp_path: Path, example_text: str
) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[tool.torchmode]\nignore = ["TM101"]\n')
    session = await starter("visual-studio-code", settings={"severity": {"TM201": "hint"}})
    registrations = session.client.registrations  # type: ignore[attr-defined]
    for _ in range(3000):
        if registrations:
            break
        await asyncio.sleep(0.01)
    assert any(r.method == types.WORKSPACE_DID_CHANGE_WATCHED_FILES for r in registrations)
    source = tmp_path / "train_sst.py"
    uri = source.as_uri()
    session.open(uri, example_text)
    assert "TM101" not in codes(await session.diagnostics(uri))

    pyproject.write_text('[tool.torchmode]\nignore = ["TM204"]\n')
    mark = len(session.client.published)
    session.client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[types.FileEvent(uri=pyproject.as_uri(), type=types.FileChangeType.Changed)]
        )
    )
    after = await session.pushed(uri, session.versions[uri], mark)
    assert "TM101" in codes(after) and "TM204" not in codes(after)


async def test_invalid_settings_are_reported_not_fatal(
    starter, tmp_path: Path, example_text: str
) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.torchmode]\nignroe = ["TM101"]\n')
    session = await starter("neovim", settings={"debounceMs": "soon"})
    uri = (tmp_path / "train_sst.py").as_uri()
    session.open(uri, example_text)
    assert "TM101" in codes(await session.diagnostics(uri))
    shown = [m.message for m in session.client.messages]
    assert any("debounceMs" in m for m in shown), shown
    assert any("ignroe" in m for m in shown), shown


EVALUATION = """\
import torch


def evaluate(model, loader):
    model.eval()
    correct = 0
    for x, y in loader:
        correct += (model(x).argmax(1) == y).sum().item()
    return correct
"""


async def test_fix_no_grad_with(starter, tmp_path: Path) -> None:
    session = await starter("neovim", settings={"fixNoGradWith": "inference_mode"})
    uri = (tmp_path / "evaluate.py").as_uri()
    session.open(uri, EVALUATION)
    tm201 = next(d for d in await session.diagnostics(uri) if d.code == "TM201")
    fixed = await session.fix(uri, tm201)
    assert "inference_mode" in fixed and "no_grad" not in fixed
    assert "TM201" not in codes(await session.diagnostics(uri))


async def until(condition, what: str) -> None:
    for _ in range(6000):  # a guard against a hung server, not a timing assertion
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


def config_errors(session) -> list[str]:
    return [
        m.message
        for m in session.client.messages
        if m.type == types.MessageType.Error and "pyproject.toml" in m.message
    ]


def pyproject_changed(session, pyproject: Path) -> None:
    session.client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[types.FileEvent(uri=pyproject.as_uri(), type=types.FileChangeType.Changed)]
        )
    )


BROKEN_CONFIGURATIONS = {
    "exclude-pattern": ('[tool.torchmode]\nexclude = ["[z-a]"]\n', "z-a"),
    "per-file-pattern": ('[tool.torchmode]\nper-file-ignores = { "[z-a]" = ["TM201"] }\n', "z-a"),
    "toml": ("[tool.torchmode\nignore = [\n", "invalid TOML"),
    "types": ('[tool.torchmode]\nselect = "TM1"\n', "expected a list of strings"),
    "nesting": ("[tool.torchmode]\nexclude = " + "[" * 5000 + "]" * 5000 + "\n", "too deeply"),
}


@pytest.mark.parametrize("case", list(BROKEN_CONFIGURATIONS))
async def test_broken_pyproject_is_told_once_and_the_defaults_apply(
    starter, tmp_path: Path, example_text: str, case: str
) -> None:
    content, problem = BROKEN_CONFIGURATIONS[case]
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(content)
    session = await starter("visual-studio-code")
    # Told at start-up, before any file is opened: the server is not silently disabled.
    await until(lambda: config_errors(session), "the configuration error")
    [told] = config_errors(session)
    assert str(pyproject) in told and problem in told and "default settings" in told
    logged = [m.message for m in session.client.log_messages]
    assert told in logged
    uri = (tmp_path / "train_sst.py").as_uri()
    session.open(uri, example_text)
    assert "TM101" in codes(await session.diagnostics(uri))  # analysed with the defaults
    session.insert(uri, "import argparse", "# typed\n")
    assert "TM101" in codes(await session.diagnostics(uri))
    assert config_errors(session) == [told]  # once, not on every analysis


async def test_a_pyproject_broken_again_after_a_fix_is_told_again(
    starter, tmp_path: Path, example_text: str
) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[tool.torchmode]\nignore = ["TM101"]\n')
    session = await starter("visual-studio-code")
    uri = (tmp_path / "train_sst.py").as_uri()
    session.open(uri, example_text)
    assert "TM101" not in codes(await session.diagnostics(uri))

    broken = '[tool.torchmode]\nignore = ["TM101"]\nexclude = ["[z-a]"]\n'
    for round_ in (1, 2):
        pyproject.write_text(broken)
        mark = len(session.client.published)
        pyproject_changed(session, pyproject)
        # the broken table is ignored as a whole: its ignore does not apply either
        assert "TM101" in codes(await session.pushed(uri, session.versions[uri], mark))
        await until(lambda n=round_: len(config_errors(session)) == n, "the error told")
        pyproject.write_text('[tool.torchmode]\nignore = ["TM101"]\n')
        mark = len(session.client.published)
        pyproject_changed(session, pyproject)
        assert "TM101" not in codes(await session.pushed(uri, session.versions[uri], mark))
    assert len(config_errors(session)) == 2
