"""Callers in other files of the project: which files import a module, how their code refers
to its functions, and how a function is entered when its callers there decide.

``eval.py`` defines ``eval_net(net, loader)`` and nothing in ``eval.py`` calls it; ``train.py``
does, with ``net`` in train mode. The checker of ``eval.py`` finds ``train.py`` through a
reverse index of the project's imports (the import statements' words of every file, read
without parsing and kept while the file's size and modification time are unchanged), reads the
calls ``train.py`` makes (project.py analyses it once, for its summary too) and enters
``eval_net`` in the modes and grad mode its callers give it.

Every caller must be known: a file that refers to the function other than by calling it
(``callbacks=[eval_net]``), calls it where the analysis does not go (a lambda), re-exports it
from a package, or a notebook that imports its module, leaves its callers unknown, and the
function is then entered as before (as on entry).
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from stat import S_ISREG

import libcst as cst

from torchmode.engine.code_tokens import COMMENT, NAME, NEWLINE, NL, STRING, Unreadable, code_tokens
from torchmode.engine.values import CallerSite, Mode, Span

# What a call passes to one parameter: each possible mode, with where its caller set it
# (None: nothing known there)
Passed = frozenset[tuple[Mode, CallerSite | None]]
UNKNOWN_PASSED: Passed = frozenset({(Mode.UNKNOWN, None)})


@dataclass(frozen=True)
class CallSite:
    """A call in another file of the project to a function of this one (plain data)."""

    positional: tuple[Passed | None, ...]  # None: no module known to be passed there
    keywords: tuple[tuple[str, Passed | None], ...]
    unpacked: bool  # ``*args`` / ``**kwargs``: nothing is known of what binds where
    grad: frozenset[tuple[bool | None, CallerSite | None]]  # None: as the caller was entered
    evaluates: bool  # made where the caller evaluates
    here: CallerSite | None = None  # the call itself (nothing set: no ``set_line``)
    # the calling file's function it is made in, when the call's grad mode is "as that
    # function was entered" and its own callers in other files decide that (calls_out.py)
    caller: str = ""
    # the literal booleans passed (``run_epoch(model, loader, training=False)``): by position
    # (None: not a literal) and by keyword
    positional_flags: tuple[bool | None, ...] = ()
    keyword_flags: tuple[tuple[str, bool], ...] = ()


@dataclass(frozen=True)
class RepeatedCall:
    """A call in another file of the project, made inside a loop there, to a function of this
    one or to a method of one of its classes (``gan.step(batch)`` for each batch): the
    function runs once per iteration, and what it leaves (gradients) meets its next run."""

    site: CallerSite  # the call
    loop_line: int  # the loop's first line there (1-based)
    loop_code: str  # its header, shortened (``for batch in loader``)
    loop_span: Span | None
    # the loop may clear gradients around the call (a zero_grad() or ``.grad`` in it, or the
    # objects the call is given handed to another call there, which nothing here can see into)
    may_clear: bool
    # the other methods called on the same object in that loop (``gan.reset()``): what they do
    # is for the file of its class to say
    also_calls: tuple[str, ...] = ()
    # what changes from one iteration to the next (a name the loop binds: ``for agent in
    # agents: agent.update()`` updates each agent once): the object a method is called on, each
    # positional argument, each keyword argument
    receiver_varies: bool = False
    positional: tuple[bool, ...] = ()
    keywords: tuple[tuple[str, bool], ...] = ()
    unpacked: bool = False  # ``*args`` / ``**kwargs``: what binds where is not known


@dataclass(frozen=True)
class Entry:
    """How a function is entered when its callers in other files decide: per parameter the
    modes passed at every call, the grad mode at every call, and whether every call is made
    where its caller evaluates."""

    modes: dict[str, Passed] = field(default_factory=dict)
    grad: frozenset[tuple[bool | None, CallerSite | None]] = frozenset()
    evaluates: bool = False
    flags: dict[str, bool] = field(default_factory=dict)  # the same literal at every call


def entry_of(node: cst.FunctionDef, sites: Iterable[CallSite]) -> Entry | None:
    """Each parameter of ``node`` bound at each call (positional, keyword; a default or
    anything not known: unknown), joined over the calls."""
    params = node.params
    positional = [p.name.value for p in (*params.posonly_params, *params.params)]
    by_name = {*positional, *(p.name.value for p in params.kwonly_params)}
    modes: dict[str, set[tuple[Mode, CallerSite | None]]] = {name: set() for name in by_name}
    grad: set[tuple[bool | None, CallerSite | None]] = set()
    evaluates = True
    count = 0
    flags: dict[str, bool | None] = {}
    for site in sites:
        count += 1
        bound: dict[str, Passed | None] = {}
        given: dict[str, bool | None] = {}
        if not site.unpacked:
            bound.update(zip(positional, site.positional, strict=False))
            bound.update((name, passed) for name, passed in site.keywords if name in by_name)
            given.update(zip(positional, site.positional_flags, strict=False))
            given.update(site.keyword_flags)
        for name in by_name:
            flag = given.get(name)
            flags[name] = flag if count == 1 or flags.get(name) == flag else None
        for name in by_name:
            modes[name] |= bound.get(name) or UNKNOWN_PASSED
        grad |= site.grad
        evaluates = evaluates and site.evaluates
    if not count:
        return None
    return Entry(
        {k: frozenset(v) for k, v in modes.items()},
        frozenset(grad),
        evaluates,
        {name: flag for name, flag in flags.items() if flag is not None},
    )


# -- how a file refers to names: tokens, not a parse ---------------------------------------
def references(text: str, heads: set[str]) -> dict[tuple[str, bool], int]:
    """(dotted name starting with one of ``heads``, followed by a call?) -> how many times it
    appears in code outside import statements (strings and comments are not code). A ``def``
    of that name counts as a call."""
    out: dict[tuple[str, bool], int] = {}
    try:
        tokens = code_tokens(text)
    except Unreadable:
        return {("", False): 1}  # not readable: something unknown refers to them
    statement_start = True
    in_import = False
    i = 0
    n = len(tokens)
    while i < n:
        kind, value = tokens[i]
        if kind == NEWLINE or value == ";":
            statement_start, in_import = True, False
            i += 1
            continue
        if kind in (NL, COMMENT):
            i += 1
            continue
        if statement_start and kind == NAME and value in ("import", "from"):
            in_import = True
        statement_start = False
        if kind == STRING and "f" in value[: value.find(value[-1])].lower():
            # an f-string is one token before Python 3.12: the code of its replacement
            # fields (``f"{evaluate(net, loader):.3f}"``) is read from its text; its literal
            # part (``f"val accuracy {acc}"``) is text, not a reference
            _count_in_text(_replacement_fields(value), heads, out)
            i += 1
            continue
        if (
            kind == NAME
            and value in heads
            and not in_import
            and not (i and tokens[i - 1][1] == ".")
        ):
            parts = [value]
            j = i + 1
            while j + 1 < n and tokens[j][1] == "." and tokens[j + 1][0] == NAME:
                parts.append(tokens[j + 1][1])
                j += 2
            called = j < n and tokens[j][1] == "("
            key = (".".join(parts), called)
            out[key] = out.get(key, 0) + 1
            i = j
            continue
        i += 1
    return out


def _replacement_fields(token: str) -> str:
    """The code of an f-string token's replacement fields, one per line; the whole token when
    its braces do not pair up (then a name in its text counts: callers unknown, never wrong)."""
    start = token.find(token[-1])
    quote = token[start : start + 3] if token[start : start + 3] in ('"""', "'''") else token[start]
    body = token[start + len(quote) : len(token) - len(quote)]
    fields: list[str] = []
    i, n = 0, len(body)
    while i < n:
        char = body[i]
        if char in "{}" and body[i : i + 2] in ("{{", "}}"):
            i += 2
            continue
        if char == "}":
            return token
        if char != "{":
            i += 1
            continue
        depth, j = 1, i + 1
        while j < n and depth:
            if body[j] in "{[(":
                depth += 1
            elif body[j] in "}])":
                depth -= 1
            j += 1
        if depth:
            return token
        fields.append(body[i + 1 : j - 1])
        i = j
    return "\n".join(fields)


def _count_in_text(text: str, heads: set[str], out: dict[tuple[str, bool], int]) -> None:
    for match in _DOTTED.finditer(text):
        if match["head"] in heads:
            key = (match["head"] + (match["rest"] or ""), match["call"] is not None)
            out[key] = out.get(key, 0) + 1


_DOTTED = re.compile(r"(?<![\w.])(?P<head>[A-Za-z_]\w*)(?P<rest>(?:\.\w+)*)\s*(?P<call>\()?")


# -- the reverse index: which files' imports name a module --------------------------------
_IMPORT = re.compile(r"^[ \t]*(?:from[ \t]+[.\w]+[ \t]+import\b|import[ \t]+)[^\n]*", re.MULTILINE)
_WORD = re.compile(r"[A-Za-z_]\w*")
_SKIPPED_DIRS = {"__pycache__", "node_modules", "site-packages", "dist-packages"}
MAX_PROJECT_FILES = 20_000  # a bigger tree: its callers are not looked for
_REFRESH_SECONDS = 5.0  # how long a listing of the project's files is trusted


# in a notebook's JSON, each line of a cell's source is a string
_NOTEBOOK_IMPORT = re.compile(
    r'(?:^|")[ \t]*(?:from[ \t]+[.\w]+[ \t]+import\b|import[ \t]+)[^\n"]*', re.MULTILINE
)


def module_word(path: str) -> str:
    """The word a file's importers name it by: its stem, or its package's for ``__init__.py``."""
    name = Path(path)
    return name.parent.name if name.name == "__init__.py" else name.stem


def import_words(text: str, notebook: bool = False) -> frozenset[str]:
    """The words of a file's import statements (``from pkg.eval import (a, b)``: pkg, eval,
    import, a, b): a file imports a module only if the module's name is among them."""
    words: set[str] = set()
    for match in (_NOTEBOOK_IMPORT if notebook else _IMPORT).finditer(text):
        statement = match.group(0)
        if "(" in statement and ")" not in statement:
            end = text.find(")", match.end())
            statement = text[match.start() : end if end != -1 else match.end()]
        words.update(_WORD.findall(statement))
    return frozenset(words)


@dataclass
class _Index:
    checked: float = -1.0
    files: dict[str, tuple[tuple[int, int], frozenset[str]]] = field(default_factory=dict)
    too_big: bool = False
    imports: str | None = None  # imports_digest of this listing, once asked


_LOCK = threading.Lock()
_INDEXES: dict[str, _Index] = {}


def importers(root: str, module_word: str) -> list[str] | None:
    """The ``.py`` and ``.ipynb`` files under ``root`` whose imports name ``module_word``
    (None: the project is too big to look)."""
    with _LOCK:
        index = _fresh_index(root)
        if index.too_big:
            return None
        return [path for path, (_, words) in index.files.items() if module_word in words]


def _fresh_index(root: str) -> _Index:
    """The project's listing, read again when older than _REFRESH_SECONDS (under _LOCK)."""
    index = _INDEXES.setdefault(root, _Index())
    now = time.monotonic()
    if now - index.checked > _REFRESH_SECONDS:
        _refresh(root, index)
        index.imports = None
        index.checked = now
    return index


def listing_digest(root: str) -> str:
    """A fingerprint of which ``.py`` and ``.ipynb`` files the project has (where imports
    resolve to): a summary kept between runs is not trusted once a file was added or removed."""
    with _LOCK:
        names = "\n".join(sorted(_fresh_index(root).files))
    return hashlib.sha256(names.encode("utf-8", "surrogatepass")).hexdigest()


def imports_digest(root: str) -> str:
    """A fingerprint of the project's import graph: which ``.py`` and ``.ipynb`` files it has
    and the words of each one's imports. While it is equal, a function has the same files that
    may call it (an analysis read the callers it found among them, by their summaries)."""
    with _LOCK:
        index = _fresh_index(root)
        if index.imports is not None:
            return index.imports
        files = sorted(index.files.items())
        digest = hashlib.sha256(b"too big\n" if index.too_big else b"")
        for path, (_, words) in files:
            digest.update(path.encode("utf-8", "surrogatepass"))
            digest.update(b"\0" + " ".join(sorted(words)).encode("utf-8", "surrogatepass"))
            digest.update(b"\n")
        index.imports = digest.hexdigest()
        return index.imports


def listings_outdated() -> None:
    """Files changed on disk (an editor was told): the next look lists the projects again."""
    with _LOCK:
        for index in _INDEXES.values():
            index.checked = -1.0


def _refresh(root: str, index: _Index) -> None:
    found: dict[str, tuple[tuple[int, int], frozenset[str]]] = {}
    index.too_big = False
    for folder, dirs, names in os.walk(root):
        dirs[:] = [
            d
            for d in dirs
            if not d.startswith(".")
            and d not in _SKIPPED_DIRS
            and not os.path.exists(os.path.join(folder, d, "pyvenv.cfg"))
        ]
        for name in names:
            if not name.endswith((".py", ".ipynb")):
                continue
            path = os.path.join(folder, name)
            try:
                stat = os.stat(path)
            except OSError:
                continue
            if not S_ISREG(stat.st_mode):
                continue  # a fifo would block the read for ever; a device, stream without end
            stamp = (stat.st_size, stat.st_mtime_ns)
            known = index.files.get(path)
            if known is not None and known[0] == stamp:
                found[path] = known
                continue
            try:
                text = Path(path).read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            found[path] = (stamp, import_words(text, name.endswith(".ipynb")))
        if len(found) > MAX_PROJECT_FILES:
            index.too_big = True
            break
    index.files = found
