"""An invalid example's expected fix is written as diff hunks (rules.base.apply_hunks)."""

from __future__ import annotations

import re

import pytest
from torchmode.rules.base import Invalid, apply_hunks

SOURCE = """\
for x, y in loader:
    loss = criterion(model(x), y)

    loss.backward()
    optimizer.step()
print(loss)
"""


def test_hunks_insert_replace_and_remove_lines() -> None:
    hunks = """\
@@
     loss = criterion(model(x), y)
-
+    optimizer.zero_grad()
     loss.backward()
@@ -5,2 +5,2 @@ git diff's hunk headers are fine
     optimizer.step()
-print(loss)
+print(loss.item())
"""
    assert apply_hunks(SOURCE, hunks) == SOURCE.replace(
        "\n\n", "\n    optimizer.zero_grad()\n"
    ).replace("print(loss)", "print(loss.item())")


def test_an_empty_line_is_an_empty_context_line() -> None:
    hunks = "@@\n     loss = criterion(model(x), y)\n\n+    optimizer.zero_grad()\n"
    assert "y)\n\n    optimizer.zero_grad()\n    loss.backward()" in apply_hunks(SOURCE, hunks)


def test_invalid_fixed_is_the_source_with_its_hunks_applied() -> None:
    hunks = "@@\n-print(loss)\n+print(float(loss))\n"
    assert Invalid(SOURCE, (1,), fix=hunks).fixed == SOURCE.replace("(loss)", "(float(loss))")
    assert Invalid(SOURCE, (1,)).fixed is None


@pytest.mark.parametrize(
    ("hunks", "problem"),
    [
        ("-print(loss)\n+pass\n", "must start with an @@ line"),
        ("@@\n*print(loss)\n", "starts with ' ', '-' or '+'"),
        ("@@\n+pass\n", "needs a context or removed line"),
        ("@@\n-print(model)\n", "occur 0 times"),
        ("@@\n-    loss.backward()\n@@\n-    loss = criterion(model(x), y)\n", "out of order"),
    ],
)
def test_a_hunk_that_does_not_fit_is_an_error(hunks: str, problem: str) -> None:
    with pytest.raises(ValueError, match=re.escape(problem)):
        apply_hunks(SOURCE, hunks)


def test_a_hunk_found_twice_is_an_error() -> None:
    with pytest.raises(ValueError, match="occur 2 times"):
        apply_hunks("pass\npass\n", "@@\n-pass\n+x = 1\n")
