"""Notebook ``--fix`` rewrites only the ``source`` of the cells it fixes: line ends, a BOM,
a compact or tab-indented layout, escapes and key order elsewhere stay byte for byte
(fake engine: it inserts ``model.train()`` after ``model.eval()``)."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from torchmode.notebook import parse_notebook, source_offsets, spliced

pytestmark = pytest.mark.usefixtures("fake_engine")

BEFORE = ["loss.backward()\n", "model.eval()\n", "validate(model)"]
AFTER = ["loss.backward()\n", "model.eval()\n", "model.train()\n", "validate(model)"]


def _document(source: object) -> dict[str, object]:
    return {
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": ["# Über\n", "text"]},
            {
                "cell_type": "code",
                "execution_count": 3,
                "metadata": {"tags": ["a/b"]},
                "outputs": [{"name": "stdout", "output_type": "stream", "text": ["é\n"]}],
                "source": source,
            },
            {"cell_type": "code", "metadata": {}, "outputs": [], "source": ["x = 1"]},
        ],
        "metadata": {"kernelspec": {"language": "python", "name": "python3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


Style = Callable[[dict[str, object]], bytes]

STYLES: dict[str, Style] = {
    "crlf": lambda d: (
        (json.dumps(d, indent=1, ensure_ascii=False) + "\n").replace("\n", "\r\n").encode()
    ),
    "bom": lambda d: (
        b"\xef\xbb\xbf" + (json.dumps(d, indent=1, ensure_ascii=False) + "\n").encode()
    ),
    "compact": lambda d: json.dumps(d, separators=(",", ":"), ensure_ascii=False).encode(),
    "tabs": lambda d: (json.dumps(d, indent="\t", ensure_ascii=False) + "\n").encode(),
    "escaped": lambda d: (json.dumps(d, indent=2) + "\n").encode(),
    "bom-crlf-tabs": lambda d: (
        b"\xef\xbb\xbf" + (json.dumps(d, indent="\t") + "\r\n").replace("\n", "\r\n").encode()
    ),
}


@pytest.mark.parametrize("as_list", [True, False], ids=["list", "string"])
@pytest.mark.parametrize("style", STYLES)
def test_fix_changes_only_the_fixed_source(project, run, style, as_list):
    dump = STYLES[style]
    before = BEFORE if as_list else "".join(BEFORE)
    after = AFTER if as_list else "".join(AFTER)
    path = project / "nb.ipynb"
    path.write_bytes(dump(_document(before)))
    code, out, err = run("check", "--fix", "nb.ipynb")
    assert (code, err) == (0, ""), out
    assert path.read_bytes() == dump(_document(after))


def test_a_hand_made_layout_is_kept_around_the_fixed_cell(project, run):
    """White space json.dumps never writes, escapes and odd key order: all kept."""
    text = (
        '\ufeff{ "nbformat" : 4 ,\r\n  "cells" :[ {"source" : [ "loss.backward()\\n" ,'
        '\r\n\t\t"model.eval()\\n" ,\r\n\t\t"validate(model)" ] ,"cell_type":"code",'
        '\r\n "outputs": [ {"text": "\\u00e9\\/"} ] } ,\r\n'
        '  {"cell_type":"code","source":"x = 1"} ]  , "metadata" : {} }  \r\n'
    )
    path = project / "nb.ipynb"
    path.write_bytes(text.encode())
    assert run("check", "--fix", "nb.ipynb")[0] == 0
    fixed = path.read_bytes().decode()
    start = text.index('[ "loss')
    end = text.index(' ] ,"cell_type"') + 2
    items = ['"loss.backward()\\n"', '"model.eval()\\n"', '"model.train()\\n"', '"validate(model)"']
    new = "[ " + " ,\r\n\t\t".join(items) + " ]"
    assert fixed == text[:start] + new + text[end:]


def test_spliced_rewrites_only_changed_cells():
    text = json.dumps({"cells": [{"cell_type": "code", "source": "model.eval()"}]})
    notebook = parse_notebook(text)
    assert spliced(text, notebook, ["model.eval()\nmodel.train()"]) == text.replace(
        '"model.eval()"', '"model.eval()\\nmodel.train()"'
    )
    assert spliced(text, notebook, ["model.eval()"]) == text


def test_repeated_keys_are_written_where_json_reads_them():
    text = (
        '{"cells": [{"cell_type": "code", "source": "ignored"}], '
        '"cells": [{"cell_type": "code", "source": "a", "source": ["b"]}]}'
    )
    notebook = parse_notebook(text)
    assert notebook.cells == ["b"]
    result = spliced(text, notebook, ["c\nd"])
    assert result == text.replace('["b"]', '["c\\n","d"]')
    assert parse_notebook(result).cells == ["c\nd"]


def test_an_empty_list_source_takes_its_lines_indentation():
    document = {"cells": [{"cell_type": "code", "source": []}]}
    text = json.dumps(document, indent="\t").replace("\n", "\r\n")
    notebook = parse_notebook(text)
    result = spliced(text, notebook, ["a\nb"])
    document["cells"][0]["source"] = ["a\n", "b"]
    assert result == json.dumps(document, indent="\t").replace("\n", "\r\n")


def test_a_notebook_changed_during_the_run_is_not_overwritten(project, run, monkeypatch):
    import torchmode.analysis.driver

    path = project / "nb.ipynb"
    path.write_bytes(STYLES["compact"](_document(BEFORE)))
    saved = STYLES["tabs"](_document(BEFORE))
    analyze = torchmode.analysis.driver.analyze

    def saving(source: str, settings: object, **kw: object) -> object:
        path.write_bytes(saved)
        return analyze(source, settings, **kw)

    monkeypatch.setattr(torchmode.analysis.driver, "analyze", saving)
    code, out, err = run("check", "--fix", "nb.ipynb")
    assert path.read_bytes() == saved
    assert code == 2
    assert err == "nb.ipynb: not fixed: changed while it was being checked (run torchmode again)\n"
    assert "Fixed" not in out


@pytest.mark.parametrize(
    "dump",
    [
        lambda d: json.dumps(d, indent=1),
        lambda d: json.dumps(d, indent=2, ensure_ascii=False),
        lambda d: json.dumps(d, separators=(",", ":")),
        lambda d: json.dumps(d, indent="\t").replace("\n", "\r\n"),
    ],
    ids=["nbformat", "unescaped", "compact", "tabs-crlf"],
)
@pytest.mark.parametrize(
    "source",
    [
        ["x = 'é\"a'\n", 'y = "\\t😀"\n', "z=1"],
        "a\r\nb\tc 😀\n",
        [],
        "",
    ],
    ids=["lines", "one-string", "empty-list", "empty-string"],
)
def test_every_character_of_a_cell_is_found_where_the_file_writes_it(
    dump: Callable[[dict[str, object]], str], source: object
) -> None:
    text = dump(_document(source))
    notebook = parse_notebook(text)
    index, cell = notebook.code_cells[0], notebook.cells[0]
    places = source_offsets(text)[index]
    assert len(places) == len(cell) + 1
    for at, (char, place) in enumerate(zip(cell, places, strict=False)):
        written = text[place : places[at + 1]] if at + 1 < len(cell) else text[place:]
        escape = written[0]
        if written.startswith("\\u"):
            escape = written[:12] if len(char.encode("utf-16-le")) == 4 else written[:6]
        elif written.startswith("\\"):
            escape = written[:2]
        assert json.loads(f'"{escape}"') == char
    assert text[places[-1]] in '"['  # the end: the last string's quote, or the empty list
