"""Random incremental edits: after each burst the server's diagnostics are exactly those of
a fresh analysis of the text the test holds (so incremental sync, position conversion and
stale-result dropping all agree), and nothing published ever points outside its version."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from lsprotocol import types
from torchmode.analysis import analyze

JUNK = ["模型", "😀", "👍🏽", "é", "\t", "x", "#", "'", '"', "\\", "\U0001f9ea"]
RESTORE = "            model.train()\n"
EVAL_BLOCK_END = 'print(f"epoch {epoch} dev accuracy {correct}")'


def units(text: str, encoding: str) -> int:
    codec, width = {"utf-8": ("utf-8", 1), "utf-16": ("utf-16-le", 2)}[encoding]
    return len(text.encode(codec)) // width


def expected(text: str, encoding: str) -> list[tuple[str, int, int, int, int]]:
    lines = text.split("\n")
    out = []
    for finding in analyze(text).findings:
        r = finding.range
        out.append(
            (
                finding.code,
                r.start.line,
                units(lines[r.start.line][: r.start.character], encoding),
                r.end.line,
                units(lines[r.end.line][: r.end.character], encoding),
            )
        )
    return sorted(out)


def seen(diagnostics: list[types.Diagnostic]) -> list[tuple[str, int, int, int, int]]:
    return sorted(
        (
            str(d.code),
            d.range.start.line,
            d.range.start.character,
            d.range.end.line,
            d.range.end.character,
        )
        for d in diagnostics
    )


def random_edit(rng: random.Random, text: str) -> tuple[int, int, str]:
    """An edit that keeps the program valid: comments, blank lines, or toggling the fix."""
    lines = text.split("\n")
    starts = [0]
    for line in lines[:-1]:
        starts.append(starts[-1] + len(line) + 1)
    kind = rng.random()
    if kind < 0.15:
        if RESTORE in text:
            i = text.index(RESTORE)
            return i, i + len(RESTORE), ""
        i = text.index("\n", text.index(EVAL_BLOCK_END)) + 1
        return i, i, RESTORE
    comments = [
        (starts[n] + lines[n].index("  # ~"), starts[n] + len(lines[n]))
        for n in range(len(lines))
        if "  # ~" in lines[n]
    ]
    if kind < 0.35 and comments:
        start, end = rng.choice(comments)
        return start, end, ""
    n = rng.randrange(len(lines) - 1)
    if kind < 0.5:
        return starts[n], starts[n], "\n" if rng.random() < 0.5 else "# ~ 模型 😀\n"
    junk = "".join(rng.choice(JUNK) for _ in range(rng.randint(1, 6)))
    end = starts[n] + len(lines[n])
    return end, end, f"  # ~{junk}"


@pytest.mark.parametrize(
    ("client", "debounce"), [("visual-studio-code", 0), ("visual-studio-code", 20), ("neovim", 0)]
)
async def test_random_edits_agree_with_fresh_analysis(
    starter, tmp_path: Path, example_text: str, client: str, debounce: int
) -> None:
    rng = random.Random(1234 + debounce + len(client))
    session = await starter(client, settings={"debounceMs": debounce})
    uri = (tmp_path / "train_sst.py").as_uri()
    session.open(uri, example_text)
    history = {1: example_text}
    for burst in range(6):
        for _ in range(rng.randint(1, 12)):
            start, end, new = random_edit(rng, session.texts[uri])
            session.replace(uri, start, end, new)
            history[session.versions[uri]] = session.texts[uri]
        text = session.texts[uri]
        compile(text, "edited.py", "exec")
        assert seen(await session.diagnostics(uri)) == expected(text, session.encoding), burst
    published = [p for p in session.client.published if p.uri == uri]
    assert [p.version for p in published] == sorted(p.version for p in published)
    for params in published:
        lines = history[params.version].split("\n")
        for d in params.diagnostics:
            assert d.range.end.line < len(lines)
            assert d.range.end.character <= units(lines[d.range.end.line], session.encoding)
