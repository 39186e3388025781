"""Language-server benchmark: one big document beside small ones (issue: isolation of analyses).

Starts ``python -m torchmode lsp`` (VS Code's capabilities, ``debounceMs`` 0), opens a
generated training module of ``--lines`` lines (5 MB by default; ``bench/corpus.py``), and
while it is being analysed opens small documents one after another (the example training
script under new names), each time measuring ``didOpen`` -> ``publishDiagnostics``. Then it
waits for the big document's diagnostics (or notice), closes it, and samples the resident
memory of the server and of its child processes (the analysis process) for ``--after`` s.

    python bench/lsp_big.py [--lines 120000] [--small 5] [--after 5]

Nothing is asserted; it prints the numbers. To measure another tree of the package, run it
with PYTHONPATH=that/tree/server.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus
import lsp
from lsp import Bench, memory_mb
from lsprotocol import types

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = (ROOT / "examples" / "train_sst.py").read_text(encoding="utf-8")
TIMEOUT = 900.0
lsp.TIMEOUT = TIMEOUT  # Bench's patience: without isolation, a small document waits minutes


def big_module(lines: int, seed: int) -> str:
    """A generated module of about ``lines`` lines (kept in a file: building 5 MB takes ~15 s)."""
    cached = Path(os.environ.get("TMPDIR", "/tmp")) / f"torchmode-bench-{lines}-{seed}.py"
    if cached.exists():
        return cached.read_text(encoding="utf-8")
    text = corpus.build_module(lines, seed=seed)
    cached.write_text(text, encoding="utf-8")
    return text


def children_rss_mb(pid: int) -> float:
    """The resident memory of the direct children of ``pid`` (the analysis process)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if fields.get("PPid", "").strip() == str(pid) and "VmRSS" in fields:
            total += int(fields["VmRSS"].split()[0]) / 1024
    return total


async def run(lines: int, small: int, after: float, seed: int) -> None:
    text = big_module(lines, seed)
    size = len(text.encode("utf-8"))
    print(f"big document: {size / 1e6:.2f} MB, {text.count(chr(10)):,} lines")
    bench = Bench()
    await bench.start()
    pid = bench.pid
    print(f"server RSS at start: {memory_mb(pid)[0]:.0f} MB")
    big = "file:///bench/big.py"
    sent = time.perf_counter()
    # not waited for: the small ones are measured meanwhile
    bench.client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=big, language_id="python", version=1, text=text
            )
        )
    )
    await asyncio.sleep(1.0)
    latencies = []
    for number in range(small):
        uri = f"file:///bench/small_{number}.py"
        latency = await asyncio.wait_for(bench.open(uri, EXAMPLE), TIMEOUT)
        busy = (big, 1) not in bench.arrived
        latencies.append(latency)
        print(
            f"  small document {number}: {latency:7.0f} ms"
            f"{'  (the big one still being analysed)' if busy else ''}"
        )
        await asyncio.sleep(0.5)
    arrived = await bench.wait_for(big, 1)
    diagnostics = bench.published[(big, 1)]
    notices = [d.message for d in diagnostics if d.code == "not-analysed"]
    print(
        f"big document: diagnostics after {arrived - sent:.1f} s ({len(diagnostics)}"
        f"{'; ' + notices[0] if notices else ''})"
    )
    server_rss, server_peak = memory_mb(pid)
    print(
        f"with it open: server RSS {server_rss:.0f} MB (peak {server_peak:.0f} MB), "
        f"children {children_rss_mb(pid):.0f} MB"
    )
    bench.client.text_document_did_close(
        types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=big))
    )
    closed = time.perf_counter()
    while (elapsed := time.perf_counter() - closed) < after:
        await asyncio.sleep(1.0)
        print(
            f"  {elapsed + 1:.0f} s after closing it: server RSS {memory_mb(pid)[0]:.0f} MB, "
            f"children {children_rss_mb(pid):.0f} MB"
        )
    print(
        f"small documents while the big one was analysed: median {statistics.median(latencies):.0f}"
        f" ms, max {max(latencies):.0f} ms"
    )
    await bench.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=120_000, help="the big one's (~5 MB)")
    parser.add_argument("--small", type=int, default=5, help="small documents opened meanwhile")
    parser.add_argument("--after", type=float, default=5.0, help="seconds sampled after closing")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    asyncio.run(run(args.lines, args.small, args.after, args.seed))


if __name__ == "__main__":
    main()
