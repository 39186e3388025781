"""Starts the torchmode language server for the VS Code extension, or probes whether it can.

``launch.py --probe`` prints one JSON line: the Python version and whether the server imports.
``launch.py --stdio`` runs the server on stdio.

TORCHMODE_IMPORT_STRATEGY=useBundled puts TORCHMODE_BUNDLED_LIBS (the extension's ``bundled/libs``)
first on ``sys.path``; ``fromEnvironment`` uses the interpreter's own packages. In an untrusted
workspace the extension runs this file with ``-I -S`` (no site-packages, ``.pth`` files,
``sitecustomize``, PYTHON* variables or working directory): the bundled libraries it inserts and
the standard library are then all there is to import. This file must stay valid on old Pythons
(3.6+): one too old for torchmode gets a message, not a traceback.
"""

import importlib.machinery
import importlib.util
import json
import os
import sys

MINIMUM = (3, 11)
# What the server imports, in the order worth reporting: torchmode itself first. The probe only
# locates them (importing pygls, lsprotocol and libcst would double the server's start-up time).
REQUIRED = ("torchmode", "torchmode.lsp.server", "pygls", "lsprotocol", "cattrs", "libcst")


def _bundled_libs():
    """The extension's ``bundled/libs`` when the bundled copy is to be used, else ``None``."""
    if os.environ.get("TORCHMODE_IMPORT_STRATEGY", "useBundled") != "useBundled":
        return None
    return os.environ.get("TORCHMODE_BUNDLED_LIBS") or os.path.join(
        os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
        "bundled",
        "libs",
    )


def _use_bundled_libs():
    libs = _bundled_libs()
    if libs is not None:
        sys.path.insert(0, libs)


def _version_tuple(text):
    return tuple(int(part) for part in text.split(".")[:2] if part.isdigit())


def _glibc_too_old():
    """The platform packages' libcst parsers are manylinux wheels that need a minimum glibc (their
    BUNDLE.json says which). On an older one the import fails with a cryptic symbol error."""
    libs = _bundled_libs()
    if libs is None:
        return None
    try:
        with open(os.path.join(libs, "BUNDLE.json"), encoding="utf-8") as file:
            needed = json.load(file).get("glibc")
    except (OSError, ValueError):
        return None
    if not needed:
        return None
    try:
        found = os.confstr("CS_GNU_LIBC_VERSION") or ""  # "glibc 2.36"
    except (AttributeError, ValueError, OSError):
        found = ""
    name, _, version = found.partition(" ")
    if name == "glibc" and _version_tuple(version) >= _version_tuple(needed):
        return None
    system = f"this system has glibc {version}" if name == "glibc" else "this system has no glibc"
    return (
        f"the bundled libcst parser needs glibc {needed} or newer and {system}: "
        "run VS Code's server side on a newer Linux (Ubuntu 20.04, Debian 10, RHEL 8 or later), "
        "or set torchmode.importStrategy to fromEnvironment with torchmode installed in an "
        "environment whose libcst works here"
    )


def _probe():
    report = {
        "python": list(sys.version_info[:3]),
        "executable": sys.executable,
        "torchmode": None,
        "location": None,
        "error": None,
    }
    if sys.version_info >= MINIMUM:
        try:
            report["error"] = _glibc_too_old() or _missing() or _libcst_parser_missing()
            if report["error"] is None:
                import torchmode

                report["torchmode"] = torchmode.__version__
                report["location"] = os.path.dirname(torchmode.__file__)
        except Exception as error:
            report["error"] = f"{type(error).__name__}: {error}"
    print(json.dumps(report))
    return 0


def _missing():
    for name in REQUIRED:
        try:
            found = importlib.util.find_spec(name) is not None
        except ImportError as error:  # a parent package is missing or broken
            return f"{type(error).__name__}: {error}"
        if not found:
            return f"ModuleNotFoundError: No module named {name!r}"
    return None


def _libcst_parser_missing():
    """libcst's parser is compiled for one platform and Python version: is it built for this one?"""
    spec = importlib.util.find_spec("libcst")
    folder = next(iter(spec.submodule_search_locations or []))
    suffixes = importlib.machinery.EXTENSION_SUFFIXES
    if any(os.path.exists(os.path.join(folder, "native" + suffix)) for suffix in suffixes):
        return None
    built = sorted(name for name in os.listdir(folder) if name.startswith("native."))
    return (
        f"libcst's compiled parser is not built for this Python ({suffixes[0]}); "
        f"{folder} has {', '.join(built) or 'none'}"
    )


def _serve(argv):
    if sys.version_info < MINIMUM:
        needed = ".".join(map(str, MINIMUM))
        found = sys.version.split()[0]
        sys.stderr.write(f"torchmode needs Python {needed} or newer; {sys.executable} is {found}\n")
        return 2
    glibc = _glibc_too_old()
    if glibc is not None:
        sys.stderr.write(f"torchmode: {glibc}\n")
        return 2
    from torchmode.lsp.server import main

    return main(argv)


if __name__ == "__main__":
    _use_bundled_libs()
    if sys.argv[1:] == ["--probe"]:
        sys.exit(_probe())
    sys.exit(_serve(sys.argv[1:]))
