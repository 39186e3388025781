"""Which files ``torchmode check PATH...`` looks at.

Directories are walked recursively (following directory symlinks, each real directory
once), skipping version-control and tool directories, virtual environments and whatever
the ``.gitignore`` files in and above them ignore. Files named explicitly are checked
whatever their extension; only config ``exclude`` patterns can drop them.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from torchmode.config import ProjectConfig, config_for_directory

if TYPE_CHECKING:
    import pathspec

SOURCE_SUFFIXES = (".py", ".ipynb")
SKIPPED_DIRECTORIES = frozenset(
    {
        ".git", ".hg", ".svn", ".bzr", "__pycache__", "node_modules", ".venv", "venv",
        ".tox", ".nox", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".hypothesis",
        ".ipynb_checkpoints", ".eggs", "build", "dist", "_build", "buck-out", "site-packages",
    }
)  # fmt: skip

Excluder = Callable[[Path, bool], bool]  # (path, is_dir) -> excluded by configuration


@dataclass
class Discovery:
    files: list[Path] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (path, one-line message)
    # (absolute path, line, message): each reported once (a .gitignore above several
    # given paths is read for each), without failing the run
    warnings: dict[tuple[str, int, str], None] = field(default_factory=dict)

    def warn(self, path: Path, line: int, message: str) -> None:
        self.warnings[os.path.abspath(path), line, message] = None


@dataclass(frozen=True)
class _Ignore:
    base: Path
    spec: pathspec.PathSpec


Warn = Callable[[Path, int, str], None]


def _load_gitignore(directory: Path, warn: Warn) -> _Ignore | None:
    path = directory / ".gitignore"
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    import pathspec  # only where there is an ignore file: it costs a tenth of start-up

    try:
        return _Ignore(directory, pathspec.GitIgnoreSpec.from_lines(lines))
    except Exception:  # pathspec raises ValueError, re.error and more for lines git accepts
        return _Ignore(directory, _tolerant_spec(path, lines, warn))


def _tolerant_spec(path: Path, lines: list[str], warn: Warn) -> pathspec.PathSpec:
    """The spec of the lines pathspec accepts; git ignores a line it cannot use, and so
    do we, saying which."""
    import pathspec

    usable = []
    for number, line in enumerate(lines, 1):
        try:
            pathspec.GitIgnoreSpec.from_lines([line])
        except Exception as error:
            reason = str(error).splitlines()[0] if str(error) else type(error).__name__
            warn(path, number, f"warning: pattern {line!r} not understood, ignored ({reason})")
            continue
        usable.append(line)
    return pathspec.GitIgnoreSpec.from_lines(usable)


def _ancestor_ignores(directory: Path, warn: Warn) -> list[_Ignore]:
    """The .gitignore files above ``directory`` up to its repository's root (outermost first)."""
    chain: list[Path] = []
    for parent in directory.parents:
        chain.append(parent)
        if (parent / ".git").exists():
            break
    else:
        chain = []  # not in a repository: parents' .gitignore files do not apply
    ignores = [_load_gitignore(d, warn) for d in reversed(chain)]
    return [i for i in ignores if i is not None]


def _ignored(path: Path, is_dir: bool, ignores: Sequence[_Ignore]) -> bool:
    # The deepest .gitignore with a matching pattern decides (negations included).
    for ignore in reversed(ignores):
        relative = path.relative_to(ignore.base).as_posix() + ("/" if is_dir else "")
        result = ignore.spec.check_file(relative)
        if result.include is not None:
            return bool(result.include)
    return False


def _is_virtualenv(path: Path) -> bool:
    try:
        return (path / "pyvenv.cfg").is_file()
    except OSError:  # a folder that cannot be searched: listing it will say so
        return False


class _Walker:
    def __init__(self, excluded: Excluder, discovery: Discovery) -> None:
        self.excluded = excluded
        self.discovery = discovery
        self.visited: set[str] = set()

    def walk(self, root: Path) -> None:
        absolute = Path(os.path.abspath(root))
        ignores = _ancestor_ignores(absolute, self.discovery.warn)
        if _ignored(absolute, True, ignores):
            ignores = []  # named explicitly: the user wants it checked after all
        self._walk(root, absolute, os.path.realpath(root), ignores, frozenset())

    def _walk(
        self,
        directory: Path,
        absolute: Path,
        real: str,
        ignores: list[_Ignore],
        ancestors: frozenset[str],
    ) -> None:
        if real in ancestors:
            self.discovery.problems.append(
                (str(directory), f"symbolic link loop (back to {real}), not followed")
            )
            return
        if real in self.visited:
            return
        self.visited.add(real)
        own = _load_gitignore(directory, self.discovery.warn)
        if own is not None:
            ignores = [*ignores, _Ignore(absolute, own.spec)]
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as error:
            self.discovery.problems.append(
                (str(directory), f"cannot list directory: {error.strerror or error}")
            )
            return
        ancestors = ancestors | {real}
        for entry in entries:
            self._entry(entry, directory, absolute, real, ignores, ancestors)

    def _entry(
        self,
        entry: os.DirEntry[str],
        directory: Path,
        absolute: Path,
        real: str,
        ignores: list[_Ignore],
        ancestors: frozenset[str],
    ) -> None:
        name = entry.name
        try:
            is_dir = entry.is_dir()
            is_file = not is_dir and name.endswith(SOURCE_SUFFIXES) and entry.is_file()
        except OSError:
            is_dir = is_file = False
        if is_dir:
            if name in SKIPPED_DIRECTORIES or name.endswith(".egg-info"):
                return
            path, entry_absolute = directory / name, absolute / name
            if (
                _ignored(entry_absolute, True, ignores)
                or self.excluded(entry_absolute, True)
                or _is_virtualenv(path)
            ):
                return
            # Only a symbolic link can lead back up the tree: resolve those alone.
            entry_real = os.path.realpath(path) if entry.is_symlink() else os.path.join(real, name)
            self._walk(path, entry_absolute, entry_real, ignores, ancestors)
        elif is_file:
            entry_absolute = absolute / name
            if not _ignored(entry_absolute, False, ignores) and not self.excluded(
                entry_absolute, False
            ):
                self.discovery.files.append(directory / name)
        elif name.endswith(SOURCE_SUFFIXES) and entry.is_symlink():
            path = directory / name
            self.discovery.problems.append((str(path), _unresolved_link(path)))


class ProjectConfigs:
    """The configuration of each file: one ``--config`` file, or the nearest pyproject.toml."""

    def __init__(self, explicit: ProjectConfig | None) -> None:
        self.explicit = explicit
        self.by_directory: dict[Path, ProjectConfig] = {}

    def of(self, path: Path) -> ProjectConfig:
        if self.explicit is not None:
            return self.explicit
        # A directory's exclude patterns come from the configuration above it: a
        # pyproject.toml inside the directory cannot exclude the directory itself.
        directory = Path(os.path.abspath(path)).parent
        config = self.by_directory.get(directory)
        if config is None:
            config = self.by_directory[directory] = config_for_directory(directory)
        return config

    def excluded(self, path: Path, is_dir: bool) -> bool:
        return self.of(path).excludes(path, is_dir=is_dir)


def discover(paths: Sequence[str], excluded: Excluder) -> Discovery:
    discovery = Discovery()
    walker = _Walker(excluded, discovery)
    for given in paths:
        path = Path(given)
        if path.is_dir():
            walker.walk(path)
        elif path.is_file():
            if not excluded(Path(os.path.abspath(path)), False):
                discovery.files.append(path)
        elif path.is_symlink():
            discovery.problems.append((given, _unresolved_link(path)))
        elif os.path.lexists(path) or path.exists():
            discovery.problems.append((given, "not a regular file or directory"))
        else:
            discovery.problems.append((given, "no such file or directory"))
    discovery.files = list(_unique(discovery.files))
    return discovery


def _unresolved_link(path: Path) -> str:
    """Why a symbolic link leads to no file: a target that is missing, or links that lead
    back to each other (a.py -> b.py -> a.py), which is no missing file to create."""
    try:
        os.stat(path)
    except OSError as error:
        if error.errno == errno.ELOOP:
            return "symbolic link loop"
    return "broken symbolic link"


def _unique(paths: list[Path]) -> Iterator[Path]:
    # The same file named twice (`torchmode check . a.py`); directories reached through
    # symbolic links are already walked once only.
    seen: set[str] = set()
    for path in paths:
        key = os.path.abspath(path)
        if key not in seen:
            seen.add(key)
            yield path
