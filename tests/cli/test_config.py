"""[tool.torchmode] loading: values, validation errors, per-file ignores, overrides."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from torchmode.config import (
    ConfigError,
    Overrides,
    config_for,
    load_config_file,
    load_settings_for,
    merge,
    parse_code_list,
)
from torchmode.findings import Severity
from torchmode.settings import DEFAULT_SETTINGS


def _pyproject(directory: Path, body: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "pyproject.toml"
    path.write_text("[project]\nname = 'x'\n\n[tool.torchmode]\n" + body)
    return path


def test_full_table(tmp_path):
    _pyproject(
        tmp_path,
        'select = ["TM1", "TM201"]\n'
        'ignore = ["tm103"]\n'
        'per-file-ignores = { "tests/*" = ["TM201"], "*_eval.py" = ["TM1"] }\n'
        'severity = { TM101 = "error", TM2 = "info" }\n'
        'fix-no-grad-with = "inference_mode"\n',
    )
    settings = load_settings_for(tmp_path / "train.py")
    assert settings.select == frozenset({"TM1", "TM201"})
    assert settings.ignore == frozenset({"TM103"})
    assert settings.severity["TM101"] is Severity.ERROR
    assert {settings.severity[c] for c in ("TM201", "TM202", "TM203", "TM204")} == {Severity.INFO}
    assert settings.fix_no_grad_with == "inference_mode"
    assert settings.enabled("TM101") and not settings.enabled("TM103")
    assert not settings.enabled("TM301")
    tests = load_settings_for(tmp_path / "tests" / "test_x.py")
    assert tests.ignore == frozenset({"TM103", "TM201"})
    deep = load_settings_for(tmp_path / "pkg" / "sub" / "model_eval.py")
    assert deep.ignore == frozenset({"TM103", "TM1"})


def test_rule_names_are_accepted(tmp_path):
    _pyproject(tmp_path, 'ignore = ["loss-keeps-graph"]\n')
    assert load_settings_for(tmp_path / "a.py").ignore == frozenset({"TM204"})


def test_nearest_pyproject_with_the_table_wins(tmp_path):
    _pyproject(tmp_path, 'ignore = ["TM101"]\n')
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "pyproject.toml").write_text("[project]\nname = 'pkg'\n")
    _pyproject(tmp_path / "other", 'ignore = ["TM302"]\n')
    assert load_settings_for(tmp_path / "pkg" / "a.py").ignore == frozenset({"TM101"})
    assert load_settings_for(tmp_path / "other" / "deep" / "a.py").ignore == frozenset({"TM302"})
    config = config_for(tmp_path / "pkg" / "a.py")
    assert config.source == tmp_path / "pyproject.toml"


def test_a_broken_pyproject_of_another_tool_is_passed_over(tmp_path):
    _pyproject(tmp_path, 'ignore = ["TM101"]\n')
    (tmp_path / "fixtures").mkdir()
    (tmp_path / "fixtures" / "pyproject.toml").write_text("[tool.black\n")
    assert load_settings_for(tmp_path / "fixtures" / "a.py").ignore == frozenset({"TM101"})
    (tmp_path / "fixtures" / "pyproject.toml").write_text("[tool.torchmode\n")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_settings_for(tmp_path / "fixtures" / "a.py")


def test_a_pyproject_nested_too_deeply_for_tomllib_is_a_config_error(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        "[tool.torchmode]\nselect = " + "[" * 20_000 + "]" * 20_000 + "\n"
    )
    with pytest.raises(ConfigError, match="nested too deeply"):
        load_settings_for(tmp_path / "a.py")


def test_no_configuration_gives_defaults(tmp_path):
    assert load_settings_for(tmp_path / "a.py") == DEFAULT_SETTINGS


def test_edits_to_the_pyproject_are_picked_up(tmp_path):
    path = _pyproject(tmp_path, 'ignore = ["TM101"]\n')
    assert load_settings_for(tmp_path / "a.py").ignore == frozenset({"TM101"})
    path.write_text('[tool.torchmode]\nignore = ["TM102", "TM103"]\n')
    assert load_settings_for(tmp_path / "a.py").ignore == frozenset({"TM102", "TM103"})


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("selct = []\n", "unknown key 'selct' (known: select, ignore,"),
        ('select = ["TM999"]\n', ".select: unknown rule code 'TM999'"),
        ('ignore = "TM101"\n', ".ignore: expected a list of strings"),
        ('severity = { TM101 = "fatal" }\n', "invalid severity 'fatal' for TM101"),
        ('severity = { XY1 = "info" }\n', "unknown rule code 'XY1'"),
        ('fix-no-grad-with = "enable_grad"\n', "fix-no-grad-with: invalid value 'enable_grad'"),
        ('per-file-ignores = { "tests/*" = ["TM9"] }\n', "unknown rule code 'TM9'"),
        ("exclude = 3\n", ".exclude: expected a list of strings"),
        ("select = [\n", "invalid TOML"),
    ],
)
def test_errors_name_the_file_and_the_key(tmp_path, body, message):
    path = _pyproject(tmp_path, body)
    with pytest.raises(ConfigError) as raised:
        load_settings_for(tmp_path / "a.py")
    assert str(raised.value).startswith(str(path))
    assert message in str(raised.value)


def test_overrides(tmp_path):
    _pyproject(tmp_path, 'select = ["TM1"]\nignore = ["TM103"]\nseverity = {TM101 = "info"}\n')
    overrides = Overrides(
        select=parse_code_list("TM2,TM101", "--select"),
        ignore=parse_code_list("TM204", "--ignore"),
        severity={"TM101": Severity.ERROR},
        fix_no_grad_with="inference_mode",
    )
    settings = load_settings_for(tmp_path / "a.py", overrides)
    assert settings.select == frozenset({"TM2", "TM101"})
    assert settings.ignore == frozenset({"TM103", "TM204"})
    assert settings.severity == {"TM101": Severity.ERROR}
    assert settings.fix_no_grad_with == "inference_mode"
    assert merge(settings, None) is settings


def test_explicit_config_file(tmp_path):
    standalone = tmp_path / "torchmode.toml"
    standalone.write_text('ignore = ["TM101"]\n')
    assert load_config_file(standalone).settings.ignore == frozenset({"TM101"})
    with pytest.raises(ConfigError, match="configuration file not found"):
        load_config_file(tmp_path / "missing.toml")


def test_cli_reports_config_errors_and_stops(project, run):
    Path("pyproject.toml").write_text('[tool.torchmode]\nselect = ["TM1"]\ncolour = true\n')
    Path("a.py").write_text("model.eval()\n")
    code, out, err = run("check", ".")
    assert (code, out) == (2, "")
    assert err.startswith("torchmode: ")
    assert "pyproject.toml: [tool.torchmode]: unknown key 'colour'" in err


def test_cli_config_flag(project, run, fake_engine):
    Path("train.py").write_text("loss.backward()\nmodel.eval()\n")
    Path("strict.toml").write_text('ignore = ["TM1"]\n')
    assert run("check", "train.py")[0] == 1
    assert run("check", "--config", "strict.toml", "train.py")[0] == 0
    code, _, err = run("check", "--config", "nope.toml", "train.py")
    assert code == 2 and "nope.toml: configuration file not found" in err


def test_cli_per_file_ignores(project, run, fake_engine):
    Path("pyproject.toml").write_text('[tool.torchmode.per-file-ignores]\n"tests/*" = ["TM101"]\n')
    Path("tests").mkdir()
    Path("tests/t.py").write_text("loss.backward()\nmodel.eval()\n")
    Path("train.py").write_text("loss.backward()\nmodel.eval()\n")
    code, out, _ = run("check", "-q", ".")
    assert code == 1
    assert [line.split(":")[0] for line in out.splitlines() if not line.startswith(" ")] == [
        "train.py"
    ]


def test_min_severity_from_pyproject_and_its_errors(tmp_path):
    _pyproject(tmp_path / "a", 'min-severity = "hint"\n')
    assert load_settings_for(tmp_path / "a" / "train.py").min_severity is Severity.HINT
    assert load_settings_for(tmp_path / "train.py").min_severity is Severity.WARNING
    _pyproject(tmp_path / "b", 'min-severity = "loud"\n')
    with pytest.raises(ConfigError, match=r"min-severity: invalid level 'loud'"):
        load_settings_for(tmp_path / "b" / "train.py")


# A model built only from Linear and ReLU left in train mode while it evaluates: TM102 can only
# be a hint (the outputs do not change), so it is reported only when hints are asked for.
NOT_MODE_SENSITIVE = """\
import torch
import torch.nn as nn


class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2)])

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


net = Mlp()
with torch.no_grad():
    print(net(torch.ones(1, 4)))
"""


def test_hints_are_off_by_default_and_an_override_does_not_raise_them(project, run):
    Path("mlp.py").write_text(NOT_MODE_SENSITIVE)
    assert run("check", "-q", "mlp.py")[0] == 0
    code, out, _ = run("check", "-q", "--min-severity", "hint", "mlp.py")
    assert code == 1 and "TM102" in out and "ModuleList" not in out
    Path("pyproject.toml").write_text(
        '[tool.torchmode]\nmin-severity = "hint"\nseverity = { TM102 = "error" }\n'
    )
    code, out, _ = run("check", "--format", "json", "mlp.py")
    assert code == 1
    assert [(e["code"], e["severity"]) for e in json.loads(out)] == [("TM102", "hint")]


# An evaluation helper decorated by an installed package's own grad switch, which the analysis
# cannot read; and a scoring function whose name says nothing of evaluation.
DECLARED_PROJECT = """\
import torch
from torch import nn
from lab_utils.torch_tools import no_grad_when_possible


@no_grad_when_possible()
def validate(model, loader):
    model.eval()
    return sum(model(x).argmax(1).eq(y).sum().item() for x, y in loader)


def score_epoch(model, batches):
    return sum(model(x).sum().item() for x in batches)


model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
opt = torch.optim.SGD(model.parameters(), lr=0.1)
for epoch in range(3):
    model.train()
    for x, y in train_loader:
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    score_epoch(model, holdout)
    validate(model, val_loader)
"""


def test_declared_grad_off_decorators_and_evaluation_functions(project, run):
    Path("train.py").write_text(DECLARED_PROJECT)
    code, out, _ = run("check", "--format", "json", "train.py")
    before = sorted((e["code"], e["location"]["row"]) for e in json.loads(out))
    # not seen: validate() records graphs; score_epoch() is not known to evaluate
    assert before == [("TM201", 9)]
    Path("pyproject.toml").write_text(
        "[tool.torchmode]\n"
        'grad-off-decorators = ["lab_utils.torch_tools.no_grad_when_possible"]\n'
        'evaluation-functions = ["score_*"]\n'
    )
    code, out, _ = run("check", "--format", "json", "train.py")
    assert code == 1
    after = sorted((e["code"], e["location"]["row"]) for e in json.loads(out))
    # declared: validate() runs without gradients; score_epoch() evaluates, in train mode and
    # recording graphs
    assert after == [("TM102", 13), ("TM201", 13)]


ENTRY_POINT_PROJECT = """\
import torch
from torch import nn


def evaluate(model, loader):
    model.eval()
    return sum(model(x).argmax(1).eq(y).sum().item() for x, y in loader)


def main():
    model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for epoch in range(3):
        model.train()
        for x, y in train_loader:
            opt.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
        with torch.no_grad():
            evaluate(model, val_loader)


if __name__ == "__main__":
    main()
"""


def test_a_declared_entry_point_is_also_entered_with_the_defaults(project, run):
    Path("train.py").write_text(ENTRY_POINT_PROJECT)
    # its one caller turns gradients off: nothing to report
    assert run("check", "-q", "train.py")[0] == 0
    # a job scheduler also runs `evaluate` on its own (``_target_: train.evaluate``), where
    # nothing turns gradients off
    Path("pyproject.toml").write_text('[tool.torchmode]\nentry-points = ["evaluate"]\n')
    code, out, _ = run("check", "--format", "json", "train.py")
    assert code == 1
    assert [(e["code"], e["location"]["row"]) for e in json.loads(out)] == [("TM201", 7)]
    # `Class.method` patterns name methods (none of this file's functions is one)
    Path("pyproject.toml").write_text('[tool.torchmode]\nentry-points = ["Trainer.*"]\n')
    assert run("check", "-q", "train.py")[0] == 0


def test_declared_names_are_validated(tmp_path):
    _pyproject(tmp_path, 'grad-off-decorators = ["utils..no_grad"]\n')
    with pytest.raises(ConfigError, match=r"grad-off-decorators: 'utils\.\.no_grad' is not a name"):
        load_settings_for(tmp_path / "train.py")
    _pyproject(tmp_path, 'entry-points = ["jobs..evaluate"]\n')
    with pytest.raises(ConfigError, match=r"entry-points: 'jobs\.\.evaluate' is not a name"):
        load_settings_for(tmp_path / "train.py")
    _pyproject(tmp_path, "evaluation-functions = 3\n")
    with pytest.raises(ConfigError, match="evaluation-functions: expected a list of strings"):
        load_settings_for(tmp_path / "train.py")
    _pyproject(tmp_path, 'grad-off-decorators = ["no_grad_when_possible"]\n')
    loaded = load_settings_for(tmp_path / "train.py")
    settings = merge(loaded, Overrides(min_severity=Severity.HINT))
    assert settings.declared.turns_grad_off("lab.tools.no_grad_when_possible")


def test_a_declared_context_manager_turns_gradients_off(project, run):
    Path("evaluate.py").write_text(
        "from lab_utils import frozen_eval\n\n\n"
        "def validate(model, loader):\n"
        "    model.eval()\n"
        "    with frozen_eval():\n"
        "        return [model(x).argmax(1) for x in loader]\n"
    )
    code, out, _ = run("check", "--format", "json", "evaluate.py")
    assert code == 1
    assert [e["code"] for e in json.loads(out)] == ["TM201"]
    Path("pyproject.toml").write_text('[tool.torchmode]\ngrad-off-decorators = ["frozen_eval"]\n')
    assert run("check", "-q", "evaluate.py")[0] == 0
