"""``diagnosticMode: "workspace"`` (issue 19): how long the background index takes beside
libcst's parse of the same files, the memory it leaves, and whether typing and cross-file
updates in open files stay fast while it runs (not a test).

A generated workspace of ``--files`` files in a temporary folder: ``evaluate.py`` with a
``validate(model, loader)`` that leaves the model in eval mode; training modules of 80-400
lines (lsp_latency.py's functions), a third of them calling ``validate`` (a TM101 each, through
the other file); data and utility modules without a torch call (the index skips them as the
CLI does); and ``big.py``, a ``--lines``-line training module ending with a loop that calls
``validate``. The server runs over stdio with VS Code's push model, ``debounceMs`` 0 and
work-done progress.

1. Index: ``initialized`` -> the progress's end, beside libcst's parse of every file (one
   process, sequential: the floor); then the RSS of the server and of its index process.
2. Typing in ``big.py`` (a comment appended to a line of ``--edits`` functions, one per
   ``--pause`` ms) -> ``big.py``'s diagnostics for that version, beside libcst's parse of
   ``big.py``: first with a server in ``openFilesOnly`` mode (today's latency), then while the
   index builds (``big.py`` opened right after ``initialized``).
3. Cross-file: ``model.train()`` typed at the end of ``validate`` in the open ``evaluate.py``
   -> ``big.py``'s diagnostics without the TM101 at its call of ``validate``, beside the
   parse of ``big.py``. The server
   waits ``DEPENDENTS_LAG_MS`` on purpose before analysing a dependent (typing in the edited
   file goes first): reported with and without it.

    python bench/lsp_workspace.py [--files 1000] [--lines 5000] [--edits 15] [--pause 150]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types
from torchmode.lsp.project_files import DEPENDENTS_LAG_MS

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lsp import edit_sites, memory_mb, parse_floor_ms
from lsp_dependents import VALIDATE
from lsp_dependents import Client as DependentsClient
from lsp_latency import module

EVALUATE = "import torch\n\n\n" + VALIDATE

IMPORTS = "import torch\nfrom evaluate import validate\n"

CALLER = """

def fit(model, optimizer, train_loader, val_loader):
    for epoch in range(10):
        model.train()
        for x, y in train_loader:
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
        validate(model, val_loader)
        for x, y in train_loader:
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
"""

UTILITY = """\
import json
import os


def load_split_{n}(root, name):
    with open(os.path.join(root, name + ".json")) as handle:
        items = json.load(handle)
    return [(item["path"], int(item["label"])) for item in items]


def batches_{n}(items, size):
    for start in range(0, len(items), size):
        yield items[start : start + size]
"""

FLOOR_ALL = """
import sys, time, libcst
paths = sys.argv[1:]
texts = [open(p, encoding="utf-8").read() for p in paths]
start = time.perf_counter()
for text in texts:
    libcst.parse_module(text)
print(time.perf_counter() - start)
"""


def workspace(root: Path, files: int, lines: int) -> list[Path]:
    rng = random.Random(7)
    (root / "evaluate.py").write_text(EVALUATE)
    paths = [root / "evaluate.py"]
    for n in range(files - 2):
        folder = root / f"pkg_{n % 10}"
        folder.mkdir(exist_ok=True)
        path = folder / f"mod_{n}.py"
        if n % 5 in (3, 4):
            path.write_text(UTILITY.format(n=n))
        else:
            text = module(rng.randint(80, 400))
            if n % 3 == 0:
                text = text.replace(
                    "import torch\n", "import torch\nfrom evaluate import validate\n", 1
                )
                text += CALLER
            path.write_text(text)
        paths.append(path)
    big = module(lines).replace(
        "import torch\n", "import torch\nfrom evaluate import validate\n", 1
    )
    (root / "big.py").write_text(big + CALLER)
    paths.append(root / "big.py")
    return paths


class Client(DependentsClient):
    """lsp_dependents.py's client, in workspace mode, with work-done progress."""

    def __init__(self) -> None:
        super().__init__()
        self.progress_end: float | None = None

        @self.client.feature(types.WINDOW_WORK_DONE_PROGRESS_CREATE)
        def create(params: types.WorkDoneProgressCreateParams) -> None:
            return None

        @self.client.feature(types.PROGRESS)
        def progress(params: types.ProgressParams) -> None:
            if isinstance(params.value, dict) and params.value.get("kind") == "end":
                self.progress_end = time.perf_counter()

    async def start(self, root: Path, mode: str = "workspace") -> None:
        await self.client.start_io(sys.executable, "-m", "torchmode.lsp")
        await self.client.initialize_async(
            types.InitializeParams(
                capabilities=types.ClientCapabilities(
                    window=types.WindowClientCapabilities(work_done_progress=True)
                ),
                root_uri=root.as_uri(),
                workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name="bench")],
                initialization_options={"settings": {"debounceMs": 0, "diagnosticMode": mode}},
            )
        )
        self.started = time.perf_counter()
        self.client.initialized(types.InitializedParams())

    def server_pid(self) -> int:
        server = self.client._server  # type: ignore[attr-defined]
        assert server is not None
        return int(server.pid)

    async def fewer(self, uri: str, since: int, than: int) -> float:
        """When ``uri``'s diagnostics arrived with fewer than ``than`` findings."""
        while True:
            for at, where, _, codes in self.arrivals[since:]:
                if where == uri and len(codes) < than:
                    return at
            await asyncio.sleep(0.0005)

    def last(self, uri: str) -> list[str]:
        return next(codes for _, where, _, codes in reversed(self.arrivals) if where == uri)


async def typing(
    client: Client, big: str, text: str, sites: list[tuple[int, str]], pause_ms: int
) -> list[float]:
    """Opens ``big`` and appends a comment to each site's line (the file's facts unchanged, as
    for most keystrokes): ``didChange`` -> its diagnostics for that version, in seconds."""
    since = client.open(big, text)
    await client.arrival(big, since, 1)
    lines = text.split("\n")
    times = []
    for index, (line, _) in enumerate(sites):
        since = len(client.arrivals)
        end = len(lines[line])
        sent = client.change(big, line, end, 0, f"  # edited {index}")
        times.append(await client.arrival(big, since, client.versions[big]) - sent)
        await asyncio.sleep(pause_ms / 1000)
    return times


def children_rss_mb(pid: int) -> float:
    total = 0.0
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            total += memory_mb(int(child))[0]
    return total


async def measure(files: int, lines: int, edits: int, pause_ms: int) -> None:
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        paths = workspace(root, files, lines)
        size_mb = sum(p.stat().st_size for p in paths) / 1e6
        floor_all = float(
            subprocess.run(
                [sys.executable, "-c", FLOOR_ALL, *map(str, paths)],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "torchmode", "check", "-j1", "--exit-zero", "-q", str(root)],
            capture_output=True,
            check=True,
        )
        cli_s = time.perf_counter() - started
        big_text = (root / "big.py").read_text()
        big_floor_ms = parse_floor_ms(big_text)
        big = (root / "big.py").as_uri()
        sites = edit_sites(big_text, edits)
        # today's latency: the same keystrokes with no index
        alone = Client()
        await alone.start(root, "openFilesOnly")
        baseline = await typing(alone, big, big_text, sites, pause_ms)
        await alone.stop()
        client = Client()
        await client.start(root)
        during = await typing(client, big, big_text, sites, pause_ms)
        typed_while_indexing = client.progress_end is None
        while client.progress_end is None:
            await asyncio.sleep(0.05)
        indexed_s = client.progress_end - client.started
        await asyncio.sleep(2.0)  # settled
        pid = client.server_pid()
        server_mb, server_peak = memory_mb(pid)
        index_mb = children_rss_mb(pid)

        evaluate = (root / "evaluate.py").as_uri()
        since = client.open(evaluate, EVALUATE)
        await client.arrival(evaluate, since, 1)
        await asyncio.sleep(1.0)
        crossing = []
        before = len(client.last(big))  # with the TM101 at its call of validate()
        for _ in range(3):
            since = len(client.arrivals)
            end = EVALUATE.count("\n")
            sent = client.change(evaluate, end, 0, 0, "    model.train()\n")
            crossing.append(await client.fewer(big, since, before) - sent)
            client.change(evaluate, end, 0, 0, "", whole_line=True)  # the TM101 back
            await asyncio.sleep(2.0)
        await client.stop()

    def spread(values_ms: list[float]) -> str:
        return (
            f"median {statistics.median(values_ms):.0f} ms "
            f"(min {min(values_ms):.0f}, max {max(values_ms):.0f})"
        )

    baseline_ms = [t * 1000 for t in baseline]
    during_ms = [t * 1000 for t in during]
    crossing_ms = [t * 1000 for t in crossing]
    lag = DEPENDENTS_LAG_MS
    print(f"workspace: {len(paths)} files, {size_mb:.1f} MB")
    print(
        f"index: {indexed_s:.1f} s; libcst parse of every file {floor_all:.1f} s; "
        f"ratio {indexed_s / floor_all:.2f}; torchmode check -j1 of the folder {cli_s:.1f} s"
    )
    print(
        f"RSS after indexing: server {server_mb:.0f} MB (peak {server_peak:.0f}), "
        f"index process {index_mb:.0f} MB"
    )
    print(f"big.py: {big_text.count(chr(10))} lines, libcst parse {big_floor_ms:.0f} ms")
    print(
        f"typing in big.py, no index: {spread(baseline_ms)}; "
        f"ratio {statistics.median(baseline_ms) / big_floor_ms:.3f}"
    )
    print(
        f"typing in big.py while indexing (all {len(sites)} keystrokes: "
        f"{typed_while_indexing}): {spread(during_ms)}; "
        f"ratio {statistics.median(during_ms) / big_floor_ms:.3f}"
    )
    without_lag = [t - lag for t in crossing_ms]
    print(
        f"evaluate.py fixed -> big.py's TM101 at validate() gone: {spread(crossing_ms)}; "
        f"without the {lag} ms lag {spread(without_lag)}, "
        f"ratio {statistics.median(without_lag) / big_floor_ms:.3f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--lines", type=int, default=5000)
    parser.add_argument("--edits", type=int, default=15)
    parser.add_argument("--pause", type=int, default=150, help="ms between keystrokes")
    args = parser.parse_args()
    asyncio.run(measure(args.files, args.lines, args.edits, args.pause))


if __name__ == "__main__":
    main()
