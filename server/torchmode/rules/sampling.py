"""Whether a forward pass samples a generative model from random noise.

``generator(fixed_z)`` between epochs of a GAN's training, with ``fixed_z = torch.randn(64, nz)``
drawn once: many GANs are only ever run in train mode, and their samples are drawn the way
they are trained (BatchNorm normalising the batch of samples itself). Such a forward in train
mode is a choice as often as a mistake, unlike a classifier scored in train mode.
"""

from __future__ import annotations

from typing import cast

import libcst as cst

from torchmode.engine import events as ev
from torchmode.engine.chunks import Chunk
from torchmode.engine.context import RuleContext
from torchmode.engine.walk import children

# calls whose result is random noise
_DRAWS = frozenset(
    f"torch.{name}"
    for name in ("randn", "rand", "randn_like", "rand_like", "normal", "randint", "bernoulli")
)
# in-place fills with noise (``torch.FloatTensor(n, nz).normal_(0, 1)``)
_FILLS = frozenset({"normal_", "uniform_", "random_", "bernoulli_", "exponential_"})
# methods that keep their receiver's values (and so its randomness)
_KEEPS = frozenset(
    {
        "to", "cuda", "cpu", "float", "half", "double", "type", "type_as", "view", "reshape",
        "unsqueeze", "squeeze", "expand", "repeat", "detach", "requires_grad_", "contiguous",
    }
)  # fmt: skip
# constructors whose only positional argument gives the values (``Variable(z)``,
# ``torch.FloatTensor(np.random.normal(0, 1, (n, d)))``)
_WRAPS = frozenset(
    {
        "torch.autograd.Variable", "torch.FloatTensor", "torch.cuda.FloatTensor", "torch.Tensor",
        "torch.tensor", "torch.from_numpy", "torch.as_tensor",
    }
)  # fmt: skip


def samples_noise(ctx: RuleContext, event: ev.Forward) -> bool:
    """Whether every input of the forward ``event`` is random noise drawn by the code (directly
    or through names assigned only such draws, in its function or at module level)."""
    call = event.node
    if not isinstance(call, cst.Call) or not any(arg.keyword is None for arg in call.args):
        return False
    scope = event.site.info.node if event.site.info is not None else None
    assigned = _Assignments(ctx, scope)
    return all(
        assigned.noise(arg.value, frozenset())
        or (arg.keyword is not None and isinstance(arg.value, cst.Name | cst.Integer))
        for arg in call.args
    )


class _Assignments:
    """The values assigned to plain names in one function and at module level."""

    def __init__(self, ctx: RuleContext, scope: cst.FunctionDef | None) -> None:
        self.ctx = ctx
        self.values: dict[str, list[cst.BaseExpression]] = {
            name: list(values) for name, values in _module_assignments(ctx).items()
        }
        if scope is not None:
            _collect(scope.body, self.values)

    def noise(self, node: cst.BaseExpression, resolving: frozenset[str]) -> bool:
        if isinstance(node, cst.Name):
            values = self.values.get(node.value)
            if not values or node.value in resolving:
                return False
            inner = resolving | {node.value}
            return all(self.noise(value, inner) for value in values)
        if not isinstance(node, cst.Call):
            return False
        func = node.func
        if isinstance(func, cst.Attribute):
            if func.attr.value in _FILLS:
                return True
            if func.attr.value in _KEEPS:
                return self.noise(func.value, resolving)
        qualified = self.ctx.facts.imports.resolve(func)
        if qualified in _DRAWS or (qualified or "").startswith("numpy.random."):
            return True
        if qualified in _WRAPS:
            given = [arg for arg in node.args if arg.keyword is None]
            return len(given) == 1 and self.noise(given[0].value, resolving)
        return False


def _module_assignments(ctx: RuleContext) -> dict[str, list[cst.BaseExpression]]:
    """The module level's assignments, merged once per analysis from the chunks' (kept per
    parsed chunk: a keystroke walks the edited statement only)."""
    found = ctx.memo.get("sampling-module")
    if found is not None:
        return cast("dict[str, list[cst.BaseExpression]]", found)
    values: dict[str, list[cst.BaseExpression]] = {}
    for chunk in ctx.chunks:
        own = ctx.of_text(chunk, "sampling-assignments", _chunk_assignments)
        for name, assigned in own.items():
            values.setdefault(name, []).extend(assigned)
    ctx.memo["sampling-module"] = values
    return values


def _chunk_assignments(chunk: Chunk) -> dict[str, list[cst.BaseExpression]]:
    values: dict[str, list[cst.BaseExpression]] = {}
    _collect(chunk.module, values)
    return values


def _collect(node: cst.CSTNode, values: dict[str, list[cst.BaseExpression]]) -> None:
    """``name = value`` statements in ``node``, not inside the functions and classes it meets
    (the function of interest is walked through its body). Expressions hold no assignment
    statement, so the walk stays among statements and blocks."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, cst.Assign):
            for target in current.targets:
                if isinstance(target.target, cst.Name):
                    values.setdefault(target.target.value, []).append(current.value)
        elif not isinstance(current, cst.FunctionDef | cst.ClassDef | cst.BaseExpression):
            stack.extend(reversed(children(current)))
