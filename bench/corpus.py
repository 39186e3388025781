"""Benchmark corpus builder: realistic PyTorch projects and big modules, generated offline.

The templates are the training/evaluation scripts of ``tests/corpus/valid``,
``tests/corpus/invalid`` and ``examples/`` (plus any directory given with ``--templates``).
Every generated file is a variation of them: bound names renamed consistently, two or three
templates combined into one module, a template nested inside a class or a function, unrelated
helper functions mixed in. Most files of a real repository are not training code at all, so a
project also gets utility modules (configuration, paths, text, caching...) of which some mention
none of the trigger words (the CLI skips those unparsed) and some do so innocently.

    python bench/corpus.py project OUT_DIR --files 1000 [--seed 0] [--templates DIR]
    python bench/corpus.py module OUT.py --lines 5000 [--seed 0]
"""

from __future__ import annotations

import argparse
import ast
import builtins
import io
import keyword
import random
import re
import textwrap
import tokenize
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_DIRS = (ROOT / "tests" / "corpus" / "valid", ROOT / "tests" / "corpus" / "invalid")
EXAMPLES = ROOT / "examples"

# The words that make the CLI read a file further (torchmode.cli.checking.TRIGGER_WORDS, broader
# than the engine's own): utility modules meant to be skipped are checked against it.
TRIGGER = re.compile(r"eval|train|grad|backward|step|inference_mode")
EXPECT_COMMENT = re.compile(r"\s*# expect: [A-Z0-9, ]+$")

# Never renamed: what PyTorch, Lightning, HF and Python itself give meaning to.
PROTECTED = frozenset(dir(builtins)) | frozenset(keyword.kwlist) | {
    "self", "cls", "super", "train", "eval", "training", "step", "zero_grad", "backward",
    "no_grad", "inference_mode", "enable_grad", "set_grad_enabled", "parameters", "mode",
    "named_parameters", "modules", "children", "apply", "forward", "item", "detach", "grad",
    "requires_grad", "requires_grad_", "state_dict", "load_state_dict", "to", "cuda", "cpu",
    "closure", "torch", "nn", "optim", "F", "data", "args", "kwargs", "device",
}  # fmt: skip

SYNONYMS: dict[str, tuple[str, ...]] = {
    "model": ("net", "network", "classifier", "clf", "predictor", "backbone_net"),
    "optimizer": ("opt", "solver", "optimiser", "param_optimizer"),
    "criterion": ("loss_fn", "loss_func", "objective", "criterion_fn"),
    "loss": ("batch_loss", "cost", "objective_value", "loss_value"),
    "train_loader": ("train_dl", "train_batches", "tr_loader", "loader_tr"),
    "val_loader": ("valid_dl", "val_batches", "dev_dl", "holdout_loader"),
    "dev_loader": ("dev_dl", "dev_batches", "validation_loader"),
    "test_loader": ("test_dl", "test_batches", "eval_batches"),
    "loader": ("dl", "batches", "data_iter", "batch_source"),
    "epochs": ("num_epochs", "n_epochs", "max_epochs"),
    "epoch": ("ep", "epoch_idx", "cur_epoch"),
    "x": ("inputs", "xb", "features", "batch_x"),
    "y": ("targets", "yb", "labels_b", "batch_y"),
    "inputs": ("x_in", "batch_inputs", "samples"),
    "targets": ("y_true", "gold", "batch_targets"),
    "outputs": ("logits", "preds", "out", "scores"),
    "output": ("result", "pred", "out_t"),
    "correct": ("n_correct", "hits", "num_right"),
    "total": ("n_seen", "count", "num_total"),
    "scheduler": ("lr_sched", "sched", "lr_scheduler"),
    "batch": ("minibatch", "mb", "sample_batch"),
    "images": ("imgs", "pixels", "frames"),
    "labels": ("classes_b", "tags", "gt"),
}
SUFFIXES = ("_2", "_v2", "_main", "_a", "_b", "_local", "_cur", "_new")
PROJECT_WORDS = (
    "vision", "speech", "textcls", "segment", "detect", "recsys", "graphnet", "tabular",
    "forecast", "caption", "retinal", "protein", "audio", "lidar", "ocr", "summar",
)  # fmt: skip


@dataclass
class Template:
    """A training/evaluation script split into its top-level statements."""

    name: str
    imports: list[str]
    statements: list[str]  # everything but imports, docstring and the __main__ guard
    main_guard: str | None
    defined: frozenset[str]  # top-level function and class names
    bindings: frozenset[str]  # every renamable name bound anywhere in the file
    callables: frozenset[str]  # every function, method and class name (keyword owners)
    words: frozenset[str]  # every identifier in the file (new names must avoid them)


def _statement_start(node: ast.stmt) -> int:
    decorators = getattr(node, "decorator_list", [])
    return min([node.lineno, *(d.lineno for d in decorators)])


def _is_main_guard(node: ast.stmt) -> bool:
    return (
        isinstance(node, ast.If)
        and isinstance(node.test, ast.Compare)
        and isinstance(node.test.left, ast.Name)
        and node.test.left.id == "__name__"
    )


def _bound_names(tree: ast.Module) -> tuple[set[str], set[str], set[str]]:
    """(renamable bindings, method names, all def/class names)."""
    bound: set[str] = set()
    methods: set[str] = set()
    callables: set[str] = set()
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            bound.add(node.name)
            callables.add(node.name)
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                    methods.add(item.name)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            bound.add(node.name)
            callables.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            bound.add(node.id)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            imported.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.Global | ast.Nonlocal):
            imported.update(node.names)  # keep module-level state names stable
    # Methods keep their names: they may override a framework hook, and ``self.name``
    # must keep meaning the method.
    renamable = {n for n in bound - methods - imported - PROTECTED if not n.startswith("__")}
    return renamable, methods, callables


def load_template(path: Path) -> Template | None:
    source = path.read_text(encoding="utf-8")
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    lines = [EXPECT_COMMENT.sub("", line) for line in source.splitlines()]
    imports: list[str] = []
    statements: list[str] = []
    main_guard = None
    previous_end = 0
    for index, node in enumerate(tree.body):
        start = _statement_start(node)
        # Comments just above a statement belong to it.
        while start - 1 > previous_end and lines[start - 2].lstrip().startswith("#"):
            start -= 1
        text = "\n".join(lines[start - 1 : node.end_lineno]) + "\n"
        previous_end = node.end_lineno or start
        if index == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # the template's docstring describes the test case, not the code
        if isinstance(node, ast.Import | ast.ImportFrom):
            if not (isinstance(node, ast.ImportFrom) and node.module == "__future__"):
                imports.append(text.strip())
        elif _is_main_guard(node):
            main_guard = text
        else:
            statements.append(text)
    if not statements:
        return None
    renamable, _methods, callables = _bound_names(tree)
    defined = {
        n.name
        for n in tree.body
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    }
    words = {t.string for t in _tokens(source) if t.type == tokenize.NAME}
    return Template(
        path.stem,
        imports,
        statements,
        main_guard,
        frozenset(defined),
        frozenset(renamable),
        frozenset(callables),
        frozenset(words),
    )


def load_templates(extra: Iterable[Path] = ()) -> list[Template]:
    paths: list[Path] = []
    for directory in (*TEMPLATE_DIRS, EXAMPLES, *extra):
        paths.extend(sorted(Path(directory).rglob("*.py")))
    templates = [t for t in map(load_template, paths) if t is not None]
    if not templates:
        raise SystemExit("no usable templates found")
    return templates


def _tokens(source: str) -> Iterator[tokenize.TokenInfo]:
    return tokenize.generate_tokens(io.StringIO(source).readline)


def rename(
    source: str,
    mapping: dict[str, str],
    callables: frozenset[str],
    bare: frozenset[str] = frozenset(),
) -> str:
    """Rename identifiers throughout ``source`` (attributes and f-strings too, consistently).

    A keyword argument keeps its name unless the called function is one of the template's own
    (``Adam(params, lr=lr)`` must keep ``lr=``; ``fit(x, epochs=3)`` follows ``def fit``).
    Names in ``bare`` are renamed only where they are not an attribute: a top-level
    ``def train()`` may be renamed, ``model.train()`` must stay.
    """
    if not mapping:
        return source
    tokens = [t for t in _tokens(source) if t.type not in (tokenize.NL, tokenize.COMMENT)]
    replacements: list[tuple[tuple[int, int], tuple[int, int], str]] = []
    brackets: list[str | None] = []  # per open bracket: the called name, or None
    word = re.compile(r"(\.?)\b(" + "|".join(map(re.escape, mapping)) + r")\b")

    def in_string(match: re.Match[str]) -> str:
        dot, name = match.groups()
        return match.group(0) if dot and name in bare else dot + mapping[name]

    for i, tok in enumerate(tokens):
        if tok.type == tokenize.OP and tok.string in "([{":
            before = tokens[i - 1] if i else None
            called = None
            if tok.string == "(" and before is not None and before.type == tokenize.NAME:
                called = before.string
            brackets.append(called)
        elif tok.type == tokenize.OP and tok.string in ")]}":
            if brackets:
                brackets.pop()
        elif tok.type == tokenize.NAME and tok.string in mapping:
            if tok.string in bare and i and tokens[i - 1].string == ".":
                continue
            after = tokens[i + 1] if i + 1 < len(tokens) else None
            is_keyword = (
                brackets and after is not None and after.type == tokenize.OP and after.string == "="
            )
            callee = brackets[-1] if brackets else None
            if is_keyword and callee is not None and callee not in callables:
                continue
            replacements.append((tok.start, tok.end, mapping[tok.string]))
        elif tok.type == tokenize.STRING and re.match(r"(?i)r?fr?['\"]", tok.string):
            renamed = word.sub(in_string, tok.string)
            if renamed != tok.string:
                replacements.append((tok.start, tok.end, renamed))
    lines = source.splitlines(keepends=True)
    for (row, col), (end_row, end_col), new in reversed(replacements):
        if row != end_row:  # a multi-line f-string: rejoin, replace, split again
            joined = "".join(lines[row - 1 : end_row])
            end_offset = len(joined) - len(lines[end_row - 1]) + end_col
            joined = joined[:col] + new + joined[end_offset:]
            lines[row - 1 : end_row] = joined.splitlines(keepends=True)
        else:
            line = lines[row - 1]
            lines[row - 1] = line[:col] + new + line[end_col:]
    return "".join(lines)


def _new_name(name: str, taken: set[str], rng: random.Random, suffix: str) -> str:
    options = [*SYNONYMS.get(name, ()), *(name + s for s in SUFFIXES)]
    rng.shuffle(options)
    for option in options:
        candidate = option + suffix
        if candidate not in taken and not keyword.iskeyword(candidate):
            return candidate
    index = 2
    while f"{name}{suffix}_{index}" in taken:
        index += 1
    return f"{name}{suffix}_{index}"


@dataclass(frozen=True)
class Renaming:
    mapping: dict[str, str]
    callables: frozenset[str]
    bare: frozenset[str]

    def __call__(self, source: str) -> str:
        return rename(source, self.mapping, self.callables, self.bare)


def renaming(
    template: Template,
    rng: random.Random,
    taken: set[str],
    share: float = 0.6,
    unique_suffix: str = "",
) -> Renaming:
    """A consistent renaming of some of the template's names.

    With ``unique_suffix``, every top-level definition is renamed with it, so that several
    templates can share one module without one definition replacing another (a definition
    whose name is also a method or a PyTorch name is renamed where it is not an attribute).
    """
    taken = taken | set(template.words)
    mapping: dict[str, str] = {}
    bare: set[str] = set()
    for name in sorted(template.bindings | template.defined):
        forced = bool(unique_suffix) and name in template.defined
        if not forced and (name not in template.bindings or rng.random() > share):
            continue
        new = _new_name(name, taken, rng, unique_suffix if forced else "")
        taken.add(new)
        mapping[name] = new
        if name not in template.bindings:
            bare.add(name)
    return Renaming(mapping, template.callables, frozenset(bare))


def _indent(text: str, prefix: str = "    ") -> str:
    return textwrap.indent(text, prefix, lambda line: line.strip() != "")


def _nested(template: Template, renamed: Renaming, rng: random.Random, index: int) -> str:
    """The template's statements inside a class (functions as static methods) or a function."""
    if rng.random() < 0.5:
        parts = []
        for statement in template.statements:
            if re.match(r"(async\s+)?def\s", statement):
                statement = "@staticmethod\n" + statement
            parts.append(statement)
        inner = renamed("\n\n".join(parts))
        return f'class Experiment{index}:\n    """Bundles one experiment\'s code."""\n\n' + (
            _indent(inner) + "\n"
        )
    inner = renamed("\n\n".join(template.statements))
    return (
        f"def build_experiment_{index}(config=None):\n"
        '    """Defines the experiment\'s pieces lazily (as notebooks exported to code do)."""\n'
        + _indent(inner)
        + "    return locals()\n"
    )


@dataclass
class Module:
    imports: list[str] = field(default_factory=list)
    parts: list[str] = field(default_factory=list)
    main_guard: str | None = None

    def add_imports(self, imports: Iterable[str]) -> None:
        for line in imports:
            if line not in self.imports:
                self.imports.append(line)

    def text(self, docstring: str) -> str:
        # Plain imports first, then from-imports, each alphabetical, as isort would have them.
        imports = sorted(self.imports, key=lambda line: (line.startswith("from"), line))
        header = f'"""{docstring}"""\n\n' + "\n".join(imports) + "\n\n\n"
        body = "\n\n".join(p.rstrip("\n") + "\n" for p in self.parts)
        guard = f"\n\n{self.main_guard}" if self.main_guard else ""
        return header + body + guard


def _add_template(
    module: Module,
    template: Template,
    rng: random.Random,
    taken: set[str],
    suffix: str,
    style: str,
    index: int,
) -> None:
    renamed = renaming(template, rng, taken, unique_suffix=suffix)
    taken.update(renamed.mapping.values())
    taken.update(template.words)
    module.add_imports(template.imports)
    if style == "nested":
        module.parts.append(_nested(template, renamed, rng, index))
        return
    for statement in template.statements:
        module.parts.append(renamed(statement))
    if style == "main" and template.main_guard:
        module.main_guard = renamed(template.main_guard)


def training_module(templates: list[Template], rng: random.Random, index: int) -> str:
    """One training/evaluation file: a template varied, combined or nested, plus helpers."""
    module = Module()
    taken: set[str] = set()
    shape = rng.choices(("single", "combined", "nested"), weights=(5, 3, 2))[0]
    if shape == "single":
        _add_template(module, rng.choice(templates), rng, taken, "", "main", index)
    elif shape == "combined":
        for part, template in enumerate(rng.sample(templates, rng.randint(2, 3))):
            _add_template(module, template, rng, taken, f"_{part + 1}", "plain", index)
    else:
        _add_template(module, rng.choice(templates), rng, taken, "", "nested", index)
    for _ in range(rng.randint(0, 3)):
        imports, code = utility_snippet(rng, taken)
        module.add_imports(imports)
        module.parts.insert(rng.randint(0, len(module.parts)), code)
    return module.text(f"{rng.choice(PROJECT_WORDS).capitalize()} experiment {index}.")


# ---- utility code that has nothing to do with training ------------------------------------

_SNIPPETS: tuple[tuple[tuple[str, ...], str], ...] = (
    (
        ("import json", "from pathlib import Path"),
        '''def load_{n}(path: str | Path) -> dict:
    """Reads a JSON settings file, returning an empty mapping when it is missing."""
    path = Path(path)
    if not path.exists():
        return {{}}
    with path.open(encoding="utf-8") as handle:
        return json.load(handle)


def save_{n}(values: dict, path: str | Path) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(values, indent=2, sort_keys=True), encoding="utf-8")
''',
    ),
    (
        ("from dataclasses import dataclass, field",),
        """@dataclass
class {N}Options:
    name: str = "{n}"
    width: int = {k}
    height: int = {k2}
    tags: list[str] = field(default_factory=list)

    def area(self) -> int:
        return self.width * self.height

    def with_tag(self, tag: str) -> "{N}Options":
        return {N}Options(self.name, self.width, self.height, [*self.tags, tag])
""",
    ),
    (
        ("import re",),
        '''_WORD_{N} = re.compile(r"[A-Za-z]+")


def tokens_{n}(text: str) -> list[str]:
    """Lower-cased words of ``text``, punctuation dropped."""
    return [w.lower() for w in _WORD_{N}.findall(text)]


def slug_{n}(text: str, limit: int = {k}) -> str:
    words = tokens_{n}(text)
    slug = "-".join(words)
    return slug[:limit].rstrip("-")
''',
    ),
    (
        ("import functools", "import time"),
        '''def timed_{n}(func):
    """Logs how long each call of ``func`` took."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return func(*args, **kwargs)
        finally:
            elapsed = time.perf_counter() - start
            print(f"{{func.__name__}} took {{elapsed:.3f}} s")

    return wrapper
''',
    ),
    (
        ("from collections import OrderedDict",),
        '''class {N}Cache:
    """A small least-recently-used cache."""

    def __init__(self, capacity: int = {k}) -> None:
        self.capacity = capacity
        self._items: OrderedDict = OrderedDict()

    def get(self, key, default=None):
        if key not in self._items:
            return default
        self._items.move_to_end(key)
        return self._items[key]

    def put(self, key, value) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.capacity:
            self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)
''',
    ),
    (
        ("import os", "from pathlib import Path"),
        '''def find_files_{n}(root: str, suffix: str = ".{ext}") -> list[Path]:
    """Every file below ``root`` ending in ``suffix``, sorted for reproducibility."""
    found = []
    for directory, _dirs, names in os.walk(root):
        for name in names:
            if name.endswith(suffix):
                found.append(Path(directory) / name)
    return sorted(found)


def ensure_dir_{n}(path: str) -> Path:
    result = Path(os.path.expanduser(path))
    result.mkdir(parents=True, exist_ok=True)
    return result
''',
    ),
    (
        ("import math",),
        """def mean_std_{n}(values: list[float]) -> tuple[float, float]:
    if not values:
        return 0.0, 0.0
    mean = sum(values) / len(values)
    var = sum((v - mean) ** 2 for v in values) / max(len(values) - 1, 1)
    return mean, math.sqrt(var)


def percentile_{n}(values: list[float], q: float = {q}) -> float:
    ordered = sorted(values)
    if not ordered:
        return math.nan
    k = (len(ordered) - 1) * q
    lo, hi = math.floor(k), math.ceil(k)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)
""",
    ),
    (
        ("import logging", "import sys"),
        """def make_logger_{n}(name: str = "{n}", level: int = logging.INFO) -> logging.Logger:
    logger = logging.getLogger(name)
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        logger.addHandler(handler)
    logger.setLevel(level)
    return logger
""",
    ),
    (
        ("import csv",),
        """def read_rows_{n}(path: str, columns: tuple[str, ...] = ("id", "label")) -> list[dict]:
    rows = []
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            rows.append({{c: row.get(c, "") for c in columns}})
    return rows


def write_rows_{n}(path: str, rows: list[dict]) -> int:
    if not rows:
        return 0
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return len(rows)
""",
    ),
    (
        ("import hashlib",),
        """def digest_{n}(data: bytes, length: int = {k}) -> str:
    return hashlib.sha256(data).hexdigest()[:length]


def chunked_{n}(items: list, size: int = {k2}) -> list[list]:
    return [items[i : i + size] for i in range(0, len(items), size)]


class {N}Registry:
    def __init__(self) -> None:
        self._entries: dict[str, object] = {{}}

    def register(self, name: str):
        def decorator(obj):
            self._entries[name] = obj
            return obj

        return decorator

    def build(self, name: str, *args, **kwargs):
        return self._entries[name](*args, **kwargs)
""",
    ),
)

# Real helpers that mention a trigger word without being training code: parsed by the CLI.
_INNOCENT: tuple[tuple[tuple[str, ...], str], ...] = (
    (
        (),
        """def frange_{n}(start: float, stop: float, step: float = {q}) -> list[float]:
    values = []
    value = start
    while value < stop:
        values.append(round(value, 6))
        value += step
    return values
""",
    ),
    (
        ("import ast",),
        '''def evaluate_literal_{n}(text: str):
    """Parses a config value written as a Python literal."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text
''',
    ),
    (
        (),
        """def split_{n}(items: list, train_share: float = 0.{k}) -> tuple[list, list]:
    cut = int(len(items) * train_share)
    return items[:cut], items[cut:]
""",
    ),
)


def utility_snippet(
    rng: random.Random, taken: set[str], innocent: bool = False
) -> tuple[tuple[str, ...], str]:
    imports, code = rng.choice(_INNOCENT if innocent else _SNIPPETS)
    while True:
        n = f"{rng.choice(PROJECT_WORDS)}_{rng.randint(0, 999)}"
        if n not in taken:
            taken.add(n)
            break
    filled = code.format(
        n=n,
        N="".join(p.capitalize() for p in n.split("_")),
        k=rng.randint(8, 96),
        k2=rng.randint(2, 64),
        q=rng.choice((0.5, 0.9, 0.25)),
        ext=rng.choice(("json", "txt", "csv", "yaml")),
    )
    return imports, filled


def utility_module(rng: random.Random, innocent: bool) -> str:
    module = Module()
    taken: set[str] = set()
    for i in range(rng.randint(3, 12)):
        imports, code = utility_snippet(rng, taken, innocent and i == 0)
        module.add_imports(imports)
        module.parts.append(code)
    text = module.text("Helpers shared across the project.")
    if not innocent and TRIGGER.search(text):
        raise AssertionError("a utility module meant to be skipped mentions a trigger word")
    return text


# ---- whole projects and big single modules --------------------------------------------------

AREAS_TRAINING = ("engine", "scripts", "tools", "recipes")
AREAS_UTILITY = ("utils", "data", "io", "ops", "config")


@dataclass
class ProjectStats:
    files: int = 0
    lines: int = 0
    training: int = 0
    innocent: int = 0
    skippable: int = 0


def build_project(
    out: Path,
    files: int,
    seed: int = 0,
    templates: list[Template] | None = None,
    training_share: float = 0.45,
    innocent_share: float = 0.2,
) -> ProjectStats:
    """Writes ``files`` .py files below ``out`` (packages nested like a real repository)."""
    templates = templates or load_templates()
    rng = random.Random(seed)
    package = out / f"{rng.choice(PROJECT_WORDS)}lab"
    stats = ProjectStats()
    counters: dict[Path, int] = {}

    def place(area: str) -> Path:
        # About 30 files a folder; a big project grows sub-packages like real ones do.
        sub = rng.randint(0, max(0, files // 150))
        directory = package / area / f"part{sub}" if sub else package / area
        if directory not in counters:
            directory.mkdir(parents=True, exist_ok=True)
            counters[directory] = 0
            if stats.files < files:
                write(directory / "__init__.py", "")
        counters[directory] += 1
        return directory / f"{area}_{counters[directory]}.py"

    def write(path: Path, text: str) -> None:
        path.write_text(text, encoding="utf-8")
        stats.files += 1
        stats.lines += text.count("\n")

    out.mkdir(parents=True, exist_ok=True)
    while stats.files < files:
        roll = rng.random()
        if roll < training_share:
            text = training_module(templates, rng, stats.files)
            path = place(rng.choice(AREAS_TRAINING))
            stats.training += 1
        elif roll < training_share + innocent_share:
            text = utility_module(rng, innocent=True)
            path = place(rng.choice(AREAS_UTILITY))
            stats.innocent += 1
        else:
            text = utility_module(rng, innocent=False)
            path = place(rng.choice(AREAS_UTILITY))
            stats.skippable += 1
        if stats.files < files:
            write(path, text)
    return stats


def build_module(lines: int, seed: int = 0, templates: list[Template] | None = None) -> str:
    """One training module of at least ``lines`` lines: many templates side by side."""
    templates = templates or load_templates()
    rng = random.Random(seed)
    module = Module()
    taken: set[str] = set()
    # Every template once (in a shuffled order) before any repeats.
    order = rng.sample(templates, len(templates))
    index = 0
    size = 0
    while size < lines:
        template = order[index] if index < len(order) else rng.choice(templates)
        style = "nested" if rng.random() < 0.15 else "plain"
        before = len(module.parts)
        _add_template(module, template, rng, taken, f"_{index}", style, index)
        if rng.random() < 0.3:
            imports, code = utility_snippet(rng, taken)
            module.add_imports(imports)
            module.parts.append(code)
        size += sum(p.count("\n") + 1 for p in module.parts[before:])
        index += 1
    return module.text(f"All experiments of the {rng.choice(PROJECT_WORDS)} study in one module.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    project = commands.add_parser("project", help="a directory tree of files")
    project.add_argument("out", type=Path)
    project.add_argument("--files", type=int, default=1000)
    module = commands.add_parser("module", help="one big training module")
    module.add_argument("out", type=Path)
    module.add_argument("--lines", type=int, default=5000)
    for sub in (project, module):
        sub.add_argument("--seed", type=int, default=0)
        sub.add_argument("--templates", type=Path, action="append", default=[])
    args = parser.parse_args()
    templates = load_templates(args.templates)
    if args.command == "project":
        stats = build_project(args.out, args.files, args.seed, templates)
        print(
            f"{stats.files} files, {stats.lines} lines: {stats.training} training/evaluation "
            f"modules, {stats.innocent} helpers mentioning a trigger word, {stats.skippable} "
            f"helpers mentioning none"
        )
    else:
        text = build_module(args.lines, args.seed, templates)
        args.out.write_text(text, encoding="utf-8")
        print(f"{text.count(chr(10))} lines written to {args.out}")


if __name__ == "__main__":
    main()
