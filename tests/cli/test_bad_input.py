"""Bad input: one clear line on stderr naming the file, the other files still checked, exit 2,
never a traceback. These use the fake engine (conftest.py) so that they test the CLI's own
handling; test_real_engine.py runs the real engine on syntax errors and deep nesting."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

import pytest
import torchmode.files.source_files as source_files
from torchmode.analysis import Analysis

pytestmark = pytest.mark.usefixtures("fake_engine")

GOOD = "model.train()\nfor batch in loader:\n    step(batch)\n"
LEAKS_EVAL = (
    "import torch\nmodel = torch.nn.Dropout()\nopt = torch.optim.SGD(model.parameters())\n"
    "for x in data:\n    opt.zero_grad()\n    model(x).sum().backward()\n    opt.step()\n"
    "    model.eval()\n"
)


def _check_with_good_file(run, *paths: str) -> tuple[int, str, str]:
    Path("good.py").write_text(GOOD)
    return run("check", "--format", "json", "good.py", *paths)


def _assert_one_line_about(err: str, path: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"{path}:"), err
    assert "Traceback" not in err
    return lines[0]


def test_syntax_error(project, run):
    Path("bad.py").write_text("for x in train:\n    step(x\n")
    code, out, err = _check_with_good_file(run, "bad.py")
    assert code == 2
    line = _assert_one_line_about(err, "bad.py")
    assert ": syntax error: " in line
    row, column = line.split(":")[1:3]
    assert row.isdigit() and column.isdigit()
    assert out.startswith("[")  # the good file's (possibly empty) results are still printed


def test_undecodable_bytes(project, run):
    Path("latin.py").write_bytes(b"# Sch\xe4tzung\nmodel.eval()\n")
    code, _, err = _check_with_good_file(run, "latin.py")
    assert code == 2
    line = _assert_one_line_about(err, "latin.py")
    assert line == "latin.py: cannot decode as utf-8: invalid continuation byte at byte offset 5"


def test_unknown_encoding_cookie_reads_as_utf8(project, run):
    # codecs registered at run time by a package (future_fstrings) are unknown to a reader
    Path("cookie.py").write_text(
        "# -*- coding: future_fstrings -*-\n# Schätzung\n" + LEAKS_EVAL, encoding="utf-8"
    )
    code, out, err = run("check", "--format", "json", "cookie.py")
    assert err == ""
    assert code == 1
    assert [entry["code"] for entry in json.loads(out)] == ["TM101"]


def test_unknown_encoding_cookie_on_bytes_that_are_not_utf8(project, run):
    Path("cookie.py").write_bytes(b"# -*- coding: klingon -*-\n# Sch\xe4tzung\nmodel.eval()\n")
    code, _, err = _check_with_good_file(run, "cookie.py")
    assert code == 2
    assert "cannot decode as utf-8" in _assert_one_line_about(err, "cookie.py")


def test_nul_bytes(project, run):
    Path("nul.py").write_bytes(b"model.eval()\n\x00\x00")
    code, _, err = _check_with_good_file(run, "nul.py")
    assert code == 2
    line = _assert_one_line_about(err, "nul.py")
    assert line == "nul.py: contains a NUL byte at offset 13 (not a text file)"


def test_summary_counts_files_that_could_not_be_checked(project, run):
    Path("good.py").write_text(GOOD)
    Path("nul.py").write_bytes(b"step\x00")
    code, out, _ = run("check", ".")
    assert code == 2
    assert out == "No problems found in 1 file checked. 1 file could not be checked.\n"


def test_missing_path(project, run):
    code, _, err = _check_with_good_file(run, "missing.py", "missing_dir/")
    assert code == 2
    assert err.splitlines() == [
        "missing.py: no such file or directory",
        "missing_dir/: no such file or directory",
    ]


def test_empty_file_is_clean(project, run):
    Path("empty.py").write_text("")
    assert run("check", "empty.py") == (0, "All checks passed (1 file checked).\n", "")


def test_ten_megabyte_file(project, run):
    # ~10 MB of training-like code: refused with a clear message rather than parsed.
    line = "for batch in loader: loss = model(batch); loss.backward(); optimizer.step()\n"
    Path("huge.py").write_text(line * (10_000_000 // len(line) + 1))
    code, _, err = _check_with_good_file(run, "huge.py")
    assert code == 2
    message = _assert_one_line_about(err, "huge.py")
    assert message == "huge.py: too large to check (10.0 MB; the limit is 5 MB)"


def test_directory_symlink_loop(project, run):
    Path("pkg/sub").mkdir(parents=True)
    Path("pkg/sub/train.py").write_text(GOOD)
    os.symlink("..", "pkg/sub/loop")
    code, out, err = run("check", "pkg")
    assert code == 2
    line = _assert_one_line_about(err, "pkg/sub/loop")
    assert "symbolic link loop" in line
    assert "1 file checked" in out


def test_file_symlink_loop(project, run):
    os.symlink("b.py", "a.py")
    os.symlink("a.py", "b.py")
    code, _, err = run("check", ".")
    assert code == 2
    assert err.splitlines() == ["a.py: symbolic link loop", "b.py: symbolic link loop"]
    code, _, err = _check_with_good_file(run, "a.py")
    assert code == 2
    assert _assert_one_line_about(err, "a.py") == "a.py: symbolic link loop"


def test_unreadable_file(project, run, monkeypatch):
    Path("secret.py").write_text(GOOD)
    os.chmod("secret.py", 0)
    if os.geteuid() == 0:  # root reads anything: make the read fail as it would for a user
        real = Path.read_bytes

        def denied(self: Path) -> bytes:
            if self.name == "secret.py":
                raise PermissionError(13, "Permission denied")
            return real(self)

        monkeypatch.setattr(Path, "read_bytes", denied)
    code, _, err = _check_with_good_file(run, "-j", "1", "secret.py")
    assert code == 2
    assert _assert_one_line_about(err, "secret.py") == "secret.py: cannot read: Permission denied"


def test_internal_errors_are_one_line(project, run, monkeypatch):
    import torchmode.analysis.driver

    def crashing(source, settings, cache=None):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(torchmode.analysis.driver, "analyze", crashing)
    Path("deep.py").write_text("step()\n")
    code, _, err = run("check", "-j", "1", "deep.py")
    assert (code, err) == (2, "deep.py: too deeply nested to analyse\n")


@pytest.mark.parametrize("size", [source_files.MAX_FILE_BYTES])
def test_size_limit_is_inclusive(project, run, size):
    Path("edge.py").write_text("#" * (size - 1) + "\n")
    assert run("check", "edge.py")[0] == 0


def test_analysis_over_the_time_limit_is_reported_and_the_run_goes_on(project, run, monkeypatch):
    import torchmode.analysis.driver
    import torchmode.cli.checking as checking

    def endless(source, settings, cache=None):
        while "slow" in source:
            # An engine that guards itself with `except Exception` must still stop.
            with contextlib.suppress(Exception):
                sum(range(1000))
        return Analysis(source)

    monkeypatch.setattr(torchmode.analysis.driver, "analyze", endless)
    monkeypatch.setattr(checking, "TIME_LIMIT_SECONDS", 0.2)
    Path("slow.py").write_text("slow = step()\n")
    Path("fast.py").write_text("fast = step()\n")
    code, out, err = run("check", "-j", "1", "fast.py", "slow.py")
    assert code == 2
    assert err == "slow.py: analysis took longer than 0.2 s; not checked\n"
    assert out == "No problems found in 1 file checked. 1 file could not be checked.\n"
