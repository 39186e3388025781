"""Training engines of libraries that wrap a model: DeepSpeed's.

``model_engine, optimizer, _, scheduler = deepspeed.initialize(model=net, optimizer=opt,
config=cfg)`` returns a ``DeepSpeedEngine``, an ``nn.Module`` that wraps ``net``: calling it
runs ``net``'s forward, ``engine.train()``/``engine.eval()`` switch ``net``,
``engine.backward(loss)`` backpropagates ``loss`` and ``engine.step()`` steps the optimizer and
then clears the gradients itself. DeepSpeed's Training API
(https://deepspeed.readthedocs.io/en/latest/training.html) gives the loop as
``loss = model_engine(batch); model_engine.backward(loss); model_engine.step()``, and its
HelloDeepSpeed tutorial (microsoft/DeepSpeedExamples, HelloDeepSpeed/README.md) says that
``optimizer.zero_grad()`` can be removed from a loop moved to the engine, DeepSpeed doing it
at the right time (at a gradient accumulation boundary, in ``step()``)."""

from __future__ import annotations

import libcst as cst

from torchmode.engine.names import dotted, key_of

# ``deepspeed.initialize(args, model, optimizer, model_parameters, training_data,
# lr_scheduler, ...)`` returns ``(engine, optimizer, training_dataloader, lr_scheduler)``:
# for each returned element, the parameter it wraps (name, position)
_INITIALIZE_RETURNS = (("model", 1), ("optimizer", 2), None, ("lr_scheduler", 5))
INITIALIZE = "deepspeed.initialize"


def may_initialize(call: cst.Call) -> bool:
    """Whether ``call`` may be ``deepspeed.initialize(...)`` (read before the imports are known:
    which names are the engine is decided once they are, ``Facts.engines``)."""
    name = dotted(call.func)
    return name is not None and (name == "initialize" or name.endswith("deepspeed.initialize"))


def initialize_outputs(
    target: cst.Tuple | cst.List, call: cst.Call
) -> list[tuple[int, str, cst.BaseExpression | None]]:
    """The elements of ``target`` given what ``deepspeed.initialize(...)`` returns: (position,
    key, the argument that element wraps, None when not given)."""
    out: list[tuple[int, str, cst.BaseExpression | None]] = []
    for i, el in enumerate(target.elements):
        if type(el) is not cst.Element or i >= len(_INITIALIZE_RETURNS):
            break  # ``engine, *_ = ...``: the rest are not named
        wraps = _INITIALIZE_RETURNS[i]
        key = key_of(el.value)
        if wraps is None or key is None or key == "_":
            continue  # not returned, or thrown away
        out.append((i, key, _argument(call, *wraps)))
    return out


def _argument(call: cst.Call, name: str, position: int) -> cst.BaseExpression | None:
    positional = [a for a in call.args if a.keyword is None and not a.star]
    for a in call.args:
        if a.keyword is not None and a.keyword.value == name:
            return a.value
    return positional[position].value if position < len(positional) else None
