"""Whole-project runs with the summary cache (issue 18): cold, warm, and after one changed file,
each against libcst's parse of the same files (not a test).

The project (``--corpus``, a real training project of a few hundred files or more) is copied to
a temporary folder. Each round, alternating with the floor: libcst's parse of every ``.py``
file (a process of its own: the parse calls' CPU time), then ``torchmode check -j1`` with a
fresh cache folder (cold), again with that cache (warm), then with one file changed (a comment
appended to the file most other files import, whose importers' analyses read it), then that
file restored. CPU time of the whole ``torchmode check`` process, from ``os.wait4``; medians and
the spread (min-max) over the rounds; each ratio against the floor measured in the same round.
The findings of every run are compared with the cold run's of the same text.

    python bench/project_cache.py --corpus ~/.cache/torchmode-realworld/OWNER+NAME [--rounds 5]
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cli import Run, byte_compile_torchmode, floor_run, measure, python_files

_IMPORT = re.compile(r"^\s*(?:from\s+([.\w]+)\s+import|import\s+([.\w]+))", re.MULTILINE)


def most_imported(root: Path, files: list[Path]) -> Path:
    """The file the most import statements name by its dotted module path (the one a change of
    costs the most analyses of other files)."""
    counts: dict[str, int] = {}
    for file in files:
        try:
            text = file.read_text("utf-8", errors="replace")
        except OSError:
            continue
        for match in _IMPORT.finditer(text):
            dotted = (match.group(1) or match.group(2)).lstrip(".")
            counts[dotted] = counts.get(dotted, 0) + 1

    def named(file: Path) -> int:
        parts = list(file.relative_to(root).with_suffix("").parts)
        if parts and parts[-1] == "__init__":
            parts.pop()
        # any tail of its path, as a package under src/ or a script's folder imports it
        return max((counts.get(".".join(parts[i:]), 0) for i in range(len(parts))), default=0)

    candidates = [f for f in files if f.stem != "__init__"]
    return max(candidates, key=lambda f: (named(f), -len(str(f))))


def check(root: Path, cache: Path) -> Run:
    command = [sys.executable, "-m", "torchmode", "check", "--exit-zero", "-j", "1", "-q"]
    return measure([*command, "--format", "json", "--cache-dir", str(cache), str(root)])


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f}x ({min(values):.2f}-{max(values):.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    byte_compile_torchmode()
    work = Path(tempfile.mkdtemp(prefix="torchmode-cache-bench-"))
    root = work / "project"
    shutil.copytree(args.corpus, root, ignore=shutil.ignore_patterns(".torchmode_cache", ".git"))
    files = python_files(root)
    changed = most_imported(root, files)
    original = changed.read_text("utf-8", errors="surrogateescape")
    print(f"{len(files)} files; the changed one: {changed.relative_to(root)}")
    ratios: dict[str, list[float]] = {"cold": [], "warm": [], "one changed": []}
    seconds: dict[str, list[float]] = {"floor": [], "cold": [], "warm": [], "one changed": []}
    try:
        for round_ in range(args.rounds):
            parse = floor_run("libcst", files).parse
            cache = work / f"cache-{round_}"
            cold = check(root, cache)
            warm = check(root, cache)
            if warm.stdout != cold.stdout:
                raise SystemExit("the warm run's findings differ from the cold run's")
            changed.write_text(original + "\n# changed\n", "utf-8", errors="surrogateescape")
            after = check(root, cache)
            changed.write_text(original, "utf-8", errors="surrogateescape")
            seconds["floor"].append(parse)
            for name, run in (("cold", cold), ("warm", warm), ("one changed", after)):
                seconds[name].append(run.cpu)
                ratios[name].append(run.cpu / parse)
            print(
                f"round {round_ + 1}: parse {parse:.1f} s, cold {cold.cpu:.1f} s, "
                f"warm {warm.cpu:.1f} s, one changed {after.cpu:.1f} s",
                flush=True,
            )
    finally:
        changed.write_text(original, "utf-8", errors="surrogateescape")
    print()
    print("| run | CPU s (median) | ratio to libcst parse (median, min-max) | ratio to cold |")
    print("|---|---|---|---|")
    print(f"| libcst parse | {statistics.median(seconds['floor']):.1f} | 1.00x | |")
    cold_median = statistics.median(seconds["cold"])
    for name in ("cold", "warm", "one changed"):
        median = statistics.median(seconds[name])
        print(f"| {name} | {median:.1f} | {spread(ratios[name])} | {median / cold_median:.2f} |")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
