"""Discovery and configuration inputs that are odd but legal never stop a run with a
traceback: a .gitignore line git accepts but pathspec rejects is warned about once and
skipped, a bad configured pattern is a configuration error (exit 2), another tool's
undecodable pyproject.toml does not matter, and a missing path is not "All checks passed"."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.usefixtures("fake_engine")

BAD_EVAL = "model.eval()\n"  # a finding, if it were checked


@pytest.mark.parametrize("line", ["bin\\", "[z-a]", "!"])
def test_a_gitignore_line_pathspec_rejects_is_skipped_with_one_warning(project, run, line):
    (project / ".git").mkdir()
    (project / ".gitignore").write_text(f"{line}\nignored.py\n")
    (project / "sub").mkdir()
    (project / "sub" / "ignored.py").write_text(BAD_EVAL)
    (project / "ignored.py").write_text(BAD_EVAL)
    (project / "good.py").write_text("model.train()\n")
    code, out, err = run("check", ".", "sub")
    assert code == 0, out + err
    assert out == "All checks passed (1 file checked).\n"
    [warning] = err.splitlines()
    assert warning.startswith(f".gitignore:1: warning: pattern {line!r} not understood, ignored")


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ('exclude = ["[z-a]"]', "exclude"),
        ('per-file-ignores = {"[z-a]" = ["TM101"]}', "per-file-ignores.'[z-a]'"),
    ],
)
def test_a_bad_configured_pattern_is_a_configuration_error(project, run, table, key):
    (project / "pyproject.toml").write_text(f"[tool.torchmode]\n{table}\n")
    (project / "a.py").write_text("model.train()\n")
    code, out, err = run("check", "a.py")
    assert (code, out) == (2, "")
    assert err.startswith(f"torchmode: {project / 'pyproject.toml'}: [tool.torchmode].{key}: ")
    assert "invalid pattern" in err and len(err.splitlines()) == 1


def test_another_tools_undecodable_pyproject_does_not_matter(project, run):
    (project / "pyproject.toml").write_bytes(b'[tool.black]\nx = "\xff"\n')
    (project / "sub").mkdir()
    (project / "sub" / "a.py").write_text("model.train()\n")
    assert run("check", "sub") == (0, "All checks passed (1 file checked).\n", "")


def test_our_undecodable_pyproject_is_named(project, run):
    (project / "pyproject.toml").write_bytes(b'[tool.torchmode]\nx = "\xff"\n')
    (project / "a.py").write_text("model.train()\n")
    code, out, err = run("check", "a.py")
    assert (code, out) == (2, "")
    assert err.startswith(f"torchmode: {project / 'pyproject.toml'}: invalid TOML: not UTF-8")


def test_a_missing_path_is_not_all_checks_passed(project, run):
    Path("a.py").write_text("model.train()\n")
    code, out, err = run("check", "a.py", "missing.py")
    assert code == 2
    assert err == "missing.py: no such file or directory\n"
    assert "All checks passed" not in out
    assert out == "No problems found in 1 file checked. 1 path could not be checked (see above).\n"
