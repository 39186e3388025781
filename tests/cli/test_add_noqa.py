"""``torchmode check --add-noqa``: a comment on every line with a finding, honoured by the
next check, and nothing else in the file changed, byte for byte (real engine)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest
from torchmode.cli.output_sarif import FINGERPRINT_KEY
from torchmode.notebook import parse_notebook

EXAMPLES = Path(__file__).resolve().parent.parent.parent / "examples"
SARIF_SCHEMA = Path(__file__).parent.parent / "data" / "sarif-schema-2.1.0.json"

# TM201 on line 11, TM301 on 20, TM204 on 21 (the loss backpropagated on line 19, summed:
# a warning), TM101 on 22
MANY = """\
import torch
from torch import nn

model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.1), nn.BatchNorm1d(4))
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)


def evaluate(loader):
    total = 0.0
    for x, y in loader:
        total += model(x).sum().item()
    return total


def train(loader):
    total_loss = 0
    for x, y in loader:
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
        total_loss += loss
        model.eval()
        evaluate(loader)
    return total_loss
"""

EXPECTED = {
    11: "TM201",
    20: "TM301",
    21: "TM204",
    22: "TM101",
}


@pytest.fixture(autouse=True)
def _report_info(project: Path) -> None:
    (project / "pyproject.toml").write_text('[tool.torchmode]\nmin-severity = "info"\n')


def _with_comments(text: str, comments: dict[int, str]) -> str:
    """``text`` with ``  # noqa: CODE`` after each given 1-based line."""
    lines = text.split("\n")
    for number, code in comments.items():
        lines[number - 1] += f"  # noqa: {code}"
    return "\n".join(lines)


def _reported(run, *paths: str, extra: tuple[str, ...] = ()) -> list[tuple[int, str]]:
    code, out, err = run("check", "--format", "json", *extra, *paths)
    assert code in (0, 1), err
    return sorted((item["location"]["row"], item["code"]) for item in json.loads(out))


def test_every_line_with_a_finding_gets_its_comment_and_the_next_check_is_clean(project, run):
    (project / "train.py").write_text(MANY)
    assert _reported(run, "train.py") == sorted(EXPECTED.items())

    code, out, err = run("check", "--add-noqa", "train.py")

    assert (code, out, err) == (0, "", "Added 4 noqa directives.\n")
    assert (project / "train.py").read_text() == _with_comments(MANY, EXPECTED)
    assert run("check", "train.py")[:2] == (0, "All checks passed (1 file checked).\n")
    # nothing is left to add: a second run changes nothing
    assert run("check", "--add-noqa", "train.py") == (0, "", "Added 0 noqa directives.\n")
    assert (project / "train.py").read_text() == _with_comments(MANY, EXPECTED)


def test_an_existing_noqa_list_is_extended_and_other_comments_kept(project, run):
    text = (
        MANY.replace("        optimizer.step()\n", "        optimizer.step()  # noqa: E501\n")
        .replace("        total_loss += loss\n", "        total_loss += loss  # type: ignore\n")
        # two findings on one line share one comment
        .replace(
            "        model.eval()\n        evaluate(loader)\n",
            "        model.eval(); evaluate(loader)\n",
        )
    )
    (project / "train.py").write_text(text)
    assert _reported(run, "train.py") == [
        (11, "TM201"),
        (20, "TM301"),
        (21, "TM204"),
        (22, "TM101"),
    ]

    code, _, err = run("check", "--add-noqa", "train.py")

    assert (code, err) == (0, "Added 4 noqa directives.\n")
    lines = (project / "train.py").read_text().split("\n")
    assert lines[19] == "        optimizer.step()  # noqa: E501, TM301"
    assert lines[20] == "        total_loss += loss  # type: ignore  # noqa: TM204"
    assert lines[21] == "        model.eval(); evaluate(loader)  # noqa: TM101"
    assert run("check", "train.py")[0] == 0


def test_crlf_bom_encoding_and_trailing_spaces_stay_byte_for_byte(project, run):
    # latin-1 by its cookie, CRLF line ends, spaces after a statement with no finding
    text = "# -*- coding: latin-1 -*-\n# Über das Training\n" + MANY.replace(
        "    return total\n", "    return total   \n"
    )
    original = text.replace("\n", "\r\n").encode("latin-1")
    (project / "train.py").write_bytes(original)

    assert run("check", "--add-noqa", "train.py")[0] == 0

    shifted = {number + 2: code for number, code in EXPECTED.items()}
    expected = _with_comments(text, shifted).replace("\n", "\r\n").encode("latin-1")
    assert (project / "train.py").read_bytes() == expected
    assert run("check", "train.py")[0] == 0


def test_utf8_bom_is_kept(project, run):
    original = b"\xef\xbb\xbf" + MANY.encode()
    (project / "train.py").write_bytes(original)

    assert run("check", "--add-noqa", "train.py")[0] == 0

    assert (project / "train.py").read_bytes() == b"\xef\xbb\xbf" + _with_comments(
        MANY, EXPECTED
    ).encode()


def test_a_line_no_comment_can_go_on_is_reported_and_left_alone(project, run):
    # the eval() line opens a string: a "#" after it would be the string's text
    text = MANY.replace(
        "        model.eval()\n",
        '        model.eval(); note = """evaluation\n        starts here"""\n',
    )
    (project / "train.py").write_text(text)

    code, out, err = run("check", "--add-noqa", "train.py")

    assert code == 1
    assert out.startswith("train.py:22:9: TM101 "), out
    assert err == (
        "Added 3 noqa directives.\n1 finding could not be silenced: no comment can go on a line "
        "that continues with a backslash or ends inside a string.\n"
    )
    after = (project / "train.py").read_text()
    assert '        model.eval(); note = """evaluation\n        starts here"""\n' in after
    assert _reported(run, "train.py") == [(22, "TM101")]


def test_only_what_would_be_reported_is_silenced(project, run):
    (project / "train.py").write_text(MANY)

    code, _, err = run(
        "check", "--add-noqa", "--select", "TM1,TM3", "--ignore", "TM301", "train.py"
    )

    assert (code, err) == (0, "Added 1 noqa directive.\n")
    assert (project / "train.py").read_text() == _with_comments(MANY, {22: "TM101"})
    assert _reported(run, "train.py") == [(11, "TM201"), (20, "TM301"), (21, "TM204")]


def test_below_the_least_level_nothing_is_added(project, run):
    # a second loss computed beside the one backpropagated, summed: TM204 at info level (the
    # pyproject.toml below reports it)
    text = MANY.replace(
        "        total_loss += loss\n", "        total_loss += nn.functional.l1_loss(model(x), y)\n"
    )
    (project / "train.py").write_text(text)
    code, _, err = run("check", "--add-noqa", "--min-severity", "warning", "train.py")
    assert (code, err) == (0, "Added 3 noqa directives.\n")
    assert (project / "train.py").read_text() == _with_comments(
        text, {11: "TM201", 20: "TM301", 22: "TM101"}
    )
    assert _reported(run, "train.py") == [(21, "TM204")]


def test_notebook_cells_get_their_comments_and_the_rest_of_the_json_stays(project, run):
    shutil.copy(EXAMPLES / "train_sst.ipynb", project / "nb.ipynb")
    before = (project / "nb.ipynb").read_bytes()
    assert _reported(run, "nb.ipynb")  # the example's TM101

    code, _, err = run("check", "--add-noqa", "nb.ipynb")

    assert (code, err) == (0, "Added 1 noqa directive.\n")
    after = (project / "nb.ipynb").read_bytes()
    # only the evaluated line's JSON string changed: the comment went inside it
    assert after == before.replace(
        b'"            model.eval()\\n",', b'"            model.eval()  # noqa: TM101\\n",', 1
    )
    old_cells = parse_notebook(before.decode()).cells
    new_cells = parse_notebook(after.decode()).cells
    assert [old == new for old, new in zip(old_cells, new_cells, strict=True)].count(False) == 1
    assert run("check", "nb.ipynb")[0] == 0


@pytest.mark.parametrize("other", ["--fix", "--diff", "--statistics"])
def test_add_noqa_goes_alone(project, run, other):
    (project / "train.py").write_text(MANY)
    code, _, err = run("check", "--add-noqa", other, "train.py")
    assert code == 2
    assert "--add-noqa goes alone" in err
    assert (project / "train.py").read_text() == MANY


def test_findings_left_are_written_in_the_chosen_format(project, run):
    (project / "train.py").write_text(MANY)
    code, out, _ = run("check", "--add-noqa", "--format", "json", "train.py")
    assert (code, json.loads(out)) == (0, [])


# --- SARIF fingerprints ----------------------------------------------------------------------


def _fingerprints(run, path: str) -> list[tuple[str, int, str]]:
    """(rule, start line, fingerprint) of each SARIF result, in the document's order."""
    code, out, err = run("check", "--format", "sarif", path)
    assert code == 1, err
    document = json.loads(out)
    jsonschema.validate(document, json.loads(SARIF_SCHEMA.read_text()))
    return [
        (
            result["ruleId"],
            result["locations"][0]["physicalLocation"]["region"]["startLine"],
            result["partialFingerprints"][FINGERPRINT_KEY],
        )
        for result in document["runs"][0]["results"]
    ]


def test_fingerprints_survive_lines_inserted_above_and_differ_between_findings(project, run):
    (project / "train.py").write_text(MANY)
    before = _fingerprints(run, "train.py")
    assert [(rule, line) for rule, line, _ in before] == [
        (code, line) for line, code in sorted(EXPECTED.items())
    ]
    assert len({fingerprint for _, _, fingerprint in before}) == 4

    # blank lines and a comment above every finding, spaces changed inside a finding's line
    moved = MANY.replace("import torch\n", "import torch\n\n\n# helpers\n", 1).replace(
        "        total_loss += loss\n", "        total_loss  +=  loss\n"
    )
    (project / "train.py").write_text(moved)
    after = _fingerprints(run, "train.py")

    assert [line for _, line, _ in after] == [line + 3 for _, line, _ in before]
    assert [(rule, fp) for rule, _, fp in after] == [(rule, fp) for rule, _, fp in before]


def test_identical_findings_are_told_apart_by_their_occurrence(project, run):
    twice = MANY + MANY[MANY.index("\n\ndef train") :].replace("def train", "def train_again")
    (project / "train.py").write_text(twice)
    tm101 = [fp for rule, _, fp in _fingerprints(run, "train.py") if rule == "TM101"]
    assert len(tm101) == 2
    (first_hash, first), (second_hash, second) = (fp.split(":") for fp in tm101)
    assert (first_hash, first, second) == (second_hash, "1", "2")


def test_mixed_line_ends_stay_as_they_were(project, run):
    # not CRLF throughout: the text is analysed with its "\r\n" and "\n" as they are
    lines = MANY.split("\n")
    mixed = "".join(
        line + ("\r\n" if number % 2 else "\n") for number, line in enumerate(lines[:-1])
    )
    (project / "train.py").write_bytes(mixed.encode())

    assert run("check", "--add-noqa", "train.py")[0] == 0

    expected = mixed
    for number, code in EXPECTED.items():
        line = lines[number - 1]
        expected = expected.replace(f"\n{line}\r\n", f"\n{line}  # noqa: {code}\r\n", 1).replace(
            f"\n{line}\n", f"\n{line}  # noqa: {code}\n", 1
        )
    assert (project / "train.py").read_bytes() == expected.encode()
    assert run("check", "train.py")[0] == 0


def test_a_file_with_a_syntax_error_is_not_written(project, run):
    broken = MANY + "def broken(:\n    pass\n"
    (project / "train.py").write_text(broken)

    code, _, err = run("check", "--add-noqa", "train.py")

    assert code == 2
    assert "train.py:25:12: syntax error" in err
    assert "could not be silenced" not in err
    assert (project / "train.py").read_text() == broken
