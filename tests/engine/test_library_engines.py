"""DeepSpeed's ``deepspeed.initialize``: which names are the engine, and what each wraps."""

from __future__ import annotations

import libcst as cst
from torchmode.engine.library_engines import initialize_outputs, may_initialize
from torchmode.engine.names import key_of


def _outputs(code: str) -> list[tuple[int, str, str | None]]:
    stmt = cst.parse_statement(code)
    assert isinstance(stmt, cst.SimpleStatementLine)
    assign = stmt.body[0]
    assert isinstance(assign, cst.Assign)
    target, call = assign.targets[0].target, assign.value
    assert isinstance(target, cst.Tuple) and isinstance(call, cst.Call)
    assert may_initialize(call)
    return [
        (i, key, key_of(wrapped) if wrapped is not None else None)
        for i, key, wrapped in initialize_outputs(target, call)
    ]


def test_keywords_are_read_by_name_whatever_their_order() -> None:
    code = "engine, opt, _, sched = deepspeed.initialize(args=a, optimizer=o, model=net)\n"
    assert _outputs(code) == [(0, "engine", "net"), (1, "opt", "o"), (3, "sched", None)]


def test_positional_arguments_follow_the_signature() -> None:
    # initialize(args, model, optimizer, ...): the model is the second positional argument
    assert _outputs("self.model, self.opt, _, _ = deepspeed.initialize(a, net, o)\n") == [
        (0, "self.model", "net"),
        (1, "self.opt", "o"),
    ]


def test_a_starred_rest_names_the_engine_only() -> None:
    assert _outputs("ref, *_ = deepspeed.initialize(model=ref_model, config=cfg)\n") == [
        (0, "ref", "ref_model")
    ]


def test_other_initialize_calls_are_not_deepspeed() -> None:
    call = cst.parse_expression("hydra.initialize(config_path='conf')")
    assert isinstance(call, cst.Call)
    assert not may_initialize(call)
