"""Settings shared by the CLI, the language server and pyproject.toml's [tool.torchmode]."""

from __future__ import annotations

from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Literal

from torchmode.findings import Severity

if TYPE_CHECKING:
    from torchmode.engine.project import ProjectContext

NoGradStyle = Literal["no_grad", "inference_mode"]


@dataclass(frozen=True)
class Declared:
    """What the analysis cannot see and a project declares in ``[tool.torchmode]``: decorators
    and context managers of installed packages that turn gradients off, names of functions
    that evaluate a model, and functions that something outside the project calls too."""

    # qualified (``utils.torch_tools.no_grad_when_possible``) or bare names
    grad_off: frozenset[str] = frozenset()
    # function names or shell-style patterns (``score_*``)
    evaluation: tuple[str, ...] = ()
    # function names, ``Class.method`` or shell-style patterns of either
    entry_points: tuple[str, ...] = ()

    def turns_grad_off(self, name: str | None) -> bool:
        if not self.grad_off or not name:
            return False
        last = name.rsplit(".", 1)[-1]
        return any(
            name == d or name.endswith("." + d) or ("." not in d and last == d)
            for d in self.grad_off
        )

    def evaluates(self, function_name: str) -> bool:
        return any(fnmatchcase(function_name, pattern) for pattern in self.evaluation)

    def is_entry_point(self, name: str, qualname: str) -> bool:
        """A function (``name``; ``Class.method`` as ``qualname``) that a launcher, a framework
        or another program also calls, with gradients on and its parameters' modes unknown."""
        return any(
            fnmatchcase(qualname, pattern) or ("." not in pattern and fnmatchcase(name, pattern))
            for pattern in self.entry_points
        )


NOTHING_DECLARED = Declared()


@dataclass(frozen=True)
class Settings:
    select: frozenset[str] | None = None  # None: every rule; codes or prefixes ("TM1")
    ignore: frozenset[str] = frozenset()
    severity: dict[str, Severity] = field(default_factory=dict)
    fix_no_grad_with: NoGradStyle = "no_grad"
    # The least level a rule may give a finding for it to be reported. A rule lowers the level
    # of findings it is less sure of (a model without Dropout or BatchNorm: a hint); measured on
    # real training code, only warnings and errors are right often enough to be on by default.
    min_severity: Severity = Severity.WARNING
    # the file's place in its project, to read what the functions it imports from other files
    # of the project do (None: the file is analysed alone)
    project: ProjectContext | None = field(default=None, compare=False)
    declared: Declared = NOTHING_DECLARED

    def enabled(self, code: str) -> bool:
        if any(code.startswith(p) for p in self.ignore):
            return False
        return self.select is None or any(code.startswith(p) for p in self.select)

    def severity_of(self, code: str, default: Severity) -> Severity:
        return self.severity.get(code, default)

    def reports(self, level: Severity) -> bool:
        return level.rank <= self.min_severity.rank


DEFAULT_SETTINGS = Settings()
