"""Marks for the whole suite: `python -m pytest -m "not e2e"` is the fast suite.

Everything under the folders in ``E2E_FOLDERS`` is marked ``e2e`` here, so a new test there is
too; a slow test elsewhere carries ``@pytest.mark.e2e`` itself.
"""

from __future__ import annotations

from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
# real editors driving the server: code-server with the .vsix, Neovim, Emacs
E2E_FOLDERS = ("vscode", "editors")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        path = item.path.resolve()
        if path.is_relative_to(TESTS) and path.relative_to(TESTS).parts[0] in E2E_FOLDERS:
            item.add_marker(pytest.mark.e2e)
