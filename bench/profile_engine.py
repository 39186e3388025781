"""Where the engine's time goes on a big module: cold (empty cache) and warm (one-line edit).

Generates the 5,000-line training module of ``bench/corpus.py``, then profiles with cProfile
(or pyinstrument with ``--pyinstrument``, when installed):

- cold: ``analyze(text, cache=ChunkCache())``, everything parsed and analysed;
- warm: the same cache after that, one line edited inside a function: what a keystroke costs.

Prints the wall times against ``libcst.parse_module`` of the whole text and the top functions.

    python bench/profile_engine.py [--lines 5000] [--top 25] [--pyinstrument]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import libcst
from torchmode.analysis import analyze
from torchmode.engine.chunks import ChunkCache

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus
from lsp import edit_sites


def timed(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return (time.perf_counter() - start) * 1000


def edited(text: str, index: int) -> str:
    """``text`` with a comment appended to one statement line inside a function."""
    sites = edit_sites(text, 40)
    line, _indent = sites[index % len(sites)]
    lines = text.split("\n")
    lines[line] += f"  # edit {index}"
    return "\n".join(lines)


def profile(call: Callable[[], object], top: int, use_pyinstrument: bool) -> str:
    if use_pyinstrument:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0005)
        profiler.start()
        call()
        profiler.stop()
        return profiler.output_text(unicode=True, color=False, show_all=False)
    cprofile = cProfile.Profile()
    cprofile.runcall(call)
    out = io.StringIO()
    stats = pstats.Stats(cprofile, stream=out)
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=5000)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pyinstrument", action="store_true")
    args = parser.parse_args()
    text = corpus.build_module(args.lines, args.seed)
    analyze("import torch\nmodel.eval()\n", cache=ChunkCache())  # the engine's own imports

    parse_ms = statistics.median(timed(lambda: libcst.parse_module(text)) for _ in range(3))
    cold_ms = statistics.median(timed(lambda: analyze(text, cache=ChunkCache())) for _ in range(3))
    cache = ChunkCache()
    analyze(text, cache=cache)
    warm = []
    for index in range(10):
        version = edited(text, index)
        warm.append(timed(lambda v=version: analyze(v, cache=cache)))
        analyze(text, cache=cache)  # back to the original, as undo would
    warm_ms = statistics.median(warm)
    findings = len(analyze(text, cache=cache).findings)
    print(f"{text.count(chr(10))} lines, {findings} findings")
    print(f"libcst.parse_module: {parse_ms:.0f} ms (median of 3)")
    print(f"cold analyze:        {cold_ms:.0f} ms = {cold_ms / parse_ms:.2f}x parse (median of 3)")
    print(f"warm one-line edit:  {warm_ms:.1f} ms = {warm_ms / parse_ms:.3f}x parse (median of 10)")

    print("\n## cold\n")
    print(profile(lambda: analyze(text, cache=ChunkCache()), args.top, args.pyinstrument))
    cache = ChunkCache()
    analyze(text, cache=cache)
    version = edited(text, 3)
    print("\n## warm (one-line edit)\n")
    print(profile(lambda: analyze(version, cache=cache), args.top, args.pyinstrument))


if __name__ == "__main__":
    main()
