"""Files that import an edited one (issue 19): how soon they show the change, and whether
their analyses slow down typing in the edited file (not a test).

In a temporary workspace: ``big.py``, a generated training module of ``--lines`` lines ending
with ``validate(model, loader)``, which leaves the model in eval mode, and ``--dependents``
small files whose training loops call it (each a TM101). The server runs over stdio with
VS Code's push model and ``debounceMs`` 0.

1. Typing in ``big.py``: one character per keystroke, each followed by a pause of
   ``--pause`` ms (longer than the dependents' lag, so that their analyses run, or are
   running, when the next keystroke comes); ``didChange`` -> ``big.py``'s diagnostics for
   that version, with the dependents open and then closed.
2. ``model.train()`` typed at the end of ``validate`` (not saved): ``didChange`` -> the last
   dependent's diagnostics without the TM101; then deleted again: -> the TM101 back.

    python bench/lsp_dependents.py [--lines 5000] [--dependents 3] [--edits 15] [--pause 400]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lsp_latency import module

VALIDATE = """\
def validate(model, loader):
    model.eval()
    with torch.no_grad():
        for x in loader:
            model(x)
"""

DEPENDENT = """\
import torch
import torch.nn as nn

from big import validate


def fit_{n}(train_loader, val_loader):
    model = nn.Sequential(nn.Linear(8, 16), nn.Dropout(0.3), nn.Linear(16, 2))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for epoch in range(10):
        for x, y in train_loader:
            opt.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
        validate(model, val_loader)
"""


class Client:
    def __init__(self) -> None:
        self.client = LanguageClient("bench", "0")
        self.arrivals: list[tuple[float, str, int | None, list[str]]] = []
        self.versions: dict[str, int] = {}

        @self.client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def published(params: types.PublishDiagnosticsParams) -> None:
            codes = [str(d.code) for d in params.diagnostics]
            self.arrivals.append((time.perf_counter(), params.uri, params.version, codes))

    async def start(self, root: Path) -> None:
        await self.client.start_io(sys.executable, "-m", "torchmode.lsp")
        await self.client.initialize_async(
            types.InitializeParams(
                capabilities=types.ClientCapabilities(),
                root_uri=root.as_uri(),
                workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name="bench")],
                initialization_options={"settings": {"debounceMs": 0}},
            )
        )
        self.client.initialized(types.InitializedParams())

    async def stop(self) -> None:
        await self.client.shutdown_async(None)
        self.client.exit(None)
        await self.client.stop()

    def open(self, uri: str, text: str) -> int:
        self.versions[uri] = 1
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=uri, language_id="python", version=1, text=text
                )
            )
        )
        return len(self.arrivals)

    def close(self, uri: str) -> None:
        self.client.text_document_did_close(
            types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
        )

    def change(
        self, uri: str, line: int, character: int, old: int, new: str, whole_line: bool = False
    ) -> float:
        """Replace ``old`` characters at (line, character) by ``new`` (or the whole line, its
        end included); when it was sent."""
        end = (
            types.Position(line=line + 1, character=0)
            if whole_line
            else types.Position(line=line, character=character + old)
        )
        self.versions[uri] += 1
        sent = time.perf_counter()
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(
                    uri=uri, version=self.versions[uri]
                ),
                content_changes=[
                    types.TextDocumentContentChangePartial(
                        range=types.Range(
                            start=types.Position(line=line, character=character), end=end
                        ),
                        text=new,
                    )
                ],
            )
        )
        return sent

    async def arrival(
        self,
        uri: str,
        since: int,
        version: int | None = None,
        code: str | None = None,
        present: bool = True,
    ) -> float:
        while True:
            for at, where, got, codes in self.arrivals[since:]:
                if where != uri or (version is not None and got != version):
                    continue
                if code is None or (code in codes) == present:
                    return at
            await asyncio.sleep(0.0005)


async def typing(client: Client, big: str, text: str, edits: int, pause: float) -> list[float]:
    line = (
        text.splitlines().index(
            "def train_3(model, optimizer, criterion, loader, dev_loader, epochs):"
        )
        + 1
    )
    times = []
    for i in range(edits):
        since = len(client.arrivals)
        sent = client.change(big, line, 4 + i, 0, "x")
        arrived = await client.arrival(big, since, client.versions[big])
        times.append(arrived - sent)
        await asyncio.sleep(pause)
    # back to the text as opened, for the next round
    client.change(big, line, 4, edits, "")
    await client.arrival(big, len(client.arrivals) - 1, client.versions[big])
    return times


async def measure(lines: int, dependents: int, edits: int, pause_ms: int) -> None:
    text = module(lines) + VALIDATE
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        (root / "big.py").write_text(text)
        uris = []
        for n in range(dependents):
            path = root / f"train_{n}.py"
            path.write_text(DEPENDENT.format(n=n))
            uris.append(path.as_uri())
        big = (root / "big.py").as_uri()
        client = Client()
        await client.start(root)
        since = client.open(big, text)
        await client.arrival(big, since, 1)
        for uri in uris:
            since = client.open(uri, DEPENDENT.format(n=uris.index(uri)))
            await client.arrival(uri, since, 1, "TM101")
        with_dependents = await typing(client, big, text, edits, pause_ms / 1000)

        # 2. the fix typed in big.py reaches the dependents
        lines_of = text.splitlines()
        end = len(lines_of)  # validate's last line is the file's last
        since = len(client.arrivals)
        sent = client.change(big, end, 0, 0, "    model.train()\n")
        cleared = await client.arrival(uris[-1], since, 1, "TM101", present=False)
        since = len(client.arrivals)
        undone = client.change(big, end, 0, 0, "", whole_line=True)
        back = await client.arrival(uris[-1], since, 1, "TM101")

        for uri in uris:
            client.close(uri)
        await asyncio.sleep(1.0)
        alone = await typing(client, big, text, edits, pause_ms / 1000)
        await client.stop()

    def describe(times: list[float]) -> str:
        ms = [t * 1000 for t in times]
        each = " ".join(f"{m:.0f}" for m in ms)
        return f"median {statistics.median(ms):.0f} ms, max {max(ms):.0f} ms ({each})"

    print(f"big.py: {text.count(chr(10))} lines; {dependents} open files import it")
    print(f"typing in big.py, {dependents} dependents open: {describe(with_dependents)}")
    print(f"typing in big.py, none open:          {describe(alone)}")
    print(f"fix typed in big.py -> dependent's TM101 gone: {1000 * (cleared - sent):.0f} ms")
    print(f"fix deleted         -> dependent's TM101 back: {1000 * (back - undone):.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=5000)
    parser.add_argument("--dependents", type=int, default=3)
    parser.add_argument("--edits", type=int, default=15)
    parser.add_argument("--pause", type=int, default=400, help="ms between keystrokes")
    args = parser.parse_args()
    asyncio.run(measure(args.lines, args.dependents, args.edits, args.pause))


if __name__ == "__main__":
    main()
