"""`torchmode check` output formats and exit codes (fake engine: see conftest.py)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import torchmode.analysis.driver

SCHEMA = Path(__file__).parent.parent / "data" / "sarif-schema-2.1.0.json"

pytestmark = pytest.mark.usefixtures("fake_engine")


def test_text_output_lists_finding_and_related_line(project, run, training):
    (project / "train.py").write_text(training)
    code, out, err = run("check", "train.py")
    assert code == 1, err
    lines = out.splitlines()
    assert lines[0] == "train.py:5:5: TM101 `model` stays in eval mode for the training step [*]"
    assert lines[1] == "  train.py:3:5: training step here"
    assert lines[2].startswith("Found 1 problem in 1 file checked (1 fixable with --fix)")
    assert "\x1b[" not in out  # not a terminal: no colour
    assert err == ""


def test_clean_file_exits_zero(project, run):
    (project / "ok.py").write_text("model.train()\n")
    code, out, _ = run("check", "ok.py")
    assert code == 0
    assert out == "All checks passed (1 file checked).\n"


def test_force_color_colours_and_no_color_wins(project, run, training, monkeypatch):
    (project / "train.py").write_text(training)
    monkeypatch.setenv("FORCE_COLOR", "1")
    _, out, _ = run("check", "train.py")
    assert "\x1b[" in out
    monkeypatch.setenv("NO_COLOR", "1")
    _, out, _ = run("check", "train.py")
    assert "\x1b[" not in out


def test_exit_zero_and_quiet(project, run, training):
    (project / "train.py").write_text(training)
    code, out, _ = run("check", "--exit-zero", "--quiet", "train.py")
    assert code == 0
    assert out.splitlines() == [
        "train.py:5:5: TM101 `model` stays in eval mode for the training step [*]",
        "  train.py:3:5: training step here",
    ]


def test_select_and_ignore_flags(project, run, training):
    (project / "train.py").write_text(training + "total = 0\ntotal += loss\n")
    _, out, _ = run("check", "-q", "--select", "TM2", "train.py")
    assert [line.split()[1] for line in out.splitlines()] == ["TM204"]
    _, out, _ = run("check", "-q", "--ignore", "TM204,TM3", "train.py")
    assert "TM204" not in out and "TM101" in out
    code, _, err = run("check", "--select", "TM999", "train.py")
    assert code == 2
    assert "--select: unknown rule code 'TM999'" in err


def test_json_output_has_ruff_shape(project, run, training):
    (project / "train.py").write_text("# é\n" + training)
    code, out, _ = run("check", "--format", "json", "train.py")
    assert code == 1
    [entry] = json.loads(out)
    assert entry["filename"] == str(project / "train.py")
    assert entry["code"] == "TM101"
    assert entry["name"] == "eval-mode-leaks-into-training"
    assert entry["message"] == "`model` stays in eval mode for the training step"
    assert entry["location"] == {"row": 6, "column": 5}
    assert entry["end_location"] == {"row": 6, "column": 17}
    assert entry["noqa_row"] == 6
    assert entry["cell"] is None
    assert entry["severity"] == "warning"
    assert entry["url"].endswith("#tm101-eval-mode-leaks-into-training")
    assert entry["fix"] == {
        "applicability": "safe",
        "message": "Insert `model.train()`",
        "edits": [
            {
                "content": "    model.train()\n",
                "location": {"row": 7, "column": 1},
                "end_location": {"row": 7, "column": 1},
            }
        ],
    }
    assert entry["related"] == [
        {
            "message": "training step here",
            "filename": str(project / "train.py"),
            "cell": None,
            "location": {"row": 4, "column": 5},
            "end_location": {"row": 4, "column": 20},
        }
    ]


def test_json_columns_count_characters_not_bytes(project, run):
    (project / "t.py").write_text("é = 'ü'; loss.backward()\n名前 = 1;\nmodel.eval()\n")
    _, out, _ = run("check", "--format", "json", "t.py")
    [entry] = json.loads(out)
    assert entry["related"][0]["location"] == {"row": 1, "column": 1}
    assert entry["related"][0]["end_location"] == {"row": 1, "column": 25}


def test_json_unsafe_fix_applicability(project, run):
    (project / "t.py").write_text("total = 0\nloss = step()\ntotal += loss\n")
    _, out, _ = run("check", "--format", "json", "t.py")
    [entry] = json.loads(out)
    assert entry["fix"]["applicability"] == "unsafe"
    assert entry["fix"]["edits"][0]["content"] == "loss.item()"


def test_json_empty_list_when_clean(project, run):
    (project / "ok.py").write_text("x = 1\n")
    code, out, _ = run("check", "--format", "json", "ok.py")
    assert (code, json.loads(out)) == (0, [])


def test_sarif_validates_against_the_official_schema(project, run, training):
    (project / "train.py").write_text(training)
    (project / "ok.py").write_text("model.train()\n")
    (project / "bad.py").write_text("def broken(:\n    step\n")
    code, out, _ = run("check", "--format", "sarif", ".")
    assert code == 2  # bad.py could not be checked
    document = json.loads(out)
    jsonschema.validate(document, json.loads(SCHEMA.read_text()))
    run_ = document["runs"][0]
    rules = run_["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules][:3] == ["TM101", "TM102", "TM103"]
    assert all(r["helpUri"].startswith("https://") and r["help"]["text"] for r in rules)
    [result] = run_["results"]
    assert result["ruleId"] == "TM101"
    assert rules[result["ruleIndex"]]["id"] == "TM101"
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "train.py", "uriBaseId": "SRCROOT"}
    assert location["region"] == {"startLine": 5, "startColumn": 5, "endLine": 5, "endColumn": 17}
    assert result["relatedLocations"][0]["message"]["text"] == "training step here"
    # a hash of the rule, subject and line text, and the occurrence (test_add_noqa.py)
    assert result["partialFingerprints"].keys() == {"torchmodeFindingHash/v1"}
    assert result["partialFingerprints"]["torchmodeFindingHash/v1"].endswith(":1")
    replacement = result["fixes"][0]["artifactChanges"][0]["replacements"][0]
    assert replacement["insertedContent"]["text"] == "    model.train()\n"
    invocation = run_["invocations"][0]
    assert invocation["executionSuccessful"] is False
    assert (
        "bad.py:1:12: syntax error"
        in invocation["toolExecutionNotifications"][0]["message"]["text"]
    )


def test_sarif_without_results_validates(project, run):
    (project / "ok.py").write_text("x = 1\n")
    code, out, _ = run("check", "--format", "sarif", "ok.py")
    assert code == 0
    jsonschema.validate(json.loads(out), json.loads(SCHEMA.read_text()))


def test_github_annotations(project, run, training):
    (project / "train, v2.py").write_text(training)
    code, out, _ = run("check", "--format", "github", ".")
    assert code == 1
    assert out.splitlines() == [
        "::warning file=train%2C v2.py,line=5,col=5,endLine=5,endColumn=17,title=TM101::"
        "`model` stays in eval mode for the training step%0A  train, v2.py:3:5: training step here"
    ]


def test_severity_from_config_reaches_output(project, run, training):
    (project / "pyproject.toml").write_text('[tool.torchmode]\nseverity = {TM101 = "error"}\n')
    (project / "train.py").write_text(training)
    _, out, _ = run("check", "--format", "github", "train.py")
    assert out.startswith("::error file=train.py,")


def test_statistics(project, run, training):
    (project / "a.py").write_text(training)
    (project / "b.py").write_text(training + "total = 0\ntotal += loss\n")
    code, out, _ = run("check", "--statistics", ".")
    assert code == 1
    assert out.splitlines() == [
        "    2  TM101  [*] eval-mode-leaks-into-training",
        "    1  TM204      loss-keeps-graph",
    ]
    _, out, _ = run("check", "--statistics", "--format", "json", ".")
    assert json.loads(out) == [
        {"code": "TM101", "name": "eval-mode-leaks-into-training", "count": 2, "fixable": True},
        {"code": "TM204", "name": "loss-keeps-graph", "count": 1, "fixable": False},
    ]


def test_files_without_trigger_words_are_not_parsed(project, run, monkeypatch, fake_engine):
    analysed: list[str] = []

    def counting(source, settings, cache=None):
        analysed.append(source)
        return fake_engine(source, settings)

    monkeypatch.setattr(torchmode.analysis.driver, "analyze", counting)
    (project / "t.py").write_text("total = 0\ntotal += loss\n")
    (project / "u.py").write_text("total = step()\ntotal += loss\n")
    _, out, _ = run("check", "-q", "-j", "1", "t.py", "u.py")
    assert out.splitlines() == ["u.py:2:10: TM204 `loss` is accumulated with its autograd graph"]
    assert analysed == ["total = step()\ntotal += loss\n"]


def test_results_are_in_stable_order_with_many_jobs(project, run, training):
    for i in range(12):
        (project / f"m{i:02}.py").write_text(training if i % 3 else "x = 1\n")
    _, serial, _ = run("check", "-j", "1", "--format", "json", ".")
    _, parallel, _ = run("check", "-j", "4", "--format", "json", ".")
    assert serial == parallel
    names = [Path(e["filename"]).name for e in json.loads(parallel)]
    assert names == sorted(names) and len(names) == 8


def test_usage_errors_exit_two(project, run):
    assert run("check", "--format", "xml")[0] == 2
    assert run("check", "-j", "0")[0] == 2
    assert run("check", "--unsafe-fixes")[0] == 2
    assert run("check", "--fix", "--diff")[0] == 2
    assert run()[0] == 2
    assert run("--help")[0] == 0


def test_github_annotation_for_a_file_that_could_not_be_checked(project, run):
    (project / "bad.py").write_text("def broken(:\n    step\n")
    code, out, err = run("check", "--format", "github", "bad.py")
    assert code == 2
    assert out == "::error file=bad.py,title=torchmode::bad.py:1:12: syntax error: invalid syntax\n"
    assert err == "bad.py:1:12: syntax error: invalid syntax\n"


def test_lsp_is_dispatched_lazily(run, monkeypatch):
    import importlib

    import torchmode.cli.main as cli_main

    calls = []
    real_import = importlib.import_module

    class FakeServer:
        @staticmethod
        def main(argv):
            calls.append(argv)
            return 0

    def import_module(name):
        if name == "torchmode.lsp.server":
            return FakeServer
        return real_import(name)

    monkeypatch.setattr(cli_main.importlib, "import_module", import_module)
    assert run("lsp", "--stdio", "--log-level", "debug")[0] == 0
    assert calls == [["--stdio", "--log-level", "debug"]]

    def missing(name):
        raise ModuleNotFoundError("No module named 'pygls'")

    monkeypatch.setattr(cli_main.importlib, "import_module", missing)
    code, _, err = run("lsp")
    assert code == 2
    assert err == "torchmode: the language server is not available: No module named 'pygls'\n"
