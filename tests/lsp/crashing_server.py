"""The real server, except that the engine raises on any text containing ``BOOM``.

Used to check that an internal error in one analysis is logged and harms nothing else.
"""

import sys

import torchmode.analysis.driver as driver
import torchmode.lsp.server as server

analyze = driver.analyze


def analyze_or_explode(source, settings, cache=None):
    if "BOOM" in source:
        raise RuntimeError("the engine exploded")
    return analyze(source, settings, cache)


driver.analyze = analyze_or_explode
raise SystemExit(server.main(sys.argv[1:]))
