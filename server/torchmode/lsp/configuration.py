"""The editor's ``torchmode`` settings, laid over the file's ``[tool.torchmode]`` table."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from torchmode.config import (
    ConfigError,
    Overrides,
    load_settings_for,
    merge,
    parse_codes,
    parse_min_severity,
    parse_no_grad_style,
    parse_severities,
)
from torchmode.settings import DEFAULT_SETTINGS, Settings

Run = Literal["onType", "onSave"]
# Which files get diagnostics: the open ones, or every Python file of the workspace (Pylance's
# setting of the same name)
DiagnosticMode = Literal["openFilesOnly", "workspace"]
DEFAULT_DEBOUNCE_MS = 150
KNOWN = (
    "select",
    "ignore",
    "severity",
    "minSeverity",
    "run",
    "debounceMs",
    "fixNoGradWith",
    "inlayHints",
    "diagnosticMode",
)
# Settings of the VS Code extension itself (how to start the server), harmless here.
CLIENT_ONLY = ("interpreter", "importStrategy", "trace")


@dataclass(frozen=True)
class ClientSettings:
    overrides: Overrides = field(default_factory=Overrides)
    run: Run = "onType"
    debounce_ms: int = DEFAULT_DEBOUNCE_MS
    inlay_hints: bool = True  # the mode timeline (lsp/inlay_hints.py)
    diagnostic_mode: DiagnosticMode = "openFilesOnly"  # workspace: lsp/workspace_index.py


def _checked(problems: list[str], parse: Callable[[], Any]) -> Any:
    try:
        return parse()
    except ConfigError as error:
        problems.append(str(error))
        return None


def _as_list(value: Any) -> list[Any]:
    return (
        [value] if isinstance(value, str) else list(value) if isinstance(value, list) else [value]
    )


def parse_client_settings(raw: Any) -> tuple[ClientSettings, list[str]]:
    """Settings from the editor's JSON; a bad value is reported and left at its default."""
    if raw is None:
        return ClientSettings(), []
    if not isinstance(raw, Mapping):
        return ClientSettings(), [f"torchmode settings must be an object, got {raw!r}"]
    problems = [
        f"unknown torchmode setting {key!r} (known: {', '.join(KNOWN)})"
        for key in sorted(set(raw) - set(KNOWN) - set(CLIENT_ONLY))
    ]
    select = ignore = severity = style = None
    if raw.get("select") is not None:
        select = _checked(
            problems, lambda: parse_codes(_as_list(raw["select"]), "torchmode.select")
        )
    if raw.get("ignore") is not None:
        ignore = _checked(
            problems, lambda: parse_codes(_as_list(raw["ignore"]), "torchmode.ignore")
        )
    if raw.get("severity") is not None:
        severity = _checked(
            problems, lambda: parse_severities(raw["severity"], "torchmode.severity")
        )
    min_severity = None
    if raw.get("minSeverity") is not None:
        min_severity = _checked(
            problems, lambda: parse_min_severity(raw["minSeverity"], "torchmode.minSeverity")
        )
    if raw.get("fixNoGradWith") is not None:
        style = _checked(
            problems, lambda: parse_no_grad_style(raw["fixNoGradWith"], "torchmode.fixNoGradWith")
        )
    run: Run = "onType"
    if raw.get("run") is not None:
        if raw["run"] in ("onType", "onSave"):
            run = raw["run"]
        else:
            problems.append(f"torchmode.run: use 'onType' or 'onSave', not {raw['run']!r}")
    debounce = DEFAULT_DEBOUNCE_MS
    if raw.get("debounceMs") is not None:
        value = raw["debounceMs"]
        if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
            debounce = int(value)
        else:
            problems.append(f"torchmode.debounceMs: expected milliseconds ≥ 0, got {value!r}")
    inlay_hints = True
    if raw.get("inlayHints") is not None:
        if isinstance(raw["inlayHints"], bool):
            inlay_hints = raw["inlayHints"]
        else:
            problems.append(
                f"torchmode.inlayHints: expected true or false, got {raw['inlayHints']!r}"
            )
    mode: DiagnosticMode = "openFilesOnly"
    if raw.get("diagnosticMode") is not None:
        if raw["diagnosticMode"] in ("openFilesOnly", "workspace"):
            mode = raw["diagnosticMode"]
        else:
            problems.append(
                "torchmode.diagnosticMode: use 'openFilesOnly' or 'workspace', "
                f"not {raw['diagnosticMode']!r}"
            )
    overrides = Overrides(
        select=select,
        ignore=ignore or frozenset(),
        severity=severity or {},
        fix_no_grad_with=style,
        min_severity=min_severity,
    )
    return ClientSettings(overrides, run, debounce, inlay_hints, mode), problems


def section_of(raw: Any) -> Any:
    """The ``torchmode`` settings in a didChangeConfiguration or initializationOptions
    payload, which clients send wrapped (``{"settings": {"torchmode": {...}}}``) or bare;
    None when the payload has none (another server's section, or nothing)."""
    if not isinstance(raw, Mapping):
        return None
    if isinstance(raw.get("settings"), Mapping):
        return section_of(raw["settings"])
    if isinstance(raw.get("torchmode"), Mapping):
        return raw["torchmode"]
    return raw if set(raw) & set(KNOWN) else None


def settings_for(path: Path | None, client: ClientSettings) -> tuple[Settings, str | None]:
    """The settings for one file (or the files of a folder), and the problem with its
    pyproject.toml if it has one (then the editor's settings apply alone rather than no
    analysis at all). Never raises: a file no reader expects must not stop the analyses."""
    if path is None:
        return merge(DEFAULT_SETTINGS, client.overrides), None
    try:
        return load_settings_for(path, client.overrides), None
    except (ConfigError, OSError, ValueError) as error:
        return merge(DEFAULT_SETTINGS, client.overrides), str(error)
    except (RecursionError, MemoryError):
        # tomllib reads nested arrays and tables recursively
        problem = "invalid TOML: nested too deeply to read"
    except Exception as error:
        problem = f"cannot be read ({type(error).__name__}: {error})"
    return merge(DEFAULT_SETTINGS, client.overrides), f"{_nearest_pyproject(path)}: {problem}"


def _nearest_pyproject(path: Path) -> str:
    """The pyproject.toml a failure most likely came from, to name it."""
    start = path if path.is_dir() else path.parent
    for directory in (start, *start.parents):
        candidate = directory / "pyproject.toml"
        if candidate.is_file():
            return str(candidate)
    return "pyproject.toml"
