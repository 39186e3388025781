"""Whether a forward pass samples a generative model from random noise.

``generator(fixed_z)`` between epochs of a GAN's training, with ``fixed_z = torch.randn(64, nz)``
drawn once: many GANs are only ever run in train mode, and their samples are drawn the way
they are trained (BatchNorm normalising the batch of samples itself). Such a forward in train
mode is a choice as often as a mistake, unlike a classifier scored in train mode.
"""

from __future__ import annotations

import libcst as cst

from torchmode.engine import events as ev
from torchmode.engine.context import RuleContext

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
        self.values: dict[str, list[cst.BaseExpression]] = {}
        collector = _Collector(self.values)
        for chunk in ctx.chunks:
            chunk.module.visit(collector)
        if scope is not None:
            scope.body.visit(collector)

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


class _Collector(cst.CSTVisitor):
    """``name = value`` statements, not inside the functions and classes it meets (the
    function of interest is visited through its body)."""

    def __init__(self, values: dict[str, list[cst.BaseExpression]]) -> None:
        self.values = values

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            if isinstance(target.target, cst.Name):
                self.values.setdefault(target.target.value, []).append(node.value)
