"""A project's own wrappers of torch's grad modes, recognised by their bodies, not their names.

- A decorator (or a decorator factory) that calls the function it is given inside a no-grad
  context (``with torch.inference_mode(): return fn(*args, **kwargs)``), hands it to one
  (``return torch.no_grad()(fn)``), or a factory that returns one (``return
  torch.inference_mode()``, used as ``@factory()``): the decorated function runs without
  gradients.
- A ``@contextmanager`` generator: the body of ``with helper(model):`` runs in the state at
  its ``yield`` (``model.eval()`` and ``torch.no_grad()`` before it), and the code after the
  ``yield`` runs when the block ends (``model.train(was_training)``).
"""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from torchmode.engine import torch_api as api
from torchmode.engine.blocks import block_statements, nested_blocks, returned_values
from torchmode.engine.names import ImportTable, literal_bool
from torchmode.engine.walk import children

CONTEXT_MANAGER_DECORATORS = frozenset(
    {"contextlib.contextmanager", "contextlib.asynccontextmanager"}
)


def turns_grad_off(fn: cst.FunctionDef, imports: ImportTable) -> bool:
    """Whether ``fn``, used as a decorator (or called to make one), runs the function it is
    given without gradients."""
    returned = returned_values(fn)
    if returned and all(v is not None and _grad_off(v, imports) for v in returned):
        # ``return torch.inference_mode()`` (``no_grad()`` where it is missing): called to
        # make a decorator, it is the grad mode's own decorator
        return True
    given = _parameters(fn)
    for node in _nodes(fn):
        if type(node) is cst.With and any(_grad_off(i.item, imports) for i in node.items):
            if any(_calls_one_of(n, given) for n in _nodes(node.body)):
                return True
        elif (
            type(node) is cst.Call
            and _grad_off(node.func, imports)
            and any(type(a.value) is cst.Name and a.value.value in given for a in node.args)
        ):
            return True  # torch.no_grad()(fn)
    return False


def is_context_manager(fn: cst.FunctionDef, imports: ImportTable) -> bool:
    for decorator in fn.decorators:
        if imports.resolve(decorator.decorator) in CONTEXT_MANAGER_DECORATORS:
            return True
    return False


def yield_statement(fn: cst.FunctionDef) -> cst.CSTNode | None:
    """The statement of ``fn``'s own body (at any depth, not in nested functions) that holds
    its first ``yield``: the state before it is the state inside a ``with fn(...):`` block."""
    for stmt in _statements(block_statements(fn.body)):
        if type(stmt) is cst.SimpleStatementLine and any(
            _holds_yield(small) for small in stmt.body
        ):
            return stmt
    return None


def _statements(stmts: list[cst.BaseStatement]) -> Iterator[cst.BaseStatement]:
    for stmt in stmts:
        yield stmt
        if type(stmt) is not cst.FunctionDef and type(stmt) is not cst.ClassDef:
            yield from _statements(list(nested_blocks(stmt)))


def _holds_yield(small: cst.BaseSmallStatement) -> bool:
    value: cst.BaseExpression | None = None
    if type(small) is cst.Expr or type(small) is cst.Assign or type(small) is cst.AnnAssign:
        value = small.value
    return type(value) is cst.Yield


def _grad_off(expr: cst.BaseExpression, imports: ImportTable) -> bool:
    """``torch.no_grad()``, ``torch.inference_mode()`` (not ``(False)``),
    ``torch.set_grad_enabled(False)``."""
    if type(expr) is not cst.Call:
        return False
    name = imports.resolve(expr.func)
    if name in api.NO_GRAD:
        return not (
            name in api.INFERENCE_MODE and expr.args and literal_bool(expr.args[0].value) is False
        )
    if name in api.SET_GRAD_ENABLED and expr.args:
        return literal_bool(expr.args[0].value) is False
    return False


def _parameters(fn: cst.FunctionDef) -> set[str]:
    """The parameters of ``fn`` and of the functions nested in it: the function a decorator
    factory is given is a parameter of the decorator it returns."""
    names: set[str] = set()
    for node in _nodes(fn):
        if type(node) is cst.FunctionDef:
            params = node.params
            for p in (*params.posonly_params, *params.params, *params.kwonly_params):
                names.add(p.name.value)
    return names - {"self", "cls"}


def _calls_one_of(node: cst.CSTNode, names: set[str]) -> bool:
    return type(node) is cst.Call and type(node.func) is cst.Name and node.func.value in names


def _nodes(root: cst.CSTNode) -> Iterator[cst.CSTNode]:
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(children(node))
