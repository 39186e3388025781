"""Calls into the other files of the project, recorded in a file read for another's sake
(project.py): what a call to a function of another file, or to a method of one of its classes
on an instance, is given (ev.ProjectCall), which calls_out.py turns into plain data."""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from torchmode.engine import events as ev
from torchmode.engine.drawn import passes_evaluation_data
from torchmode.engine.names import key_of, strip_identity

if TYPE_CHECKING:
    from torchmode.engine.interpreter import Interpreter
    from torchmode.engine.values import State


def project_instance(self: Interpreter, key: str | None) -> str | None:
    """The qualified name of the class of another file of the project ``key`` was built from
    (``gan = GAN(...)`` with ``from models import GAN``), if known."""
    if key is None:
        return None
    facts = self.facts
    built = facts.built_from.get(key) or facts.module_class.get(key)
    return built if built is not None and "." in built else None


def project_call(
    self: Interpreter, call: cst.Call, qualified: str, state: State, method: str = ""
) -> None:
    """A call to a function of another file of the project, or to ``method`` of one of its
    classes (``qualified``) on an instance, with what it is given (recorded in files read for
    another's sake: see ev.ProjectCall)."""
    project = self.file.project
    assert project is not None
    target = project.function_file(qualified)
    if target is None:
        return
    name = qualified.rpartition(".")[2] + (f".{method}" if method else "")

    def passed(arg: cst.Arg) -> ev.PassedArg:
        key = key_of(strip_identity(arg.value))
        return (key, self.mode_of(key, state)) if key is not None else (None, None)

    self.place(call)
    _, evaluates, _ = self.region_of_forward(state)
    evaluates = evaluates or passes_evaluation_data(call)
    self.record(
        ev.ProjectCall(
            call,
            self.flow,
            (),
            self.loop_nodes(),
            target=target,
            name=name,
            positional=tuple(passed(a) for a in call.args if a.keyword is None and not a.star),
            keywords=tuple((a.keyword.value, passed(a)) for a in call.args if a.keyword),
            unpacked=any(a.star for a in call.args),
            grad=state.grad,
            evaluates=evaluates,
        )
    )
