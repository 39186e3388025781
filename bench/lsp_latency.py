"""Time from ``didChange`` to ``publishDiagnostics`` on a 1,000-line file (not a test).

Starts ``python -m torchmode.lsp`` over stdio with ``debounceMs = 0``, opens a generated
1,000-line training module, then types one character at a time into one function and times
each round trip until the diagnostics for that version arrive. The floor is the engine's own
``analyze`` of the same edited texts in this process (same cache behaviour: one function
changes per keystroke); the ratio is what the server adds (JSON-RPC, sync, threads).

    python bench/lsp_latency.py [--lines 1000] [--edits 20]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time

from lsprotocol import types
from pygls.lsp.client import LanguageClient
from torchmode.analysis import analyze

FUNCTION = """\
def train_{n}(model, optimizer, criterion, loader, dev_loader, epochs):
    model.train()
    for epoch in range(epochs):
        for step, (x, y) in enumerate(loader):
            optimizer.zero_grad()
            loss = criterion(model(x), y)
            loss.backward()
            optimizer.step()
            model.eval()
            if step % 100 == 0:
                with torch.no_grad():
                    for xd, yd in dev_loader:
                        model(xd)


"""


def module(lines: int) -> str:
    parts = ["import torch\nimport torch.nn as nn\n\n\n"]
    n = 0
    while sum(p.count("\n") for p in parts) < lines:
        parts.append(FUNCTION.format(n=n))
        n += 1
    return "".join(parts)


async def measure(lines: int, edits: int) -> None:
    text = module(lines)
    client = LanguageClient("bench", "0")
    arrived: dict[int, float] = {}
    counts: dict[int, int] = {}

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def published(params: types.PublishDiagnosticsParams) -> None:
        if params.version is not None:
            arrived[params.version] = time.perf_counter()
            counts[params.version] = len(params.diagnostics)

    await client.start_io(sys.executable, "-m", "torchmode.lsp")
    await client.initialize_async(
        types.InitializeParams(
            capabilities=types.ClientCapabilities(),
            initialization_options={"settings": {"debounceMs": 0}},
        )
    )
    client.initialized(types.InitializedParams())
    uri = "file:///bench/train_many.py"
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id="python", version=1, text=text
            )
        )
    )
    while 1 not in arrived:
        await asyncio.sleep(0.001)

    # Type a comment into the middle function, one character per version.
    line = (
        text.splitlines().index(
            f"def train_{lines // 30}(model, optimizer, criterion, loader, dev_loader, epochs):"
        )
        + 1
    )
    server_times: list[float] = []
    texts: list[str] = []
    current = text
    for i in range(edits):
        version = i + 2
        character = 4 + i
        index = sum(len(x) + 1 for x in current.split("\n")[:line]) + character
        current = current[:index] + "x" + current[index:]
        texts.append(current)
        sent = time.perf_counter()
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[
                    types.TextDocumentContentChangePartial(
                        range=types.Range(
                            start=types.Position(line=line, character=character),
                            end=types.Position(line=line, character=character),
                        ),
                        text="x",
                    )
                ],
            )
        )
        while version not in arrived:
            await asyncio.sleep(0.0005)
        server_times.append(arrived[version] - sent)
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()

    analyze(text)  # warm the engine's cache as the server's was by didOpen
    floor: list[float] = []
    for edited in texts:
        start = time.perf_counter()
        analyze(edited)
        floor.append(time.perf_counter() - start)

    server_ms = statistics.median(server_times) * 1000
    floor_ms = statistics.median(floor) * 1000
    print(f"{text.count(chr(10))} lines, {counts[edits + 1]} diagnostics, {edits} keystrokes")
    worst_ms = max(server_times) * 1000
    print(f"didChange -> publishDiagnostics: median {server_ms:.1f} ms, max {worst_ms:.1f} ms")
    print(f"engine analyze (floor):          median {floor_ms:.1f} ms")
    print(f"ratio server / floor:            {server_ms / floor_ms:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1000)
    parser.add_argument("--edits", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(measure(args.lines, args.edits))


if __name__ == "__main__":
    main()
