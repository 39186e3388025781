"""Documents beyond the few most recently analysed keep only their findings (lsp/memory.py):
they must still answer hovers and quick fixes, by being analysed again."""

from __future__ import annotations

from pathlib import Path

from torchmode.lsp.memory import HOT_DOCUMENTS


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
