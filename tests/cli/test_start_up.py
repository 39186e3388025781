"""Start-up is most of what checking a small project costs (bench/cli.py): what only some runs
need is imported only by those runs, and they still get it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "train_sst.py"
OPTIONAL = ("pathspec", "multiprocessing", "concurrent.futures", "torchmode.cli.output_sarif")
PROBE = """
import json, sys
from torchmode.cli.main import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(json.dumps({name: name in sys.modules for name in %r}))
"""


def _imported(project: Path, *args: str) -> dict[str, bool]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE % (OPTIONAL,), "check", "--exit-zero", *args, str(project)],
        capture_output=True,
        text=True,
        check=True,
        cwd=project,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "train_sst.py").write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    return tmp_path


def test_a_plain_single_process_run_imports_none_of_them(project: Path) -> None:
    assert _imported(project, "-j1", "--quiet") == dict.fromkeys(OPTIONAL, False)


def test_each_is_imported_where_it_is_needed(project: Path) -> None:
    (project / ".gitignore").write_text("build/\n", encoding="utf-8")
    (project / "other.py").write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    imported = _imported(project, "-j2", "--format", "sarif")
    assert imported == dict.fromkeys(OPTIONAL, True)
