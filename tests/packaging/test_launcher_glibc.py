"""The VS Code launcher (client/python/launch.py) on a Linux whose glibc is older than the bundle's.

Platform packages for Linux carry manylinux_2_28 parsers; BUNDLE.json names that glibc and the
launcher must say so in words instead of letting libcst fail with a missing-symbol error. The
fake bundles here ask for a glibc far newer (99.0) or older (2.0) than any real one.
"""

from __future__ import annotations

import importlib.machinery
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

LAUNCHER = Path(__file__).resolve().parents[2] / "client" / "python" / "launch.py"
GLIBC = os.confstr("CS_GNU_LIBC_VERSION") if hasattr(os, "confstr") else None

pytestmark = pytest.mark.skipif(
    not (GLIBC or "").startswith("glibc "), reason="needs a glibc system"
)


def _fake_bundle(tmp_path: Path, glibc: str | None) -> Path:
    libs = tmp_path / "libs"
    for package in ("torchmode", "torchmode/lsp", "pygls", "lsprotocol", "cattrs", "libcst"):
        (libs / package).mkdir(parents=True)
        (libs / package / "__init__.py").write_text("")
    (libs / "torchmode" / "__init__.py").write_text('__version__ = "0-fake"\n')
    (libs / "torchmode" / "lsp" / "server.py").write_text("def main(argv):\n    return 0\n")
    # A parser file for this Python, so only the glibc check can object.
    suffix = importlib.machinery.EXTENSION_SUFFIXES[0]
    (libs / "libcst" / f"native{suffix}").write_bytes(b"")
    (libs / "BUNDLE.json").write_text(json.dumps({"glibc": glibc}))
    return libs


def _run(libs: Path, mode: str, strategy: str = "useBundled") -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "TORCHMODE_IMPORT_STRATEGY": strategy,
        "TORCHMODE_BUNDLED_LIBS": str(libs),
    }
    return subprocess.run(
        [sys.executable, "-I", "-S", str(LAUNCHER), mode],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def test_probe_names_both_glibc_versions(tmp_path: Path) -> None:
    report = json.loads(_run(_fake_bundle(tmp_path, "99.0"), "--probe").stdout)
    found = (GLIBC or "").split()[1]
    assert report["torchmode"] is None
    assert report["error"].startswith(
        f"the bundled libcst parser needs glibc 99.0 or newer and this system has glibc {found}: "
    )


def test_server_refuses_with_the_same_words(tmp_path: Path) -> None:
    served = _run(_fake_bundle(tmp_path, "99.0"), "--stdio")
    assert served.returncode == 2
    assert "needs glibc 99.0 or newer" in served.stderr


@pytest.mark.parametrize("glibc", ["2.0", None])
def test_a_new_enough_or_unstated_glibc_passes(tmp_path: Path, glibc: str | None) -> None:
    report = json.loads(_run(_fake_bundle(tmp_path, glibc), "--probe").stdout)
    assert report["error"] is None
    assert report["torchmode"] == "0-fake"


def test_the_environments_own_libcst_is_not_judged_by_the_bundle(tmp_path: Path) -> None:
    report = json.loads(_run(_fake_bundle(tmp_path, "99.0"), "--probe", "fromEnvironment").stdout)
    assert "glibc" not in (report["error"] or "")
