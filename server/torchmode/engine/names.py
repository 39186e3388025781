"""Name resolution from the import table, and access-path keys of expressions.

One pass over the import statements maps local names to qualified names
(``import torch as T`` -> ``T`` means ``torch``; ``from torch import no_grad as ng`` -> ``ng``
means ``torch.no_grad``). This replaces libcst's scope analysis, which costs seconds on large
files, and is all the rules need: they ask "does this expression mean ``torch.no_grad``?".
"""

from __future__ import annotations

from collections.abc import Iterable

import libcst as cst

from torchmode.engine import torch_api as api


def dotted(node: cst.BaseExpression) -> str | None:
    """``a.b.c`` for a chain of names, else None."""
    parts: list[str] = []
    while type(node) is cst.Attribute:
        parts.append(node.attr.value)
        node = node.value
    if type(node) is cst.Name:
        parts.append(node.value)
        return ".".join(reversed(parts))
    return None


def _dotted_import_name(node: cst.Attribute | cst.Name) -> str:
    name = dotted(node)
    assert name is not None
    return name


# How a module that star-imports a project module of its own (``from modeling.net import *``)
# usually spells torch without importing it: the star brought the names in.
_STAR_IMPORTED = {"torch": "torch", "nn": "torch.nn", "F": "torch.nn.functional"}

# ``torch.`` spelt in a file that never binds ``torch`` can only mean the package: helpers cut
# out of a notebook or a script (an ``engine.py`` of train/evaluate loops) often forget the
# import, and run where the caller's namespace has it. The short aliases stay unresolved
# without a star import: ``nn`` and ``F`` are also ordinary variable names.
_ALWAYS_TORCH = "torch"


class ImportTable:
    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.star = False  # some ``from x import *``: unbound names may come from it
        self.star_modules: list[str] = []  # what they star-import (``.unet_parts``)

    def add_statement(self, stmt: cst.Import | cst.ImportFrom) -> None:
        if isinstance(stmt, cst.Import):
            for alias in stmt.names:
                full = _dotted_import_name(alias.name)
                if alias.asname is not None and type(alias.asname.name) is cst.Name:
                    self.names[alias.asname.name.value] = full
                else:
                    top = full.split(".")[0]
                    self.names[top] = top
            return
        dots = "." * len(stmt.relative)
        if type(stmt.names) is cst.ImportStar:
            self.star = True
            if stmt.module is not None:
                self.star_modules.append(dots + _dotted_import_name(stmt.module))
        if stmt.module is None and not dots:
            return
        # ``from .eval import f``: a file of the project, found relative to this one
        module = dots + (_dotted_import_name(stmt.module) if stmt.module else "")
        if isinstance(stmt.names, cst.ImportStar):
            if not dots:
                self.names.setdefault("*" + module, module)
            return
        separator = "" if module.endswith(".") else "."
        for alias in stmt.names:
            if type(alias.name) is not cst.Name:
                continue
            local = alias.name.value
            if alias.asname is not None and type(alias.asname.name) is cst.Name:
                local = alias.asname.name.value
            self.names[local] = f"{module}{separator}{alias.name.value}"

    def resolve(self, node: cst.BaseExpression) -> str | None:
        """The qualified name an expression stands for, if it starts with an imported name."""
        name = dotted(node)
        if name is None:
            return None
        head, _, rest = name.partition(".")
        full = self.names.get(head)
        if full is None and self.star:
            full = _STAR_IMPORTED.get(head)
        if full is None and head == _ALWAYS_TORCH:
            full = _ALWAYS_TORCH
        if full is None:
            return None
        return f"{full}.{rest}" if rest else full

    def local_name_for(self, qualified: str) -> str | None:
        """How this file can spell ``qualified`` (e.g. ``torch.no_grad`` -> ``T.no_grad``)."""
        for local, full in self.names.items():
            if local.startswith("*"):
                continue
            if full == qualified:
                return local
        for local, full in self.names.items():
            if not local.startswith("*") and qualified.startswith(full + "."):
                return local + qualified[len(full) :]
        return None

    def imports_any(self, prefixes: Iterable[str]) -> bool:
        prefixes = tuple(prefixes)
        return any(full.startswith(prefixes) for full in self.names.values())


def key_of(node: cst.BaseExpression) -> str | None:
    """An access path naming a value: ``model``, ``self.model``, ``self.models['G']``."""
    if type(node) is cst.Name:
        return node.value
    if type(node) is cst.Attribute:
        base = key_of(node.value)
        return f"{base}.{node.attr.value}" if base else None
    if type(node) is cst.Subscript and len(node.slice) == 1:
        base = key_of(node.value)
        index = node.slice[0].slice
        if base and type(index) is cst.Index and type(index.value) is cst.SimpleString:
            return f"{base}[{index.value.value}]"
    return None


def root_of(key: str) -> str:
    for i, c in enumerate(key):
        if c in ".[":
            return key[:i]
    return key


def is_within(key: str, parent: str) -> bool:
    """``self.model.encoder`` is within ``self.model`` (a submodule follows its parent's mode)."""
    return key == parent or key.startswith((parent + ".", parent + "["))


def literal_bool(node: cst.BaseExpression) -> bool | None:
    if type(node) is cst.Name and node.value in {"True", "False"}:
        return node.value == "True"
    return None


def strip_identity(node: cst.BaseExpression) -> cst.BaseExpression:
    """``model.to(device).cuda()`` -> ``model``: these methods return the module itself."""
    while (
        type(node) is cst.Call
        and type(node.func) is cst.Attribute
        and node.func.attr.value in api.MODULE_IDENTITY_METHODS
    ):
        node = node.func.value
    return node
