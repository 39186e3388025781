"""The calls a file makes into functions of other files of the project, as plain data (what
callers.py joins into a function's entry): for each call, the modes of the modules it passes, the
grad mode it is made in, and where the calling file set them; and how the file names those
functions otherwise (a function passed around as a value hides its callers)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

import libcst as cst

from torchmode.engine import events as ev
from torchmode.engine.blocks import header_expressions, nested_blocks
from torchmode.engine.callers import CallSite, Passed, RepeatedCall, references
from torchmode.engine.chunks import code_of
from torchmode.engine.flow import FileFlow
from torchmode.engine.function_flow import FunctionFlow
from torchmode.engine.names import is_within, key_of, literal_bool, strip_identity
from torchmode.engine.values import CallerSite, GradVal, Mode, Span
from torchmode.engine.walk import calls_in

if TYPE_CHECKING:
    from torchmode.engine.project import ProjectContext


def calls_out(
    file_flow: FileFlow, text: str, path: Path, root: str
) -> tuple[
    dict[tuple[str, str], tuple[CallSite, ...]],
    dict[tuple[str, str], tuple[int, int]],
    dict[tuple[str, str], int],
    frozenset[tuple[str, str]],
    frozenset[str],
]:
    facts = file_flow.facts
    project = facts.project
    assert project is not None
    own = os.path.realpath(path)
    unknown: set[str] = set()
    for star in facts.imports.star_modules:
        found = _split(project, star + ".*")
        if found is not None:
            unknown.add(found[0])
    imported: set[tuple[str, str]] = set()
    heads: set[str] = set()
    for local, full in facts.imports.names.items():
        if local.startswith("*"):
            continue
        imported_module = _resolve(project, full)
        found = _split(project, full) if imported_module is None else None
        if imported_module is not None:
            heads.add(local)  # ``import eval``: ``eval.eval_net(...)``
        elif found is not None and found[0] != own:
            heads.add(local)
            imported.add((found[0], found[1]))
    refs: dict[tuple[str, str], tuple[int, int]] = {}
    for (chain, called), count in references(text, heads).items() if heads else ():
        head, _, rest = chain.partition(".")
        bound = facts.imports.names.get(head)
        if bound is None:
            continue
        qualified = f"{bound}.{rest}" if rest else bound
        found = _split(project, qualified)
        if found is None:
            as_value = _resolve(project, qualified)
            if as_value is not None:
                unknown.add(as_value)  # the module itself, passed around as a value
            continue
        target, name, whole = found
        in_call, other = refs.get((target, name), (0, 0))
        if called and whole:
            in_call += count
        else:
            other += count
        refs[(target, name)] = (in_call, other)

    flows = list(file_flow.all_flows())
    called_ids = {callee for flow in flows for callee in flow.callees}
    followed = _entered_from_other_files(file_flow, text, flows, called_ids)
    direct: dict[tuple[str, str], set[int]] = {}
    calls: dict[tuple[str, str], list[CallSite]] = {}
    relative = os.path.relpath(path, root) if path.is_absolute() else str(path)
    for flow in flows:
        root_flow = flow.info is None or id(flow.info.node) not in called_ids
        for event in flow.events_of(ev.ProjectCall):
            assert isinstance(event, ev.ProjectCall)
            place = (event.target, event.name)
            if not event.via:
                direct.setdefault(place, set()).add(id(event.node))
            if not root_flow and event.depends_on_caller():
                continue  # recorded again, in its callers' terms, where they call it
            caller = ""
            if flow.info is not None and flow.info.name in followed and event.depends_on_caller():
                caller = flow.info.name
            site = _site(file_flow, event, relative, own, caller)
            calls.setdefault(place, []).append(site)
    return (
        {place: tuple(sites) for place, sites in calls.items()},
        refs,
        {place: len(nodes) for place, nodes in direct.items()},
        frozenset(imported),
        frozenset(unknown),
    )


def repeated_calls(
    file_flow: FileFlow, path: Path, root: str
) -> dict[tuple[str, str], tuple[RepeatedCall, ...]]:
    """The file's calls into functions and class methods of other project files made inside a
    loop of the function that makes them: (real path, ``f`` or ``Class.method``) -> each."""
    relative = os.path.relpath(path, root) if path.is_absolute() else str(path)
    own = os.path.realpath(path)
    out: dict[tuple[str, str], list[RepeatedCall]] = {}
    for flow in file_flow.all_flows():
        clears: list[ev.Event] | None = None
        for event in flow.events_of(ev.ProjectCall):
            assert isinstance(event, ev.ProjectCall)
            if event.via or not event.loops or type(event.node) is not cst.Call:
                continue
            if clears is None:
                clears = list(flow.events_of(ev.Clear))
            loop = event.loops[-1]
            cleared = any(any(lp is loop for lp in e.loops) for e in clears)
            call = event.node
            bound = _bound_in_loop(loop)
            handed, also = _other_uses(loop, call, event.name, bound)

            def varies(node: cst.BaseExpression, bound: set[str] = bound) -> bool:
                key = _passed_key(node)
                return key is None or any(is_within(key, b) for b in bound)

            span = _header_span(file_flow, event.node, loop)
            at = _span(file_flow, event.node)
            site = CallerSite(
                relative, at[0] + 1 if at else 0, short(event.node), file=own, span=at
            )
            out.setdefault((event.target, event.name), []).append(
                RepeatedCall(
                    site,
                    span[0] + 1 if span is not None else 0,
                    _header(loop),
                    span,
                    cleared or handed or bool(_GRADIENTS.search(code_of(loop))),
                    also,
                    type(call.func) is cst.Attribute
                    and "." in event.name
                    and varies(call.func.value),
                    tuple(varies(a.value) for a in call.args if a.keyword is None and not a.star),
                    tuple((a.keyword.value, varies(a.value)) for a in call.args if a.keyword),
                    any(a.star for a in call.args),
                )
            )
    return {place: tuple(calls) for place, calls in out.items()}


# what clears gradients without a zero_grad() call the analysis sees: ``p.grad = None``,
# ``p.grad.zero_()``, a project's ``zero_grad`` wrapper of any name
_GRADIENTS = re.compile(r"zero_grad|\bgrad\b")


def _header_span(file_flow: FileFlow, inside: cst.CSTNode, loop: cst.CSTNode) -> Span | None:
    """The first line of ``loop``, a statement around ``inside`` (in the same chunk)."""
    try:
        chunk = file_flow.chunk_of(inside)
    except KeyError:
        return None
    # the statements down to the loop: only the loop's own code is generated for its position
    chain = file_flow.chains.get(id(inside), ())
    upto = next((i for i, stmt in enumerate(chain) if stmt is loop), None)
    start = (
        chunk.start_in(loop, chain[: upto + 1]) if upto is not None else chunk.range_of(loop).start
    )
    lines = chunk.text.splitlines()
    local = start.line - chunk.start_line
    end = len(lines[local]) if 0 <= local < len(lines) else start.character
    return (start.line, start.character, start.line, end)


def _header(loop: cst.CSTNode) -> str:
    """``for i, batch in enumerate(loader)``, shortened."""
    if type(loop) is cst.For:
        text = f"for {code_of(loop.target)} in {code_of(loop.iter)}"
    elif type(loop) is cst.While:
        text = f"while {code_of(loop.test)}"
    else:
        return ""
    text = " ".join(text.split())
    return text if len(text) <= 60 else text[:59] + "…"


def _other_uses(
    loop: cst.CSTNode, call: cst.Call, name: str, bound: set[str]
) -> tuple[bool, tuple[str, ...]]:
    """Whether another call in ``loop`` is handed what ``call`` is given (its receiver or its
    arguments, but the data the loop binds), and the other methods called on its receiver
    there."""
    func = call.func
    receiver = key_of(func.value) if "." in name and type(func) is cst.Attribute else None
    given = {
        k
        for a in call.args
        if (k := _passed_key(a.value)) is not None and not any(is_within(k, b) for b in bound)
    }
    if receiver is not None:
        given.add(receiver)
    handed = False
    also: set[str] = set()
    for other in _calls_in_loop(loop):
        if other is call:
            continue
        f = other.func
        if receiver is not None and type(f) is cst.Attribute and key_of(f.value) == receiver:
            also.add(f.attr.value)
            continue
        for arg in other.args:
            k = _passed_key(arg.value)
            if k is not None and any(is_within(k, g) or is_within(g, k) for g in given):
                handed = True
    return handed, tuple(sorted(also))


def _bound_in_loop(loop: cst.CSTNode) -> set[str]:
    """What ``loop`` binds on each iteration (names, attributes): its target, and what its
    body assigns."""
    out: set[str] = set()
    stack: list[cst.CSTNode] = [loop]
    while stack:
        stmt = stack.pop()
        if type(stmt) is cst.SimpleStatementLine:
            for small in stmt.body:
                if type(small) is cst.Assign:
                    for t in small.targets:
                        out.update(_target_keys(t.target))
                elif type(small) is cst.AnnAssign:
                    out.update(_target_keys(small.target))
            continue
        if type(stmt) in (cst.FunctionDef, cst.ClassDef):
            continue
        if type(stmt) is cst.For:
            out.update(_target_keys(stmt.target))
        elif type(stmt) is cst.With:
            for item in stmt.items:
                if item.asname is not None:
                    out.update(_target_keys(item.asname.name))
        stack.extend(nested_blocks(stmt))
    return out


def _target_keys(node: cst.BaseExpression) -> list[str]:
    if type(node) is cst.Tuple or type(node) is cst.List:
        return [k for el in node.elements for k in _target_keys(el.value)]
    if type(node) is cst.StarredElement:
        return _target_keys(node.value)
    key = key_of(node)
    return [key] if key is not None else []


def _passed_key(node: cst.BaseExpression) -> str | None:
    """The object an argument hands over: ``model`` for ``model``, ``model.parameters()``."""
    node = strip_identity(node)
    while type(node) is cst.Call and type(node.func) is cst.Attribute:
        node = node.func.value
    return key_of(node)


def _calls_in_loop(loop: cst.CSTNode) -> list[cst.Call]:
    out: list[cst.Call] = []
    stack: list[cst.CSTNode] = [loop]
    while stack:
        stmt = stack.pop()
        if type(stmt) is cst.SimpleStatementLine:
            for small in stmt.body:
                out.extend(calls_in(small))
            continue
        if type(stmt) in (cst.FunctionDef, cst.ClassDef):
            continue
        for header in header_expressions(stmt):
            out.extend(calls_in(header))
        stack.extend(nested_blocks(stmt))
    return out


def _resolve(project: ProjectContext, module: str) -> str | None:
    stripped = module.lstrip(".")
    source = project._source(stripped, len(module) - len(stripped))
    return os.path.realpath(source) if source is not None else None


def _split(project: ProjectContext, qualified: str) -> tuple[str, str, bool] | None:
    """``pkg.eval.eval_net.x`` -> (the real path of pkg/eval.py, ``eval_net``, whether that is
    the whole name): the longest prefix that is a project file, and the name after it."""
    stripped = qualified.lstrip(".")
    dots = qualified[: len(qualified) - len(stripped)]
    parts = stripped.split(".")
    for j in range(len(parts) - 1, 0, -1):
        found = _resolve(project, dots + ".".join(parts[:j]))
        if found is not None:
            return found, parts[j], j == len(parts) - 1
    if dots and len(parts) == 1 and _resolve(project, qualified) is None:
        # ``from . import eval_net``: a name of the package's __init__
        found = _resolve_package(project, dots)
        if found is not None:
            return found, parts[0], True
    return None


def _resolve_package(project: ProjectContext, dots: str) -> str | None:
    base = Path(project.path).parent
    for _ in range(len(dots) - 1):
        base = base.parent
    init = base / "__init__.py"
    if init.is_file() and os.path.realpath(init) != os.path.realpath(project.path):
        return os.path.realpath(init)
    return None


def _entered_from_other_files(
    file_flow: FileFlow, text: str, flows: list[FunctionFlow], called_ids: set[int]
) -> frozenset[str]:
    """The file's top-level functions entered only from other files, whose calls made as they
    were entered can be read in their own callers' terms (callers.py follows those): nothing
    here calls them, names them but their ``def``, or wraps them in a decorator."""
    names: set[str] = set()
    for flow in flows:
        info = flow.info
        if (
            info is None
            or info.cls is not None
            or info.outer is not None
            or flow.called
            or id(info.node) in called_ids
            or info.node.decorators
        ):
            continue
        if any(e.depends_on_caller() for e in flow.events_of(ev.ProjectCall)):
            names.add(info.name)
    if not names:
        return frozenset()
    own = references(text, names)
    if ("", False) in own:
        return frozenset()
    for (chain, called), count in own.items():
        name = chain.partition(".")[0]
        if chain != name or not called or count != 1:
            names.discard(name)
    # two functions of one name: which one a caller reaches is not known
    defined = [info.name for info in file_flow.facts.all_functions]
    return frozenset(name for name in names if defined.count(name) == 1)


def _site(
    file_flow: FileFlow, event: ev.ProjectCall, path: str, real: str, caller: str
) -> CallSite:
    facts = file_flow.facts
    span = _span(file_flow, event.node)
    line = span[0] + 1 if span is not None else 0
    call = short(event.node)

    def caller_site(
        origin_node: cst.CSTNode | None, constructed: bool, key: str | None
    ) -> CallerSite:
        sensitive, model = None, ""
        if key is not None:
            sensitive = facts.mode_sensitivity(key)
            model = facts.module_class.get(key, "")
        # ``Net().to(device)``: the class built, not the method that hands it back
        built_by = (
            strip_identity(origin_node) if isinstance(origin_node, cst.BaseExpression) else None
        )
        if constructed and type(built_by) is cst.Call:
            built = facts.imports.resolve(built_by.func) or code_of(built_by.func)
            if sensitive is None:
                sensitive = facts.class_sensitivity(built)
            model = model or built
        set_span = _span(file_flow, origin_node)
        return CallerSite(
            path,
            line,
            call,
            set_span[0] + 1 if set_span is not None else None,
            short(origin_node) if origin_node is not None else "",
            constructed,
            sensitive,
            model.rsplit(".", 1)[-1],
            real,
            span,
            set_span,
        )

    def passed(arg: ev.PassedArg) -> Passed | None:
        key, modes = arg
        if modes is None:
            return None
        out: set[tuple[Mode, CallerSite | None]] = set()
        for value in modes:
            if value.mode in (Mode.TRAIN, Mode.EVAL):
                origin = value.origin
                out.add(
                    (
                        value.mode,
                        caller_site(
                            origin.node if origin is not None else None,
                            origin is not None and origin.constructed,
                            key,
                        ),
                    )
                )
            else:
                out.add((Mode.UNKNOWN, None))
        return frozenset(out)

    def grad(value: GradVal) -> tuple[bool | None, CallerSite | None]:
        if value.enabled is None:
            return None, None
        node = value.origin.node if value.origin is not None else None
        return value.enabled, caller_site(node, False, None)

    return CallSite(
        tuple(passed(arg) for arg in event.positional),
        tuple((name, passed(arg)) for name, arg in event.keywords),
        event.unpacked,
        frozenset(grad(g) for g in event.grad),
        event.evaluates,
        caller_site(None, False, None),
        caller,
        *_flags(event.node),
    )


def _flags(
    call: cst.CSTNode,
) -> tuple[tuple[bool | None, ...], tuple[tuple[str, bool], ...]]:
    """The literal booleans a call passes, by position and by keyword."""
    if type(call) is not cst.Call:
        return (), ()
    positional = tuple(
        literal_bool(a.value) if not a.star else None for a in call.args if a.keyword is None
    )
    keywords = tuple(
        (a.keyword.value, flag)
        for a in call.args
        if a.keyword is not None and (flag := literal_bool(a.value)) is not None
    )
    return positional, keywords


def line_of(file_flow: FileFlow, node: cst.CSTNode | None) -> int | None:
    """The 1-based line of ``node`` in the file ``file_flow`` analysed."""
    span = _span(file_flow, node)
    return span[0] + 1 if span is not None else None


def _span(file_flow: FileFlow, node: cst.CSTNode | None) -> Span | None:
    if node is None:
        return None
    try:
        chunk = file_flow.chunk_of(node)
    except KeyError:
        return None
    chain = file_flow.chains.get(id(node))
    r = chunk.range_in(node, chain) if chain else chunk.range_of(node)
    return (r.start.line, r.start.character, r.end.line, r.end.character)


def short(node: cst.CSTNode | None, limit: int = 40) -> str:
    if node is None:
        return ""
    text = " ".join(code_of(node).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
