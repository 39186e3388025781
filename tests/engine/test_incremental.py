"""Incremental analysis (parsed chunks, facts records and function analyses reused from earlier
analyses) must give exactly what an analysis from scratch gives, after any sequence of edits."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torchmode.engine import analyze
from torchmode.engine.chunks import ChunkCache
from torchmode.findings import Finding

CORPUS = Path(__file__).parent.parent / "corpus"
FILES = sorted((CORPUS / "valid").glob("*.py")) + sorted((CORPUS / "invalid").glob("*.py"))
SNIPPETS = [
    "model.eval()",
    "model.train()",
    "optimizer.zero_grad()",
    "loss.backward()",
    "optimizer.step()",
    "with torch.no_grad():",
    "total_loss += loss",
    "validate(model, val_loader)",
    "pass",
]


def summary(findings: list[Finding]) -> list[tuple[object, ...]]:
    return [
        (
            f.code,
            f.range,
            f.message,
            f.severity,
            tuple((r.range, r.message) for r in f.related),
            tuple((fix.title, fix.edits) for fix in f.fixes),
        )
        for f in findings
    ]


def edit(source: str, line: int, action: int, snippet: str) -> str:
    lines = source.splitlines(keepends=True)
    if not lines:
        return snippet + "\n"
    line %= len(lines)
    current = lines[line]
    indent = current[: len(current) - len(current.lstrip())]
    if action == 0:
        del lines[line]
    elif action == 1:
        lines.insert(line, indent + snippet + "\n")
    elif action == 2:
        lines.insert(line, current)
    else:
        lines[line] = current.rstrip("\n") + "  # edited\n"
    return "".join(lines)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    index=st.integers(min_value=0, max_value=len(FILES) - 1),
    edits=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=400),
            st.integers(min_value=0, max_value=3),
            st.sampled_from(SNIPPETS),
        ),
        min_size=1,
        max_size=6,
    ),
)
def test_incremental_equals_from_scratch(index: int, edits: list[tuple[int, int, str]]) -> None:
    source = FILES[index].read_text()
    cache = ChunkCache()
    analyze(source, cache=cache)
    for line, action, snippet in edits:
        source = edit(source, line, action, snippet)
        incremental = analyze(source, cache=cache)
        fresh = analyze(source, cache=ChunkCache())
        assert incremental.syntax_error == fresh.syntax_error
        assert summary(incremental.findings) == summary(fresh.findings)


def test_reanalysis_reuses_unchanged_functions() -> None:
    source = (CORPUS / "invalid" / "i03_validate_function_every_n_steps.py").read_text()
    cache = ChunkCache()
    first = analyze(source, cache=cache)
    # a comment at the top changes the first chunk only: every function is reused, even though
    # all of them moved down a line
    second = analyze("# a comment at the top\n" + source, cache=cache)
    assert first.context is not None and second.context is not None
    reused = [
        flow
        for flow in second.context.flow.flows.values()
        if any(flow is old for old in first.context.flow.flows.values())
    ]
    assert reused and len(reused) == len(second.context.flow.flows)
    moved = [(f.code, f.range.start.line) for f in second.findings]
    assert moved == [(f.code, f.range.start.line + 1) for f in first.findings]


def test_evicted_chunks_take_their_side_caches_with_them() -> None:
    """A parsed chunk evicted from a bounded cache must not stay alive through the facts
    records, function analyses or positions kept about it (gaps/hardening.md#23)."""
    cache = ChunkCache(capacity=4)
    for i in range(40):
        text = (
            f"def train_{i}(model, optimizer, loader):\n"
            "    for batch in loader:\n"
            "        loss = model(batch)\n"
            "        loss.backward()\n"
            "        optimizer.step()\n"
            "    model.eval()\n"
        )
        analyze(text, cache=cache)
    assert len(cache.records) <= 4
    assert len(cache.flows) <= 4
