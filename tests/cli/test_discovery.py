"""Which files `torchmode check` looks at."""

from __future__ import annotations

import os
from pathlib import Path

from torchmode.files.discovery import discover


def _never(path: Path, is_dir: bool) -> bool:
    return False


def _touch(*names: str) -> None:
    for name in names:
        Path(name).parent.mkdir(parents=True, exist_ok=True)
        Path(name).write_text("x = 1\n")


def _found(*paths: str) -> list[str]:
    return [p.as_posix() for p in discover(list(paths) or ["."], _never).files]


def test_walk_skips_tool_directories_and_virtualenvs(project):
    _touch(
        "a.py",
        "nb.ipynb",
        "notes.txt",
        "pkg/b.py",
        ".git/hooks/c.py",
        ".venv/lib/d.py",
        "env/lib/e.py",
        "node_modules/f.py",
        "pkg/__pycache__/g.py",
        "build/h.py",
        "x.egg-info/i.py",
    )
    Path("env/pyvenv.cfg").write_text("home = /usr/bin\n")
    assert _found() == ["a.py", "nb.ipynb", "pkg/b.py"]


def test_gitignore_files_in_and_above_the_walked_directory(project):
    Path(".git").mkdir()
    Path(".gitignore").write_text("generated/\n*_gen.py\n")
    Path("src/.gitignore").parent.mkdir()
    Path("src/.gitignore").write_text("!keep_gen.py\nlocal.py\n")
    _touch(
        "top.py",
        "generated/a.py",
        "src/b_gen.py",
        "src/keep_gen.py",
        "src/local.py",
        "src/ok.py",
        "other/local.py",
    )
    assert _found() == ["other/local.py", "src/keep_gen.py", "src/ok.py", "top.py"]
    # The repository root's .gitignore applies when only a subdirectory is walked.
    assert _found("src") == ["src/keep_gen.py", "src/ok.py"]


def test_an_ignored_directory_named_explicitly_is_walked(project):
    Path(".git").mkdir()
    Path(".gitignore").write_text("vendor/\n")
    _touch("vendor/lib/a.py", "src/b.py")
    assert _found() == ["src/b.py"]
    assert _found("vendor") == ["vendor/lib/a.py"]


def test_explicit_files_are_checked_whatever_their_name(project):
    Path(".gitignore").write_text("*.py\n")
    _touch("script", "ignored.py")
    assert _found("script", "ignored.py", "./script") == ["script", "ignored.py"]


def test_config_exclude_applies_to_walks_and_explicit_files(project):
    _touch("a.py", "legacy/b.py", "c_generated.py")
    excluded = discover(
        [".", "c_generated.py"],
        lambda path, is_dir: path.name == "legacy" or path.name.endswith("_generated.py"),
    )
    assert [p.as_posix() for p in excluded.files] == ["a.py"]


def test_symlinked_directory_is_walked_once(project):
    _touch("real/a.py")
    os.symlink("real", "alias")
    found = discover(["."], _never)
    assert len(found.files) == 1
    assert found.problems == []


def test_broken_symlink_is_a_problem(project):
    os.symlink("nowhere.py", "dangling.py")
    found = discover(["."], _never)
    assert found.files == []
    assert found.problems == [("dangling.py", "broken symbolic link")]


def test_two_links_to_each_other_are_a_loop_not_a_broken_link(project):
    # a.py -> b.py -> a.py: nothing is missing, so "broken" would send the user looking
    # for a file to restore
    os.symlink("b.py", "a.py")
    os.symlink("a.py", "b.py")
    found = discover(["."], _never)
    assert found.files == []
    assert found.problems == [("a.py", "symbolic link loop"), ("b.py", "symbolic link loop")]
    assert discover(["a.py"], _never).problems == [("a.py", "symbolic link loop")]


def test_config_exclude_from_pyproject(project, run):
    Path("pyproject.toml").write_text('[tool.torchmode]\nexclude = ["legacy/", "*_gen.py"]\n')
    _touch("a.py", "legacy/b.py", "c_gen.py", "sub/d_gen.py")
    code, out, _ = run("check", ".")
    assert (code, out) == (0, "All checks passed (1 file checked).\n")


def test_no_paths_checks_the_current_directory(project, run):
    _touch("a.py", "pkg/b.py")
    assert run("check") == (0, "All checks passed (2 files checked).\n", "")
