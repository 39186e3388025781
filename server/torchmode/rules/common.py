"""Helpers shared by rules: describing places in plain words, and building common fixes."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable

import libcst as cst

from torchmode.engine import events as ev
from torchmode.engine import torch_api as api
from torchmode.engine.blocks import block_statements
from torchmode.engine.chunks import Chunk, ChunkCache
from torchmode.engine.collection import collection_paused
from torchmode.engine.context import RuleContext
from torchmode.engine.facts import FunctionInfo
from torchmode.engine.function_flow import FunctionFlow
from torchmode.engine.names import key_of
from torchmode.engine.values import CallerSite, Origin
from torchmode.findings import Fix, Position, Range, Related, TextEdit
from torchmode.fixing import apply_edits, compiles, line_offsets, offset_of, position_at
from torchmode.knowledge.layers import CONTAINERS
from torchmode.settings import Settings


def where(ctx: RuleContext, node: cst.CSTNode) -> str:
    """ "`model.eval()` on line 33"."""
    return f"`{ctx.short(node)}` on line {ctx.line_of(node)}"


def loop_header(ctx: RuleContext, loop: cst.CSTNode, near: cst.CSTNode) -> Range:
    """The first line of ``loop`` (from its ``for``/``while``), a statement of ``near``'s chunk:
    found from the statement index, without the whole chunk's positions."""
    start = ctx.index(ctx.chunk_of(near)).start_of(loop)
    return Range(start, Position(start.line, len(ctx.lines[start.line])))


def origin_related(ctx: RuleContext, origin: Origin, what: str) -> list[Related]:
    """Related locations for every step of an origin's call chain."""
    out = []
    nodes = origin.chain()
    for i, node in enumerate(nodes):
        if i == len(nodes) - 1:
            out.append(Related(ctx.range_of(node), what))
        else:
            out.append(Related(ctx.range_of(node), f"called here: {ctx.short(node)}"))
    return out


def exit_related(ctx: RuleContext, node: cst.CSTNode, key: str, mode: str) -> list[Related]:
    """Where the function that runs ``node`` (a mode switch) ends: the other place a user may
    restore the mode, when the switch was made in a function called to evaluate."""
    chunk = ctx.chunk_of(node)
    index = ctx.index(chunk)
    stmt = index.statement_of(node)
    if stmt is None:
        return []
    func = next((a for a in index.ancestors(stmt) if type(a) is cst.FunctionDef), None)
    if func is None or type(func.body) is not cst.IndentedBlock or not func.body.body:
        return []
    last = func.body.body[-1]
    if last is stmt:
        return []
    if type(last) is cst.SimpleStatementLine:
        where = index.range_of(last)
    else:  # a compound statement's first line (its end would need the whole chunk's code)
        start = index.start_of(last)
        where = Range(start, start)
    return [
        Related(
            where,
            f"`{func.name.value}()` returns here with `{key}` still in {mode} mode",
        )
    ]


def describe_origin(ctx: RuleContext, origin: Origin) -> str:
    nodes = origin.chain()
    if len(nodes) == 1:
        return where(ctx, nodes[0])
    return f"{where(ctx, nodes[0])}, which runs {where(ctx, nodes[-1])}"


def event_related(ctx: RuleContext, event: ev.Event, what: str) -> list[Related]:
    out = [Related(ctx.range_of(call), f"called here: {ctx.short(call)}") for call in event.via]
    out.append(Related(ctx.range_of(event.node), what))
    return out


def describe_event(ctx: RuleContext, event: ev.Event) -> str:
    if not event.via:
        return where(ctx, event.node)
    return f"{where(ctx, event.node)} (through {where(ctx, event.via[0])})"


def module_spelling(node: cst.CSTNode) -> str | None:
    """How the code names the module a forward / mode call is made on."""
    if isinstance(node, cst.Call):
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value in {"forward", "eval", "train"}:
            return key_of(func.value)
        return key_of(func)
    return None


def grad_context_code(ctx: RuleContext, style: str) -> tuple[str, list[TextEdit]]:
    """``torch.no_grad()`` as this file spells it, plus an ``import torch`` edit if needed."""
    qualified = f"torch.{style}"
    spelled = ctx.facts.imports.local_name_for(qualified)
    if spelled is not None:
        return f"{spelled}()", []
    return f"{qualified}()", [import_torch_edit(ctx)]


def import_torch_edit(ctx: RuleContext) -> TextEdit:
    """Insert ``import torch`` after the module docstring and ``__future__`` imports."""
    line = 0
    for chunk in ctx.chunks:
        for stmt in chunk.statements:
            if isinstance(stmt, cst.SimpleStatementLine) and (
                _is_docstring(stmt) or _is_future(stmt)
            ):
                line = chunk.range_of(stmt).end.line + 1
                continue
            break
        break
    pos = Position(line, 0)
    return TextEdit(Range(pos, pos), "import torch" + ctx.newline())


def _is_docstring(stmt: cst.SimpleStatementLine) -> bool:
    return (
        len(stmt.body) == 1
        and isinstance(stmt.body[0], cst.Expr)
        and isinstance(stmt.body[0].value, cst.SimpleString | cst.ConcatenatedString)
    )


def _is_future(stmt: cst.SimpleStatementLine) -> bool:
    return any(
        isinstance(s, cst.ImportFrom)
        and isinstance(s.module, cst.Name)
        and s.module.value == "__future__"
        for s in stmt.body
    )


def in_framework_hook(site_info: object) -> bool:
    """Lightning hooks, HF Trainer methods: the framework handles modes and gradients."""
    if not isinstance(site_info, FunctionInfo):
        return False
    if site_info.cls is None:
        return False
    if api.FRAMEWORK_HOOKS.match(site_info.name):
        return True
    bases = set(site_info.cls.bases)
    return bool(bases & (api.LIGHTNING_BASES | api.FRAMEWORK_TRAINER_BASES))


def framework_class(ctx: RuleContext, site_info: object) -> bool:
    if not isinstance(site_info, FunctionInfo) or site_info.cls is None:
        return False
    name = site_info.cls.name
    return ctx.facts.class_bases_in(name, api.LIGHTNING_BASES | api.FRAMEWORK_TRAINER_BASES)


def sensitivity_note(
    ctx: RuleContext, key: str, origins: Iterable[Origin | None] = ()
) -> tuple[bool | None, str]:
    """Whether the model at ``key`` has mode-dependent layers, and a note when it has none;
    a parameter's model, known here as nothing, as the callers in other files that passed it
    know it (``origins``: where its modes were set)."""
    verdict = ctx.facts.mode_sensitivity(key)
    cls = ctx.facts.module_class.get(key, "")
    if not cls and (held := ctx.facts.held_module(key)) is not None:
        cls = held[0]  # a module an instance of another file's plain class holds
    if verdict is None:
        sites = [o.caller if o is not None else None for o in origins]
        if sites and all(site is not None for site in sites):
            verdicts = {site.sensitive for site in sites if site is not None}
            if len(verdicts) == 1:
                verdict = next(iter(verdicts))
                cls = next(site.model_class for site in sites if site is not None)
    if verdict is False:
        return False, (
            f" (`{cls.rsplit('.', 1)[-1]}` has no Dropout, BatchNorm or other mode-dependent "
            "layers, so results do not change today)"
        )
    return verdict, ""


# methods that hand back the module they are called on (``Net().to(device)``)
_SAME_MODULE = frozenset({"to", "cuda", "cpu", "float", "double", "half", "requires_grad_"})


def built_sensitivity(
    ctx: RuleContext, origins: Iterable[Origin | None]
) -> tuple[bool | None, str] | None:
    """Like ``sensitivity_note``, for a module built where ``origins`` say (``model =
    Inference(weights)`` inside ``test()``): the classes built there decide, not what the
    same name holds elsewhere in the file. None when a construction's class is not known."""
    classes: set[str] = set()
    built: dict[str, cst.Call | None] = {}  # the one construction of each class, if one
    for origin in origins:
        if origin is None or not origin.constructed or origin.caller is not None:
            return None
        node = origin.node
        while (
            type(node) is cst.Call
            and type(node.func) is cst.Attribute
            and node.func.attr.value in _SAME_MODULE
        ):
            node = node.func.value
        if type(node) is not cst.Call or key_of(node.func) is None:
            return None
        name = ctx.facts.imports.resolve(node.func) or key_of(node.func) or ""
        if name not in ctx.facts.classes and not name.startswith("torch.nn."):
            return None
        if name.startswith("torch.nn.") and name.rsplit(".", 1)[-1] in CONTAINERS:
            return None  # ``nn.Sequential(...)``: its layers decide (``sensitivity_note``)
        classes.add(name)
        built[name] = node if built.get(name, node) is node else None
    verdicts = {ctx.facts.class_sensitivity(cls, built[cls]) for cls in classes}
    if not classes or True in verdicts:
        return (True, "") if classes else None
    if verdicts == {False}:
        names = ", ".join(f"`{cls.rsplit('.', 1)[-1]}`" for cls in sorted(classes))
        return False, (
            f" ({names} has no Dropout, BatchNorm or other mode-dependent layers, so results "
            "do not change today)"
        )
    return None, ""


def elsewhere(site: CallerSite, line: int | None = None) -> str:
    """A line of the calling file, ``train.py:27``: "line N" in a message always names a line
    of the reported file (editors renumber those as the file is edited, notebooks as cells)."""
    return f"{site.path}:{site.line if line is None else line}"


def called_from(site: CallerSite) -> str:
    """ "called from train.py:27 (`eval_net(net, val_loader)`)"."""
    return f"called from {elsewhere(site)} (`{site.call}`)"


def caller_related(site: CallerSite, call_says: str, set_says: str = "") -> list[Related]:
    """The places in the calling file: the call (``call_says``) and, with ``set_says``, where
    that file set what it passed."""
    if not site.file:
        return []
    out = []
    if site.span is not None:
        out.append(Related(Range.of(*site.span), call_says, site.file))
    if set_says and site.set_span is not None and site.set_span != site.span:
        out.append(Related(Range.of(*site.set_span), set_says, site.file))
    return out


def set_there(site: CallerSite) -> str:
    """Where the caller's file set the value it passed: "`net.train()` at train.py:21"."""
    if site.set_line is None:
        return ""
    return f"`{site.set_code}` at {elsewhere(site, site.set_line)}"


def grad_off(event: ev.Forward) -> bool:
    return bool(event.grad) and all(g.enabled is False for g in event.grad)


def trained_in(flow: object, loop: cst.CSTNode | None) -> set[str]:
    """Modules trained (backward/step) inside ``loop`` of ``flow`` (the whole flow if None)."""
    keys: set[str] = set()
    for e in flow.events:  # type: ignore[attr-defined]
        if isinstance(e, ev.Train) and (loop is None or any(lp is loop for lp in e.loops)):
            keys.update(e.models)
    return keys


def is_evaluation(ctx: RuleContext, flow: object, event: ev.Forward) -> bool:
    """Evaluation code: no training step around this forward, or gradients are off and the
    loop around it does not train this model (a teacher, a target network)."""
    if acting(ctx, flow, event):
        return False
    if event.evaluation:
        return True
    if not grad_off(event):
        return False
    loop = event.loops[-1] if event.loops else None
    # a no-grad pass over a dev loader inside the training loop evaluates even the trained model
    if event.iterated:
        return True
    if event.key not in trained_in(flow, loop):
        # a loop stepping an optimizer built out of sight (``optimizer = state.optimizer``)
        # trains models nobody can name: its no-grad forward may well be part of the step
        # (features cached for gradient accumulation), not an evaluation
        return loop is None or event.over_eval_data or not _steps_unknown_models(flow, loop)
    if loop is None:
        # outside any loop, after the model's last training step: the test prediction that
        # follows training in a script or notebook
        at = ctx.range_of(event.anchor).start
        return all(
            ctx.range_of(e.anchor).start < at
            for e in flow.events  # type: ignore[attr-defined]
            if isinstance(e, ev.Train) and event.key in e.models
        )
    return False


def _steps_unknown_models(flow: object, loop: cst.CSTNode) -> bool:
    """Does ``loop`` step an optimizer whose models are not known (no training recorded)?"""
    events = flow.events  # type: ignore[attr-defined]
    trained = {
        (id(e.node), tuple(map(id, e.via)))
        for e in events
        if isinstance(e, ev.Train) and e.kind == "step"
    }
    return any(
        isinstance(e, ev.Step)
        and any(lp is loop for lp in e.loops)
        and (id(e.node), tuple(map(id, e.via))) not in trained
        for e in events
    )


# ``obs, reward, done, info = env.step(action)``: a reinforcement-learning environment
_ENV_STEP = re.compile(
    r"\b\w*env\w*(?:\.\w+)*\.step\(|^[ \t]*\w+\s*,\s*\w+\s*,\s*\w+[^=\n]*=\s*[\w.]+\.step\(",
    re.IGNORECASE | re.MULTILINE,
)


def acting(ctx: RuleContext, flow: object, event: ev.Forward) -> bool:
    """Reinforcement learning: a forward inside the iteration that trains the same network,
    which also steps an environment, chooses actions or computes targets (the network is in
    train mode there on purpose); and outside an evaluation function, a forward in a loop that
    steps an environment collects experience (a teacher filling a replay buffer)."""
    if event.via or event.over_eval_data:
        return False
    for lp in event.loops:
        if event.key in trained_in(flow, lp):
            return _steps_environment(ctx, lp, event.node)
    info = event.site.info
    if not event.loops or (info is not None and ctx.flow.inference_name(info.name)):
        return False
    return _steps_environment(ctx, event.loops[-1], event.node)


def _steps_environment(ctx: RuleContext, loop: cst.CSTNode, inside: cst.CSTNode) -> bool:
    """Whether ``loop`` (around ``inside``, a node of the same top-level statement) steps an
    environment."""
    key = ("env-step", id(loop))
    found = ctx.memo.get(key)
    if found is None:
        found = ctx.memo[key] = _chunk_steps_environment(ctx, ctx.chunk_of(inside)) and bool(
            _ENV_STEP.search(ctx.code(loop))
        )
    return bool(found)


def _chunk_steps_environment(ctx: RuleContext, chunk: Chunk) -> bool:
    """Whether the top-level statement's text has a match at all: a loop's code is a piece of
    it (only its indentation differs, which the pattern allows), so without one no loop of it
    steps an environment, and the loops' code need not be generated (most files: an
    optimizer's step() is all there is)."""
    return ctx.of_text(chunk, "env-step", lambda c: _ENV_STEP.search(c.text) is not None)


def entered_by_base(ctx: RuleContext, flow: FunctionFlow, key: str) -> bool:
    """A method nothing in this file calls, running a module its class inherits from a plain
    base class of another file (``self.model``, set there): that base class's code calls it,
    in the mode and grad mode it chose, as a caller in this file would."""
    info = flow.info
    if info is None or info.cls is None or flow.called:
        return False
    return any(key == k or key.startswith(k + ".") for k in ctx.facts.inherited)


def skip_framework(ctx: RuleContext, event: ev.Event) -> bool:
    info = event.site.info
    key = ("skip-framework", id(info))  # the same for every event of a function
    known = ctx.memo.get(key)
    if known is None:
        known = ctx.memo[key] = (
            in_framework_hook(info)
            or framework_class(ctx, info)
            or unit_test(ctx, info, event.site.called)
            or module_internals(ctx, info)
        )
    return bool(known)


def module_internals(ctx: RuleContext, site_info: object) -> bool:
    """A method of an nn.Module subclass is the model's own code (its forward, its loss
    heads): whether it runs in evaluation, and how its loss terms are summed, is its caller's
    business."""
    if not isinstance(site_info, FunctionInfo) or site_info.cls is None:
        return False
    cls = site_info.cls
    if "forward" in cls.methods or ctx.facts.class_is_module(cls.name):
        return True
    # bases from relative imports (``from ...modeling_utils import PreTrainedModel``) are not
    # resolved: judge by name
    return any(
        base.startswith("torch.nn.") or base.rsplit(".", 1)[-1].endswith(("Module", "Model"))
        for base in cls.bases
    )


def unit_test(ctx: RuleContext, site_info: object, called: bool = False) -> bool:
    """A pytest/unittest test of a model (shapes, dtypes) is not an evaluation of a trained one."""
    if not isinstance(site_info, FunctionInfo) or not site_info.name.startswith("test_"):
        return False
    # a test_* method of a test class (unittest's TestCase, pytest's Test*) is a test case; a
    # trainer's test_epoch() is its evaluation
    cls = site_info.cls
    if cls is not None:
        return any(_test_like(name) for name in (cls.name, *cls.bases))
    if ctx.facts.imports.imports_any(("pytest", "unittest")):
        return True
    # pytest collects the test_* functions of test_*.py and *_test.py files without the file
    # importing it; a test_net() the file's own code calls is a script's evaluation
    return not called and _pytest_file(ctx)


def _pytest_file(ctx: RuleContext) -> bool:
    project = ctx.settings.project
    if project is None:
        return False
    name = os.path.basename(project.path)
    return name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py"))


def _test_like(class_name: str) -> bool:
    name = class_name.rsplit(".", 1)[-1]
    return name.startswith("Test") or name.endswith(("Test", "Tests", "TestCase"))


def first_candidate(candidates: Iterable[Fix | None]) -> Fix | None:
    """The fix most likely offered, without checking that it works (see ``Finding.fix_preview``)."""
    return next((fix for fix in candidates if fix is not None), None)


def first_that_works(
    ctx: RuleContext, code: str, at: Range, candidates: Iterable[Fix | None]
) -> tuple[Fix, ...]:
    """The first candidate fix that removes its finding, as a one-fix tuple (none if no
    candidate does). ``candidates`` is consumed lazily: later ones are built only if needed."""
    for fix in candidates:
        if fix is not None and removes(ctx, code, at, fix):
            return (fix,)
    return ()


def removes(ctx: RuleContext, code: str, at: Range, fix: Fix) -> bool:
    """Does ``fix`` give code that compiles and no longer has the ``code`` finding at ``at``?

    Fixes that place a statement by the flow (a ``train()`` after an evaluation, a
    ``zero_grad()``) are checked by analysing the fixed text: a path the placement misses
    (a ``continue``, a helper called twice, a second step) would otherwise leave the finding
    in place, and a finding without a fix is better than a fix that does not fix it."""
    # The collector stays off until the check's analysis is dropped: a young collection
    # would otherwise walk all of it while it is still alive (~8 % of a check).
    with collection_paused():
        return _removes(ctx, code, at, fix)


def _removes(ctx: RuleContext, code: str, at: Range, fix: Fix) -> bool:
    if ctx.reanalyze is None:
        return False
    source = ctx.source
    offsets = ctx.memo.get("line-offsets")  # the same for every fix checked on this text
    if offsets is None:
        offsets = ctx.memo["line-offsets"] = line_offsets(source)
    assert isinstance(offsets, list)
    try:
        fixed = apply_edits(source, fix.edits, offsets)
    except ValueError:
        return False
    # The analysis' own cache, forked: only the edited chunk is parsed again and only the
    # functions it changes are analysed again (a fix check costs about one keystroke).
    cache = ctx.flow.cache
    after = ctx.reanalyze(
        fixed,
        # in its project: callers in other files may decide how its functions are entered
        Settings(
            select=frozenset({code}),
            declared=ctx.settings.declared,
            project=ctx.settings.project,
        ),
        cache.fork() if cache is not None else _Reusing(ctx.chunks),
    )
    ctx.flow.rebind()
    if after.syntax_error is not None or after.context is None:
        return False
    # libcst accepts a few things CPython does not: the top-level statements the fix changed
    # must compile (each on its own: compiling the whole file would cost more than the check)
    unchanged = {chunk.text for chunk in ctx.chunks}
    if not all(compiles(c.text) for c in after.context.chunks if c.text not in unchanged):
        return False
    spans = sorted(
        (
            (offset_of(offsets, source, e.range.start), offset_of(offsets, source, e.range.end), e)
            for e in fix.edits
        ),
        key=lambda span: (span[0], span[1]),
    )
    where = position_at(fixed, _moved(spans, offset_of(offsets, source, at.start)))
    return not any(f.code == code and f.range.start == where for f in after.findings)


class _Reusing(ChunkCache):
    """A cache of its own for checking a fix: the language server builds fixes in a thread
    beside its analysis worker, which owns the shared cache. It starts from the chunks parsed
    for the analysis (libcst trees are immutable), so only the edited chunk is parsed again."""

    def __init__(self, chunks: Iterable[Chunk]) -> None:
        super().__init__()
        self._parsed = {chunk.text: chunk.module for chunk in chunks}

    def parse(self, text: str, copy: int = 0) -> cst.Module | None:
        module = None if copy else self._parsed.get(text)
        return module if module is not None else super().parse(text, copy)


def _moved(spans: list[tuple[int, int, TextEdit]], point: int) -> int:
    """Where ``point`` of the old text is after the edits (inside a replaced span: its start;
    an insertion exactly at it comes before it)."""
    shift = 0
    for start, end, edit in spans:
        if point < start or (point == start and start != end):
            break
        if point < end:
            return start + shift
        shift += len(edit.new_text) - (end - start)
    return point + shift


_MADE_UP = frozenset(
    f"torch.{name}"
    for name in (
        "rand", "randn", "randint", "zeros", "ones", "empty", "full", "arange",
        "rand_like", "randn_like", "zeros_like", "ones_like", "empty_like",
    )
)  # fmt: skip


def shape_check(ctx: RuleContext, event: ev.Forward) -> bool:
    """One forward on made-up input (``model(torch.rand(1, 3, 513, 513))``, as a model's file
    does under ``if __name__ == "__main__":``, or in a ``test()`` it calls there, to print the
    output size): a check of shapes, not an evaluation of a trained model; its graph is one
    forward's, dropped at once."""
    call = event.node  # in the function that runs it (``event.site``), through calls or not
    if event.iterated or event.loops or event.site_loops or not isinstance(call, cst.Call):
        return False
    if not call.args:
        return False
    chunk = ctx.chunk_of(call)
    stmt = ctx.index(chunk).statement_of(call)
    made_up: set[str] = set()
    for before in ctx.siblings_before(stmt, chunk) if stmt is not None else []:
        if isinstance(before, cst.SimpleStatementLine):
            for small in before.body:
                if isinstance(small, cst.Assign):
                    names = {
                        t.target.value for t in small.targets if isinstance(t.target, cst.Name)
                    }
                    if _is_made_up(ctx, small.value, made_up):
                        made_up |= names
                    else:  # given real data since
                        made_up -= names
    # options (``model(x, is_feat=True)``, ``generator(z, None)``) are not input; a generator
    # told only how many samples to draw (``generator(None, 64)``) makes up its own noise
    return all(
        _is_made_up(ctx, arg.value, made_up) or _is_constant(arg.value) for arg in call.args
    ) and any(arg.keyword is None for arg in call.args)


def output_discarded(ctx: RuleContext, event: ev.Forward) -> bool:
    """The forward's output is dropped: the call is a statement of its own, or its value goes
    to plain names that nothing after it reads but for their shape (in its block, or in the
    blocks around it up to the function). A model file's self-test (``out = net(torch.randn(2,
    3, 64, 64))`` as the last line under ``__main__``, or ``print(out.shape)`` after it) looks
    at no value, so no mode or gradient setting can make a result wrong."""
    call = event.node
    if not isinstance(call, cst.Call):
        return False
    chunk = ctx.chunk_of(call)
    index = ctx.index(chunk)
    stmt = index.statement_of(call)
    if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1:
        return False
    small = stmt.body[0]
    if isinstance(small, cst.Expr):
        return small.value is call
    if not isinstance(small, cst.Assign) or small.value is not call:
        return False
    names = _target_names(small)
    if names is None:
        return False  # ``self.out = ...``, ``outs[i] = ...``: kept where a later reader may look
    later: list[cst.CSTNode] = []
    for current in (stmt, *index.ancestors(stmt)):
        if isinstance(current, cst.FunctionDef | cst.ClassDef):
            break  # the function's locals end with it
        later.extend(s for s, _ in ctx.siblings_after(current, chunk))
    return not any(_reads_any(s, names) for s in later)


def _target_names(assign: cst.Assign) -> set[str] | None:
    """The plain names an assignment binds (``out = ...``, ``out, aux = ...``); None when it
    stores anywhere else."""
    names: set[str] = set()
    for target in assign.targets:
        node = target.target
        parts = (
            [e.value for e in node.elements] if isinstance(node, cst.Tuple | cst.List) else [node]
        )
        for part in parts:
            if not isinstance(part, cst.Name):
                return None
            names.add(part.value)
    return names


_SHAPE_ATTRIBUTES = frozenset({"shape", "size", "dim", "ndim", "dtype", "device"})


def _reads_any(node: cst.CSTNode, names: set[str]) -> bool:
    """Whether ``node`` reads one of ``names`` for more than its shape (``out.shape``,
    ``out.size()``)."""
    found = False
    shape_only: set[int] = set()

    class _Reads(cst.CSTVisitor):
        def visit_Attribute(self, attr: cst.Attribute) -> None:
            if isinstance(attr.value, cst.Name) and attr.attr.value in _SHAPE_ATTRIBUTES:
                shape_only.add(id(attr.value))

        def visit_Name(self, name: cst.Name) -> None:
            nonlocal found
            found = found or (name.value in names and id(name) not in shape_only)

    node.visit(_Reads())
    return found


def _is_constant(node: cst.BaseExpression) -> bool:
    if isinstance(node, cst.Name):
        return node.value in {"True", "False", "None"}
    return isinstance(node, cst.Integer | cst.Float | cst.SimpleString)


def _is_made_up(ctx: RuleContext, node: cst.BaseExpression, made_up: set[str]) -> bool:
    if isinstance(node, cst.Name):
        return node.value in made_up
    if isinstance(node, cst.List | cst.Tuple):
        # skip features for a decoder: ``[torch.zeros(...), torch.zeros(...)]``
        return bool(node.elements) and all(
            isinstance(e, cst.Element) and _is_made_up(ctx, e.value, made_up) for e in node.elements
        )
    if isinstance(node, cst.ListComp):
        return _is_made_up(ctx, node.elt, made_up)
    if not isinstance(node, cst.Call):
        return False
    func = node.func
    if isinstance(func, cst.Attribute) and func.attr.value in _SAME_DATA:
        return _is_made_up(ctx, func.value, made_up)  # torch.rand(...).to(device)
    if ctx.facts.imports.resolve(func) in _MADE_UP:
        return True
    # a layer's output on made-up input (a tutorial passing noise through layer after layer
    # to print each size) is made up as well
    key = key_of(func)
    return (
        key is not None
        and key in ctx.facts.module_keys
        and any(a.keyword is None for a in node.args)
        and all(_is_made_up(ctx, a.value, made_up) or _is_constant(a.value) for a in node.args)
    )


# methods that give the same numbers in another shape, type or place
_SAME_DATA = frozenset(
    {"to", "cuda", "float", "half", "view", "reshape", "flatten", "unsqueeze", "squeeze"}
)


def first_statement(node: cst.FunctionDef) -> cst.BaseStatement | None:
    """The first statement of a function's body after its docstring."""
    body = block_statements(node.body)
    if body and isinstance(body[0], cst.SimpleStatementLine) and _is_docstring(body[0]):
        body = body[1:]
    return body[0] if body else None
