"""Valid training programs built from the fragments real training code is made of.

A program mixes train/eval switches, grad-mode blocks, backward/step/zero_grad, validate
calls, loss accumulation, helpers and a trainer class with ``self.model``, nested at random.
Every drawn program compiles; its layout (indentation, line ends, Unicode) varies too, so
the same logic is seen through every way positions can be counted.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from hypothesis import strategies as st


@dataclass(frozen=True)
class Scope:
    """What the statements being drawn may refer to and which statements are legal."""

    model: str = "model"
    optimizer: str = "optimizer"
    loader: str = "loader"
    in_loop: bool = False
    in_function: bool = False


def leaves(s: Scope) -> list[str]:
    m, o = s.model, s.optimizer
    out = [
        f"{m}.train()",
        f"{m}.eval()",
        f"{m}.train(False)",
        f"{m}.train(mode=was_training)",
        f"{m}.eval(False)",  # TM103: a TypeError
        f"{m}.eval(True)",
        f"{m}.eval",  # TM103: a no-op attribute access
        f"{m}.train",
        f"{o}.zero_grad()",
        f"{o}.zero_grad(set_to_none=True)",
        f"{o}.step()",
        f"{m}.zero_grad()",
        "loss.backward()",
        f"loss = criterion({m}(batch), target)",
        f"out = {m}(batch)",
        "loss = out.sum()",
        "loss = loss / 4",
        "total += loss",
        "total = total + loss",
        "total += loss.item()",
        "losses.append(loss)",
        "losses.append(loss.detach())",
        f"validate({m})",
        f"evaluate({m}, {s.loader})",
        f"train_step({m}, {o}, batch)",
        "torch.set_grad_enabled(False)",
        "torch.set_grad_enabled(True)",
        f"was_training = {m}.training",
        f"if was_training: {m}.train()",
        'print(f"步骤 {i}: {total} 🚀")',
        f"模型 = {m}",
        "模型.eval()",
        "ответ = 模型(batch)  # ответ: 答え ✅",
        "scaler.scale(loss).backward()",
        f"scaler.step({o})",
        "accelerator.backward(loss)",
        f"{m} = torch.compile({m})",
        f"{m}.requires_grad_(False)",
        f"x = {m}(batch).detach()",
        "pass",
        f"loss = criterion(\n    {m}(batch),\n    target,\n)",
        f"{m}.eval(); out = {m}(batch); {m}.train()",
        "metrics = {'loss': loss, 'ß': 1}  # noqa: TM204",
        f"{m}.eval()  # torchmode: ignore[TM101]",
        "i += 1",
    ]
    if s.in_loop:
        out += ["break", "continue", "if i > 3: break"]
    if s.in_function:
        out += ["return", "return loss", "yield loss"]
    return out


COMPOUND_HEADERS = [
    ("for batch in {loader}:", True),
    ("for i, batch in enumerate({loader}):", True),
    ("for epoch in range(3):", True),
    ("while i < 10:", True),
    ("with torch.no_grad():", False),
    ("with torch.inference_mode():", False),
    ("with torch.set_grad_enabled(False):", False),
    ("with torch.enable_grad():", False),
    ("with torch.no_grad:", False),  # TM203
    ("with torch.autocast('cuda'), torch.no_grad():", False),
    ("if i % 10 == 0:", False),
    ("if (i + 1) % 4 == 0:", False),
]

Lines = list[tuple[int, str]]  # (nesting depth, text possibly spanning several lines)


@st.composite
def block(draw: st.DrawFn, scope: Scope, depth: int, max_depth: int) -> Lines:
    count = draw(st.integers(1, 5))
    lines: Lines = []
    for _ in range(count):
        if depth < max_depth and draw(st.integers(0, 3)) == 0:
            lines += draw(compound(scope, depth, max_depth))
        else:
            lines.append((depth, draw(st.sampled_from(leaves(scope)))))
    return lines


@st.composite
def compound(draw: st.DrawFn, scope: Scope, depth: int, max_depth: int) -> Lines:
    kind = draw(st.integers(0, len(COMPOUND_HEADERS) + 1))
    if kind == len(COMPOUND_HEADERS):
        body = draw(block(scope, depth + 1, max_depth))
        final = draw(block(scope, depth + 1, max_depth))
        return [(depth, "try:"), *body, (depth, "finally:"), *final]
    if kind == len(COMPOUND_HEADERS) + 1:
        body = draw(block(scope, depth + 1, max_depth))
        other = draw(block(scope, depth + 1, max_depth))
        return [(depth, "if i % 2:"), *body, (depth, "else:"), *other]
    header, loops = COMPOUND_HEADERS[kind]
    inner = replace(scope, in_loop=scope.in_loop or loops)
    body = draw(block(inner, depth + 1, max_depth))
    return [(depth, header.format(loader=scope.loader)), *body]


IMPORTS = [
    "import torch.nn as nn",
    "import torch.optim as optim",
    "from torch import no_grad",
    "from torch.cuda.amp import GradScaler",
]

SETUP = [
    "criterion = nn.CrossEntropyLoss()",
    "total = 0",
    "losses = []",
    "i = 0",
    "was_training = True",
    "scaler = GradScaler()",
]


def _function(name: str, params: str, body: Lines, decorator: str | None = None) -> Lines:
    head = [(0, decorator)] if decorator else []
    return [*head, (0, f"def {name}({params}):"), *[(d + 1, t) for d, t in body]]


@st.composite
def program_parts(draw: st.DrawFn) -> Lines:
    """The program as (depth, text) lines, before layout."""
    max_depth = draw(st.integers(1, 6))
    lines: Lines = [(0, "import torch")]
    lines += [(0, t) for t in draw(st.lists(st.sampled_from(IMPORTS), unique=True))]
    lines += [
        (0, "class Net(nn.Module):"),
        (1, "def forward(self, x):"),
        (2, "return self.layer(x)"),
    ]
    in_function = Scope(in_function=True)
    helpers = {
        "validate": ("model", None),
        "evaluate": ("model, loader", draw(st.sampled_from([None, "@torch.no_grad()"]))),
        "train_step": ("model, optimizer, batch", None),
    }
    for name, (params, decorator) in helpers.items():
        if draw(st.booleans()):
            body = draw(block(in_function, 0, max_depth - 1))
            lines += _function(name, params, body, decorator)
    if draw(st.booleans()):
        members = Scope("self.model", "self.optimizer", "self.loader", in_function=True)
        lines += [
            (0, "class Trainer:"),
            (1, "def __init__(self, model, optimizer, loader):"),
            (2, "self.model = model"),
            (2, "self.optimizer = optimizer"),
            (2, "self.loader = loader"),
            (1, "def fit(self):"),
            *[(d + 2, t) for d, t in draw(block(members, 0, max_depth - 1))],
        ]
    setup = [(0, "model = Net()"), (0, "optimizer = optim.SGD(model.parameters(), lr=0.1)")]
    setup += [(0, t) for t in SETUP]
    if draw(st.booleans()):
        body = draw(block(in_function, 0, max_depth))
        lines += _function("main", "loader, target", [*setup, *body])
    else:  # a script or notebook: the loop at module level
        lines += [*setup, *draw(block(Scope(), 0, max_depth))]
    return lines


@dataclass(frozen=True)
class Layout:
    indent: str = "    "
    newline: str = "\n"
    final_newline: bool = True
    blank_lines: bool = False


layouts = st.builds(
    Layout,
    indent=st.sampled_from(["    ", "  ", "\t", "     "]),
    newline=st.sampled_from(["\n", "\r\n", "\r"]),
    final_newline=st.booleans(),
    blank_lines=st.booleans(),
)


def render(lines: Lines, layout: Layout) -> str:
    out: list[str] = []
    for depth, text in lines:
        prefix = layout.indent * depth
        out += [prefix + part for part in text.split("\n")]
        if layout.blank_lines and depth == 0 and text.startswith(("def ", "class ")):
            out.insert(len(out) - 1, "")
    text = layout.newline.join(out)
    return text + layout.newline if layout.final_newline else text


@st.composite
def programs(draw: st.DrawFn) -> str:
    """A valid Python program (it compiles) made of training-loop fragments."""
    return render(draw(program_parts()), draw(layouts))
