"""engine/walk.children: libcst's children, without punctuation, in source order."""

from __future__ import annotations

import libcst as cst
from torchmode.engine.walk import _PUNCTUATION, children

_EVERY_KIND = """
import a.b as c
from .x import (y as z, w)
@dec(1)
async def f[T](a: int = 1, /, b=2, *args: T, c, d=3, **kw) -> int:
    global g
    async with x as (p, q), r:
        async for i in range(3):
            await z(i)
    match cmd:
        case [1, *rest] if rest: pass
        case {"k": v, **others}: pass
        case Point(x=0, y=yy) | None as pt: pass
    try:
        pass
    except* (ValueError, TypeError) as e:
        raise X from e
    finally:
        del a[1:2:3], b
    try:
        pass
    except KeyError as e:
        pass
    x: list[int] = [i for i in y if i if not i]
    d = {k: v for k, v in items}
    lam = lambda a, *b, c=1: (yield a)
    print(f"{x!r:>{w}} {y=}", *a, key=k, **k)
    assert x, "m"
    while (n := 1) < 2: break
    return x if y else z
class C[T](B, metaclass=M):
    type X[U] = list[U]
    x += -1 if a and b else ~2
"""


def _nodes(module: cst.Module) -> list[cst.CSTNode]:
    out: list[cst.CSTNode] = []
    stack: list[cst.CSTNode] = [module]
    while stack:
        node = stack.pop()
        out.append(node)
        stack.extend(node.children)
    return out


def test_children_are_libcsts_in_source_order_without_punctuation() -> None:
    differ = []
    for node in _nodes(cst.parse_module(_EVERY_KIND)):
        expected = [child for child in node.children if type(child) not in _PUNCTUATION]
        if [id(c) for c in children(node)] != [id(c) for c in expected]:
            differ.append(type(node).__name__)
    assert differ == []
