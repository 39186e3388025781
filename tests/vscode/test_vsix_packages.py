"""The per-platform .vsix files that ``npm run package:all`` writes into ``dist/``.

Each platform package must carry libcst's parser for exactly CPython 3.11, 3.12, 3.13 and 3.14
on its platform, under the names those CPythons import (their first extension suffix), all from
one libcst version; the universal package carries no bundled libraries. The linux-x64 package's
server is unpacked and started, through the extension's launcher, with every CPython found here.

Without ``dist/`` (``npm ci && npm run package:all``) the tests skip, except under CI, where
they fail.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DIST = Path(os.environ.get("TORCHMODE_DIST", ROOT / "dist"))
PYTHONS = ("311", "312", "313", "314")
BUNDLED = "extension/bundled/libs/"
# Written out from CPython's own naming (importlib.machinery.EXTENSION_SUFFIXES on each
# platform), not taken from the bundler, so a wrong entry there fails here.
SUFFIXES = {
    "linux-x64": ".cpython-{v}-x86_64-linux-gnu.so",
    "linux-arm64": ".cpython-{v}-aarch64-linux-gnu.so",
    "alpine-x64": ".cpython-{v}-x86_64-linux-musl.so",
    "alpine-arm64": ".cpython-{v}-aarch64-linux-musl.so",
    "darwin-x64": ".cpython-{v}-darwin.so",
    "darwin-arm64": ".cpython-{v}-darwin.so",
    "win32-x64": ".cp{v}-win_amd64.pyd",
    "win32-arm64": ".cp{v}-win_arm64.pyd",
}
# A wheel's platform tag, as pip names its file, for each target's libcst wheels.
WHEEL_PLATFORMS = {
    "linux-x64": r"manylinux_2_28_x86_64",
    "linux-arm64": r"manylinux_2_28_aarch64",
    "alpine-x64": r"musllinux_1_2_x86_64",
    "alpine-arm64": r"musllinux_1_2_aarch64",
    "darwin-x64": r"macosx_10_\d+_x86_64",
    "darwin-arm64": r"macosx_11_0_arm64",
    "win32-x64": r"win_amd64",
    "win32-arm64": r"win_arm64",
}
NATIVE = re.compile(r"\.(so|pyd|dylib|dll)$")
LOCAL_PYTHONS = sorted(
    {str(p) for p in Path("/root/.pyenv/versions").glob("*/bin/python3")}
    | {
        str(p)
        for p in Path("/usr/bin").glob("python3.[0-9]*")
        if re.fullmatch(r"python3\.\d+", p.name)
    }
)


def _package(name: str) -> Path:
    path = DIST / f"torchmode-{name}.vsix"
    if not path.is_file():
        message = f"{path} is missing: run `npm ci && npm run package:all`"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def _target_platform(archive: zipfile.ZipFile) -> str | None:
    manifest = archive.read("extension.vsixmanifest").decode()
    found = re.search(r'TargetPlatform="([^"]+)"', manifest)
    return found.group(1) if found else None


@pytest.mark.parametrize("target", sorted(SUFFIXES))
def test_platform_package_has_each_cpythons_parser(target: str) -> None:
    with zipfile.ZipFile(_package(target)) as archive:
        names = archive.namelist()
        assert _target_platform(archive) == target
        native = {name for name in names if NATIVE.search(name)}
        expected = {f"{BUNDLED}libcst/native{SUFFIXES[target].format(v=v)}" for v in PYTHONS}
        assert native == expected
        versions = {
            m.group(1)
            for name in names
            if (m := re.match(rf"{BUNDLED}libcst-([^/]+)\.dist-info/", name))
        }
        assert len(versions) == 1, versions
        (version,) = versions
        manifest = json.loads(archive.read(f"{BUNDLED}BUNDLE.json"))
        wheels = manifest["libcst_wheels"]
        assert sorted(wheels) == ["3.11", "3.12", "3.13", "3.14"]
        for python, wheel in wheels.items():
            v = python.replace(".", "")
            pattern = rf"libcst-{re.escape(version)}-cp{v}-cp{v}-{WHEEL_PLATFORMS[target]}\.whl"
            assert re.fullmatch(pattern, wheel), wheel
        assert manifest["glibc"] == ("2.28" if target.startswith("linux-") else None)
        # The server itself, pure Python, is there once.
        assert f"{BUNDLED}torchmode/lsp/server.py" in names


def test_universal_package_bundles_nothing() -> None:
    with zipfile.ZipFile(_package("universal")) as archive:
        assert _target_platform(archive) is None
        names = archive.namelist()
        assert not [name for name in names if name.startswith("extension/bundled/")]
        assert not [name for name in names if NATIVE.search(name)]
        assert "extension/client/python/launch.py" in names


def _extract_linux_x64(tmp_path: Path) -> Path:
    with zipfile.ZipFile(_package("linux-x64")) as archive:
        archive.extractall(tmp_path)
    return tmp_path / "extension"


def _version(python: str) -> tuple[int, int]:
    out = subprocess.run(
        [python, "-c", "import sys; print(*sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=True,
    )
    major, minor = out.stdout.split()
    return int(major), int(minor)


def _frame(message: dict[str, object]) -> bytes:
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def _first_response(stdout: bytes) -> dict[str, object]:
    header, _, rest = stdout.partition(b"\r\n\r\n")
    length = int(re.search(rb"Content-Length: (\d+)", header).group(1))  # type: ignore[union-attr]
    return dict(json.loads(rest[:length]))


@pytest.mark.skipif(not LOCAL_PYTHONS, reason="no CPython found in /usr/bin or pyenv")
def test_linux_x64_server_starts_with_every_local_cpython(tmp_path: Path) -> None:
    extension = _extract_linux_x64(tmp_path)
    launcher = extension / "client" / "python" / "launch.py"
    libs = extension / "bundled" / "libs"
    env = {
        **os.environ,
        "TORCHMODE_IMPORT_STRATEGY": "useBundled",
        "TORCHMODE_BUNDLED_LIBS": str(libs),
    }
    started = []
    for python in LOCAL_PYTHONS:
        version = _version(python)
        probe = subprocess.run(
            [python, "-I", "-S", str(launcher), "--probe"],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        report = json.loads(probe.stdout.splitlines()[-1])
        if version < (3, 11):
            assert report["torchmode"] is None, python
            continue
        assert report["error"] is None, (python, report)
        assert report["location"] == str(libs / "torchmode"), report
        # The extension's restricted-mode launch: nothing but the bundle and the standard library.
        messages = _frame(
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {"processId": None, "rootUri": None, "capabilities": {}},
            }
        ) + _frame({"jsonrpc": "2.0", "method": "exit"})
        served = subprocess.run(
            [python, "-I", "-S", "-X", "utf8", str(launcher), "--stdio"],
            input=messages,
            capture_output=True,
            env=env,
            timeout=120,
        )
        response = _first_response(served.stdout)
        assert response["id"] == 1, (python, response, served.stderr[-2000:])
        result = response["result"]
        assert isinstance(result, dict) and result["serverInfo"]["name"] == "torchmode", result
        started.append(version)
    assert started, f"no CPython 3.11 or newer among {LOCAL_PYTHONS}"


def test_linux_x64_package_covers_local_suffixes() -> None:
    """Each local CPython ≥ 3.11 names its extension modules as the package does."""
    with zipfile.ZipFile(_package("linux-x64")) as archive:
        native = {name.rpartition("/")[2] for name in archive.namelist() if NATIVE.search(name)}
    for python in LOCAL_PYTHONS:
        if _version(python) < (3, 11):
            continue
        suffix = subprocess.run(
            [python, "-c", "import importlib.machinery as m; print(m.EXTENSION_SUFFIXES[0])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        assert f"native{suffix}" in native, (python, suffix)
