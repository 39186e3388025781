"""Functions of a file that nothing in it calls, entered as their callers in other files of the
project enter them (callers.py): with the modes and grad mode those calls pass, the constant
flags they give, and the loops of other files that call a function stepping an optimizer once."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from torchmode.engine import events as ev
from torchmode.engine.callers import CallSite, Entry, entry_of, references
from torchmode.engine.facts import FunctionInfo
from torchmode.engine.function_flow import FunctionFlow
from torchmode.engine.interpreter import Interpreter

if TYPE_CHECKING:
    from torchmode.engine.flow import FileFlow


def enter_from_other_files(self: FileFlow) -> None:
    """The file's top-level functions that nothing in it calls, entered as their callers
    in other files of the project enter them, when every caller is known (callers.py)."""
    candidates: dict[str, tuple[FunctionInfo, FunctionFlow]] = {}
    flagged: dict[str, tuple[FunctionInfo, FunctionFlow]] = {}
    for info in self.facts.all_functions:
        flow = self.flows.get(id(info))
        if info.cls is not None or info.outer is not None or flow is None or flow.called:
            continue
        if self.declared.is_entry_point(info.name, info.qualname):
            continue  # entered from outside too: the defaults stand, whoever else calls it
        if flow.trains:
            # evaluation is what its callers' modes decide; training is not, unless every
            # training step sits under a flag a caller may pass as a constant
            # (``run_epoch(..., training=False)``)
            if any(isinstance(e, ev.Forward) and e.training_guards for e in flow.events):
                flagged[info.name] = (info, flow)
            continue
        # only where its callers' modes or grad mode decide an evaluation: a forward pass
        # of a module it is given, or an evaluating function that runs what it is given
        # (``net(x)``: a module if a caller passes one)
        forwards = [e for e in flow.events if isinstance(e, ev.Forward)]
        # (a parameter whose forwards are known, in modes and a grad mode set here, is
        # evaluated as it is whatever its callers pass: reading them would change nothing)
        known = {e.key.partition(".")[0] for e in forwards}
        if any(e.depends_on_caller() for e in forwards) or (
            (self.inference_name(info.name) or _loops_over_a_parameter(info))
            and _calls_a_parameter(info, known)
        ):
            candidates[info.name] = (info, flow)
    if not candidates and not flagged:
        return
    # named here only where it is defined: this file hands it to nothing
    wanted = set(candidates) | set(flagged)
    own = references("".join(chunk.text for chunk in self.chunks), wanted)
    if ("", False) in own:
        return
    for (chain, called), count in own.items():
        name = chain.partition(".")[0]
        if name in wanted and (chain != name or not called or count != 1):
            candidates.pop(name, None)
            flagged.pop(name, None)
    assert self.project is not None
    consulted: set[str] = set()
    found = self.project.callers(set(candidates) | set(flagged), consulted)
    importing = self.project.importing_files()
    self.caller_files = importing + tuple(sorted(consulted - set(importing)))
    for name, sites in found.items():
        if name in flagged:
            _enter_flagged(self, *flagged[name], sites)
            continue
        entry = entry_of(candidates[name][0].node, sites) if sites else None
        if entry is not None:
            info, flow = candidates[name]
            self.entered[id(flow)] = _analyse_entered(self, info, entry)


def _enter_flagged(
    self: FileFlow, info: FunctionInfo, flow: FunctionFlow, sites: list[CallSite] | None
) -> None:
    """A function that trains under a flag, as the calls of other files that pass the flag
    constants taking every training step away enter it: what it evaluates there (its
    forward passes only; the function as a whole still trains for its other callers)."""
    if not sites:
        return
    guards = {g for e in flow.events if isinstance(e, ev.Forward) for g in e.training_guards}
    evaluating = []
    for site in sites:
        flags = entry_of(info.node, [site])
        if flags is not None and all(
            flags.flags.get(text, polarity) != polarity for text, polarity in guards
        ):
            evaluating.append(site)
    entry = entry_of(info.node, evaluating) if evaluating else None
    if entry is None:
        return
    entered = self._run(Interpreter(self, info, entry))
    if entered.trains:
        return
    flagged = {
        id(e.node): e.training_guards
        for e in flow.events
        if isinstance(e, ev.Forward) and e.training_guards
    }
    forwards: list[ev.Event] = []
    for event in entered.events:
        if isinstance(event, ev.Forward) and id(event.node) in flagged:
            # as a call passing the constants in one file makes it (Forward.in_caller)
            event.evaluation, event.ruled_out = True, flagged[id(event.node)]
            forwards.append(event)
    entered.events = forwards
    self.also_entered.append(entered)


def repeated_from_other_files(self: FileFlow) -> None:
    """The functions and methods nothing in the file calls that step an optimizer once
    (no loop of their own around it) after a backward(): the loops of other files of the
    project that call them (``for batch in loader: gan.step(batch)``)."""
    candidates: dict[str, FunctionFlow] = {}
    for info in self.facts.all_functions:
        flow = self.flows.get(id(info))
        if flow is None or flow.called or info.outer is not None:
            continue
        if _steps_once(flow):
            candidates[info.qualname] = flow
    if not candidates:
        return
    assert self.project is not None
    consulted: set[str] = set()
    found = self.project.repeated(set(candidates), consulted)
    for name, calls in found.items():
        if calls:
            self.repeated[id(candidates[name])] = tuple(calls)
    self.caller_files += tuple(sorted(consulted - set(self.caller_files)))


def _analyse_entered(self: FileFlow, info: FunctionInfo, entry: Entry) -> FunctionFlow:
    flow = self._run(Interpreter(self, info, entry))
    if not (entry.evaluates or self.evaluation_name(info.name)):
        # as for a caller in this file: the callers' modes make a forward an evaluation
        # only where they call it to evaluate (or it is named like one)
        for event in flow.events_of(ev.Forward):
            assert isinstance(event, ev.Forward)
            if not event.via and _from_callers(event):
                event.evaluation = False
    return flow


def _steps_once(flow: FunctionFlow) -> bool:
    """A step of its own outside any loop of its own, and a backward() (its own or a
    helper's)."""
    return any(
        isinstance(e, ev.Step) and not e.via and not e.loops and not e.closure
        for e in flow.events_of(ev.Step)
    ) and any(True for _ in flow.events_of(ev.Backward))


def _calls_a_parameter(info: FunctionInfo, known: set[str]) -> bool:
    """Whether the function calls one of its parameters other than ``known`` ones."""
    params = [p for p in info.params if p not in known]
    if not params:
        return False
    names = "|".join(re.escape(p) for p in params)
    return re.search(rf"(?<![\w.])(?:{names})\s*(?:\.forward\s*)?\(", info.chunk.text) is not None


def _loops_over_a_parameter(info: FunctionInfo) -> bool:
    """Whether the function loops over one of its parameters (``for x, y in loader:``, also
    through ``enumerate``/``tqdm``): with a parameter it calls, the shape of a function that
    runs a model it is given over data it is given, whatever it is named."""
    params = [re.escape(p) for p in info.params if p not in ("self", "cls")]
    if not params:
        return False
    names = "|".join(params)
    return (
        re.search(rf"\bfor\s[^\n:]*\sin\s+(?:[\w.]+\()*(?:{names})\b", info.chunk.text) is not None
    )


def _from_callers(event: ev.Forward) -> bool:
    return any(v.origin is not None and v.origin.caller is not None for v in event.modes) or any(
        g.origin is not None and g.origin.caller is not None for g in event.grad
    )
