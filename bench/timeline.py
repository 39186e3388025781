"""The mode timeline's cost per editor request (issue: inlay hints on a 5,000-line file).

Generates a module of ``--lines`` lines (``bench/corpus.py``), analyses it once, then times
what an editor asks for: the labels of a window of ``--window`` visible lines at several places
of the file (each on a fresh analysis, so nothing is memoised), and the whole file's labels.
Times are medians over ``--runs`` runs, with libcst's own parse of the module in the same run
for scale.

    python bench/timeline.py [--lines 5000] [--window 60] [--runs 5]

Nothing is asserted; it prints the numbers. To measure another tree of the package, run it
with PYTHONPATH=that/tree/server.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import libcst as cst

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus
from torchmode.analysis import analyze


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=5000)
    parser.add_argument("--window", type=int, default=60)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    source = corpus.build_module(args.lines)
    total = source.count("\n")
    starts = [0, total // 4, total // 2, 3 * total // 4, max(0, total - args.window)]
    parse, window, whole = [], [], []
    for _ in range(args.runs):
        began = time.perf_counter()
        cst.parse_module(source)
        parse.append(time.perf_counter() - began)
        for start in starts:
            analysis = analyze(source)
            began = time.perf_counter()
            analysis.timeline((start, start + args.window))
            window.append(time.perf_counter() - began)
        analysis = analyze(source)
        began = time.perf_counter()
        analysis.timeline()
        whole.append(time.perf_counter() - began)
    print(f"{total} lines; libcst parse {statistics.median(parse) * 1000:.0f} ms")
    for name, times in (("window", window), ("whole file", whole)):
        median = statistics.median(times)
        print(
            f"{name}: median {median * 1000:.1f} ms (min {min(times) * 1000:.1f}, "
            f"max {max(times) * 1000:.1f}), {median / statistics.median(parse):.3f}x the parse"
        )


if __name__ == "__main__":
    main()
