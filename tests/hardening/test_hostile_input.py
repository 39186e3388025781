"""Hostile input for the engine (in this process) and the CLI (a real subprocess): a clear
per-file message or a result, never a traceback, a crash or a hang."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fuzz_invariants import LONG, check_program, check_range, lines_of, patience
from torchmode.analysis import Skipped, analyze
from torchmode.findings import Position, Range

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = (ROOT / "examples" / "train_sst.py").read_text(encoding="utf-8")
# Guards against a hung CLI, not speed assertions.
CLI_PATIENCE_S = 300

NESTED_BLOCKS = (
    "".join("    " * i + "if x:\n" for i in range(500)) + "    " * 500 + "model.eval()\n"
)
NESTED_PARENS = "model.eval()\nx = " + "(" * 500 + "model(batch)" + ")" * 500 + "\n"
BLOB_LINE = "model.eval()\nBLOB = '" + "QUJD" * 250_000 + "'\nloss.backward()\n"  # a 1 MB line
TRAINING_LINE = "for batch in loader: loss = model(batch); loss.backward(); optimizer.step()\n"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "\n\n\n",
        "model.eval()\n\x00\x00",
        "model.eval()\r\nx = 1\x00",
        "\ufeff" + EXAMPLE,
        EXAMPLE.replace("\n", "\r\n"),
        EXAMPLE.replace("\n", "\r"),
        EXAMPLE.replace("    ", "\t"),
        EXAMPLE.replace("model", "模型").replace("batch", "🚀批"),
        EXAMPLE.replace("print(", "print('训练 🚀 ✅ 𝔘', "),  # noqa: RUF001
        EXAMPLE[: len(EXAMPLE) // 2],  # cut mid-statement
        NESTED_BLOCKS,
        NESTED_PARENS,
        BLOB_LINE,
        "model.eval()\n" + "x = [" * 90 + "]" * 90 + "\n",
        "model.eval(" * 100,
        "\x0c\x0b\u2028model.eval()\u2029\x85loss.backward()\n",
        "def f(:\n  model.eval(\n",
    ],
    ids=[
        "empty",
        "blank-lines",
        "nul",
        "nul-crlf",
        "bom",
        "crlf",
        "cr",
        "tabs",
        "cjk-emoji-names",
        "cjk-emoji-strings",
        "truncated",
        "500-nested-blocks",
        "500-nested-parentheses",
        "1mb-line",
        "90-nested-lists",
        "unclosed-calls",
        "odd-line-breaks",
        "garbage",
    ],
)
def test_engine_answers_with_positions_inside_the_text(text: str) -> None:
    check_program(text)


def test_nul_byte_after_cr_line_ends_is_placed_on_its_line() -> None:
    text = "model.eval()\rx = 1\x00\r"
    problem = analyze(text).syntax_error
    assert problem is not None
    check_range(text, lines_of(text), Range(problem.position, problem.position), "NUL byte")


@pytest.mark.e2e  # tens of seconds: left out of the fast suite
def test_megabytes_of_training_code() -> None:
    # 2 MB takes the engine several seconds: CI runs 2 MB, the long profile 4 MB.
    size = 4_000_000 if LONG else 2_000_000
    text = TRAINING_LINE * (size // len(TRAINING_LINE) + 1)
    with patience(600):
        analysis = analyze(text)
    assert analysis.syntax_error is None
    lines = lines_of(text)
    for finding in analysis.findings[:1000]:
        check_range(text, lines, finding.range, finding.code)


def test_ten_megabytes_are_refused_like_the_cli_refuses_them() -> None:
    text = TRAINING_LINE * (10_000_000 // len(TRAINING_LINE) + 1)
    analysis = analyze(text)
    assert analysis.findings == []
    assert isinstance(analysis.syntax_error, Skipped)
    assert analysis.syntax_error.message == (
        "torchmode skipped this file: 10.0 MB is above the 5 MB limit"
    )
    assert analysis.syntax_error.position == Position(0, 0)
    # Multi-byte characters count as the CLI counts them, in UTF-8 bytes.
    assert isinstance(analyze("# 模型\n" * 700_000 + TRAINING_LINE).syntax_error, Skipped)
    assert analyze("# 模型\n" * 100_000 + TRAINING_LINE).syntax_error is None


LONG_STATEMENTS = {
    "4000-terms": "x = " + "+".join(["loss"] * 4000),
    "1mb-list-line": "x = [" + ", ".join(["1"] * 330_000) + "]",
    "50000-attributes": "x = model" + ".a" * 50_000,
    "3000-calls": "x = f" + "()" * 3000,
    "1500-terms-in-a-header": "for x in " + "+".join(["a"] * 1500) + ":\n    pass",
}


@pytest.mark.parametrize("statement", LONG_STATEMENTS.values(), ids=LONG_STATEMENTS.keys())
def test_statements_too_long_for_libcst_are_refused_before_parsing(statement: str) -> None:
    text = "model.eval()\nloss.backward()\n\n" + statement + "\nmodel.train()\n"
    analysis = analyze(text)
    problem = analysis.syntax_error
    assert isinstance(problem, Skipped), problem
    assert problem.message.startswith("torchmode skipped this file: line 4 holds ")
    assert problem.position == Position(3, 0)
    assert analysis.findings == []


@pytest.mark.parametrize(
    "statement",
    [
        "x = " + "+".join(["loss"] * 1000),  # 999 links: within the limit
        "x = [" + ", ".join(["1"] * 20_000) + "]",
        "BLOB = '" + "QUJD" * 250_000 + "'",  # a 1 MB string is one token
        "s = '" + "a.b+c" * 2000 + "'",  # links inside a string are no chain
        "x = " + " and ".join(["a"] * 3000),  # libcst is linear in these
        "x = (" + "\n + ".join(["loss"] * 2000) + ")",  # spread over lines: not looked at
    ],
    ids=["999-links", "20000-items", "1mb-string", "operators-in-a-string", "and", "multiline"],
)
def test_long_lines_within_the_limits_are_analysed(statement: str) -> None:
    text = "model.eval()\n" + statement + "\nloss.backward()\n"
    assert analyze(text).syntax_error is None


def test_two_thousand_nested_calls_do_not_crash_the_engine() -> None:
    # libcst's native parser dies with SIGSEGV: only a child process can show that.
    code = (
        "from torchmode.analysis import analyze\n"
        "a = analyze('model.eval()\\nx = ' + 'f(' * 2000 + ')' * 2000 + '\\n')\n"
        "print(a.syntax_error is not None or a.findings == [])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=CLI_PATIENCE_S
    )
    assert (done.returncode, done.stdout) == (0, "True\n"), done.stderr[-2000:]


def test_forty_nested_for_loops_are_analysed() -> None:
    depth = 40
    text = "".join("    " * i + "for b in loader:\n" for i in range(depth))
    text += "    " * depth + "model.eval()\n" + "    " * depth + "loss.backward()\n"
    # 40 nested `while` loops take milliseconds; the guard is thousands of times that.
    with patience(30):
        check_program(text, fixes=False)


# --- the CLI ----------------------------------------------------------------------------------


def torchmode(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "torchmode", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=CLI_PATIENCE_S,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture
def hostile_tree(tmp_path: Path) -> Path:
    """A project with one real finding among every kind of file that cannot be checked."""
    (tmp_path / "good.py").write_text(EXAMPLE, encoding="utf-8")
    (tmp_path / "empty.py").write_bytes(b"")
    (tmp_path / "nul.py").write_bytes(b"model.eval()\n\x00\x00")
    (tmp_path / "latin1.py").write_bytes(b"# Sch\xe4tzung\nmodel.eval()\n")
    (tmp_path / "binary.py").write_bytes(bytes(range(256)) * 64)
    (tmp_path / "huge.py").write_text(TRAINING_LINE * (10_000_000 // len(TRAINING_LINE) + 1))
    (tmp_path / "blob.py").write_text(BLOB_LINE)
    (tmp_path / "terms.py").write_text(
        "model.eval()\nx = " + "+".join(["loss"] * 4000) + "\nloss.backward()\n"
    )
    (tmp_path / "deep_blocks.py").write_text(NESTED_BLOCKS)
    (tmp_path / "deep_parens.py").write_text(NESTED_PARENS)
    (tmp_path / "bom_crlf.py").write_bytes(
        b"\xef\xbb\xbf" + EXAMPLE.replace("\n", "\r\n").encode("utf-8")
    )
    os.mkfifo(tmp_path / "fifo.py")  # reading it would block for ever
    (tmp_path / "folder.py").mkdir()
    os.symlink("nowhere.py", tmp_path / "dangling.py")
    os.symlink("loop.py", tmp_path / "loop.py")
    (tmp_path / "sub").mkdir()
    os.symlink("..", tmp_path / "sub" / "up")
    return tmp_path


UNCHECKABLE = {
    "nul.py": "contains a NUL byte",
    "latin1.py": "cannot decode as utf-8",
    "binary.py": "",
    "huge.py": "too large",
    "terms.py": "2:1: torchmode skipped this file: line 2 holds an expression too long",
    "deep_blocks.py": "too deeply nested to analyse (too many levels of indentation)",
    "deep_parens.py": "too many nested parentheses",
    "dangling.py": "",
    "loop.py": "",
    "sub/up": "symbolic link loop",
}


def test_cli_on_a_hostile_tree(hostile_tree: Path) -> None:
    done = torchmode("check", "--format", "json", ".", cwd=hostile_tree)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    messages = done.stderr.splitlines()
    for path, words in UNCHECKABLE.items():
        about = [m for m in messages if m.startswith(f"{path}:")]
        assert len(about) == 1, f"{path}: {messages}"
        assert words in about[0]
    assert len(messages) == len(UNCHECKABLE), messages
    found = {(Path(r["filename"]).name, r["code"]) for r in json.loads(done.stdout)}
    assert {("good.py", "TM101"), ("bom_crlf.py", "TM101")} <= found


def test_cli_on_files_named_explicitly(hostile_tree: Path) -> None:
    names = ["fifo.py", "loop.py", "dangling.py", "binary.py", "good.py"]
    done = torchmode("check", "-j", "1", *names, cwd=hostile_tree)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    named = sorted(line.split(":")[0] for line in done.stderr.splitlines())
    assert named == sorted(set(names) - {"good.py"})
    assert "good.py:33:13: TM101" in done.stdout


def test_fix_keeps_bom_and_crlf_and_leaves_uncheckable_files_alone(hostile_tree: Path) -> None:
    before = {p: p.read_bytes() for p in hostile_tree.glob("*.py") if p.is_file()}
    done = torchmode("check", "--fix", ".", cwd=hostile_tree)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    fixed = (hostile_tree / "bom_crlf.py").read_bytes()
    assert fixed.startswith(b"\xef\xbb\xbf")
    text = fixed[3:].decode("utf-8")
    assert text.count("\r\n") == text.count("\n")
    assert "model.train()" in text.split("model.eval()")[1]
    compile(text, "bom_crlf.py", "exec")
    for path, data in before.items():
        if path.name not in ("bom_crlf.py", "good.py"):
            assert path.read_bytes() == data, f"{path.name} changed"
    leftovers = [p.name for p in hostile_tree.iterdir() if p.name.endswith(".torchmode")]
    assert leftovers == []


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_crashing_file_takes_no_other_file_down(tmp_path: Path, jobs: str) -> None:
    (tmp_path / "good.py").write_text(EXAMPLE, encoding="utf-8")
    (tmp_path / "calls.py").write_text("model.eval()\nx = " + "f(" * 2000 + ")" * 2000 + "\n")
    done = torchmode("check", "-j", jobs, ".", cwd=tmp_path)
    assert "good.py:33:13: TM101" in done.stdout
    assert [line.split(":")[0] for line in done.stderr.splitlines()] == ["calls.py"]
