"""The pre-commit hook manifest, validated by pre-commit itself, and its entry run as
pre-commit runs it (entry + args + the staged files of the matching types)."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import yaml
from identify import identify
from pre_commit.clientlib import load_config, load_manifest

ROOT = Path(__file__).resolve().parent.parent.parent
MANIFEST = ROOT / ".pre-commit-hooks.yaml"
CONFIG = ROOT / ".pre-commit-config.yaml"


def _hook() -> dict:
    [hook] = load_manifest(str(MANIFEST))
    return hook


def test_manifest_is_valid_for_pre_commit():
    hook = _hook()
    assert hook["id"] == "torchmode"
    assert hook["entry"] == "torchmode check"
    assert hook["types_or"] == ["python", "jupyter"]
    assert hook["pass_filenames"] is True
    # Run with no files, `torchmode check` would check the whole directory.
    assert hook["always_run"] is False


def _selected(hook: dict, names: list[str], cwd: Path) -> list[str]:
    return [n for n in names if identify.tags_from_path(str(cwd / n)) & set(hook["types_or"])]


def _run_hook(hook: dict, files: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    command = shlex.split(hook["entry"])
    # The installed console script, or the same entry point through the interpreter.
    executable = shutil.which(command[0])
    prefix = [executable] if executable else [sys.executable, "-m", "torchmode"]
    return subprocess.run(
        [*prefix, *command[1:], *hook["args"], *files],
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_hook_checks_the_staged_python_and_notebook_files(tmp_path):
    shutil.copy(ROOT / "examples" / "train_sst.py", tmp_path / "train.py")
    shutil.copy(ROOT / "examples" / "train_sst.ipynb", tmp_path / "train.ipynb")
    (tmp_path / "clean.py").write_text("model.train()\n")
    (tmp_path / "README.md").write_text("model.eval()\n")
    hook = _hook()
    files = _selected(hook, ["README.md", "clean.py", "train.ipynb", "train.py"], tmp_path)
    assert files == ["clean.py", "train.ipynb", "train.py"]
    done = _run_hook(hook, files, tmp_path)
    assert done.returncode == 1, done.stderr
    assert "train.py:" in done.stdout and "train.ipynb:cell " in done.stdout
    done = _run_hook(hook, ["clean.py"], tmp_path)
    assert (done.returncode, done.stderr) == (0, "")


def test_the_manifests_usage_snippet_is_a_valid_config_with_a_rev_that_exists(tmp_path):
    """The comment atop the manifest shows how to use the hook: uncommented, it must be a valid
    .pre-commit-config.yaml, and its `rev:` must not name a tag the repository lacks."""
    lines = MANIFEST.read_text(encoding="utf-8").splitlines()
    snippet = [line[1:] for line in lines if line.startswith("#   ")]
    config = tmp_path / ".pre-commit-config.yaml"
    config.write_text("repos:\n" + "\n".join(snippet) + "\n", encoding="utf-8")
    [repo] = load_config(str(config))["repos"]
    assert [hook["id"] for hook in repo["hooks"]] == ["torchmode"]
    rev = repo["rev"]
    if re.fullmatch(r"v?\d+(\.\d+)*", rev):
        tags = subprocess.run(
            ["git", "tag", "--list"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.split()
        assert rev in tags, f"the snippet names tag {rev}, which does not exist"
    else:  # a placeholder for a commit, or a full SHA
        assert rev.startswith("<") or re.fullmatch(r"[0-9a-f]{40}", rev), rev


def test_the_contributors_hooks_need_no_hook_repository():
    """Only package registries are reachable on our machines: every hook is a local one, run
    from the environment (system) or installed from PyPI at a pinned version (python)."""
    load_config(str(CONFIG))  # valid for pre-commit
    config = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))  # as written (no aliases resolved)
    assert [repo["repo"] for repo in config["repos"]] == ["local"]
    hooks = config["repos"][0]["hooks"]
    assert {"ruff-check", "ruff-format", "mypy"} <= {hook["id"] for hook in hooks}
    for hook in hooks:
        assert hook["language"] in ("system", "python"), hook["id"]
        if hook["language"] == "python":
            assert all("==" in dep for dep in hook["additional_dependencies"]), hook["id"]
    # mypy runs as CI runs it: on what pyproject.toml's [tool.mypy] lists, not on staged files
    [mypy] = [hook for hook in hooks if hook["id"] == "mypy"]
    assert (mypy["entry"], mypy["pass_filenames"]) == ("mypy", False)
