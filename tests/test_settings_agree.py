"""The editor settings are written down three times: package.json's ``contributes.configuration``
(what VS Code shows and stores), the client's ``client/src/settings.ts`` (what it reads and sends
to the server, with its own fallbacks) and the server's ``torchmode.lsp.configuration`` (what it
accepts). They must agree on the names, the defaults and the enum values.

The client's values come from running settings.ts itself (bundled by esbuild from node_modules,
run by node): the test skips without ``npm ci`` and node, except under CI, where it fails.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from torchmode.config import merge
from torchmode.lsp.configuration import (
    CLIENT_ONLY,
    DEFAULT_DEBOUNCE_MS,
    KNOWN,
    ClientSettings,
    parse_client_settings,
)
from torchmode.settings import DEFAULT_SETTINGS, Settings

ROOT = Path(__file__).resolve().parents[1]
SETTINGS_TS = ROOT / "client" / "src" / "settings.ts"
ESBUILD = ROOT / "node_modules" / ".bin" / "esbuild"
PREFIX = "torchmode."

MANIFEST = json.loads((ROOT / "package.json").read_text(encoding="utf-8"))
PROPERTIES: dict[str, dict[str, Any]] = {
    key.removeprefix(PREFIX): spec
    for key, spec in MANIFEST["contributes"]["configuration"]["properties"].items()
}
PACKAGE_DEFAULTS = {key: spec["default"] for key, spec in PROPERTIES.items()}

# Runs the client's settings.ts: its key lists, its fallbacks (nothing configured) and what it
# makes of the values given on the command line (package.json's defaults, single enum values).
DRIVER = """
const settings = require(process.argv[2]);
const given = JSON.parse(process.argv[3]);
const source = (values) => ({ get: (key) => values[key] });
const read = (values) => ({
    server: settings.readServerSettings(source(values)),
    client: settings.readClientSettings(source(values)),
});
process.stdout.write(JSON.stringify({
    serverKeys: settings.SERVER_SETTING_KEYS,
    restartKeys: settings.RESTART_SETTING_KEYS,
    fallbacks: read({}),
    given: given.map(read),
}));
"""


def _run_client(tmp_path: Path, given: list[dict[str, Any]]) -> dict[str, Any]:
    node = shutil.which("node")
    if node is None or not ESBUILD.exists():
        if os.environ.get("CI"):
            pytest.fail("node and node_modules (npm ci) are needed to run client/src/settings.ts")
        pytest.skip("node or node_modules (npm ci) missing: cannot run client/src/settings.ts")
    bundle = tmp_path / "settings.js"
    subprocess.run(
        [
            ESBUILD,
            str(SETTINGS_TS),
            "--bundle",
            "--format=cjs",
            "--platform=node",
            f"--outfile={bundle}",
            "--log-level=warning",
        ],
        check=True,
        timeout=120,
    )
    driver = tmp_path / "driver.js"
    driver.write_text(DRIVER, encoding="utf-8")
    done = subprocess.run(
        [node, str(driver), str(bundle), json.dumps(given)],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return json.loads(done.stdout)


def _server(raw: dict[str, Any]) -> tuple[Settings, ClientSettings]:
    """What the server makes of a settings object: the analysis settings and the client part."""
    parsed, problems = parse_client_settings(raw)
    assert problems == [], raw
    return merge(DEFAULT_SETTINGS, parsed.overrides), parsed


@pytest.fixture(scope="module")
def enum_values() -> list[tuple[str, str]]:
    return [(key, value) for key, spec in PROPERTIES.items() for value in spec.get("enum", [])]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, enum_values) -> dict[str, Any]:
    given = [PACKAGE_DEFAULTS] + [{key: value} for key, value in enum_values]
    return _run_client(tmp_path_factory.mktemp("client-settings"), given)


def test_names_agree(client: dict[str, Any]) -> None:
    server_keys, restart_keys = client["serverKeys"], client["restartKeys"]
    # The settings the client sends are exactly the ones the server knows, in the same order.
    assert tuple(server_keys) == KNOWN
    client_only = [key for key in restart_keys if key not in server_keys]
    # package.json declares every setting the client reads, and no other but the language
    # client's own trace.server (read live by vscode-languageclient, not by settings.ts).
    assert set(PROPERTIES) == {*restart_keys, "trace.server"}
    # The server tolerates the client-only settings (a client may send the whole section).
    assert {key.split(".")[0] for key in [*client_only, "trace.server"]} == set(CLIENT_ONLY)
    assert set(client["fallbacks"]["server"]) == set(KNOWN)


def test_package_defaults_are_the_client_fallbacks(client: dict[str, Any]) -> None:
    # Reading package.json's defaults gives what the client falls back to with nothing set
    # (an empty `select` list is "no preference": null).
    [from_defaults, *_] = client["given"]
    assert from_defaults == client["fallbacks"]
    assert client["fallbacks"]["client"] == {
        key: PACKAGE_DEFAULTS[key] for key in client["fallbacks"]["client"]
    }


def test_client_fallbacks_are_the_server_defaults(client: dict[str, Any]) -> None:
    sent = client["fallbacks"]["server"]
    settings, parsed = _server(sent)
    # What the client sends when nothing is set changes nothing on the server ...
    assert (
        settings,
        parsed.run,
        parsed.debounce_ms,
        parsed.inlay_hints,
        parsed.diagnostic_mode,
    ) == (
        DEFAULT_SETTINGS,
        ClientSettings().run,
        DEFAULT_DEBOUNCE_MS,
        ClientSettings().inlay_hints,
        ClientSettings().diagnostic_mode,
    )
    assert _server({})[0] == DEFAULT_SETTINGS
    # ... and each default is the same value on both sides, written the way each side writes it.
    assert sent["select"] is None and DEFAULT_SETTINGS.select is None
    assert PACKAGE_DEFAULTS["select"] == []  # shown as an empty list, meaning all rules
    assert sent["ignore"] == PACKAGE_DEFAULTS["ignore"] == sorted(DEFAULT_SETTINGS.ignore)
    assert sent["severity"] == PACKAGE_DEFAULTS["severity"] == DEFAULT_SETTINGS.severity
    assert sent["minSeverity"] == PACKAGE_DEFAULTS["minSeverity"]
    assert sent["minSeverity"] == DEFAULT_SETTINGS.min_severity.value
    assert sent["fixNoGradWith"] == PACKAGE_DEFAULTS["fixNoGradWith"]
    assert sent["fixNoGradWith"] == DEFAULT_SETTINGS.fix_no_grad_with
    assert sent["run"] == PACKAGE_DEFAULTS["run"] == ClientSettings().run
    assert sent["debounceMs"] == PACKAGE_DEFAULTS["debounceMs"] == DEFAULT_DEBOUNCE_MS
    assert sent["inlayHints"] is PACKAGE_DEFAULTS["inlayHints"] is ClientSettings().inlay_hints
    assert sent["diagnosticMode"] == PACKAGE_DEFAULTS["diagnosticMode"]
    assert sent["diagnosticMode"] == ClientSettings().diagnostic_mode


def test_every_enum_value_is_kept_by_the_client_and_accepted_by_the_server(
    client: dict[str, Any], enum_values: list[tuple[str, str]]
) -> None:
    assert enum_values  # package.json declares enums: this test must see them
    for (key, value), read in zip(enum_values, client["given"][1:], strict=True):
        if key == "trace.server":
            continue  # the language client's own setting
        side = "server" if key in KNOWN else "client"
        assert read[side][key] == value, (key, value)
        if side == "server":
            _server({key: value})  # no problem reported
    severity_enum = PROPERTIES["severity"]["additionalProperties"]["enum"]
    assert severity_enum == PROPERTIES["minSeverity"]["enum"]
    for level in severity_enum:
        _server({"severity": {"TM101": level}})
