"""Every statement torchmode makes about PyTorch, in one place, each proven by a test.

A claim is a stable id and one plain sentence (Markdown). Hover texts (``api_doc``), rule docs
and messages quote claims instead of restating PyTorch's behaviour in their own words, and
``tests/truth`` runs each claim against real PyTorch (a test marked ``claim("<id>")``; a
meta-test fails when a claim has no proof). Change a sentence only together with its test.

The exact error texts (``ERRORS``) were observed with PyTorch 2.13 on Python 3.11; the TypeError
of a ``with`` statement on a class comes from Python itself and reads the same in 3.11-3.13.
"""

from __future__ import annotations

ERRORS: dict[str, str] = {
    # TM202: backward() on a value computed under no_grad()/inference_mode()
    "backward_without_graph": (
        "RuntimeError: element 0 of tensors does not require grad and does not have a grad_fn"
    ),
    # TM203: `with torch.no_grad:` (also inference_mode, enable_grad, set_grad_enabled)
    "grad_mode_not_entered": (
        "TypeError: 'type' object does not support the context manager protocol"
    ),
    # TM103: model.eval(False)
    "eval_with_argument": "TypeError: Module.eval() takes 1 positional argument but 2 were given",
    "inference_tensor_saved": ("RuntimeError: Inference tensors cannot be saved for backward."),
    "inference_tensor_inplace": (
        "RuntimeError: Inplace update to inference tensor outside InferenceMode is not allowed."
    ),
    "backward_twice": "RuntimeError: Trying to backward through the graph a second time",
    "backward_non_scalar": "RuntimeError: grad can be implicitly created only for scalar outputs",
    "item_many_elements": "RuntimeError: a Tensor with 2 elements cannot be converted to Scalar",
}
"""Error texts as PyTorch/Python print them (a prefix where the full text is long)."""

CLAIMS: dict[str, str] = {
    # --- train() / eval() -------------------------------------------------------------------
    "train.sets_training_recursively": (
        "Sets `training = True` on the module and every submodule."
    ),
    "train.mode_false_is_eval": ("`train(False)` (or `train(mode=False)`) is exactly `eval()`."),
    "train.returns_module": ("Returns the module itself, so `model = model.train()` is harmless."),
    "train.does_not_enable_grad": (
        "Does **not** turn autograd on: inside `no_grad()` a train-mode model records no graph."
    ),
    "train.dropout_active": (
        "In train mode Dropout zeroes random elements and scales the rest by `1/(1-p)`: "
        "two calls on the same input differ."
    ),
    "train.batchnorm_batch_stats": (
        "In train mode BatchNorm normalises with the batch's own statistics and updates its "
        "running mean/variance on every forward pass."
    ),
    "eval.sets_training_false_recursively": (
        "Sets `training = False` on the module and every submodule, switching Dropout and "
        "BatchNorm to their inference behaviour."
    ),
    "eval.returns_module": "Returns the module itself; it is the same as `train(False)`.",
    "wrapper.keeps_module_mode": (
        "`nn.DataParallel(model)` and `DistributedDataParallel(model)` run `model`'s own layers "
        "in the mode `model` is in: wrapping a model in eval mode does not put it in train mode."
    ),
    "eval.dropout_identity": "In eval mode Dropout passes its input through unchanged.",
    "eval.batchnorm_running_stats": (
        "In eval mode BatchNorm normalises with its running statistics and does not update them."
    ),
    "eval.does_not_disable_autograd": (
        "Does **not** stop autograd: outputs still carry a `grad_fn` and keep the graph's "
        "saved activations alive — use `torch.no_grad()` too."
    ),
    "eval.does_not_freeze_parameters": (
        "Does **not** freeze parameters: `backward()` still fills their `.grad` and "
        "`optimizer.step()` still updates them."
    ),
    "eval.takes_no_argument": (
        "`model.eval(False)` raises `" + ERRORS["eval_with_argument"] + "`."
    ),
    "mode.method_without_call_is_noop": (
        "`model.eval` or `model.train` without `()` only reads the method: the mode does not "
        "change."
    ),
    # --- grad modes ---------------------------------------------------------------------------
    "no_grad.no_graph": (
        "Inside `torch.no_grad()` results have `requires_grad=False` and no `grad_fn`: no "
        "graph is recorded and no activations are kept for backward."
    ),
    "no_grad.does_not_change_mode": (
        "Does **not** switch Dropout or BatchNorm: a train-mode model still drops activations "
        "and updates BatchNorm running statistics — call `model.eval()` too."
    ),
    "no_grad.keeps_requires_grad": (
        "Does not change parameters' `requires_grad`; leaving the block restores the previous "
        "grad mode."
    ),
    "no_grad.bare_decorator_works": (
        "`@torch.no_grad()` and the bare `@torch.no_grad` both run the decorated function "
        "without recording a graph."
    ),
    "grad_mode.must_be_called": (
        "`with torch.no_grad:` without `()` (likewise `inference_mode`, `enable_grad`, "
        "`set_grad_enabled`) raises `" + ERRORS["grad_mode_not_entered"] + "`."
    ),
    "grad_mode.bare_call_does_nothing": (
        "`torch.no_grad()` (or `inference_mode()`, `enable_grad()`) on a line of its own builds a "
        "context manager that is never entered: gradients stay as they were. "
        "`torch.set_grad_enabled(False)` on its own line does switch them off."
    ),
    "layers.embedding_from_pretrained_frozen": (
        "`nn.Embedding.from_pretrained(weights)` is frozen unless `freeze=False`: its weights do "
        "not require grad, so a forward on it records no graph."
    ),
    "autograd.volatile_does_nothing": (
        "`Variable(x, volatile=True)` has done nothing since PyTorch 0.4 (it only warns): a "
        "forward pass on it records a graph like any other."
    ),
    "grad_mode.backward_error": (
        "`backward()` on a result computed under `no_grad()` or `inference_mode()` raises `"
        + ERRORS["backward_without_graph"]
        + "`."
    ),
    "inference_mode.no_graph": (
        "Inside `torch.inference_mode()` no graph is recorded and results are inference "
        "tensors (`is_inference()` is True)."
    ),
    "inference_mode.does_not_change_mode": (
        "Does **not** switch Dropout or BatchNorm: call `model.eval()` too."
    ),
    "inference_mode.tensors_rejected_by_autograd": (
        "Tensors created inside it cannot be used later in a computation autograd records: `"
        + ERRORS["inference_tensor_saved"]
        + "` (clone them, or use `no_grad()`)."
    ),
    "inference_mode.no_inplace_outside": (
        "In-place updates to them outside inference mode raise `"
        + ERRORS["inference_tensor_inplace"]
        + "`."
    ),
    "inference_mode.bare_decorator_works": (
        "`@torch.inference_mode()` and the bare `@torch.inference_mode` both work as decorators."
    ),
    "enable_grad.inside_no_grad": (
        "`torch.enable_grad()` turns recording back on inside a `no_grad()` block or a "
        "`@torch.no_grad()` function."
    ),
    "enable_grad.not_inside_inference_mode": (
        "It does **not** override `inference_mode()`: inside it nothing is recorded even "
        "under `enable_grad()`."
    ),
    "set_grad_enabled.context": (
        "`with torch.set_grad_enabled(flag):` records a graph only if `flag` is True, and "
        "restores the previous grad mode when the block ends."
    ),
    "set_grad_enabled.global_call": (
        "Called as a plain statement, `torch.set_grad_enabled(False)` stops recording for the "
        "rest of the thread until it is switched back."
    ),
    # --- gradients and optimizers -------------------------------------------------------------
    "module.zero_grad.all_parameters": (
        "`model.zero_grad()` clears the gradients of every parameter of the model and its "
        "submodules."
    ),
    "zero_grad.set_to_none_default": (
        "By default (`set_to_none=True`) gradients become `None`; `set_to_none=False` fills "
        "them with zeros."
    ),
    "optimizer.zero_grad.own_parameters": (
        "`optimizer.zero_grad()` clears only the parameters given to that optimizer; other "
        "parameters keep their gradients."
    ),
    "zero_grad.does_not_change_parameters": (
        "Clears gradients only: parameters and the model's mode do not change."
    ),
    "backward.accumulates": (
        "Adds the new gradients into `.grad`: without `zero_grad()` gradients of earlier "
        "iterations are summed into the new ones."
    ),
    "backward.frees_graph": (
        "Frees the graph's saved activations; a second `backward()` through the same graph "
        "raises `" + ERRORS["backward_twice"] + "` unless `retain_graph=True`."
    ),
    "backward.scalar_only": (
        "Without an argument it needs a one-element tensor: otherwise `"
        + ERRORS["backward_non_scalar"]
        + "`."
    ),
    "backward.does_not_update_parameters": (
        "Computes gradients only: parameters change when the optimizer steps."
    ),
    "step.uses_current_grad": (
        "`optimizer.step()` updates the parameters from whatever is in `.grad` now and does "
        "not clear it."
    ),
    "step.no_update_after_zero_grad": (
        "After `zero_grad()` a step has no gradients to use: parameters whose `.grad` is "
        "`None` are skipped, and zero gradients leave plain SGD's parameters unchanged."
    ),
    "step.ignores_mode": (
        "Does not look at the model's mode: it updates an eval-mode model's parameters just "
        "the same."
    ),
    "requires_grad_.freezes": (
        "`module.requires_grad_(False)` freezes its parameters: `backward()` leaves their "
        "`.grad` as `None` and the optimizer does not change them."
    ),
    "requires_grad_.does_not_change_mode": (
        "Does **not** switch to eval behaviour: frozen BatchNorm in train mode still updates "
        "its running statistics, so call `.eval()` on frozen parts too."
    ),
    "requires_grad_.returns_self": "Returns the module (or tensor) itself.",
    "detach.no_graph": (
        "`t.detach()` returns a tensor with no `grad_fn` and `requires_grad=False`: keeping it "
        "does not keep the graph behind `t` alive."
    ),
    "detach.shares_storage": (
        "The result shares storage with `t`: in-place changes to one show in the other."
    ),
    "item.python_number": (
        "`t.item()` returns a plain Python number: keeping it keeps no tensor or graph alive."
    ),
    "item.single_element": (
        "Works only on one-element tensors: otherwise `" + ERRORS["item_many_elements"] + "`."
    ),
    # --- the harm each rule describes ---------------------------------------------------------
    "tm101.dropout_off_while_training": (
        "Training steps after `eval()` run Dropout as the identity and freeze BatchNorm's "
        "running statistics: the model trains without its regularisation."
    ),
    "tm102.outputs_differ_in_train_mode": (
        "Evaluating a model with Dropout/BatchNorm in train mode gives outputs different from "
        "eval mode, and two such evaluations of the same input differ from each other."
    ),
    "tm102.evaluation_changes_batchnorm_stats": (
        "Evaluating in train mode updates BatchNorm's running statistics from the evaluation "
        "data: evaluation changes the model."
    ),
    "tm201.evaluation_keeps_activations": (
        "Evaluation with autograd on keeps every saved activation alive for as long as the "
        "output is referenced; under `no_grad()` nothing is saved."
    ),
    "tm201.parameter_free_layer_records_nothing": (
        "A layer without parameters (`nn.ReLU()`, `nn.BatchNorm1d(n, affine=False)`) records "
        "no autograd graph for an input that needs no gradient, even with gradients on."
    ),
    "tm204.eval_loop_memory_grows": (
        "Accumulating a loss with grad on and no `backward()` (`total = total + loss`) keeps "
        "every batch's activations alive: memory grows with each batch."
    ),
    "tm204.train_loop_keeps_every_graph": (
        "After `backward()` the activations are freed, but `total += loss` keeps every step's "
        "autograd graph alive, node by node: memory grows with every training step."
    ),
    "tm204.item_keeps_nothing": (
        "Accumulating `loss.item()` (or `loss.detach()`) keeps no graph alive."
    ),
    "tm301.steps_use_summed_gradients": (
        "Without `zero_grad()`, each `step()` uses the sum of all gradients since the last "
        "clearing, not the current batch's."
    ),
    "tm302.zero_grad_before_step_loses_update": (
        "`zero_grad()` between `backward()` and `step()` throws the gradients away: the step "
        "does not change the parameters (plain SGD)."
    ),
}
"""Claim id -> one plain Markdown sentence, true for PyTorch 2.13 (see tests/truth)."""

_API_DOCS: dict[str, tuple[str, tuple[str, ...]]] = {
    "train": (
        "module.train(mode=True)",
        (
            "train.sets_training_recursively",
            "train.mode_false_is_eval",
            "train.does_not_enable_grad",
            "train.dropout_active",
            "train.batchnorm_batch_stats",
            "train.returns_module",
        ),
    ),
    "eval": (
        "module.eval()",
        (
            "eval.sets_training_false_recursively",
            "eval.does_not_disable_autograd",
            "eval.does_not_freeze_parameters",
            "eval.returns_module",
            "eval.takes_no_argument",
        ),
    ),
    "no_grad": (
        "torch.no_grad()",
        (
            "no_grad.no_graph",
            "no_grad.does_not_change_mode",
            "no_grad.keeps_requires_grad",
            "no_grad.bare_decorator_works",
            "grad_mode.backward_error",
        ),
    ),
    "inference_mode": (
        "torch.inference_mode()",
        (
            "inference_mode.no_graph",
            "inference_mode.does_not_change_mode",
            "inference_mode.tensors_rejected_by_autograd",
            "inference_mode.bare_decorator_works",
        ),
    ),
    "enable_grad": (
        "torch.enable_grad()",
        ("enable_grad.inside_no_grad", "enable_grad.not_inside_inference_mode"),
    ),
    "set_grad_enabled": (
        "torch.set_grad_enabled(mode)",
        ("set_grad_enabled.context", "set_grad_enabled.global_call"),
    ),
    "module.zero_grad": (
        "module.zero_grad(set_to_none=True)",
        (
            "module.zero_grad.all_parameters",
            "zero_grad.set_to_none_default",
            "zero_grad.does_not_change_parameters",
        ),
    ),
    "optimizer.zero_grad": (
        "optimizer.zero_grad(set_to_none=True)",
        (
            "optimizer.zero_grad.own_parameters",
            "zero_grad.set_to_none_default",
            "zero_grad.does_not_change_parameters",
        ),
    ),
    "backward": (
        "tensor.backward()",
        (
            "backward.accumulates",
            "backward.frees_graph",
            "backward.does_not_update_parameters",
            "backward.scalar_only",
        ),
    ),
    "step": (
        "optimizer.step()",
        ("step.uses_current_grad", "step.no_update_after_zero_grad", "step.ignores_mode"),
    ),
    "requires_grad_": (
        "module.requires_grad_(requires_grad=True)",
        (
            "requires_grad_.freezes",
            "requires_grad_.does_not_change_mode",
            "requires_grad_.returns_self",
        ),
    ),
    "detach": ("tensor.detach()", ("detach.no_graph", "detach.shares_storage")),
    "item": ("tensor.item()", ("item.python_number", "item.single_element")),
}

API_KEYS: tuple[str, ...] = tuple(_API_DOCS)
"""The keys ``api_doc`` answers."""


def api_claims(key: str) -> tuple[str, ...]:
    """The claim ids the hover text of ``key`` is built from (empty for an unknown key)."""
    entry = _API_DOCS.get(key)
    return entry[1] if entry else ()


def api_doc(key: str) -> str | None:
    """Markdown hover text for a PyTorch API: a heading line and one bullet per claim (at most
    8 lines). ``key`` is one of ``API_KEYS``; anything else gives None."""
    entry = _API_DOCS.get(key)
    if entry is None:
        return None
    signature, claim_ids = entry
    lines = [f"**`{signature}`**"]
    lines += [f"- {CLAIMS[claim_id]}" for claim_id in claim_ids]
    return "\n".join(lines)
