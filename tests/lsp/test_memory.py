"""Documents beyond the few most recently analysed keep only their findings (analysis/memory.py):
they must still answer hovers and quick fixes, by being analysed again."""

from __future__ import annotations

from pathlib import Path

from torchmode.analysis.memory import HOT_DOCUMENTS


async def test_a_document_gone_slim_still_hovers_and_fixes(
    session, tmp_path: Path, example_text: str
) -> None:
    uris = [(tmp_path / f"train_{i}.py").as_uri() for i in range(HOT_DOCUMENTS + 2)]
    for uri in uris:
        session.open(uri, example_text)
        assert [d.code for d in await session.diagnostics(uri)] == ["TM101"]
    first = uris[0]  # analysed first: slim by now
    hover = await session.hover(first, session.find(first, "model.eval()", delta=len("model.e")))
    assert hover is not None and "eval" in hover
    (diagnostic,) = await session.diagnostics(first)
    fixed = await session.fix(first, diagnostic)
    assert fixed.count("model.train()") > example_text.count("model.train()")
    # the others were slimmed in turn and still have their findings and fixes
    (diagnostic,) = await session.diagnostics(uris[1])
    assert diagnostic.code == "TM101"
    assert (await session.fix(uris[1], diagnostic)).count("model.train()") > example_text.count(
        "model.train()"
    )


async def test_slimmed_documents_are_freed_without_a_collection(example_text: str) -> None:
    """A slimmed document's analysis and cache are released in the worker (their cycles
    broken) instead of waiting for a full collection, which took 1-2 s with many documents
    open and stalled the next analysis."""
    from torchmode.analysis import analyze
    from torchmode.lsp.positions import LineIndex
    from torchmode.lsp.results import next_result
    from torchmode.lsp.server import TorchmodeServer
    from torchmode.lsp.targets import TextTarget
    from torchmode.settings import DEFAULT_SETTINGS

    ls = TorchmodeServer()
    keys = [f"file:///train_{i}.py" for i in range(HOT_DOCUMENTS + 2)]
    analyses = []
    for key in keys:
        analysis = analyze(example_text, cache=ls.session.document_cache(key))
        analyses.append(analysis)
        target = TextTarget(key, 1, example_text, LineIndex(example_text))
        ls.results[key] = next_result(None, target, DEFAULT_SETTINGS, analysis)
        ls.keep_memory_bounded()
    await ls.scheduler.in_worker(lambda: None)  # the releases queued before it are done
    cold, hot = keys[:2], keys[2:]
    assert all(ls.results[key].slim for key in cold)
    assert [d.code for d in ls.results[cold[0]].shown] == ["TM101"]  # findings kept
    assert [a.context is None for a in analyses] == [key in cold for key in keys]
    assert not ls.session.collection_overdue and not ls.session.collection_worth_it
    assert all(not ls.results[key].slim and ls.results[key].analysis.context for key in hot)
    ls.scheduler.shutdown()
