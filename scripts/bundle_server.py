"""Installs the torchmode server and its dependencies into ``bundled/libs`` for the .vsix.

The extension puts ``bundled/libs`` first on ``sys.path`` (``torchmode.importStrategy`` =
``useBundled``). Everything is pure Python except libcst's parser (and PyYAML's optional
accelerator), which pip picks for the interpreter running this script: the bundle serves that
platform and Python version; ``fromEnvironment`` serves the rest.

Usage: ``python3 scripts/bundle_server.py`` (``npm run package`` runs it).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIBS = ROOT / "bundled" / "libs"


def _install() -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--target",
            str(LIBS),
            "--no-compile",  # the user's Python writes its own caches; .pyc would bloat the .vsix
            "--no-user",
            "--quiet",
            str(ROOT),
        ],
        check=True,
    )
    # Console scripts point at the build machine's interpreter: useless inside the extension.
    shutil.rmtree(LIBS / "bin", ignore_errors=True)
    # Third-party test suites (libcst's are 1.8 MB) are never imported at run time.
    for tests in sorted(LIBS.glob("*/**/tests"), reverse=True):
        if tests.is_dir():
            shutil.rmtree(tests)


def _check() -> dict[str, str]:
    """Imports the bundle in a clean interpreter: a broken bundle fails the build, not the user."""
    probe = (
        "import json, sys; sys.path.insert(0, sys.argv[1]);"
        "import importlib.metadata as m, libcst, torchmode;"
        "libcst.parse_module('x = 1\\n');"
        "assert torchmode.__file__.startswith(sys.argv[1]), torchmode.__file__;"
        "dists = m.distributions(path=[sys.argv[1]]);"
        "print(json.dumps({d.metadata['Name']: d.version for d in dists}))"
    )
    result = subprocess.run(
        # -B: no __pycache__ in the bundle (the .vsix would ship this machine's bytecode).
        [sys.executable, "-I", "-B", "-c", probe, str(LIBS)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(result.stdout)


def main() -> int:
    shutil.rmtree(LIBS, ignore_errors=True)
    _install()
    versions = _check()
    platform = f"{sysconfig.get_platform()} CPython {sys.version_info[0]}.{sys.version_info[1]}"
    (LIBS / "BUNDLE.json").write_text(
        json.dumps({"platform": platform, "packages": versions}, indent=2, sort_keys=True) + "\n"
    )
    listing = ", ".join(f"{name} {version}" for name, version in sorted(versions.items()))
    print(f"bundled/libs for {platform}: {listing}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
