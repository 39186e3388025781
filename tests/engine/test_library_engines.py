"""Library calls that hand back what they are given: DeepSpeed's ``deepspeed.initialize`` (which
names are the engine, and what each wraps), accelerate's ``prepare``; and the calls that do not."""

from __future__ import annotations

import libcst as cst
from torchmode.engine.chunks import ChunkCache, parse_chunks
from torchmode.engine.fact_collection import collect_facts
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


def _module_keys(source: str) -> set[str]:
    parsed = parse_chunks(source, ChunkCache())
    return collect_facts(parsed.chunks).module_keys


def test_wrappers_that_hand_back_their_arguments_alias_them() -> None:
    source = (
        "import torch\n"
        "net = torch.nn.Linear(4, 2)\n"
        "opt = torch.optim.SGD(net.parameters(), lr=0.1)\n"
        "model, optimizer = accelerator.prepare(net, opt)\n"
    )
    assert "model" in _module_keys(source)


def test_other_calls_given_a_model_do_not_return_it() -> None:
    # a library's loss function handed the model returns losses, not the model
    source = (
        "import torch\n"
        "from detkit.losses import detection_losses\n"
        "net = torch.nn.Linear(4, 2)\n"
        "class_loss, box_loss = detection_losses(net, images, targets)\n"
    )
    assert "class_loss" not in _module_keys(source)
