"""The benchmark scripts run end to end on a tiny corpus (their figures are not checked)."""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


def load(name: str) -> ModuleType:
    sys.path.insert(0, str(BENCH))  # the scripts import their sibling corpus.py
    try:
        spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses look their module up while building
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(BENCH))


corpus = load("corpus")


def test_rename_is_consistent_and_keeps_library_keywords() -> None:
    source = (
        "import torch\n"
        "def fit(model, lr=0.1):\n"
        "    opt = torch.optim.SGD(model.parameters(), lr=lr)\n"
        "    print(f'{model} at {lr}')\n"
        "    return opt\n"
        "fit(model=net, lr=0.5)\n"
        "trainer.model.train()\n"
    )
    renamed = corpus.rename(
        source, {"model": "net_a", "lr": "rate", "fit": "fit_2"}, frozenset({"fit"})
    )
    assert renamed == (
        "import torch\n"
        "def fit_2(net_a, rate=0.1):\n"
        "    opt = torch.optim.SGD(net_a.parameters(), lr=rate)\n"
        "    print(f'{net_a} at {rate}')\n"
        "    return opt\n"
        "fit_2(net_a=net, rate=0.5)\n"
        "trainer.net_a.train()\n"
    )


def test_bare_renaming_leaves_attributes_alone() -> None:
    source = "def train(m):\n    m.train()\n    print(f'{m.train} {train}')\ntrain(x)\n"
    train = frozenset({"train"})
    renamed = corpus.rename(source, {"train": "train_1"}, train, train)
    assert renamed == (
        "def train_1(m):\n    m.train()\n    print(f'{m.train} {train_1}')\ntrain_1(x)\n"
    )


def test_project_has_training_code_and_skippable_helpers(tmp_path: Path) -> None:
    stats = corpus.build_project(tmp_path, 40, seed=3)
    files = sorted(tmp_path.rglob("*.py"))
    assert len(files) == stats.files == 40
    texts = [p.read_text(encoding="utf-8") for p in files]
    for path, text in zip(files, texts, strict=True):
        ast.parse(text, filename=str(path))
    untriggered = [t for t in texts if t.strip() and not corpus.TRIGGER.search(t)]
    assert len(untriggered) == stats.skippable > 0
    assert stats.training > 0
    assert sum("torch" in t for t in texts) >= stats.training


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_big_module_parses_and_varies_the_templates(seed: int) -> None:
    text = corpus.build_module(1500, seed=seed)
    assert text.count("\n") >= 1500
    tree = ast.parse(text)
    names = [n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef)]
    assert len(names) == len(set(names)), "combined templates must not redefine a name"


def test_edit_sites_are_single_line_statements_in_order() -> None:
    lsp = load("lsp")
    text = corpus.build_module(400, seed=2)
    sites = lsp.edit_sites(text, 8)
    assert sites == sorted(sites) and len(sites) >= 4
    lines = text.split("\n")
    for line, indent in sites:
        assert lines[line].startswith(indent) and lines[line][len(indent)] != " "
        # the edited text (a statement inserted below the line) still parses
        edited = [*lines[: line + 1], f"{indent}print('x')", *lines[line + 1 :]]
        ast.parse("\n".join(edited))


def run_script(*args: str) -> str:
    result = subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.e2e  # runs the benchmark script: tens of seconds
def test_cli_benchmark_prints_its_tables(tmp_path: Path) -> None:
    out = run_script(
        str(BENCH / "cli.py"), "--files", "12", "--lines", "150", "--workdir", str(tmp_path)
    )
    assert "| corpus | files | lines | libcst parse |" in out
    assert "\n| 12 | 12 |" in out
    assert "### Wall time (s) by jobs" in out and "| 12 |" in out.split("### Wall time")[1]
    assert "### Single modules" in out
    assert "files failed" not in out


@pytest.mark.e2e  # runs the benchmark script: tens of seconds
def test_lsp_benchmark_prints_every_target() -> None:
    out = run_script(str(BENCH / "lsp.py"), "--lines", "300", "--edits", "3", "--documents", "2")
    for measurement in (
        "first open, fresh server",
        "one-line edit -> diagnostics, median of 3",
        "hover, median of",
        "code action, median of",
        "server RSS with 2 documents open",
    ):
        assert measurement in out


@pytest.mark.e2e  # runs the benchmark script: tens of seconds
def test_dependents_benchmark_prints_its_measurements() -> None:
    out = run_script(
        str(BENCH / "lsp_dependents.py"), "--lines", "300", "--dependents", "2", "--edits", "2"
    )
    for measurement in (
        "typing in big.py, 2 dependents open: median",
        "typing in big.py, none open:",
        "fix typed in big.py -> dependent's TM101 gone:",
        "fix deleted         -> dependent's TM101 back:",
    ):
        assert measurement in out
