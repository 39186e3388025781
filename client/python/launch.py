"""Starts the torchmode language server for the VS Code extension, or probes whether it can.

``launch.py --probe`` prints one JSON line: the Python version and whether the server imports.
``launch.py --stdio`` runs the server on stdio.

TORCHMODE_IMPORT_STRATEGY=useBundled puts TORCHMODE_BUNDLED_LIBS (the extension's ``bundled/libs``)
first on ``sys.path``; ``fromEnvironment`` uses the interpreter's own packages. This file must
stay valid on old Pythons (3.6+): one too old for torchmode gets a message, not a traceback.
"""

import json
import os
import sys

MINIMUM = (3, 11)


def _use_bundled_libs():
    if os.environ.get("TORCHMODE_IMPORT_STRATEGY", "useBundled") != "useBundled":
        return
    libs = os.environ.get("TORCHMODE_BUNDLED_LIBS") or os.path.join(
        os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
        "bundled",
        "libs",
    )
    sys.path.insert(0, libs)


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
            # torchmode first: in an environment without it, that is the message to show.
            import torchmode
            import torchmode.lsp.server  # imports the server's own dependencies: pygls...
            from libcst import parse_module

            # The bundled libcst is compiled for one platform; parsing proves it fits this one.
            parse_module("x = 1\n")
            report["torchmode"] = torchmode.__version__
            report["location"] = os.path.dirname(torchmode.__file__)
        except Exception as error:
            report["error"] = f"{type(error).__name__}: {error}"
    print(json.dumps(report))
    return 0


def _serve(argv):
    if sys.version_info < MINIMUM:
        needed = ".".join(map(str, MINIMUM))
        found = sys.version.split()[0]
        sys.stderr.write(f"torchmode needs Python {needed} or newer; {sys.executable} is {found}\n")
        return 2
    from torchmode.lsp.server import main

    return main(argv)


if __name__ == "__main__":
    _use_bundled_libs()
    if sys.argv[1:] == ["--probe"]:
        sys.exit(_probe())
    sys.exit(_serve(sys.argv[1:]))
