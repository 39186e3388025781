"""The engine and its fixes on generated programs: never a crash, a position outside the
file, or a fix that breaks the code, leaves its finding or is not idempotent."""

from __future__ import annotations

import hypothesmith
import pytest
from fuzz_invariants import check_program, compiles, fuzzing
from fuzz_log import carry_on, smaller_text
from fuzz_programs import programs
from hypothesis import given
from hypothesis import strategies as st
from torchmode.findings import Position

positions = st.lists(st.builds(Position, st.integers(0, 60), st.integers(0, 90)), max_size=5)


@fuzzing(1.0)
@given(programs(), positions)
@carry_on(smaller_text(0))
def test_training_programs(text: str, hover_at: list[Position]) -> None:
    assert compiles(text), "the generator must draw valid programs"
    check_program(text, hover_at=hover_at)


@pytest.mark.filterwarnings("ignore::SyntaxWarning")  # `1()` and the like, compiled
@fuzzing(0.25)
@given(hypothesmith.from_grammar())
@carry_on(smaller_text(0))
def test_grammar_programs(text: str) -> None:
    # Arbitrary valid Python rarely mentions training: prefix a trigger word so that the
    # engine parses and analyses it rather than skipping it.
    check_program("model.eval()\n" + text)
