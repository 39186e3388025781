"""The statement interpreter: one function (or the module's top level) walked statement by
statement over the abstract state, branches joined and loops run to a fixpoint.

How calls, the PyTorch calls that matter, guards and the grad mode are read is in the mixins it
is made of (calls.py, training.py, guards.py, grad_mode.py, containers.py, assignments.py)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

import libcst as cst

from torchmode.engine import (
    applied_summaries,
    assignments,
    binding,
    calls,
    containers,
    drawn,
    grad_mode,
    guards,
    training,
)
from torchmode.engine import events as ev
from torchmode.engine import torch_api as api
from torchmode.engine.blocks import block_statements
from torchmode.engine.chunks import Chunk
from torchmode.engine.facts import FunctionInfo
from torchmode.engine.function_flow import FunctionFlow, def_chain
from torchmode.engine.names import dotted, key_of, literal_bool
from torchmode.engine.plain_instances import holds_plain_instance
from torchmode.engine.values import (
    GRAD_INPUT,
    GRAD_ON,
    INPUT_MODE,
    NO_TAINT,
    UNKNOWN_MODE,
    GradVal,
    Mode,
    ModeVal,
    Origin,
    Snapshot,
    State,
    Taint,
    combine,
    join_states,
)
from torchmode.engine.walk import names_in, sub_expressions

if TYPE_CHECKING:
    from torchmode.engine.callers import Entry
    from torchmode.engine.flow import FileFlow


MAX_LOOP_ROUNDS = 6

_PROCESS_EXITS = frozenset({"sys.exit", "os._exit", "os.abort"})
_EXIT_BUILTINS = frozenset({"exit", "quit"})


_COMPREHENSIONS = (cst.ListComp, cst.GeneratorExp, cst.SetComp, cst.DictComp)


LOOP_BUDGET = 600


class _LoopContext:
    def __init__(self, node: cst.CSTNode) -> None:
        self.node = node
        self.breaks: list[State] = []
        self.continues: list[State] = []


class Interpreter:
    def __init__(
        self, file: FileFlow, info: FunctionInfo | None, entry: Entry | None = None
    ) -> None:
        self.file = file
        self.facts = file.facts
        self.info = info
        self.entry = entry  # how callers in other files enter it (None: as on entry)
        self.entry_modules: set[str] = set()  # parameters they pass modules to
        self.flow = FunctionFlow(info)
        self.default_mode = INPUT_MODE if info is not None else UNKNOWN_MODE
        self.loops: list[_LoopContext] = []
        self.stmt_stack: list[cst.CSTNode] = []
        # ``d_net = Distiller(t_net, s_net)``: per module, the modules it keeps as children
        self.held_arguments: dict[str, dict[str, str]] = {}
        self.def_chain = def_chain(info)
        self.exit_states: list[State] = []
        self.with_grads: list[tuple[int, frozenset[GradVal]]] = []  # grad mode at each with
        self.grad_saved: dict[str, frozenset[GradVal]] = {}  # prev = torch.is_grad_enabled()
        self.returns: Taint | None = None  # joined over every return statement
        # per element, when every return statement returns a tuple of that many (else None)
        self.returned_items: tuple[Taint, ...] | None = None
        self.items_known = True
        # ``a, b = helper(...)``: each element of the result, read at that call (id of the call)
        self.call_items: dict[int, tuple[Taint, ...]] = {}
        self.fresh_returns: bool | None = None  # every return so far gives a fresh module
        self.fresh_classes: set[str] = set()  # the classes they build, where known ("": not)
        # (id(node), ids of the calls it is reached through, event kind, a Clear's key)
        self.recorded: dict[tuple[int, tuple[int, ...], str, str | None], ev.Event] = {}
        self.deps: list[tuple[int, FunctionFlow | None]] = []  # analyses this one used
        self.externals: list[tuple[str, object]] = []  # other files' functions looked up
        # for name in (a, b): the names it stands for (None: not known)
        self.loop_targets: dict[str, list[str] | None] = {}
        # for k in models / models.keys(): k -> "models"; for m in models.values(): m -> "models"
        self.loop_keys: dict[str, str] = {}
        self.loop_values: dict[str, str] = {}
        self.aliases: dict[str, str] = {}  # opt = self.optimizer
        self.plain_locals: dict[str, bool] = {}  # see _plain_local
        # loop bodies re-run to a fixpoint; nested loops multiply that, so past this many rounds
        # in one function a loop body runs once (deeply nested code stays linear, not 2^depth)
        self.loop_budget = LOOP_BUDGET
        self.comprehensions = 0  # depth of comprehensions around the expression evaluated
        self.iterated = False
        self.over_eval_data = False
        # id of each ``next(<evaluation data>)`` call -> ids of the statements around it
        self.drawings: dict[int, frozenset[int]] = {}
        self.drawn_trained: frozenset[int] = frozenset()  # given to torch.autograd.grad()

    # -- entry points ------------------------------------------------------------------
    def run_function(self) -> None:
        assert self.info is not None
        node = self.info.node
        state = State(grad=self._entry_grad(node))
        if self.entry is not None:
            self._enter(node, self.entry, state)
        scalars = _scalar_params(node)
        for param in self.info.params:
            # an argument may carry a graph (nothing is known of it here), unless its default
            # says it is a plain number or flag (``T=4.0``)
            state.vars[param] = Taint(sources=frozenset({param}), opaque=param not in scalars)
        body = block_statements(node.body)
        for stmt in body:
            self.flow.chunk_of[id(stmt)] = self.info.chunk
        entry_grad = state.grad
        out = self.exec_block(body, state)
        self.exit_states.append(out)
        final = join_states(self.exit_states, self.default_mode)
        if final.reachable:
            self.flow.exit_modes = {
                k: v for k, v in final.modes.items() if v != INPUT_MODE and self._summary_key(k)
            }
            if final.grad != entry_grad and entry_grad == GRAD_INPUT:
                self.flow.exit_grad = final.grad
        self.flow.returns = self.returns or NO_TAINT
        self.flow.returned_items = self.returned_items if self.items_known else None
        self.flow.returns_fresh = bool(self.fresh_returns)
        if self.flow.returns_fresh and len(self.fresh_classes) == 1:
            self.flow.returns_class = next(iter(self.fresh_classes))
        self._finish()

    def is_module_key(self, key: str) -> bool:
        """``key`` holds a module: by the file's facts, or (in a function entered as its
        callers in other files enter it) a parameter they pass a module to."""
        if key in self.facts.module_keys:
            return not self._plain_local(key)
        return key in self.entry_modules

    def _plain_local(self, key: str) -> bool:
        """A local of this function that it binds only to instances of a plain class of the
        file (an onnxruntime wrapper called ``model``), whatever other functions bind the name
        to."""
        if self.info is None or not key.isidentifier() or key in self.info.params:
            return False
        cached = self.plain_locals.get(key)
        if cached is None:
            cached = holds_plain_instance(self.facts, self.info, key)
            self.plain_locals[key] = cached
        return cached

    def _flag(self, test: cst.BaseExpression) -> bool | None:
        """``if training:`` where every caller in other files passes ``training`` the same
        literal (and the function never assigns it)."""
        if self.entry is None or not self.entry.flags or type(test) is not cst.Name:
            return None
        flag = self.entry.flags.get(test.value)
        if flag is None or test.value in self._locals():
            return None
        return flag

    def _enter(self, node: cst.FunctionDef, entry: Entry, state: State) -> None:
        """The parameters' modes and the grad mode its callers in other files give it: each
        value set there is placed at the function's name here, and says where (``caller``)."""
        self.place(node.name)
        for param, passed in entry.modes.items():
            if any(mode in (Mode.TRAIN, Mode.EVAL) for mode, _ in passed):
                self.entry_modules.add(param)  # a module where they call it
            state.modes[param] = frozenset(
                ModeVal(mode, Origin(node.name, constructed=site.constructed, caller=site))
                if site is not None
                else ModeVal(mode)
                for mode, site in passed
            )
        if state.grad == GRAD_INPUT and entry.grad:  # a decorator of its own comes first
            state.grad = frozenset(
                GradVal(enabled, Origin(node.name, caller=site))
                if site is not None and enabled is not None
                else GradVal(enabled)
                for enabled, site in entry.grad
            )

    def run_body(self, statements: Sequence[cst.BaseStatement]) -> None:
        self.exec_block(statements, State(grad=GRAD_ON))
        self._finish()

    def _finish(self) -> None:
        self.flow.events = list(self.recorded.values())
        drawn.confirm_drawn(self.flow.events, self.drawn_trained)
        self.flow.trains = self.flow.trains or any(
            isinstance(e, ev.Train) for e in self.flow.events
        )

    def _summary_key(self, key: str) -> bool:
        root = key.split(".", 1)[0].split("[", 1)[0]
        assert self.info is not None
        return root in self.info.params or root not in self._locals()

    def _locals(self) -> set[str]:
        assert self.info is not None
        return self.file.locals_of(self.info)

    def _entry_grad(self, node: cst.FunctionDef) -> frozenset[GradVal]:
        for dec in node.decorators:
            expr = dec.decorator
            target = expr.func if type(expr) is cst.Call else expr
            name = self.facts.imports.resolve(target)
            if name in api.NO_GRAD:
                if (
                    name in api.INFERENCE_MODE
                    and type(expr) is cst.Call
                    and expr.args
                    and literal_bool(expr.args[0].value) is False
                ):
                    continue  # inference_mode(False): gradients as before
                return frozenset({GradVal(False, self.origin(dec))})
            if name in api.ENABLE_GRAD:
                return frozenset({GradVal(True, self.origin(dec))})
            if self.file.declared.turns_grad_off(name or dotted(target)):
                return frozenset({GradVal(False, self.origin(dec))})
            if self.grad_off_decorator(target, name):
                return frozenset({GradVal(False, self.origin(dec))})
        return GRAD_INPUT

    # -- recording -----------------------------------------------------------------------
    def record(self, event: ev.Event) -> None:
        key = (
            id(event.node),
            tuple(id(v) for v in event.via),
            type(event).__name__,
            getattr(event, "key", None) if isinstance(event, ev.Clear) else None,
        )
        self.recorded[key] = event
        if not event.via:
            self.place(event.node)
            if isinstance(event, ev.Forward) and event.region is not None:
                self.place(event.region)
            if isinstance(event, ev.Forward) and event.drawn_region is not None:
                self.place(event.drawn_region)
            if isinstance(event, ev.Forward) and event.volatile is not None:
                self.place(event.volatile)
            if isinstance(event, ev.Accumulate) and event.value_node is not None:
                self.place(event.value_node)

    def current_chunk(self) -> Chunk:
        if self.info is not None:
            return self.info.chunk
        return self.flow.chunk_of[id(self.stmt_stack[0])]

    def place(self, node: cst.CSTNode) -> None:
        if id(node) not in self.file.places and id(node) not in self.file.reused_places:
            self.file.places[id(node)] = (node, self.current_chunk())
            self.flow.placed.append(node)
            chain = (*self.def_chain, *self.stmt_stack)
            self.flow.placed_chains.append(chain)
            self.file.chains[id(node)] = chain
            if self.info is None:
                self.flow.placed_under.append(id(self.stmt_stack[0]))

    def origin(self, node: cst.CSTNode, constructed: bool = False) -> Origin:
        self.place(node)
        return Origin(node, constructed=constructed)

    def loop_nodes(self) -> tuple[cst.CSTNode, ...]:
        return tuple(lc.node for lc in self.loops)

    # -- statements ----------------------------------------------------------------------
    def exec_block(self, stmts: Sequence[cst.BaseStatement], state: State) -> State:
        for stmt in stmts:
            if not state.reachable:
                break
            state = self.exec_stmt(stmt, state)
        return state

    def exec_stmt(self, stmt: cst.BaseStatement, state: State) -> State:
        self.flow.states[id(stmt)] = Snapshot.of(state)
        self.stmt_stack.append(stmt)
        try:
            if type(stmt) is cst.SimpleStatementLine:
                for small in stmt.body:
                    if not state.reachable:
                        break
                    state = self.exec_small(small, state)
                return state
            if type(stmt) is cst.If:
                return self.exec_if(stmt, state)
            if type(stmt) is cst.For or type(stmt) is cst.While:
                return self.exec_loop(stmt, state)
            if type(stmt) is cst.With:
                return self.exec_with(stmt, state)
            if type(stmt) is cst.Try or type(stmt) is cst.TryStar:
                return self.exec_try(stmt, state)
            if type(stmt) is cst.Match:
                self.eval_expr(stmt.subject, state)
                outs = [
                    self.exec_block(block_statements(case.body), state.copy())
                    for case in stmt.cases
                ]
                return join_states([state, *outs], self.default_mode)
            if type(stmt) is cst.FunctionDef or type(stmt) is cst.ClassDef:
                name = stmt.name.value
                state.vars.pop(name, None)
                return state
            return state
        finally:
            self.stmt_stack.pop()

    def exec_small(self, small: cst.BaseSmallStatement, state: State) -> State:
        if type(small) is cst.Expr:
            self.check_bare_mode_switch(small.value)
            self.eval_expr(small.value, state)
            if self.ends_process(small.value):
                return _dead()  # ``sys.exit(0)`` after an evaluation-only run: nothing follows
        elif type(small) is cst.Assign:
            value = self.eval_expr(small.value, state)
            self.check_running_sum(small, state)
            for target in small.targets:
                self.assign(target.target, small.value, value, state)
        elif type(small) is cst.AnnAssign:
            if small.value is not None:
                value = self.eval_expr(small.value, state)
                self.assign(small.target, small.value, value, state)
        elif type(small) is cst.AugAssign:
            self.exec_augassign(small, state)
        elif type(small) is cst.Return:
            if small.value is not None:
                value = self.eval_expr(small.value, state)
                self.returns = value if self.returns is None else self.returns.join(value)
            self.return_items(small.value, state)
            fresh = small.value is not None and self.returns_fresh_module(small.value, state)
            self.fresh_returns = fresh and self.fresh_returns is not False
            self.exit_states.append(self.leaving(state, loop_exit=False))
            return _dead()
        elif type(small) is cst.Raise:
            if small.exc is not None:
                self.eval_expr(small.exc, state)
            return _dead()
        elif type(small) is cst.Break:
            if self.loops:
                self.loops[-1].breaks.append(self.leaving(state, loop_exit=True))
            return _dead()
        elif type(small) is cst.Continue:
            if self.loops:
                self.loops[-1].continues.append(self.leaving(state, loop_exit=True))
            return _dead()
        elif type(small) is cst.Assert:
            self.eval_expr(small.test, state)
        elif type(small) is cst.Del:
            for name in names_in(small.target):
                state.vars.pop(name, None)
        return state

    def ends_process(self, node: cst.BaseExpression) -> bool:
        """``sys.exit()``, ``os._exit(1)``, or the ``exit()``/``quit()`` builtins (when the
        file defines no function of that name): the process ends, like ``raise SystemExit``."""
        if type(node) is not cst.Call:
            return False
        name = self.facts.imports.resolve(node.func)
        if name is not None:
            return name in _PROCESS_EXITS
        return (
            type(node.func) is cst.Name
            and node.func.value in _EXIT_BUILTINS
            and self.file.resolve_callee(node, self.info) is None
        )

    def exec_if(self, stmt: cst.If, state: State) -> State:
        self.eval_expr(stmt.test, state)
        flag = self._flag(stmt.test)
        if flag is None:
            flag = guards.known_flag(stmt.test, state)
        if flag is not None:  # every caller passes the same constant: one branch runs
            if flag:
                return self.exec_block(block_statements(stmt.body), state)
            if stmt.orelse is None:
                return state
            if type(stmt.orelse) is cst.If:
                return self.exec_if(stmt.orelse, state)
            return self.exec_block(block_statements(stmt.orelse.body), state)
        if self.is_module_check(stmt.test) or guards.is_grad_presence_check(stmt.test):
            # ``if isinstance(net, nn.Module): net.eval()`` is true for every module;
            # ``if p.grad is not None: p.grad.zero_()`` leaves no gradient either way
            return self.exec_block(block_statements(stmt.body), state)
        guard = self.guard_of(stmt.test)
        snapshot = self.snapshot_test(stmt.test, state)
        then_in = self.refine(state, guard, True)
        self.mode_tested(stmt.test, then_in, guard, True)
        then_out = self.exec_block(block_statements(stmt.body), then_in)
        if stmt.orelse is None:
            else_out = self.refine(state, guard, False)
            self.mode_tested(stmt.test, else_out, guard, False)
        elif type(stmt.orelse) is cst.If:
            else_in = self.refine(state, guard, False)
            self.mode_tested(stmt.test, else_in, guard, False)
            self.flow.states[id(stmt.orelse)] = Snapshot.of(else_in)
            else_out = self.exec_if(stmt.orelse, else_in)
        else:
            else_in = self.refine(state, guard, False)
            self.mode_tested(stmt.test, else_in, guard, False)
            else_out = self.exec_block(block_statements(stmt.orelse.body), else_in)
        if snapshot is not None:
            key, polarity = snapshot
            self.restore_snapshot(then_out, key, Mode.TRAIN if polarity else Mode.EVAL, state)
            self.restore_snapshot(else_out, key, Mode.EVAL if polarity else Mode.TRAIN, state)
        if guard is not None:
            self.tag(then_out, state, (guard, True))
            self.tag(else_out, state, (guard, False))
        return join_states([then_out, else_out], self.default_mode)

    def exec_loop(self, stmt: cst.For | cst.While, state: State) -> State:
        iter_taint = self.eval_expr(stmt.iter, state) if type(stmt) is cst.For else NO_TAINT
        ctx = _LoopContext(stmt)
        head = state.copy()
        target_name = (
            stmt.target.value if type(stmt) is cst.For and type(stmt.target) is cst.Name else None
        )
        if target_name is not None:
            assert type(stmt) is cst.For
            members = None
            if type(stmt.iter) is cst.Tuple or type(stmt.iter) is cst.List:
                keys = [key_of(el.value) for el in stmt.iter.elements]
                members = [k for k in keys if k is not None] if all(keys) else None
            had_target = target_name in self.loop_targets
            saved_target = self.loop_targets.get(target_name)
            self.loop_targets[target_name] = members
        entries = self.entries_iterated(stmt)
        saved_entries = (dict(self.loop_keys), dict(self.loop_values))
        if entries is not None:
            name, container, values = entries
            (self.loop_values if values else self.loop_keys)[name] = container
        try:
            return self._exec_loop(stmt, state, ctx, head, iter_taint)
        finally:
            self.loop_keys, self.loop_values = saved_entries
            if target_name is not None:
                if not had_target:
                    del self.loop_targets[target_name]
                else:
                    self.loop_targets[target_name] = saved_target

    def _exec_loop(
        self,
        stmt: cst.For | cst.While,
        state: State,
        ctx: _LoopContext,
        head: State,
        iter_taint: Taint,
    ) -> State:
        body = block_statements(stmt.body)
        infinite = type(stmt) is cst.While and literal_bool(stmt.test) is True
        for _ in range(MAX_LOOP_ROUNDS if self.loop_budget > 0 else 1):
            self.loop_budget -= 1
            ctx.breaks.clear()
            ctx.continues.clear()
            body_in = head.copy()
            if isinstance(stmt, cst.For):
                self.assign(stmt.target, stmt.iter, iter_taint, body_in, loop_target=True)
            else:
                self.eval_expr(stmt.test, body_in)
            self.loops.append(ctx)
            try:
                body_out = self.exec_block(body, body_in)
            finally:
                self.loops.pop()
            new_head = join_states([state, body_out, *ctx.continues], self.default_mode)
            if new_head.same_as(head):
                break
            head = new_head
        normal_exit = head if not infinite else _dead()
        if type(stmt) is cst.For and body_out.reachable and normal_exit.reachable:
            # a for loop is written to run: an epoch loop that calls model.train() leaves the
            # model in train mode, a loop over parameters that clears them leaves them cleared
            # (the zero-iteration path is not a case the code is written for)
            normal_exit = join_states([body_out, *ctx.continues], self.default_mode)
        if stmt.orelse is not None:
            normal_exit = self.exec_block(block_statements(stmt.orelse.body), normal_exit)
        return join_states([normal_exit, *ctx.breaks], self.default_mode)

    def exec_with(self, stmt: cst.With, state: State) -> State:
        before = state.grad
        self.with_grads.append((len(self.loops), before))
        try:
            return self._exec_with(stmt, state, before)
        finally:
            self.with_grads.pop()

    def leaving(self, state: State, loop_exit: bool) -> State:
        """The state after a return/break/continue leaves the ``with`` blocks around it."""
        depth = len(self.loops)
        for loops_at_entry, grad in self.with_grads:
            if not loop_exit or loops_at_entry >= depth:
                state = state.copy()
                state.grad = grad
                break
        return state

    def _exec_with(self, stmt: cst.With, state: State, before: frozenset[GradVal]) -> State:
        exits: list[Callable[[State], None]] = []
        for item in stmt.items:
            expr = item.item
            grad = self.grad_context(expr, state)
            if grad is not None:
                state.grad = grad
            elif self.check_uncalled_grad_context(expr):
                # ``with torch.no_grad:`` raises (TM203); the body is meant to run without grad
                state.grad = frozenset({GradVal(False, self.origin(expr))})
            elif (leave := self.enter_context(expr, state)) is not None:
                exits.append(leave)
            else:
                self.eval_expr(expr, state)
            if item.asname is not None:
                self.assign(item.asname.name, expr, NO_TAINT, state)
        out = self.exec_block(block_statements(stmt.body), state)
        if out.reachable:
            out.grad = before
            for leave in reversed(exits):
                leave(out)
        return out

    def exec_try(self, stmt: cst.Try | cst.TryStar, state: State) -> State:
        returns_before = len(self.exit_states)
        out = self._exec_try(stmt, state)
        if stmt.finalbody is not None and len(self.exit_states) > returns_before:
            # a return inside try/except still runs the finally block on its way out
            final = block_statements(stmt.finalbody.body)
            leaving = self.exit_states[returns_before:]
            del self.exit_states[returns_before:]
            for exit_state in leaving:
                before = len(self.exit_states)
                after = self.exec_block(final, exit_state.copy())
                if after.reachable and len(self.exit_states) == before:
                    self.exit_states.append(after)
        return out

    def _exec_try(self, stmt: cst.Try | cst.TryStar, state: State) -> State:
        body_out = self.exec_block(block_statements(stmt.body), state.copy())
        handler_in = join_states([state, body_out], self.default_mode)
        outs = []
        for handler in stmt.handlers:
            outs.append(self.exec_block(block_statements(handler.body), handler_in.copy()))
        if stmt.orelse is not None:
            body_out = self.exec_block(block_statements(stmt.orelse.body), body_out)
        merged = join_states([body_out, *outs], self.default_mode)
        if stmt.finalbody is not None:
            if not merged.reachable:
                merged = handler_in
                merged = self.exec_block(block_statements(stmt.finalbody.body), merged)
                return _dead()
            merged = self.exec_block(block_statements(stmt.finalbody.body), merged)
        return merged

    def exec_augassign(self, small: cst.AugAssign, state: State) -> None:
        value = self.eval_expr(small.value, state)
        target = key_of(small.target)
        if target is None and type(small.target) is cst.Subscript:
            self.eval_expr(small.target, state)
            target = key_of(small.target.value)  # total[name] += loss: ``total`` accumulates
        if target is None:
            self.eval_expr(small.target, state)
            return
        if type(small.operator) in (cst.AddAssign, cst.SubtractAssign):
            self.accumulation(small, target, value, small.value, "+=", state)
        old = state.vars.get(target, NO_TAINT)
        state.vars[target] = old.join(value)
        if state.flags:
            assignments.set_flag(target, None, state)

    def check_running_sum(self, small: cst.Assign, state: State) -> None:
        """``total = total + loss`` accumulates like ``total += loss``."""
        value = small.value
        if len(small.targets) != 1 or type(value) is not cst.BinaryOperation:
            return
        if type(value.operator) is not cst.Add:
            return
        target = key_of(small.targets[0].target)
        if target is None or key_of(value.left) != target:
            return
        taint = self.peek_expr(value.right, state)
        self.accumulation(small, target, taint, value.right, "+=", state)

    def accumulation(
        self,
        node: cst.CSTNode,
        target: str,
        value: Taint,
        value_node: cst.CSTNode,
        kind: str,
        state: State,
    ) -> None:
        self.record(
            ev.Accumulate(
                node,
                self.flow,
                (),
                self.loop_nodes(),
                target=target,
                value=value,
                grad=state.grad,
                kind=kind,
                value_node=value_node,
            )
        )

    def peek_expr(self, node: cst.BaseExpression, state: State) -> Taint:
        """The taint of an expression already evaluated (no events recorded again)."""
        saved = self.recorded
        self.recorded = dict(saved)
        try:
            return self.eval_expr(node, state.copy())
        finally:
            self.recorded = saved

    def peek_taint(self, node: cst.BaseExpression, state: State) -> Taint:
        key = key_of(node)
        if key is not None:
            return state.vars.get(key, NO_TAINT)
        return NO_TAINT

    # -- expressions -----------------------------------------------------------------------
    def eval_expr(self, node: cst.CSTNode, state: State) -> Taint:
        if type(node) is cst.Name:
            return state.vars.get(node.value, NO_TAINT)
        if type(node) is cst.Call:
            return self.eval_call(node, state)
        if type(node) is cst.Attribute:
            base = self.eval_expr(node.value, state)
            attr = node.attr.value
            if attr == "training":
                key = key_of(node.value)
                if key is not None:
                    key = state.module_key(key)
                if key is not None and state.modes.get(key, self.default_mode) == INPUT_MODE:
                    return Taint(snapshot_of=key)
                return NO_TAINT
            if attr in {"data", "grad", "shape", "device", "dtype"}:
                return NO_TAINT
            if attr == "loss":
                return replace(base, lossy=True)
            return base
        if type(node) is cst.Subscript:
            base = self.eval_expr(node.value, state)
            for el in node.slice:
                if type(el.slice) is cst.Index:
                    self.eval_expr(el.slice.value, state)
            return base
        if type(node) is cst.BinaryOperation:
            left = self.eval_expr(node.left, state)
            right = self.eval_expr(node.right, state)
            return combine(left, right)
        if type(node) is cst.Comparison:
            self.eval_expr(node.left, state)
            for comp in node.comparisons:
                self.eval_expr(comp.comparator, state)
            return NO_TAINT
        if type(node) is cst.UnaryOperation:
            inner = self.eval_expr(node.expression, state)
            return NO_TAINT if type(node.operator) is cst.Not else inner
        if type(node) is cst.BooleanOperation:
            return combine(self.eval_expr(node.left, state), self.eval_expr(node.right, state))
        if type(node) is cst.IfExp:
            self.eval_expr(node.test, state)
            guard = self.guard_of(node.test)
            if guard is None:
                return self.eval_expr(node.body, state).join(self.eval_expr(node.orelse, state))
            # ``net.train() if is_train else net.eval()``: each side under its condition, so
            # that a later ``if is_train:`` meets only the mode of its own side
            then_state = self.refine(state, guard, True)
            else_state = self.refine(state, guard, False)
            result = self.eval_expr(node.body, then_state).join(
                self.eval_expr(node.orelse, else_state)
            )
            self.tag(then_state, state, (guard, True))
            self.tag(else_state, state, (guard, False))
            state.become(join_states([then_state, else_state], self.default_mode))
            return result
        if type(node) is cst.Lambda:
            return NO_TAINT
        out = NO_TAINT
        comprehension = type(node) in _COMPREHENSIONS
        self.comprehensions += comprehension
        saved_entries = (dict(self.loop_keys), dict(self.loop_values))
        if comprehension:
            # ``_ = [models[k].eval() for k in models]`` switches every entry, as the loop does
            assert isinstance(node, _COMPREHENSIONS)
            entries = self.entries_iterated(node.for_in)
            if entries is not None:
                name, container, values = entries
                (self.loop_values if values else self.loop_keys)[name] = container
        try:
            for child in sub_expressions(node):
                out = combine(out, self.eval_expr(child, state))
        finally:
            self.comprehensions -= comprehension
            self.loop_keys, self.loop_values = saved_entries
        if type(node) in (cst.ListComp, cst.GeneratorExp, cst.SetComp, cst.DictComp):
            return out
        if type(node) in (cst.Tuple, cst.List, cst.Dict, cst.Set):
            return out
        return out if out.graph else NO_TAINT

    # the parts of the interpreter, one module per idea (methods in all but name)
    assign = assignments.assign
    construct = assignments.construct
    rebind_module = assignments.rebind_module
    rebind_to = assignments.rebind_to
    unalias = assignments.unalias
    builds_module = assignments.builds_module
    returns_fresh_module = assignments.returns_fresh_module
    own_loader = assignments.own_loader
    is_construction = assignments.is_construction
    eval_call = calls.eval_call
    enter_context = applied_summaries.enter_context
    grad_off_decorator = applied_summaries.grad_off_decorator
    apply_summary = applied_summaries.apply_summary
    apply_external = applied_summaries.apply_external
    _given = calls._given
    literal_arguments = binding.literal_arguments
    bound_taints = binding.bound_taints
    bind = binding.bind
    mode_switch = training.mode_switch
    train_argument = training.train_argument
    set_mode = training.set_mode
    mode_of = training.mode_of
    forward = training.forward
    generation = training.generation
    volatile_inputs = training.volatile_inputs
    region_of_forward = training.region_of_forward
    drawing = drawn.drawing
    drawn_region = drawn.drawn_region
    training_step = training.training_step
    record_training = training.record_training
    optimizer_step = training.optimizer_step
    clear = training.clear
    clear_one = training.clear_one
    guard_of = guards.guard_of
    is_module_check = guards.is_module_check
    refine = guards.refine
    tag = guards.tag
    strip_guards = guards.strip_guards
    snapshot_test = guards.snapshot_test
    restore_snapshot = guards.restore_snapshot
    mode_tested = guards.mode_tested
    disabled_origin = grad_mode.disabled_origin
    without_graph_if_disabled = grad_mode.without_graph_if_disabled
    grad_context = grad_mode.grad_context
    in_inference_mode = grad_mode.in_inference_mode
    check_bare_mode_switch = grad_mode.check_bare_mode_switch
    check_uncalled_grad_context = grad_mode.check_uncalled_grad_context
    return_items = containers.return_items
    plain_items = containers.plain_items
    entries_iterated = containers.entries_iterated
    every_entry = containers.every_entry


def _dead() -> State:
    s = State()
    s.reachable = False
    return s


def _scalar_params(node: cst.FunctionDef) -> set[str]:
    params = [*node.params.posonly_params, *node.params.params, *node.params.kwonly_params]
    literal = (cst.Integer, cst.Float, cst.SimpleString, cst.Name)
    return {
        p.name.value
        for p in params
        if p.default is not None
        and isinstance(p.default, literal)
        and (type(p.default) is not cst.Name or p.default.value in {"True", "False", "None"})
    }
