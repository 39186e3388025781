"""Every claim has a proof, every proof names a real claim, and the hover texts only quote
claims (so nothing reaches the user unproven)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from torchmode.analysis import RULES
from torchmode.knowledge import claims

HERE = Path(__file__).parent


def proven_claim_ids() -> dict[str, list[str]]:
    """claim id -> the tests in tests/truth marked ``@pytest.mark.claim(id, ...)``."""
    proofs: dict[str, list[str]] = {}
    for path in sorted(HERE.glob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.FunctionDef):
                continue
            for decorator in node.decorator_list:
                if (
                    isinstance(decorator, ast.Call)
                    and ast.unparse(decorator.func) == "pytest.mark.claim"
                ):
                    for arg in decorator.args:
                        assert isinstance(arg, ast.Constant), f"{path.name}:{node.name}"
                        proofs.setdefault(arg.value, []).append(f"{path.name}::{node.name}")
    return proofs


def test_every_claim_has_a_proof() -> None:
    unproven = sorted(set(claims.CLAIMS) - set(proven_claim_ids()))
    assert unproven == []


def test_every_proof_names_a_claim() -> None:
    unknown = sorted(set(proven_claim_ids()) - set(claims.CLAIMS))
    assert unknown == []


@pytest.mark.parametrize("key", claims.API_KEYS)
def test_hover_texts_are_built_from_claims(key: str) -> None:
    text = claims.api_doc(key)
    assert text is not None
    lines = text.splitlines()
    assert len(lines) <= 8
    bullets = [line.removeprefix("- ") for line in lines[1:]]
    assert bullets == [claims.CLAIMS[c] for c in claims.api_claims(key)]
    assert bullets


def test_hover_keys() -> None:
    assert set(claims.API_KEYS) == {
        "train",
        "eval",
        "no_grad",
        "inference_mode",
        "enable_grad",
        "set_grad_enabled",
        "module.zero_grad",
        "optimizer.zero_grad",
        "backward",
        "step",
        "requires_grad_",
        "detach",
        "item",
    }
    assert claims.api_doc("forward") is None


def test_claims_quote_the_exact_errors() -> None:
    quoted = " ".join(claims.CLAIMS.values())
    for key in ("backward_without_graph", "grad_mode_not_entered", "eval_with_argument"):
        assert claims.ERRORS[key] in quoted


ERROR_QUOTE = re.compile(r"`((?:[A-Z][a-z]+)+Error: [^`]*)`")


def quotes_a_proven_error(quote: str) -> bool:
    return any(quote == e or quote.startswith(e) for e in claims.ERRORS.values())


def test_rule_docs_quote_only_proven_error_texts() -> None:
    quoted = [
        (rule.code, quote) for rule in RULES.values() for quote in ERROR_QUOTE.findall(rule.docs)
    ]
    assert [(code, q) for code, q in quoted if not quotes_a_proven_error(q)] == []


def test_claims_quote_only_proven_error_texts() -> None:
    quoted = [q for text in claims.CLAIMS.values() for q in ERROR_QUOTE.findall(text)]
    assert quoted and all(quotes_a_proven_error(q) for q in quoted)
