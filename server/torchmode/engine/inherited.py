"""Modules a class inherits from a plain base class of another file of the project.

``class ChamferRunner(Runner)``, where ``Runner`` (runner.py, not an nn.Module) sets
``self.net = DataParallel(CompletionNet(...))`` in its ``build()``: in the subclass's methods
``self.net`` is that module too. Without this, ``self.net(x)`` there is no forward pass, so the
losses computed from it carry no graph and the modes of ``self.net`` are never asked about."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from torchmode.engine.facts import Facts


def add_inherited_modules(facts: Facts) -> None:
    """Adds to ``facts.module_keys`` the ``self.<attr>`` modules that the plain classes of other
    project files, which the file's classes derive from, hold (``held_modules`` of their
    summaries), each with its class and sensitivity to the mode in ``facts.inherited``. A
    key the file itself gives an optimizer is left alone."""
    project = facts.project
    if project is None:
        return
    for info in facts.classes.values():
        for base in info.bases:
            if "." not in base:
                continue  # a class of this file (its code is read here) or not a project class
            for attr, held in project.held_modules(base).items():
                key = "self." + attr
                if key in facts.module_keys or key in facts.optimizer_cover:
                    continue
                facts.module_keys.add(key)
                facts.inherited[key] = held
