"""Fast iteration over the parts of expressions that matter (calls, names).

libcst's visitors visit every node, whitespace included; the analysis only needs the
expressions, so it walks them directly and falls back to ``children`` for rare node types.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import libcst as cst

_LEAVES = frozenset(
    {
        cst.Name,
        cst.Integer,
        cst.Float,
        cst.Imaginary,
        cst.SimpleString,
        cst.Ellipsis,
    }
)


def sub_expressions(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Direct sub-expressions of an expression, in evaluation order."""
    if type(node) in _LEAVES:
        return
    if type(node) is cst.Call:
        yield node.func
        for arg in node.args:
            yield arg.value
    elif type(node) is cst.Attribute:
        yield node.value
    elif type(node) is cst.Subscript:
        yield node.value
        for el in node.slice:
            s = el.slice
            if type(s) is cst.Index:
                yield s.value
            elif type(s) is cst.Slice:
                for part in (s.lower, s.upper, s.step):
                    if part is not None:
                        yield part
    elif type(node) is cst.BinaryOperation or type(node) is cst.BooleanOperation:
        yield node.left
        yield node.right
    elif type(node) is cst.UnaryOperation:
        yield node.expression
    elif type(node) is cst.Comparison:
        yield node.left
        for target in node.comparisons:
            yield target.comparator
    elif type(node) is cst.Tuple or type(node) is cst.List or type(node) is cst.Set:
        for element in node.elements:
            yield element.value
    elif type(node) is cst.Dict:
        for item in node.elements:
            if type(item) is cst.DictElement:
                yield item.key
            yield item.value
    elif type(node) is cst.IfExp:
        yield node.test
        yield node.body
        yield node.orelse
    elif type(node) is cst.Await:
        yield node.expression
    elif type(node) is cst.StarredElement or type(node) is cst.NamedExpr:
        yield node.value
    elif type(node) is cst.ListComp or type(node) is cst.SetComp or type(node) is cst.GeneratorExp:
        yield from _comp_for(node.for_in)
        yield node.elt
    elif type(node) is cst.DictComp:
        yield from _comp_for(node.for_in)
        yield node.key
        yield node.value
    elif type(node) is cst.Lambda:
        return  # its body runs later, if ever
    elif type(node) is cst.ConcatenatedString:
        yield node.left
        yield node.right
    elif type(node) is cst.FormattedString:
        for piece in node.parts:
            if type(piece) is cst.FormattedStringExpression:
                yield piece.expression
    # small statements (libcst's generic ``children`` is slow: it runs a visitor per node)
    elif type(node) is cst.Expr:
        yield node.value
    elif type(node) is cst.Assign:  # in libcst's order (the generic path's), targets first
        for assign_target in node.targets:
            yield assign_target.target
        yield node.value
    elif type(node) is cst.AugAssign:
        yield node.target
        yield node.value
    elif type(node) is cst.AnnAssign:
        yield node.target
        yield node.annotation.annotation
        if node.value is not None:
            yield node.value
    elif type(node) is cst.Return:
        if node.value is not None:
            yield node.value
    else:
        for child in children(node):
            if isinstance(child, cst.BaseExpression):
                yield child
            else:
                yield from sub_expressions(child)


def _comp_for(comp: cst.CompFor) -> Iterator[cst.CSTNode]:
    yield comp.iter
    for cond in comp.ifs:
        yield cond.test
    if comp.inner_for_in is not None:
        yield from _comp_for(comp.inner_for_in)


def calls_in(node: cst.CSTNode) -> Iterator[cst.Call]:
    """Every call inside an expression, inner calls (arguments, receivers) first."""
    # (node, None): to look into; (call, call): its inner calls are out, the call itself next
    stack: list[tuple[cst.CSTNode, cst.Call | None]] = [(node, None)]
    while stack:
        current, expanded = stack.pop()
        if expanded is not None:
            yield expanded
            continue
        if type(current) is cst.Call:
            stack.append((current, current))
        children = list(sub_expressions(current))
        for child in reversed(children):
            if type(child) not in _LEAVES:  # most are names: nothing to look into
                stack.append((child, None))


def names_in(node: cst.CSTNode) -> Iterator[str]:
    stack = [node]
    while stack:
        current = stack.pop()
        if type(current) is cst.Name:
            yield current.value
        else:
            stack.extend(sub_expressions(current))


def _concrete(*bases: type) -> frozenset[type]:
    out: set[type] = set()
    stack = list(bases)
    while stack:
        cls = stack.pop()
        out.add(cls)
        stack.extend(cls.__subclasses__())
    return frozenset(out)


# nodes that hold only whitespace, brackets and punctuation: never a statement or an expression
_PUNCTUATION = _concrete(
    cst.BaseParenthesizableWhitespace,
    cst.TrailingWhitespace,
    cst.EmptyLine,
    cst.Comment,
    cst.Newline,
    cst.LeftParen,
    cst.RightParen,
    cst.LeftSquareBracket,
    cst.RightSquareBracket,
    cst.LeftCurlyBrace,
    cst.RightCurlyBrace,
    cst.Comma,
    cst.Dot,
    cst.Colon,
    cst.Semicolon,
    cst.AssignEqual,
    cst.BaseBinaryOp,
    cst.BaseBooleanOp,
    cst.BaseCompOp,
    cst.BaseUnaryOp,
    cst.BaseAugOp,
    cst.Asynchronous,
    cst.ImportStar,
    cst.ParamStar,
    cst.ParamSlash,
)

# where a node's fields are not declared in source order, the fields that come first
_SOURCE_ORDER: dict[type, tuple[str, ...]] = {
    cst.Arg: ("keyword", "value"),
    cst.FunctionDef: ("decorators", "name", "type_parameters", "params", "returns"),
    cst.ClassDef: ("decorators", "name", "type_parameters", "bases", "keywords"),
    cst.ExceptHandler: ("type", "name"),
    cst.ExceptStarHandler: ("type", "name"),
    cst.IfExp: ("body", "test"),
    cst.MatchCase: ("pattern", "guard"),
    cst.Parameters: ("posonly_params", "posonly_ind", "params", "star_arg", "kwonly_params"),
    cst.TypeAlias: ("name", "type_parameters"),
}
_FIELDS: dict[type, tuple[str, ...]] = {}


def _fields(kind: type) -> tuple[str, ...]:
    names = _FIELDS.get(kind)
    if names is None:
        declared = [f.name for f in dataclasses.fields(kind)]
        first = [name for name in _SOURCE_ORDER.get(kind, ()) if name in declared]
        names = _FIELDS[kind] = (*first, *(n for n in declared if n not in first))
    return names


def children(node: cst.CSTNode) -> list[cst.CSTNode]:
    """The statements, expressions and their parts directly inside ``node``, in source order;
    whitespace, brackets and punctuation left out. libcst's own ``children`` gives the same
    nodes (and the punctuation) but runs a visitor over the node to find them, which costs
    more than the whole analysis of most statements."""
    out: list[cst.CSTNode] = []
    for name in _fields(type(node)):
        value = getattr(node, name)
        if type(value) is tuple or type(value) is list:
            out.extend(
                v for v in value if isinstance(v, cst.CSTNode) and type(v) not in _PUNCTUATION
            )
        elif isinstance(value, cst.CSTNode) and type(value) not in _PUNCTUATION:
            out.append(value)
    return out
