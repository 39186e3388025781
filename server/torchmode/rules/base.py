"""What a rule is: its code, stable name, docs and its own examples (which are also tests)."""

from __future__ import annotations

from dataclasses import dataclass, field

from torchmode.findings import Severity

DOCS_URL = "https://github.com/torchmode/torchmode/blob/main/docs/rules.md#{anchor}"


@dataclass(frozen=True)
class Invalid:
    """Code the rule must report: ``lines`` are the 1-based lines of the expected findings;
    ``fix`` what applying every fix of this rule changes, as diff hunks (see ``apply_hunks``;
    None: no fix offered). ``fixed`` is the source after the fix."""

    source: str
    lines: tuple[int, ...]
    fix: str | None = None
    unsafe: bool = False  # the fix is an unsafe one (applied with --unsafe-fixes)

    @property
    def fixed(self) -> str | None:
        return None if self.fix is None else apply_hunks(self.source, self.fix)


def apply_hunks(source: str, hunks: str) -> str:
    """``source`` changed by ``hunks``: unified-diff hunks located by their lines, not by
    line numbers.

    Each hunk starts with a line that starts with ``@@`` (the rest of it is ignored, so
    ``git diff`` output pastes as it is); then lines starting with ``" "`` (context), ``"-"``
    (removed) or ``"+"`` (added); an empty line is an empty context line. A hunk's context and
    removed lines, in order, must occur exactly once in ``source``, and hunks come in the order
    of the source. ``source`` ends with a newline, and so does the result.
    """
    if not source.endswith("\n"):
        raise ValueError("the source must end with a newline")
    lines = source[:-1].split("\n")
    parsed: list[tuple[list[str], list[str]]] = []
    for line in hunks.removesuffix("\n").split("\n"):
        if line.startswith("@@"):
            parsed.append(([], []))
        elif not parsed:
            raise ValueError(f"hunks must start with an @@ line, not {line!r}")
        elif line == "" or line[0] == " ":
            parsed[-1][0].append(line[1:])
            parsed[-1][1].append(line[1:])
        elif line[0] == "-":
            parsed[-1][0].append(line[1:])
        elif line[0] == "+":
            parsed[-1][1].append(line[1:])
        else:
            raise ValueError(f"a hunk line starts with ' ', '-' or '+': {line!r}")
    out: list[str] = []
    done = 0  # lines of the source already copied or replaced
    for old, new in parsed:
        if not old:
            raise ValueError("a hunk needs a context or removed line to be found by")
        found = [i for i in range(len(lines)) if lines[i : i + len(old)] == old]
        if len(found) != 1:
            where = "\n".join(old)
            raise ValueError(f"a hunk's old lines occur {len(found)} times, not once:\n{where}")
        if found[0] < done:
            raise ValueError("hunks overlap or are out of order")
        out += lines[done : found[0]] + new
        done = found[0] + len(old)
    return "\n".join(out + lines[done:]) + "\n"


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    summary: str
    default_severity: Severity
    docs: str = ""  # Markdown: What it does / Why is this bad? / Example / Use instead / Options
    invalid: tuple[Invalid, ...] = field(default=(), repr=False)
    valid: tuple[str, ...] = field(default=(), repr=False)

    @property
    def anchor(self) -> str:
        return f"{self.code.lower()}-{self.name}"

    @property
    def url(self) -> str:
        return DOCS_URL.format(anchor=self.anchor)

    @property
    def title(self) -> str:
        return f"{self.code} {self.name}"


def diff_hunks(source: str, fixed: str, context: int = 2) -> str:
    """Hunks for ``apply_hunks`` that turn ``source`` into ``fixed``: ``context`` lines around
    each change, more where fewer would not be found exactly once."""
    import difflib

    old, new = source[:-1].split("\n"), fixed[:-1].split("\n")
    for n in range(context, max(len(old), context) + 1):
        parts: list[str] = []
        matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
        for group in matcher.get_grouped_opcodes(n):
            parts.append("@@")
            for tag, i1, i2, j1, j2 in group:
                if tag == "equal":
                    parts += [" " + line if line else "" for line in old[i1:i2]]
                else:
                    parts += ["-" + line for line in old[i1:i2]]
                    parts += ["+" + line for line in new[j1:j2]]
        hunks = "\n".join(parts) + "\n"
        try:
            if apply_hunks(source, hunks) == fixed:
                return hunks
        except ValueError:
            continue
    raise ValueError("no hunks turn the source into the fixed source")
