"""CLI benchmark: ``torchmode check`` against the libcst parse floor, measured in the same run.

For each corpus (generated projects of 100 / 1,000 / 5,000 files, or directories you pass
with ``--corpus``) it measures, each in a fresh process:

- the floor: ``libcst.parse_module`` over every file (read + parse, one process): the CPU
  time of the parse calls alone, and of the whole process (interpreter start-up and
  ``import libcst`` included, as they are in torchmode's figure);
- start-up: the bare interpreter, interpreter + ``import libcst``, ``torchmode check`` of an
  empty directory (torchmode is byte-compiled first, as an installed package is);
- ``ast.parse`` over the same files, for reference;
- ``torchmode check -j1`` (CPU time, wall time, peak RSS) and ``-j2`` (wall time, peak RSS);
  the floor and ``-j1`` alternate ``--repeats`` times (2): this machine's speed drifts by up
  to a third within minutes, so each ``-j1`` run is compared with the floor just before it;
- Fixit and TorchFix when ``--others`` is given (each in its own venv under /tmp, installed
  from PyPI on first use; TorchFix pins libcst < 1.6), on the corpus sizes of ``--others-on``;

then single modules of 1k / 5k / 20k lines: the same floor against ``torchmode check`` and the
engine's own ``analyze`` with a cold cache. CPU time and peak RSS come from ``os.wait4`` (the
``getrusage`` of the finished child, its worker processes included; the RSS is the largest
single process). Prints Markdown tables; nothing is asserted.

    python bench/cli.py [--files 100,1000,5000] [--lines 1000,5000,20000] [--others] [--repeats 2]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

# bench/ is not a package: the scripts import their sibling modules from their own folder.
sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus

TARGET_CPU_RATIO = 1.2
# The CPU target is set for "a repository-sized corpus"; the reference corpus
# (pytorch/examples + pytorch-image-models + nanoGPT) takes ~8 s of libcst parsing. A corpus
# that parses in under half that is a row of the scaling table, not judged by the target: there
# the interpreter and ``import libcst`` alone (~0.2 s) are a large part of its floor.
REPOSITORY_PARSE_SECONDS = 4.0
TARGET_PEAK_MB = 200
VENVS = {
    "fixit": (Path("/tmp/torchmode-bench-fixit"), ["fixit"], "fixit"),
    "torchfix": (Path("/tmp/torchmode-bench-torchfix"), ["torchfix"], "torchfix"),
}


@dataclass
class Run:
    cpu: float  # user + system seconds, the process and every child it waited for
    wall: float
    peak_mb: float  # the largest resident set of any single process in the run
    returncode: int
    stdout: str
    stderr: str


def measure(command: Sequence[str], cwd: Path | None = None) -> Run:
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        process = subprocess.Popen(
            list(command), cwd=cwd, stdin=subprocess.DEVNULL, stdout=out, stderr=err
        )
        _pid, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Run(
            usage.ru_utime + usage.ru_stime,
            wall,
            usage.ru_maxrss / 1024,
            process.returncode,
            out.read(),
            err.read(),
        )


def python_files(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    return sorted(p for p in root.rglob("*.py") if ".venv" not in p.parts)


# ---- the floors, run in a child process so that nothing else is in the measured process ----


# Run with ``python -c``: nothing but what parsing needs is imported, so that the whole
# process's CPU time is a fair floor for a whole ``torchmode check`` process.
FLOOR_SCRIPT = """
import json, sys, time
kind, list_file = sys.argv[1], sys.argv[2]
if kind == "libcst":
    import libcst
    parse = libcst.parse_module
else:
    import ast
    parse = ast.parse
with open(list_file, encoding="utf-8") as handle:
    paths = handle.read().splitlines()
failures = 0
start = time.process_time()
for path in paths:
    try:
        with open(path, encoding="utf-8") as source:
            parse(source.read())
    except Exception:
        failures += 1
cpu = time.process_time() - start
print(json.dumps({"cpu": cpu, "failures": failures}))
"""


def engine_child(path: str) -> None:
    """CPU seconds of one cold ``analyze`` of the file (fresh cache), the engine alone."""
    from torchmode.analysis import analyze
    from torchmode.engine.chunks import ChunkCache

    source = Path(path).read_text(encoding="utf-8")
    analyze("import torch\nmodel.eval()\n", cache=ChunkCache())  # first-call imports
    start = time.process_time()
    analysis = analyze(source, cache=ChunkCache())
    cpu = time.process_time() - start
    print(json.dumps({"cpu": cpu, "findings": len(analysis.findings)}))


@dataclass
class Floor:
    parse: float  # CPU seconds of the parse calls alone, measured inside the process
    process: float  # CPU seconds of the whole process: interpreter, parser import, reads, parses


def floor(kind: str, files: list[Path]) -> float:
    return floor_run(kind, files).parse


def floor_run(kind: str, files: list[Path]) -> Floor:
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as handle:
        handle.write("\n".join(map(str, files)))
    try:
        run = measure([sys.executable, "-c", FLOOR_SCRIPT, kind, handle.name])
    finally:
        os.unlink(handle.name)
    if run.returncode != 0:
        raise SystemExit(f"the {kind} floor failed:\n{run.stderr}")
    result = json.loads(run.stdout)
    if result["failures"]:
        print(f"note: {kind} could not parse {result['failures']} files", file=sys.stderr)
    return Floor(float(result["cpu"]), run.cpu)


def byte_compile_torchmode() -> None:
    """Measure torchmode as installed: pip byte-compiles a package when it installs it, and
    Python writes the bytecode on first import, unless PYTHONDONTWRITEBYTECODE is set (as on
    some CI machines), when every run would compile torchmode's modules again (~0.07 s)."""
    import compileall

    import torchmode

    compileall.compile_dir(Path(torchmode.__file__).parent, quiet=1)


def start_up() -> tuple[float, float, float]:
    """CPU seconds of: the bare interpreter, interpreter + ``import libcst``, and
    ``torchmode check`` of an empty directory (median of five runs each)."""

    def cpu(command: list[str]) -> float:
        return median([measure(command).cpu for _ in range(5)])

    empty = Path(tempfile.mkdtemp(prefix="torchmode-empty-"))
    check = [sys.executable, "-m", "torchmode", "check", "--exit-zero", "-j", "1", str(empty)]
    return (
        cpu([sys.executable, "-c", "pass"]),
        cpu([sys.executable, "-c", "import libcst"]),
        cpu(check),
    )


def torchmode_check(target: Path, jobs: int) -> Run:
    command = [sys.executable, "-m", "torchmode", "check", "--exit-zero", "-j", str(jobs)]
    return measure([*command, str(target)])


def problems(run: Run) -> str:
    match = re.search(r"Found (\d+) problems?", run.stdout)
    found = match.group(1) if match else ("0" if "All checks passed" in run.stdout else "?")
    failed = re.search(r"(\d+) files? could not be checked", run.stdout)
    return found + (f" ({failed.group(1)} files failed)" if failed else "")


# ---- Fixit and TorchFix in their own venvs ---------------------------------------------------


def other_tool(name: str) -> Path | None:
    """The tool's executable, installing it into its venv first; None when that fails."""
    venv, packages, executable = VENVS[name]
    binary = venv / "bin" / executable
    if binary.exists():
        return binary
    steps = [
        [sys.executable, "-m", "venv", str(venv)],
        [str(venv / "bin" / "pip"), "install", "-q", *packages],
    ]
    for step in steps:
        result = subprocess.run(step, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        if result.returncode != 0:
            print(f"note: {name} not installable, skipped: {result.stderr[-300:]}", file=sys.stderr)
            return None
    return binary if binary.exists() else None


def other_command(name: str, binary: Path, target: Path) -> list[str]:
    if name == "fixit":
        return [str(binary), "lint", str(target)]
    return [str(binary), str(target)]


# ---- tables -------------------------------------------------------------------------------


def median(values: list[float]) -> float:
    return statistics.median(values)


def table(header: Sequence[str], rows: list[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines.extend("| " + " | ".join(str(c) for c in row) + " |" for row in rows)
    return "\n".join(lines)


def fmt_s(seconds: float) -> str:
    return f"{seconds:.2f}"


def verdict(ok: bool) -> str:
    return "meets" if ok else "MISSES"


def cpu_verdict(ratio: float, parse_seconds: float) -> str:
    if parse_seconds < REPOSITORY_PARSE_SECONDS:
        return "scaling row: smaller than a repository"
    return verdict(ratio <= TARGET_CPU_RATIO)


def bench_projects(
    targets: list[tuple[str, Path]],
    jobs: list[int],
    others: dict[str, Path],
    others_on: set[str],
    repeats: int = 2,
) -> None:
    bare, with_libcst, startup = start_up()
    print(
        f"start-up, CPU s (median of 5): python {fmt_s(bare)}, python + import libcst "
        f"{fmt_s(with_libcst)}, torchmode check of an empty directory {fmt_s(startup)}\n"
    )
    rows = []
    walls = []
    other_rows = []
    for label, root in targets:
        print(f"measuring corpus {label}...", file=sys.stderr, flush=True)
        files = python_files(root)
        lines = sum(p.read_text(encoding="utf-8", errors="replace").count("\n") for p in files)
        # The floor and torchmode alternate, and each torchmode run is compared with the floor
        # measured just before it: this machine's speed drifts by up to a third within minutes.
        pairs = [(floor_run("libcst", files), torchmode_check(root, 1)) for _ in range(repeats)]
        ast_cpu = floor("ast", files)
        single = pairs[-1][1]
        parallel = {j: (single if j == 1 else torchmode_check(root, j)) for j in jobs}
        libcst_cpu = median([f.parse for f, _ in pairs])
        ratio = median([run.cpu / f.parse for f, run in pairs])
        peak = max(run.peak_mb for run in parallel.values())
        rows.append(
            [
                label,
                len(files),
                lines,
                fmt_s(libcst_cpu),
                fmt_s(median([f.process for f, _ in pairs])),
                fmt_s(ast_cpu),
                fmt_s(median([run.cpu for _, run in pairs])),
                f"{ratio:.2f}x ({cpu_verdict(ratio, libcst_cpu)})",
                f"{median([run.cpu / f.process for f, run in pairs]):.2f}x",
                f"{median([(run.cpu - startup) / f.parse for f, run in pairs]):.2f}x",
                f"{single.peak_mb:.0f} ({verdict(single.peak_mb <= TARGET_PEAK_MB)})",
                problems(single),
            ]
        )
        speedup = parallel[jobs[0]].wall / parallel[jobs[-1]].wall
        walls.append([label, *(fmt_s(parallel[j].wall) for j in jobs), f"{speedup:.2f}x"])
        walls[-1].append(f"{peak:.0f}")
        for name, binary in others.items():
            if label not in others_on:
                continue
            print(f"measuring {name} on corpus {label}...", file=sys.stderr, flush=True)
            run = measure(other_command(name, binary, root))
            other_rows.append(
                [
                    name,
                    label,
                    fmt_s(run.cpu),
                    f"{run.cpu / libcst_cpu:.2f}x",
                    fmt_s(run.wall),
                    f"{run.peak_mb:.0f}",
                    f"torchmode -j1: {fmt_s(single.cpu)} s CPU, {fmt_s(single.wall)} s wall",
                ]
            )
    print("### Corpora (CPU seconds; ratio = torchmode -j1 CPU / libcst parse CPU)\n")
    print(
        "libcst parse: the parse calls alone, timed inside the process; libcst process: the\n"
        "whole process that runs them (interpreter, `import libcst`, reads), measured like\n"
        "torchmode's; torchmode -j1: the whole `torchmode check -j1` process. Floor and\n"
        f"torchmode alternate {repeats} times; medians, each ratio against the floor just before.\n"
    )
    header = ["corpus", "files", "lines", "libcst parse", "libcst process", "ast.parse"]
    target = f"ratio (target ≤ {TARGET_CPU_RATIO} from {REPOSITORY_PARSE_SECONDS:g} s of parse)"
    header += ["torchmode -j1", target]
    header += ["ratio to libcst process"]
    header += ["ratio without start-up", f"peak MB -j1 (≤ {TARGET_PEAK_MB})", "findings"]
    print(table(header, rows))
    print("\n### Wall time (s) by jobs\n")
    header = ["corpus", *(f"-j{j}" for j in jobs), f"speed-up -j{jobs[-1]}", "peak MB (any proc)"]
    print(table(header, walls))
    if other_rows:
        print("\n### Other tools on the same corpus (ratio = tool CPU / libcst CPU)\n")
        header = ["tool", "corpus", "CPU s", "ratio", "wall s", "peak MB", "torchmode"]
        print(table(header, other_rows))


def bench_modules(sizes: list[int], workdir: Path, seed: int) -> None:
    rows = []
    templates = corpus.load_templates()
    for lines in sizes:
        path = workdir / f"module_{lines}.py"
        text = corpus.build_module(lines, seed, templates)
        path.write_text(text, encoding="utf-8")
        libcst_cpu = floor("libcst", [path])
        ast_cpu = floor("ast", [path])
        check = torchmode_check(path, 1)
        engine_run = measure([sys.executable, __file__, "_engine", str(path)])
        if engine_run.returncode != 0:
            raise SystemExit(f"the engine measurement failed:\n{engine_run.stderr}")
        engine = json.loads(engine_run.stdout)
        real_lines = text.count("\n")
        rows.append(
            [
                real_lines,
                fmt_s(libcst_cpu),
                fmt_s(ast_cpu),
                fmt_s(engine["cpu"]),
                f"{engine['cpu'] / libcst_cpu:.2f}x",
                f"{engine['cpu'] / real_lines * 1e6:.0f}",
                fmt_s(check.cpu),
                f"{check.cpu / libcst_cpu:.2f}x",
                f"{check.peak_mb:.0f}",
                engine["findings"],
            ]
        )
    print("\n### Single modules (CPU seconds; engine = cold `analyze` in-process)\n")
    header = ["lines", "libcst parse", "ast.parse", "engine", "engine/parse", "engine µs/line"]
    header += ["torchmode check (incl. start-up)", "check/parse", "peak MB", "findings"]
    print(table(header, rows))


def numbers(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_engine":
        engine_child(sys.argv[2])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=numbers, default=[100, 1000, 5000])
    parser.add_argument("--lines", type=numbers, default=[1000, 5000, 20000])
    parser.add_argument("--jobs", type=numbers, default=[1, 2])
    parser.add_argument("--corpus", type=Path, action="append", default=[], help="real code")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/torchmode-bench"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--others", action="store_true", help="also Fixit and TorchFix")
    parser.add_argument("--others-on", default="1000", help="corpus labels for --others")
    parser.add_argument("--repeats", type=int, default=2, help="floor/torchmode pairs per corpus")
    args = parser.parse_args()
    if 1 not in args.jobs:
        args.jobs.insert(0, 1)

    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}")
    byte_compile_torchmode()
    targets: list[tuple[str, Path]] = []
    templates = corpus.load_templates()
    for files in args.files:
        root = args.workdir / f"project_{files}_seed{args.seed}"
        marker = root / ".complete"
        if not marker.exists():
            stats = corpus.build_project(root, files, args.seed, templates)
            marker.write_text(json.dumps(stats.__dict__), encoding="utf-8")
        stats = json.loads(marker.read_text(encoding="utf-8"))
        print(
            f"corpus {files}: {stats['training']} training/evaluation modules, "
            f"{stats['innocent']} helpers mentioning a trigger word, "
            f"{stats['skippable']} helpers mentioning none ({root})"
        )
        targets.append((str(files), root))
    targets.extend((str(path), path) for path in args.corpus)
    others: dict[str, Path] = {}
    if args.others:
        for name in VENVS:
            binary = other_tool(name)
            if binary is not None:
                others[name] = binary
    print()
    if targets:
        bench_projects(
            targets, args.jobs, others, set(args.others_on.split(",")), max(args.repeats, 1)
        )
    if args.lines:
        args.workdir.mkdir(parents=True, exist_ok=True)
        bench_modules(args.lines, args.workdir, args.seed)


if __name__ == "__main__":
    main()
