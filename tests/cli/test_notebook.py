"""Notebooks: combining cells with IPython syntax masked, positions, and the CLI on .ipynb."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st
from torchmode.findings import Position, Range, TextEdit
from torchmode.notebook import combine_cells, edits_by_cell, parse_notebook

SARIF_SCHEMA = Path(__file__).parent.parent / "data" / "sarif-schema-2.1.0.json"


def test_magics_are_masked_and_everything_else_is_kept_exactly():
    cells = [
        "%matplotlib inline\nimport torch\n",
        "!pip install torch\nfiles = !ls -la\nmodel?\n??torch.no_grad\n"
        "if files:\n    %time run()\n",
        "%%bash\necho 'not python ('\n",
        "%%time\nmodel.eval()\nfor x in data:\n    %time run(x)",
        "x = (a\n     % b)\ny = a \\\n    != b\n%cd \\\n   somewhere\nz = 1\n",
    ]
    nb = combine_cells(cells)
    ast.parse(nb.source)
    lines = nb.source.split("\n")
    assert nb.cell_starts == (0, 2, 8, 10, 14)
    assert lines[1] == "import torch"
    assert lines[3] == "files = None"  # the target stays defined
    assert lines[7] == "    pass"  # indentation kept: the `if` still has a body
    assert lines[11] == "model.eval()"  # %%time's body is Python
    assert lines[12:14] == ["for x in data:", "    pass"]  # line magics in a %%time body
    assert lines[14:19] == ["x = (a", "     % b)", "y = a \\", "    != b", "pass"]
    assert lines[19] == ""  # continuation line of a magic
    assert lines[20] == "z = 1"
    assert sorted(nb.masked_lines) == [0, 2, 3, 4, 5, 7, 8, 9, 10, 13, 18, 19]


def test_positions_map_between_cells_and_the_combined_source():
    nb = combine_cells(["a = 1\n", "%load_ext x\nb = 2\nc = 3", ""])
    assert nb.to_cell(Position(2, 4)) == (1, Position(1, 4))
    assert nb.from_cell(1, Position(2, 1)) == Position(3, 1)
    assert nb.to_cell(Position(4, 0)) == (2, Position(0, 0))
    assert nb.cell_range(Range.of(1, 0, 2, 5)) == (1, Range.of(0, 0, 1, 5))
    assert nb.cell_range(Range.of(0, 0, 2, 0)) is None  # spans two cells
    # An insertion after a cell's last line stays in that cell.
    assert nb.cell_range(Range.of(1, 0, 4, 0)) == (1, Range.of(0, 0, 3, 0))
    assert edits_by_cell(nb, [TextEdit(Range.of(1, 0, 1, 1), "")]) is None  # masked line


def test_windows_line_ends_in_cells():
    nb = combine_cells(["a = 1\r\nb = 2\r\n", "c = 3"])
    assert nb.source == "a = 1\nb = 2\nc = 3\n"


def _notebook(cells: list[tuple[str, object]], indent: int = 1) -> str:
    document = {
        "cells": [
            {
                "cell_type": kind,
                "execution_count": None,
                "metadata": {"tags": []},
                "outputs": [{"output_type": "stream", "name": "stdout", "text": ["hi\n"]}]
                if kind == "code"
                else [],
                "source": source,
            }
            for kind, source in cells
        ],
        "metadata": {"kernelspec": {"name": "python3", "language": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(document, indent=indent, ensure_ascii=False) + "\n"


NOTEBOOK_CELLS = [
    ("markdown", ["# Training — ü\n"]),
    ("code", ["%matplotlib inline\n", "import torch\n"]),
    ("code", "for batch in loader:\n    loss = model(batch).sum()\n    loss.backward()"),
    ("markdown", "Validate:"),
    ("code", ["    model.eval()\n", "    validate(model)"]),
]


@pytest.fixture
def notebook_text() -> str:
    # The loop body continues in cell 5 (unusual, but it keeps the fake engine simple).
    cells = list(NOTEBOOK_CELLS)
    cells[2] = ("code", cells[2][1] + "\n    optimizer.step()")
    return _notebook(cells)


@pytest.mark.usefixtures("fake_engine")
def test_cli_reports_cell_positions(project, run, notebook_text):
    (project / "nb.ipynb").write_text(notebook_text)
    code, out, _ = run("check", "-q", "nb.ipynb")
    assert code == 1
    assert out.splitlines() == [
        "nb.ipynb:cell 5:1:5: TM101 `model` stays in eval mode for the training step [*]",
        "  nb.ipynb:cell 3:3:5: training step here",
    ]
    _, out, _ = run("check", "--format", "json", "nb.ipynb")
    [entry] = json.loads(out)
    assert (entry["cell"], entry["location"]) == (5, {"row": 1, "column": 5})
    assert entry["fix"]["edits"][0]["cell"] == 5


@pytest.mark.usefixtures("fake_engine")
def test_github_annotations_for_a_notebook_name_the_cell(project, run, notebook_text):
    (project / "nb.ipynb").write_text(notebook_text)
    _, out, _ = run("check", "--format", "github", "nb.ipynb")
    assert out == (
        "::warning file=nb.ipynb,title=TM101::cell 5, line 1: "
        "`model` stays in eval mode for the training step"
        "%0A  nb.ipynb:cell 3:3:5: training step here\n"
    )


@pytest.mark.usefixtures("fake_engine")
def test_sarif_for_a_notebook_names_the_cell_and_validates(project, run, notebook_text):
    (project / "nb.ipynb").write_text(notebook_text)
    _, out, _ = run("check", "--format", "sarif", "nb.ipynb")
    document = json.loads(out)
    jsonschema.validate(document, json.loads(SARIF_SCHEMA.read_text()))
    [result] = document["runs"][0]["results"]
    [location] = result["locations"]
    assert "region" not in location["physicalLocation"]
    assert location["message"]["text"] == "cell 5, line 1, column 5"
    assert location["properties"]["cell"] == 5
    assert "fixes" not in result


@pytest.mark.usefixtures("fake_engine")
def test_cli_fix_writes_cells_back_keeping_layout_and_outputs(project, run, notebook_text):
    path = project / "nb.ipynb"
    path.write_text(notebook_text)
    code, out, _ = run("check", "--fix", "nb.ipynb")
    assert code == 0, out
    fixed = json.loads(path.read_text())
    original = json.loads(notebook_text)
    assert fixed["cells"][4]["source"] == [
        "    model.eval()\n",
        "    model.train()\n",
        "    validate(model)",
    ]
    for index in (0, 1, 2, 3):
        assert fixed["cells"][index] == original["cells"][index]
    assert fixed["cells"][4]["outputs"] == original["cells"][4]["outputs"]
    original["cells"][4]["source"] = fixed["cells"][4]["source"]
    # Same JSON layout (indent 1, key order, non-ASCII kept, final newline): only the fix differs.
    assert path.read_text() == json.dumps(original, indent=1, ensure_ascii=False) + "\n"


@pytest.mark.usefixtures("fake_engine")
def test_cli_fix_keeps_string_sources_and_two_space_indent(project, run):
    cells = [("code", "loss.backward()\nmodel.eval()")]
    path = project / "nb.ipynb"
    path.write_text(_notebook(cells, indent=2))
    assert run("check", "--fix", "nb.ipynb")[0] == 0
    expected = json.loads(_notebook(cells))
    expected["cells"][0]["source"] = "loss.backward()\nmodel.eval()\nmodel.train()"
    assert path.read_text() == json.dumps(expected, indent=2, ensure_ascii=False) + "\n"


@pytest.mark.usefixtures("fake_engine")
def test_cli_diff_on_a_notebook_names_the_cell(project, run, notebook_text):
    (project / "nb.ipynb").write_text(notebook_text)
    code, out, _ = run("check", "--diff", "nb.ipynb")
    assert code == 1
    assert out.splitlines()[:2] == ["--- a/nb.ipynb:cell 5", "+++ b/nb.ipynb:cell 5"]
    assert "+    model.train()" in out.splitlines()


@pytest.mark.usefixtures("fake_engine")
def test_big_outputs_do_not_count_against_the_size_limit(project, run):
    image = {"output_type": "display_data", "data": {"image/png": "A" * 6_000_000}}
    document = json.loads(_notebook([("code", "loss.backward()\nmodel.eval()\n")]))
    document["cells"][0]["outputs"] = [image]
    (project / "nb.ipynb").write_text(json.dumps(document, indent=1))
    code, out, _ = run("check", "-q", "nb.ipynb")
    assert code == 1
    assert out.startswith("nb.ipynb:cell 1:2:1: TM101 ")


@pytest.mark.usefixtures("fake_engine")
def test_syntax_error_in_a_cell(project, run):
    (project / "nb.ipynb").write_text(_notebook([("code", "x = 1\n"), ("code", "step(\n")]))
    code, _, err = run("check", "nb.ipynb")
    assert code == 2
    assert err.startswith("nb.ipynb:cell 2:")
    assert ": syntax error: " in err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "nb.ipynb: invalid notebook JSON: "),
        ('{"cells": 3}', "nb.ipynb: not a Jupyter notebook (no 'cells' list)"),
        ('{"cells": [{"cell_type": "code", "source": 7}]}', "nb.ipynb: cell 1: its 'source' is"),
        (
            '{"cells": [{"cell_type": "markdown", "source": []},'
            ' {"cell_type": "code", "source": ["x = 1\\n", 3]}]}',
            "nb.ipynb: cell 2: item 2 of its 'source' list is a number, not a string\n",
        ),
        (
            '{"cells": [{"cell_type": "code", "source": [null]}]}',
            "nb.ipynb: cell 1: item 1 of its 'source' list is null, not a string\n",
        ),
    ],
)
def test_broken_notebooks_are_reported(project, run, content, message):
    (project / "nb.ipynb").write_text(content)
    (project / "ok.py").write_text("x = 1\n")
    code, _, err = run("check", ".")
    assert code == 2
    assert err.startswith(message)
    assert len(err.splitlines()) == 1


def test_parse_notebook_keeps_code_cell_indices(notebook_text):
    notebook = parse_notebook(notebook_text)
    assert notebook.code_cells == [1, 2, 4]
    assert notebook.indent == 1
    assert notebook.dumps() == notebook_text


def test_line_numbers_in_messages_name_the_cell():
    from torchmode.cli.checking import _Placer

    combined = combine_cells(["import torch\n", "%time x\nloss.backward()\nmodel.eval()\n"])
    placer = _Placer(combined, [2, 4])
    message = placer.message("`backward()` on line 3 trains it after `eval()` on line 4")
    assert (
        message == "`backward()` on line 2 of cell 4 trains it after `eval()` on line 3 of cell 4"
    )
    assert _Placer().message("on line 3") == "on line 3"


def test_ascii_escaped_notebooks_stay_escaped():
    text = json.dumps({"cells": [{"cell_type": "code", "source": "# ü\n"}]}, indent=1) + "\n"
    assert "\\u00fc" in text
    assert parse_notebook(text).dumps() == text


_LINE = st.text(
    st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",)), max_size=12
)
_CELL = st.lists(st.one_of(_LINE, st.sampled_from(["%time x", "!ls", "x = !ls", "a?", "%%bash"])))


@given(st.lists(_CELL, max_size=5))
def test_combining_keeps_every_line_in_place(cells_lines):
    cells = ["\n".join(lines) for lines in cells_lines]
    nb = combine_cells(cells)
    combined = nb.source.split("\n")
    assert len(combined) - 1 == sum(len(nb_lines(cell)) for cell in cells)
    for index, cell in enumerate(cells):
        for number, line in enumerate(nb_lines(cell)):
            position = nb.from_cell(index, Position(number, len(line)))
            assert nb.to_cell(position) == (index, Position(number, len(line)))
            if position.line not in nb.masked_lines:
                assert combined[position.line] == line


def nb_lines(cell: str) -> list[str]:
    """A cell's lines as editors count them: a final newline does not start another."""
    return (cell[:-1] if cell.endswith("\n") else cell).split("\n")
