"""The "Ignore on this line" edit and the editor settings, without a server."""

from __future__ import annotations

import pytest
from torchmode.analysis import ignore_edit
from torchmode.findings import Severity
from torchmode.fixing import apply_edits
from torchmode.lsp.configuration import parse_client_settings, section_of, settings_for


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("        model.eval()", "        model.eval()  # noqa: TM101"),
        ("model.eval()   ", "model.eval()  # noqa: TM101   "),
        ("model.eval()  # noqa: E501", "model.eval()  # noqa: E501, TM101"),
        (
            "model.eval()  # noqa:TM204,TM301 trailing",
            "model.eval()  # noqa:TM204,TM301, TM101 trailing",
        ),
        ("model.eval()  # why: keep it", "model.eval()  # why: keep it  # noqa: TM101"),
        (
            'log("# not a comment"); model.eval()',
            'log("# not a comment"); model.eval()  # noqa: TM101',
        ),
        (
            "run(model.eval(),  # first argument",
            "run(model.eval(),  # first argument  # noqa: TM101",
        ),
    ],
)
def test_ignore_edit(line: str, expected: str) -> None:
    edit = ignore_edit(0, line, "TM101")
    assert edit is not None
    assert apply_edits(line, [edit]) == expected


@pytest.mark.parametrize("line", ["x = model.eval() + \\", 'model.eval(); s = """starts here'])
def test_no_comment_where_it_would_change_the_code(line: str) -> None:
    assert ignore_edit(0, line, "TM101") is None


def test_client_settings_parse_and_validate() -> None:
    client, problems = parse_client_settings(
        {
            "select": ["TM1", "evaluation-tracks-gradients"],
            "ignore": "TM204",
            "severity": {"TM101": "error"},
            "run": "onSave",
            "debounceMs": 0,
            "fixNoGradWith": "inference_mode",
        }
    )
    assert problems == []
    assert client.run == "onSave" and client.debounce_ms == 0
    settings, problem = settings_for(None, client)
    assert problem is None
    assert settings.enabled("TM101") and settings.enabled("TM201")
    assert not settings.enabled("TM204") and not settings.enabled("TM301")
    assert settings.severity["TM101"] is Severity.ERROR
    assert settings.fix_no_grad_with == "inference_mode"


def test_bad_client_settings_are_reported_and_ignored() -> None:
    client, problems = parse_client_settings(
        {"select": ["TM999"], "run": "sometimes", "debounceMs": -1, "colour": "red"}
    )
    assert len(problems) == 4
    assert any("TM999" in p for p in problems) and any("colour" in p for p in problems)
    assert client.run == "onType" and client.debounce_ms == 150
    assert client.overrides.select is None


def test_settings_sections() -> None:
    inner = {"ignore": ["TM101"]}
    assert section_of({"torchmode": inner}) == inner
    assert section_of({"settings": inner}) == inner
    assert section_of({"settings": {"torchmode": inner}}) == inner
    assert section_of(inner) == inner
    assert section_of({"python": {"analysis": {}}}) is None
    assert section_of(None) is None
    assert section_of({"settings": {}}) is None


def test_project_settings_lie_underneath(tmp_path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.torchmode]\nignore = ["TM204"]\nseverity = { TM101 = "hint" }\n'
    )
    client, _ = parse_client_settings({"severity": {"TM301": "error"}})
    settings, problem = settings_for(tmp_path / "train.py", client)
    assert problem is None
    assert not settings.enabled("TM204")
    assert settings.severity["TM101"] is Severity.HINT
    assert settings.severity["TM301"] is Severity.ERROR


def test_broken_project_settings_fall_back_to_the_editors(tmp_path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.torchmode]\nignroe = ["TM204"]\n')
    client, _ = parse_client_settings({"ignore": ["TM301"]})
    settings, problem = settings_for(tmp_path / "train.py", client)
    assert problem is not None and "ignroe" in problem
    assert not settings.enabled("TM301") and settings.enabled("TM204")


def test_min_severity_setting():
    client, problems = parse_client_settings({"minSeverity": "hint"})
    assert problems == []
    assert client.overrides.min_severity is Severity.HINT
    client, problems = parse_client_settings({"minSeverity": "quiet"})
    assert client.overrides.min_severity is None
    assert problems and "torchmode.minSeverity" in problems[0]
