"""``[tool.torchmode]`` in pyproject.toml, turned into Settings for each checked file.

The table that applies to a file is the one in the nearest ``pyproject.toml`` above it that
has a ``[tool.torchmode]`` table (as ruff does: a package's own pyproject.toml without the
table does not hide the repository's). Paths in ``per-file-ignores`` and ``exclude`` are
gitignore-style patterns relative to the directory of that pyproject.toml.

    [tool.torchmode]
    select = ["TM1", "TM201"]          # codes, prefixes or rule names; default: all
    ignore = ["TM204"]
    per-file-ignores = { "tests/*" = ["TM201"] }
    severity = { TM204 = "info" }
    fix-no-grad-with = "inference_mode"  # or "no_grad" (default)
    exclude = ["legacy/", "*_generated.py"]

The CLI and the language server share this module: ``load_settings_for(path)`` gives the
Settings for a file; ``merge(settings, overrides)`` applies command-line or editor options.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_args

from torchmode.analysis import Overlay, ProjectContext
from torchmode.findings import Severity
from torchmode.rules import RULES, lookup
from torchmode.settings import DEFAULT_SETTINGS, Declared, NoGradStyle, Settings

if TYPE_CHECKING:
    import pathspec

KNOWN_KEYS = (
    "select",
    "ignore",
    "per-file-ignores",
    "severity",
    "min-severity",
    "fix-no-grad-with",
    "exclude",
    "grad-off-decorators",
    "evaluation-functions",
    "entry-points",
)
NO_GRAD_STYLES: tuple[str, ...] = get_args(NoGradStyle)


class ConfigError(Exception):
    """A configuration problem; the message names the file and the offending key or value."""


@dataclass(frozen=True)
class Overrides:
    """Options that win over the pyproject.toml (command line, editor settings).

    ``select`` replaces the configured selection; ``ignore`` and ``severity`` add to it.
    """

    select: frozenset[str] | None = None
    ignore: frozenset[str] = frozenset()
    severity: Mapping[str, Severity] = field(default_factory=dict)
    fix_no_grad_with: NoGradStyle | None = None
    min_severity: Severity | None = None


def merge(settings: Settings, overrides: Overrides | None) -> Settings:
    if overrides is None:
        return settings
    return Settings(
        select=overrides.select if overrides.select is not None else settings.select,
        ignore=settings.ignore | overrides.ignore,
        severity={**settings.severity, **overrides.severity},
        fix_no_grad_with=overrides.fix_no_grad_with or settings.fix_no_grad_with,
        min_severity=overrides.min_severity or settings.min_severity,
        declared=settings.declared,
    )


def parse_codes(values: Iterable[Any], origin: str) -> frozenset[str]:
    """Rule codes, code prefixes ("TM2") or rule names, validated; names become codes."""
    codes: set[str] = set()
    for value in values:
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{origin}: expected rule codes as strings, got {value!r}")
        entry = value.strip()
        rule = lookup(entry)
        if rule is not None:
            codes.add(rule.code)
        elif any(code.startswith(entry.upper()) for code in RULES):
            codes.add(entry.upper())
        else:
            raise ConfigError(
                f"{origin}: unknown rule code {entry!r} (known: {', '.join(sorted(RULES))})"
            )
    return frozenset(codes)


def parse_code_list(text: str, origin: str) -> frozenset[str]:
    """A comma-separated command-line list ("TM101,TM2")."""
    return parse_codes([part for part in text.split(",") if part.strip()], origin)


def parse_severities(table: Any, origin: str) -> dict[str, Severity]:
    if not isinstance(table, dict):
        raise ConfigError(f'{origin}: expected a table like {{TM204 = "info"}}')
    result: dict[str, Severity] = {}
    for key, value in table.items():
        try:
            severity = Severity(value)
        except ValueError:
            allowed = ", ".join(s.value for s in Severity)
            raise ConfigError(
                f"{origin}: invalid severity {value!r} for {key} (use one of {allowed})"
            ) from None
        # A prefix ("TM2") sets every rule it covers.
        for code in parse_codes([key], origin):
            for rule_code in RULES:
                if rule_code.startswith(code):
                    result[rule_code] = severity
    return result


def parse_min_severity(value: Any, origin: str) -> Severity:
    try:
        return Severity(value)
    except ValueError:
        allowed = ", ".join(repr(s.value) for s in Severity)
        raise ConfigError(f"{origin}: invalid level {value!r} (use one of {allowed})") from None


def parse_no_grad_style(value: Any, origin: str) -> NoGradStyle:
    if value not in NO_GRAD_STYLES:
        raise ConfigError(
            f"{origin}: invalid value {value!r} (use one of {', '.join(map(repr, NO_GRAD_STYLES))})"
        )
    return value  # type: ignore[no-any-return]


def _string_list(value: Any, origin: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{origin}: expected a list of strings")
    return value


def _gitignore_spec(patterns: list[str], origin: str) -> pathspec.PathSpec:
    import pathspec  # only for configured patterns: it costs a tenth of start-up

    try:
        return pathspec.GitIgnoreSpec.from_lines(patterns)
    except (ValueError, TypeError, re.error) as error:
        raise ConfigError(f"{origin}: invalid pattern: {error}") from None


@dataclass(frozen=True)
class ProjectConfig:
    """One ``[tool.torchmode]`` table (or the defaults when there is none)."""

    root: Path
    source: Path | None = None  # the pyproject.toml it came from
    settings: Settings = DEFAULT_SETTINGS
    per_file_ignores: tuple[tuple[pathspec.PathSpec, frozenset[str]], ...] = ()
    exclude: pathspec.PathSpec | None = None

    def _relative(self, path: Path) -> str | None:
        try:
            return Path(os.path.abspath(path)).relative_to(self.root).as_posix()
        except ValueError:
            return None

    def settings_for(self, path: Path) -> Settings:
        relative = self._relative(path)
        if relative is None or not self.per_file_ignores:
            return self.settings
        extra = frozenset().union(
            *(codes for spec, codes in self.per_file_ignores if spec.match_file(relative))
        )
        return (
            replace(self.settings, ignore=self.settings.ignore | extra) if extra else self.settings
        )

    def excludes(self, path: Path, *, is_dir: bool = False) -> bool:
        if self.exclude is None:
            return False
        relative = self._relative(path)
        if relative is None or relative == ".":
            return False
        return self.exclude.match_file(relative + "/" if is_dir else relative)


def parse_table(table: Mapping[str, Any], root: Path, source: Path | None) -> ProjectConfig:
    """Validate a ``[tool.torchmode]`` table; ``source`` only names the file in errors."""
    where = f"{source or 'configuration'}: [tool.torchmode]"
    unknown = [key for key in table if key not in KNOWN_KEYS]
    if unknown:
        raise ConfigError(
            f"{where}: unknown key{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(map(repr, unknown))} (known: {', '.join(KNOWN_KEYS)})"
        )
    select = None
    if "select" in table:
        select = parse_codes(_string_list(table["select"], f"{where}.select"), f"{where}.select")
    ignore: frozenset[str] = frozenset()
    if "ignore" in table:
        ignore = parse_codes(_string_list(table["ignore"], f"{where}.ignore"), f"{where}.ignore")
    severity = {}
    if "severity" in table:
        severity = parse_severities(table["severity"], f"{where}.severity")
    min_severity = DEFAULT_SETTINGS.min_severity
    if "min-severity" in table:
        min_severity = parse_min_severity(table["min-severity"], f"{where}.min-severity")
    style: NoGradStyle = DEFAULT_SETTINGS.fix_no_grad_with
    if "fix-no-grad-with" in table:
        style = parse_no_grad_style(table["fix-no-grad-with"], f"{where}.fix-no-grad-with")
    per_file: list[tuple[pathspec.PathSpec, frozenset[str]]] = []
    per_file_table = table.get("per-file-ignores", {})
    if not isinstance(per_file_table, dict):
        raise ConfigError(
            f'{where}.per-file-ignores: expected a table like {{"tests/*" = ["TM201"]}}'
        )
    for pattern, codes in per_file_table.items():
        origin = f"{where}.per-file-ignores.{pattern!r}"
        per_file.append(
            (_gitignore_spec([pattern], origin), parse_codes(_string_list(codes, origin), origin))
        )
    exclude = None
    if "exclude" in table:
        patterns = _string_list(table["exclude"], f"{where}.exclude")
        exclude = _gitignore_spec(patterns, f"{where}.exclude")
    declared = Declared(
        grad_off=frozenset(
            _names(table.get("grad-off-decorators", []), f"{where}.grad-off-decorators")
        ),
        evaluation=tuple(
            _names(table.get("evaluation-functions", []), f"{where}.evaluation-functions")
        ),
        entry_points=tuple(_names(table.get("entry-points", []), f"{where}.entry-points")),
    )
    settings = Settings(
        select=select,
        ignore=ignore,
        severity=severity,
        fix_no_grad_with=style,
        min_severity=min_severity,
        declared=declared,
    )
    return ProjectConfig(root, source, settings, tuple(per_file), exclude)


def _names(value: object, where: str) -> list[str]:
    """Dotted names or name patterns: ``["utils.no_grad_when_possible", "score_*"]``."""
    names = _string_list(value, where)
    for name in names:
        if not name or any(part == "" for part in name.split(".")) or " " in name:
            raise ConfigError(f"{where}: {name!r} is not a name (expected like 'pkg.module.name')")
    return names


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: invalid TOML: {error}") from None
    except UnicodeDecodeError as error:
        raise ConfigError(
            f"{path}: invalid TOML: not UTF-8 ({error.reason} at byte offset {error.start})"
        ) from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror or error}") from None
    except RecursionError:  # tomllib recurses per nested table or array
        raise ConfigError(f"{path}: invalid TOML: nested too deeply to read") from None


def _tool_table(document: dict[str, Any], path: Path) -> dict[str, Any] | None:
    tool = document.get("tool")
    table = tool.get("torchmode") if isinstance(tool, dict) else None
    if table is not None and not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.torchmode] must be a table")
    return table


@functools.lru_cache(maxsize=256)
def _load_cached(path: Path, _mtime_ns: int) -> ProjectConfig | None:
    try:
        document = _read_toml(path)
    except ConfigError:
        # Another tool's broken file (a test fixture, say) is not ours to reject.
        try:
            mentions_us = b"torchmode" in path.read_bytes()
        except OSError:
            mentions_us = True
        if mentions_us:
            raise
        return None
    table = _tool_table(document, path)
    return None if table is None else parse_table(table, path.parent, path)


def load_config_file(path: Path) -> ProjectConfig:
    """An explicitly chosen file (``--config``): a pyproject.toml's ``[tool.torchmode]``,
    or any other TOML file holding the same keys at its top level."""
    path = Path(os.path.abspath(path))
    if not path.is_file():
        raise ConfigError(f"{path}: configuration file not found")
    document = _read_toml(path)
    if path.name == "pyproject.toml":
        table = _tool_table(document, path) or {}
    else:
        table = _tool_table(document, path) or document
    return parse_table(table, path.parent, path)


def _pyproject_with_table(path: Path) -> ProjectConfig | None:
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        return None
    return _load_cached(path, mtime)


@functools.lru_cache(maxsize=4096)
def _candidates(directory: Path) -> tuple[Path, ...]:
    return tuple(d / "pyproject.toml" for d in (directory, *directory.parents))


def config_for(path: Path | str) -> ProjectConfig:
    """The configuration that applies to ``path`` (a file or a directory)."""
    path = Path(os.path.abspath(path))
    return config_for_directory(path if path.is_dir() else path.parent)


def config_for_directory(directory: Path) -> ProjectConfig:
    """The configuration for the files in ``directory`` (an absolute path)."""
    for candidate in _candidates(directory):
        if candidate.is_file():
            config = _pyproject_with_table(candidate)
            if config is not None:
                return config
    return ProjectConfig(root=directory)


def load_settings_for(path: Path | str, overrides: Overrides | None = None) -> Settings:
    """Settings for one file: its project's ``[tool.torchmode]``, per-file ignores, then
    ``overrides``. Raises ConfigError naming the file and key when the config is invalid."""
    return merge(config_for(path).settings_for(Path(path)), overrides)


# What marks the top folder of a project checked file by file (``torchmode check pkg/bin/x.py``)
_PROJECT_MARKERS = ("pyproject.toml", "setup.py", "setup.cfg", ".git")
CACHE_FOLDER_NAME = ".torchmode_cache"


@dataclass(frozen=True)
class CacheChoice:
    """Where the summaries of other files are kept between runs: ``folder`` (``--cache-dir``),
    or ``.torchmode_cache`` in each project's root; in a subfolder named by ``tag`` (this
    torchmode: summary_store.folder_tag)."""

    tag: str
    folder: Path | None = None

    def at(self, root: Path) -> str:
        return str((self.folder or root / CACHE_FOLDER_NAME) / self.tag)


def in_project(
    settings: Settings,
    path: Path,
    roots: list[Path],
    overlay: Overlay | None = None,
    gives_summary: bool = False,
    cache: CacheChoice | None = None,
) -> Settings:
    """The settings of a file with its project: the folder given on the command line (or the
    editor's workspace folder) that holds it (the folder a script is run from), else the
    nearest folder above it with a project's marks (``pkg/bin/decode.py`` imports
    ``pkg.models``), else the file's own folder. ``overlay``: an editor's open buffers, read
    instead of the files on disk; ``gives_summary``: open documents import this one; ``cache``:
    where the other files' summaries are kept between runs (None: not kept)."""
    resolved = Path(os.path.abspath(path))  # not resolved: a link (or a loop of them) stays
    holding = [root for root in roots if root.is_dir() and resolved.is_relative_to(root)]
    if holding:
        root = min(holding, key=lambda r: len(r.parts))
    else:
        root = next(
            (d for d in resolved.parents if any((d / m).exists() for m in _PROJECT_MARKERS)),
            resolved.parent,
        )
        if not resolved.is_relative_to(root):
            root = resolved.parent
    project = ProjectContext(
        str(root),
        str(resolved),
        overlay,
        gives_summary,
        cache_dir=cache.at(root) if cache is not None else None,
    )
    return dataclasses.replace(settings, project=project)
