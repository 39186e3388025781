"""A finished analysis can break its own reference cycles (the CLI does, file by file), so
that reference counting frees it without the cyclic garbage collector."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest
from torchmode.analysis import analyze
from torchmode.analysis.driver import Analysis, release
from torchmode.engine.chunks import ChunkCache

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted((ROOT / "tests" / "corpus").rglob("*.py")) + sorted((ROOT / "examples").glob("*.py"))


@pytest.fixture
def no_collector() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _cyclic_garbage_after(text: str, *, released: bool) -> int:
    cache = ChunkCache()
    analysis = analyze(text, cache=cache)
    _read(analysis)
    if released:
        release(analysis, cache)
    del analysis, cache
    return gc.collect()


def _read(analysis: Analysis) -> None:
    """What the CLI reads of the findings before it releases the analysis."""
    for finding in analysis.findings:
        assert finding.message
        if finding.fix_preview is not None:
            finding.fix_preview()


@pytest.mark.usefixtures("no_collector")
@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_a_released_analysis_leaves_no_cycles(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    # a small closure or two may remain; a file's trees and flows are tens of thousands
    assert _cyclic_garbage_after(text, released=True) < 100


@pytest.mark.usefixtures("no_collector")
def test_without_release_the_analysis_is_one_web_of_cycles() -> None:
    # the test above would pass vacuously if analyses were acyclic anyway
    text = (ROOT / "examples" / "train_sst.py").read_text(encoding="utf-8")
    assert _cyclic_garbage_after(text, released=False) > 1000
