"""The rule catalogue: TM1xx module mode, TM2xx autograd, TM3xx optimizer.

Each rule is a module of this package named ``tmNNN_<name>.py`` (``tm301_gradients_never_cleared``)
with ``RULE`` (code, name, docs, examples) and ``check(ctx)``. The modules are found by their
file names, in code order: adding a rule lists it nowhere else. Its examples live in
``rules/examples/tmNNN.py`` (see CONTRIBUTING.md).
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable, Iterable
from types import ModuleType
from typing import TYPE_CHECKING

from torchmode.rules import base

if TYPE_CHECKING:
    from torchmode.engine.context import RuleContext
    from torchmode.findings import Finding

# tm + the code's three digits + _ + the rule's name in snake case
RULE_MODULE = re.compile(r"tm(?P<digits>\d{3})_[a-z0-9_]+")


def _discover() -> tuple[ModuleType, ...]:
    """Every ``tmNNN_*`` module of this package, imported, in code order."""
    names = sorted(
        info.name
        for info in pkgutil.iter_modules(__path__)
        if not info.ispkg and RULE_MODULE.fullmatch(info.name)
    )
    modules = tuple(importlib.import_module(f"{__name__}.{name}") for name in names)
    codes: dict[str, str] = {}
    for name, module in zip(names, modules, strict=True):
        rule, check = getattr(module, "RULE", None), getattr(module, "check", None)
        if not isinstance(rule, base.Rule) or not callable(check):
            raise ImportError(f"rule module {module.__name__} must define RULE (a Rule) and check")
        match = RULE_MODULE.fullmatch(name)
        assert match is not None
        if rule.code != f"TM{match['digits']}":
            raise ImportError(f"{name} defines {rule.code}, not its file name's code")
        if rule.code in codes:
            raise ImportError(f"{rule.code} is defined twice: {codes[rule.code]} and {name}")
        codes[rule.code] = name
    return modules


_MODULES: tuple[ModuleType, ...] = _discover()

RULES: dict[str, base.Rule] = {m.RULE.code: m.RULE for m in _MODULES}
RULES_BY_NAME: dict[str, base.Rule] = {r.name: r for r in RULES.values()}


def lookup(code_or_name: str) -> base.Rule | None:
    key = code_or_name.strip()
    return RULES.get(key.upper()) or RULES_BY_NAME.get(key.lower())


def checks() -> dict[str, Callable[[RuleContext], Iterable[Finding]]]:
    """Each rule's check, by code, in catalogue order."""
    return {m.RULE.code: m.check for m in _MODULES}
