"""Builds every .vsix into ``dist/``: one per VS Code platform, and a universal one.

Each platform package carries the server, its pure-Python dependencies and libcst's parser for
CPython 3.11 to 3.14 on that platform (``bundle_server.py --target``). The universal package
carries no bundled libraries: VS Code installs it where no platform package fits, and it runs the
torchmode installed in the user's environment (the client falls back to ``fromEnvironment`` when
``bundled/libs`` is absent).

Usage: ``npm run package:all`` (after ``npm ci``). ``npm run package`` stays the local build.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import bundle_server

DIST = bundle_server.ROOT / "dist"


def _vsce(out: Path, *target: str) -> None:
    vsce = bundle_server.ROOT / "node_modules" / ".bin" / "vsce"
    subprocess.run(
        [str(vsce), "package", "--no-dependencies", "--skip-license", *target, "--out", str(out)],
        cwd=bundle_server.ROOT,
        check=True,
        stdout=subprocess.DEVNULL,  # vsce lists every file; the sizes below say enough
    )


def main() -> int:
    started = time.monotonic()
    DIST.mkdir(exist_ok=True)
    targets = list(bundle_server.TARGETS)
    wheels = bundle_server.download_wheels(targets)
    pure = bundle_server.ROOT / "build" / "bundle-pure"
    bundle_server.build_pure(pure)
    built = []
    for target in targets:
        bundle_server.bundle_for(target, wheels, pure)
        out = DIST / f"torchmode-{target.name}.vsix"
        _vsce(out, "--target", target.name)
        built.append(out)
    # The universal package: no bundled/libs at all, so no native code.
    shutil.rmtree(bundle_server.LIBS, ignore_errors=True)
    out = DIST / "torchmode-universal.vsix"
    _vsce(out)
    built.append(out)
    for path in built:
        print(f"{path.relative_to(bundle_server.ROOT)}: {path.stat().st_size / 1e6:.1f} MB")
    print(f"{len(built)} packages in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
