"""The CLI with the real engine: the shipped examples, fix round trips, subprocess runs.

Expected lines are computed from the example files (the line of `model.eval()` in the loop,
the line of `loss.backward()` before it), so editing the examples does not break the tests
while the finding stays where it belongs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from torchmode.notebook import parse_notebook

EXAMPLES = Path(__file__).resolve().parent.parent.parent / "examples"
SCRIPT = EXAMPLES / "train_sst.py"
NOTEBOOK = EXAMPLES / "train_sst.ipynb"
SARIF_SCHEMA = Path(__file__).parent.parent / "data" / "sarif-schema-2.1.0.json"


def _line_of(text: str, needle: str) -> int:
    """1-based line of the first line whose stripped text is ``needle``."""
    return next(i for i, line in enumerate(text.splitlines(), 1) if line.strip() == needle)


def _column_of(text: str, line: int) -> int:
    row = text.splitlines()[line - 1]
    return len(row) - len(row.lstrip()) + 1


@pytest.fixture
def example(project: Path) -> Path:
    shutil.copy(SCRIPT, project / "train_sst.py")
    return project / "train_sst.py"


def test_example_reports_tm101_with_the_training_step(example, run):
    text = example.read_text()
    eval_line, backward_line = _line_of(text, "model.eval()"), _line_of(text, "loss.backward()")
    code, out, err = run("check", "-q", "--select", "TM101", "train_sst.py")
    assert (code, err) == (1, "")
    lines = out.splitlines()
    assert lines[0].startswith(f"train_sst.py:{eval_line}:{_column_of(text, eval_line)}: TM101 "), (
        out
    )
    assert f"  train_sst.py:{backward_line}:" in out


def test_example_fix_inserts_train_and_rechecks_clean(example, run):
    before = example.read_text()
    code, _, err = run("check", "--fix", "--select", "TM101", "train_sst.py")
    assert err == ""
    after = example.read_text()
    assert run("check", "--select", "TM101", "train_sst.py")[0] == 0
    added = [line for line in after.splitlines() if line not in before.splitlines()]
    assert [line.strip() for line in added] == ["model.train()"]
    assert code == 0


def test_example_json_and_sarif(example, run):
    text = example.read_text()
    _, out, _ = run("check", "--format", "json", "--select", "TM101", "train_sst.py")
    [entry] = json.loads(out)
    assert entry["location"]["row"] == _line_of(text, "model.eval()")
    assert entry["fix"] is not None and entry["fix"]["applicability"] == "safe"
    assert any("model.train()" in edit["content"] for edit in entry["fix"]["edits"])
    assert entry["related"][0]["location"]["row"] == _line_of(text, "loss.backward()")
    _, out, _ = run("check", "--format", "sarif", "train_sst.py")
    document = json.loads(out)
    jsonschema.validate(document, json.loads(SARIF_SCHEMA.read_text()))
    [result] = [r for r in document["runs"][0]["results"] if r["ruleId"] == "TM101"]
    assert result["relatedLocations"][0]["physicalLocation"]["region"]["startLine"] == (
        _line_of(text, "loss.backward()")
    )


def test_text_shows_the_summary_and_details_on_request(example, run):
    text = example.read_text()
    eval_line, backward_line = _line_of(text, "model.eval()"), _line_of(text, "loss.backward()")
    _, out, _ = run("check", "-q", "--select", "TM101", "train_sst.py")
    first, *rest = out.splitlines()
    summary = first.split(" TM101 ", 1)[1].removesuffix(" [*]")
    assert summary == (
        f"`model` trains in eval mode on line {backward_line} after `eval()` on line {eval_line}"
    )
    assert all(line.startswith("  train_sst.py:") for line in rest), out
    _, detailed, _ = run("check", "-q", "--details", "--select", "TM101", "train_sst.py")
    lines = detailed.splitlines()
    assert lines[0] == first
    assert lines[1].startswith(f"  `loss.backward()` on line {backward_line} trains it"), lines
    assert "Dropout and BatchNorm" in lines[1]
    assert lines[2:] == rest
    # the machine formats keep the whole message, the summary as its first sentence
    _, out, _ = run("check", "--format", "json", "--select", "TM101", "train_sst.py")
    [entry] = json.loads(out)
    assert entry["summary"] == summary
    assert entry["message"] == f"{summary}. {lines[1].strip()}"
    _, out, _ = run("check", "--format", "sarif", "--select", "TM101", "train_sst.py")
    [result] = json.loads(out)["runs"][0]["results"]
    assert result["message"]["text"] == entry["message"]
    _, out, _ = run("check", "--format", "github", "--select", "TM101", "train_sst.py")
    assert out.splitlines()[0].split("::", 2)[2].startswith(f"{summary}. ")


def test_notebook_example_reports_the_cell(project, run):
    shutil.copy(NOTEBOOK, project / "nb.ipynb")
    notebook = parse_notebook(NOTEBOOK.read_text())
    [(number, cell)] = [
        (index + 1, text)
        for index, text in zip(notebook.code_cells, notebook.cells, strict=True)
        if "model.eval()" in text
    ]
    code, out, _ = run("check", "-q", "--select", "TM101", "nb.ipynb")
    assert code == 1
    assert out.startswith(f"nb.ipynb:cell {number}:{_line_of(cell, 'model.eval()')}:"), out
    # the summary names the lines as the notebook shows them
    assert f"after `eval()` on line {_line_of(cell, 'model.eval()')} of cell {number}" in out
    assert run("check", "--fix", "--select", "TM101", "nb.ipynb")[0] == 0
    fixed = parse_notebook((project / "nb.ipynb").read_text())
    assert sum(c.count("model.train()") for c in fixed.cells) == 1 + sum(
        c.count("model.train()") for c in notebook.cells
    )
    assert run("check", "--select", "TM101", "nb.ipynb")[0] == 0


def test_real_syntax_error(project, run):
    Path("bad.py").write_text("model.train()\nfor batch in loader:\n    step(batch\n")
    code, _, err = run("check", "bad.py")
    assert code == 2
    [line] = err.splitlines()
    path, row, column, rest = line.split(":", 3)
    assert (path, row.isdigit(), column.isdigit()) == ("bad.py", True, True)
    assert rest.startswith(" syntax error")


def test_real_engine_on_deep_nesting(project, run):
    Path("parens.py").write_text("x = " + "(" * 500 + "step" + ")" * 500 + "\n")
    blocks = "".join("    " * i + "if train:\n" for i in range(500)) + "    " * 500 + "step()\n"
    Path("blocks.py").write_text(blocks)
    Path("good.py").write_text("model.train()\n")
    code, out, err = run("check", "good.py", "parens.py", "blocks.py")
    assert "Traceback" not in err
    assert code in (0, 2)
    # Each file that could not be analysed gets one line naming it; the good file is checked.
    assert all(line.startswith(("parens.py:", "blocks.py:")) for line in err.splitlines()), err
    assert len(err.splitlines()) <= 2
    assert "checked" in out


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    return subprocess.run(
        [sys.executable, "-m", "torchmode", *args],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_subprocess_check_examples(project):
    shutil.copy(SCRIPT, project / "train_sst.py")
    shutil.copy(NOTEBOOK, project / "train_sst.ipynb")
    done = _cli("check", "--select", "TM101", ".", cwd=project)
    assert done.returncode == 1, done.stderr
    assert "train_sst.py:" in done.stdout and "train_sst.ipynb:cell " in done.stdout
    assert done.stderr == ""
    assert "Traceback" not in done.stdout


def test_subprocess_rules_and_rule(project):
    done = _cli("rules", cwd=project)
    assert done.returncode == 0
    assert len(done.stdout.splitlines()) == 9
    done = _cli("rule", "eval-mode-leaks-into-training", cwd=project)
    assert done.returncode == 0
    assert done.stdout.startswith("# TM101 eval-mode-leaks-into-training\n")
    done = _cli("rule", "TM999", cwd=project)
    assert done.returncode == 2
    assert "unknown rule 'TM999'" in done.stderr


def test_subprocess_file_name_that_is_not_utf8(project):
    # Such a name reaches Python with surrogate escapes; a strict stdout must not crash.
    weird = os.path.join(os.fsencode(project), b"run_\xff.py")
    with open(weird, "wb") as file:
        file.write(SCRIPT.read_bytes())
    env = {**os.environ, "PYTHONIOENCODING": "utf-8:strict"}
    done = subprocess.run(
        [sys.executable, "-m", "torchmode", "check", "--select", "TM101", "."],
        cwd=project,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        errors="replace",
        timeout=300,
    )
    assert "Traceback" not in done.stderr
    assert done.returncode == 1, done.stderr
    assert "run_\\udcff.py:" in done.stdout


def test_an_expression_nested_beyond_the_parsers_limits_is_not_called_a_syntax_error(
    tmp_path, monkeypatch, capsys
):
    """CPython's tokenizer refuses 3,000 nested calls ("too many nested parentheses"): a limit of
    the tools, said as such; the statements around it are still checked."""
    from torchmode.cli.main import main

    deep = "x = f(" + "g(" * 3000 + ")" * 3001 + "\n"
    (tmp_path / "deep.py").write_text("import torch\n" + deep + "model.eval\n")
    monkeypatch.chdir(tmp_path)
    code = main(["check", "deep.py"])
    out, err = capsys.readouterr()
    assert code == 2
    assert err == ("deep.py:2:406: too deeply nested to analyse (too many nested parentheses)\n")
    assert "syntax error" not in out + err
    assert "TM103" in out  # the uncalled model.eval on line 3 was analysed
    assert "1 file checked in part: too deeply nested to analyse (see above)." in out
