"""Installs the torchmode server and its dependencies into ``bundled/libs`` for the .vsix.

The extension puts ``bundled/libs`` first on ``sys.path`` (``torchmode.importStrategy`` =
``useBundled``). Everything is pure Python except libcst's parser (and PyYAML's optional
accelerator).

``python3 scripts/bundle_server.py`` (``npm run package``): pip picks libcst's parser for the
interpreter running this script, so the bundle serves that platform and Python version only.

``python3 scripts/bundle_server.py --target linux-x64`` (``npm run package:all``, through
``scripts/package_all.py``): the pure-Python part once, plus libcst's parser from its wheels for
CPython 3.11 to 3.14 on that VS Code target. The parsers' file names differ by their extension
suffix (``native.cpython-312-x86_64-linux-gnu.so``, ``native.cp312-win_amd64.pyd``), so they sit
side by side in ``libcst/`` and each CPython imports its own.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIBS = ROOT / "bundled" / "libs"
# One libcst for every platform package. 1.9.0 publishes no macOS x86_64 wheels; 1.8.6 has wheels
# for every target below and CPython 3.11 to 3.14.
LIBCST_VERSION = "1.8.6"
PYTHONS = ("3.11", "3.12", "3.13", "3.14")
# Outside the clone, so a fresh clone reuses the 32 wheels (70 MB) that an earlier build fetched.
WHEEL_CACHE = Path(
    os.environ.get("TORCHMODE_WHEEL_CACHE", Path.home() / ".cache" / "torchmode" / "wheels")
)
NATIVE_ENDINGS = (".so", ".pyd", ".dylib", ".dll")


@dataclass(frozen=True)
class Target:
    """A VS Code platform (``vsce package --target``) and where its libcst parsers come from."""

    name: str
    # pip's --platform; for macOS the newest tag, which pip extends to the older ones libcst uses.
    wheel_platform: str
    # CPython's first EXTENSION_SUFFIXES entry there, with {v} for "312"-style versions.
    suffix: str
    # manylinux wheels name the oldest glibc they run on; the launcher checks it (launch.py).
    glibc: tuple[int, int] | None = None

    def native_name(self, python: str) -> str:
        return "native" + self.suffix.format(v=python.replace(".", ""))


TARGETS = (
    Target("linux-x64", "manylinux_2_28_x86_64", ".cpython-{v}-x86_64-linux-gnu.so", (2, 28)),
    Target("linux-arm64", "manylinux_2_28_aarch64", ".cpython-{v}-aarch64-linux-gnu.so", (2, 28)),
    Target("alpine-x64", "musllinux_1_2_x86_64", ".cpython-{v}-x86_64-linux-musl.so"),
    Target("alpine-arm64", "musllinux_1_2_aarch64", ".cpython-{v}-aarch64-linux-musl.so"),
    Target("darwin-x64", "macosx_15_0_x86_64", ".cpython-{v}-darwin.so"),
    Target("darwin-arm64", "macosx_15_0_arm64", ".cpython-{v}-darwin.so"),
    Target("win32-x64", "win_amd64", ".cp{v}-win_amd64.pyd"),
    Target("win32-arm64", "win_arm64", ".cp{v}-win_arm64.pyd"),
)
TARGETS_BY_NAME = {target.name: target for target in TARGETS}


def _pip_install(into: Path, *requirements: str) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--target",
            str(into),
            "--no-compile",  # the user's Python writes its own caches; .pyc would bloat the .vsix
            "--no-user",
            "--quiet",
            str(ROOT),
            *requirements,
        ],
        check=True,
    )
    # Console scripts point at the build machine's interpreter: useless inside the extension.
    shutil.rmtree(into / "bin", ignore_errors=True)
    # Third-party test suites (libcst's are 1.8 MB) are never imported at run time.
    for tests in sorted(into.glob("*/**/tests"), reverse=True):
        if tests.is_dir():
            shutil.rmtree(tests)


def _check(libs: Path, python: str = sys.executable) -> dict[str, str]:
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
        [python, "-I", "-B", "-c", probe, str(libs)],
        check=True,
        capture_output=True,
        text=True,
    )
    return dict(json.loads(result.stdout))


def _wheel(target: Target, python: str) -> Path:
    """libcst's wheel for one target and CPython, from the cache or downloaded by pip."""
    folder = WHEEL_CACHE / f"libcst-{LIBCST_VERSION}" / target.name / python
    wheels = sorted(folder.glob("*.whl"))
    if len(wheels) != 1:
        shutil.rmtree(folder, ignore_errors=True)
        abi = "cp" + python.replace(".", "")
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--only-binary=:all:",
                "--no-deps",
                "--platform",
                target.wheel_platform,
                "--python-version",
                python,
                "--implementation",
                "cp",
                "--abi",
                abi,
                "--dest",
                str(folder),
                f"libcst=={LIBCST_VERSION}",
            ],
            check=True,
        )
        wheels = sorted(folder.glob("*.whl"))
    if len(wheels) != 1:
        raise SystemExit(f"expected one libcst wheel in {folder}, found {wheels}")
    return wheels[0]


def download_wheels(targets: list[Target]) -> dict[tuple[str, str], Path]:
    """All the wheels the targets need; pip's downloads overlap (mostly waiting on the network)."""
    jobs = [(target, python) for target in targets for python in PYTHONS]
    with ThreadPoolExecutor(max_workers=4) as pool:
        paths = list(pool.map(lambda job: _wheel(*job), jobs))
    return {(target.name, python): path for (target, python), path in zip(jobs, paths, strict=True)}


def _is_native(name: str) -> bool:
    return name.endswith(NATIVE_ENDINGS)


def build_pure(into: Path) -> None:
    """torchmode and its dependencies without any compiled file, libcst pinned to the wheels'."""
    shutil.rmtree(into, ignore_errors=True)
    _pip_install(into, f"libcst=={LIBCST_VERSION}")
    # PyYAML's accelerator is compiled and its pure part is needed only by libcst.tool (libcst's
    # command line), which the server never imports: neither ships in platform packages.
    for found in into.iterdir():
        if found.name.lower().startswith(("yaml", "_yaml", "pyyaml")):
            shutil.rmtree(found)
    for path in sorted(into.rglob("*")):
        if path.is_file() and _is_native(path.name):
            path.unlink()


def _digest(data: bytes) -> str:
    # libcst's Windows wheels are built from a CRLF checkout: the same source, other line ends.
    return hashlib.sha256(data.replace(b"\r\n", b"\n")).hexdigest()


def bundle_target(
    target: Target, wheels: dict[tuple[str, str], Path], pure: Path
) -> dict[str, str]:
    """``bundled/libs`` for one target: the pure tree plus each CPython's parser from its wheel."""
    shutil.rmtree(LIBS, ignore_errors=True)
    shutil.copytree(pure, LIBS)
    libcst = LIBS / "libcst"
    natives: dict[str, str] = {}
    for python in PYTHONS:
        wheel = wheels[(target.name, python)]
        with zipfile.ZipFile(wheel) as archive:
            names = archive.namelist()
            compiled = [name for name in names if _is_native(name)]
            expected = f"libcst/{target.native_name(python)}"
            if compiled != [expected]:
                raise SystemExit(f"{wheel.name}: expected only {expected}, found {compiled}")
            # The pure part must be the one bundled: one libcst version, whatever the wheel.
            for name in names:
                if name.startswith("libcst/") and name.endswith(".py") and "/tests/" not in name:
                    bundled = LIBS / name
                    if not bundled.is_file() or _digest(bundled.read_bytes()) != _digest(
                        archive.read(name)
                    ):
                        raise SystemExit(f"{wheel.name}: {name} differs from the bundled libcst")
            (libcst / target.native_name(python)).write_bytes(archive.read(expected))
        natives[python] = wheel.name
    return natives


def write_manifest(
    platform: str, packages: dict[str, str], extra: dict[str, object] | None = None
) -> None:
    manifest: dict[str, object] = {"platform": platform, "packages": packages, **(extra or {})}
    (LIBS / "BUNDLE.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")


def _installed_versions(libs: Path) -> dict[str, str]:
    """Distribution versions from the dist-info folders, without importing anything."""
    versions = {}
    for info in libs.glob("*.dist-info"):
        name, _, version = info.name.removesuffix(".dist-info").rpartition("-")
        versions[name] = version
    return versions


def bundle_for(target: Target, wheels: dict[tuple[str, str], Path], pure: Path) -> None:
    natives = bundle_target(target, wheels, pure)
    packages = _installed_versions(LIBS)
    host = _host_target()
    if host == target.name:
        # This machine can import the bundle: do, with the interpreter running this script.
        packages = _check(LIBS)
    glibc = ".".join(map(str, target.glibc)) if target.glibc else None
    write_manifest(
        f"{target.name} CPython {', '.join(PYTHONS)}",
        packages,
        {"target": target.name, "libcst_wheels": natives, "glibc": glibc},
    )
    print(f"bundled/libs for {target.name}: libcst {LIBCST_VERSION} for CPython {PYTHONS}")


def _host_target() -> str | None:
    platform = sysconfig.get_platform()
    return {"linux-x86_64": "linux-x64", "linux-aarch64": "linux-arm64"}.get(platform)


def bundle_local() -> None:
    """Today's ``npm run package``: pip picks everything for the interpreter running this."""
    shutil.rmtree(LIBS, ignore_errors=True)
    _pip_install(LIBS)
    versions = _check(LIBS)
    platform = f"{sysconfig.get_platform()} CPython {sys.version_info[0]}.{sys.version_info[1]}"
    write_manifest(platform, versions)
    listing = ", ".join(f"{name} {version}" for name, version in sorted(versions.items()))
    print(f"bundled/libs for {platform}: {listing}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", choices=sorted(TARGETS_BY_NAME), help="a VS Code platform")
    args = parser.parse_args()
    if args.target is None:
        bundle_local()
        return 0
    target = TARGETS_BY_NAME[args.target]
    pure = ROOT / "build" / "bundle-pure"
    build_pure(pure)
    bundle_for(target, download_wheels([target]), pure)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
