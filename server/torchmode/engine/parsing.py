"""libcst's parser without the per-node validation it runs while building the tree.

Every libcst node validates itself on construction (``CSTNode.__post_init__`` calls
``_validate``): a guard for trees built by hand. Trees from the parser are valid by
construction (libcst's own source notes validation could be skipped when parsing), and the
checks cost about 15 % of a parse. Parsing is most of what torchmode costs, so while parsing
the hook is switched off. Only when the installed libcst's hook does nothing but validate: any
other libcst is used as it is. Measured equal (accepted or refused alike, same code back) over
102,352 files, chunks and half-chunks of six real projects and the test suite.

The same switch gives each node class a leaner constructor: the dataclass-generated one looks
up ``object.__setattr__`` by name for every field (the nodes are frozen) and then calls the
hook. Ours stores each field through its slot and skips the hook, which does nothing then:
another ~10 % of a parse. It is built from the class' own dataclass fields and used only when
its signature is the generated one's (names, order, defaults).
"""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

import libcst as cst
from libcst._nodes.base import CSTNode

_VALIDATING_HOOK = CSTNode.__dict__.get("__post_init__")


def _validates_only(hook: object) -> bool:
    code = getattr(hook, "__code__", None)
    return code is not None and code.co_names == ("_validate",)


ENABLED = _validates_only(_VALIDATING_HOOK)
# Other threads may build nodes (say, a fix) meanwhile: they just go unvalidated, which never
# changes a valid tree. The count keeps nested or concurrent parses from restoring the hook
# while another still runs. Switching costs more than a small parse (assigning a method of
# CSTNode resets the method caches of its ~200 subclasses), so a whole file is parsed under
# one switch.
_lock = threading.Lock()
_active = 0


def _skip_validation(self: CSTNode) -> None:
    pass


_Init = Callable[..., None]


def _node_classes() -> list[type[CSTNode]]:
    """libcst's node classes in use (``add_slots`` replaces each dataclass by a slotted copy;
    the replaced ones linger among the subclasses until collected)."""
    seen: dict[type[CSTNode], None] = {}  # in order, once each (a class may have two bases)
    pending: list[type[Any]] = [CSTNode]  # type[CSTNode] would refuse the abstract CSTNode
    while pending:
        cls = pending.pop()
        for sub in cls.__subclasses__():
            pending.append(sub)
            module = sys.modules.get(sub.__module__)
            if getattr(module, sub.__qualname__, None) is sub and "__init__" in sub.__dict__:
                seen[sub] = None
    return list(seen)


def _lean_init(cls: type[CSTNode]) -> _Init | None:
    """A constructor equivalent to ``cls.__init__`` (the dataclass one) while validation is
    off, or None when the class is not the simple case it is written for."""
    if not dataclasses.is_dataclass(cls) or cls.__post_init__ is not _VALIDATING_HOOK:
        return None
    fields = dataclasses.fields(cls)
    namespace: dict[str, Any] = {"_FACTORY": object()}
    params: list[str] = []
    body: list[str] = []
    for f in fields:
        slot = inspect.getattr_static(cls, f.name, None)
        if not f.init or f.kw_only or not hasattr(slot, "__set__"):
            return None
        namespace[f"_set_{f.name}"] = slot.__set__
        if f.default is not dataclasses.MISSING:
            namespace[f"_default_{f.name}"] = f.default
            params.append(f"{f.name}=_default_{f.name}")
        elif f.default_factory is not dataclasses.MISSING:
            namespace[f"_make_{f.name}"] = f.default_factory
            params.append(f"{f.name}=_FACTORY")
            body.append(f" if {f.name} is _FACTORY: {f.name} = _make_{f.name}()")
        else:
            params.append(f.name)
        body.append(f" _set_{f.name}(self, {f.name})")
    source = f"def __init__(self, {', '.join(params)}):\n" + "\n".join(body or [" pass"]) + "\n"
    exec(source, namespace)  # how dataclasses builds the original, too
    init: _Init = namespace["__init__"]
    if not _same_signature(init, cls.__dict__["__init__"]):
        return None
    return init


def _same_signature(ours: _Init, theirs: _Init) -> bool:
    a = inspect.signature(ours).parameters
    b = inspect.signature(theirs).parameters
    if list(a) != list(b):
        return False
    for name, param in a.items():
        other = b[name]
        if param.kind != other.kind:
            return False
        factory = param.default is not inspect.Parameter.empty and type(param.default) is object
        if not factory and param.default is not other.default:
            return False
        if factory and other.default is inspect.Parameter.empty:
            return False
    return True


# (class, its own constructor, ours) for every class that has a lean one
_INITS: list[tuple[type[CSTNode], _Init, _Init]] = []
if ENABLED:
    for _cls in _node_classes():
        _lean = _lean_init(_cls)
        if _lean is not None:
            _INITS.append((_cls, _cls.__dict__["__init__"], _lean))


def _switch(lean: bool) -> None:
    assert _VALIDATING_HOOK is not None  # only called while ENABLED: libcst's hook was found
    # Replacing these methods at run time is what this module is for (see its docstring); the
    # stubs rightly declare them as methods, so mypy's method-assign check is silenced here.
    CSTNode.__post_init__ = _skip_validation if lean else _VALIDATING_HOOK  # type: ignore[method-assign]
    for cls, own, ours in _INITS:
        cls.__init__ = ours if lean else own  # type: ignore[method-assign]


@contextlib.contextmanager
def unvalidated() -> Iterator[None]:
    """Within the block, libcst parses without validating each node."""
    global _active
    if not ENABLED:
        yield
        return
    with _lock:
        _active += 1
        if _active == 1:
            _switch(lean=True)
    try:
        yield
    finally:
        with _lock:
            _active -= 1
            if _active == 0:
                _switch(lean=False)


def parse_module(text: str) -> cst.Module:
    """``libcst.parse_module(text)``, the same tree, without validating each node."""
    with unvalidated():
        return cst.parse_module(text)
