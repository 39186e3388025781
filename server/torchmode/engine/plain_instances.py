"""Names that a function binds only to instances of a plain class of its file.

Facts are kept per name for the whole file: ``model`` is a module when any function assigns
one to it. A function of the same file may give its own local ``model`` something else, such
as a wrapper running an exported network with onnxruntime (``model = OnnxRunner(path)``, with
``eval()`` a no-op and ``__call__`` feeding numpy arrays to a session). Calling that records no
autograd graph and has no mode, so within that function the name is not a module.
"""

from __future__ import annotations

import libcst as cst

from torchmode.engine.blocks import block_statements, nested_blocks
from torchmode.engine.facts import ClassInfo, Facts, FunctionInfo

_PLAIN_BASES: tuple[list[str], ...] = ([], ["object"])


def holds_plain_instance(facts: Facts, info: FunctionInfo, name: str) -> bool:
    """Every statement of the function (not of functions defined in it) that binds ``name``
    assigns it a new instance of a class of this file with no base class; at least one does."""
    found = False
    stack = list(block_statements(info.node.body))
    while stack:
        stmt = stack.pop()
        if isinstance(stmt, cst.FunctionDef | cst.ClassDef):
            continue
        if not isinstance(stmt, cst.SimpleStatementLine):
            if _binds_in_header(stmt, name):
                return False  # ``for model in ...``, ``with ... as model``
            stack.extend(nested_blocks(stmt))
            continue
        for small in stmt.body:
            verdict = _assigns_plain(facts, small, name)
            if verdict is False:
                return False
            found = found or verdict is True
    return found


def _assigns_plain(facts: Facts, small: cst.BaseSmallStatement, name: str) -> bool | None:
    """True: ``name = PlainClass(...)``; False: binds ``name`` otherwise; None: does not bind
    it."""
    if isinstance(small, cst.Assign):
        bound = [t.target for t in small.targets if _binds(t.target, name)]
        if not bound:
            return None
        if any(not isinstance(t, cst.Name) for t in bound):
            return False  # unpacked from a tuple: what it gets is not known
        return _is_plain_construction(facts, small.value)
    if isinstance(small, cst.AnnAssign | cst.AugAssign) and _binds(small.target, name):
        return False
    return None


def _is_plain_construction(facts: Facts, value: cst.BaseExpression) -> bool:
    if not isinstance(value, cst.Call) or not isinstance(value.func, cst.Name):
        return False
    cls = facts.classes.get(value.func.value)
    return cls is not None and cls.bases in _PLAIN_BASES and not _builds_modules(facts, cls)


def _builds_modules(facts: Facts, cls: ClassInfo) -> bool:
    """The class builds networks in its methods (a GAN wrapper owning its generators): its
    instance drives them, so it is no stand-in for an exported network."""
    for layer in cls.layers:
        local = facts.classes.get(layer)
        if local is None or local.bases not in _PLAIN_BASES:
            return True
    return False


def _binds(target: cst.BaseExpression, name: str) -> bool:
    if isinstance(target, cst.Name):
        return target.value == name
    if isinstance(target, cst.Tuple | cst.List):
        return any(_binds(e.value, name) for e in target.elements)
    if isinstance(target, cst.StarredElement):
        return _binds(target.value, name)
    return False


def _binds_in_header(stmt: cst.CSTNode, name: str) -> bool:
    if isinstance(stmt, cst.For):
        return _binds(stmt.target, name)
    if isinstance(stmt, cst.With):
        return any(
            item.asname is not None and _binds(item.asname.name, name) for item in stmt.items
        )
    return False
