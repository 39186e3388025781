"""torchmode.runtime.guard with real PyTorch: each warning, and silence on correct loops."""

from __future__ import annotations

import gc
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
import torch
from torch import nn
from torchmode.runtime import (
    CLEARED_BEFORE_STEP,
    EVAL_RECORDS_GRAPH,
    GRADIENTS_NOT_CLEARED,
    STEP_IN_EVAL,
    TorchmodeError,
    TorchmodeWarning,
    guard,
)


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(8, 16), nn.BatchNorm1d(16), nn.ReLU())
        self.drop = nn.Dropout(0.2)
        self.head = nn.Linear(16, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.drop(self.backbone(x)))


def batches(n: int = 6) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    for _ in range(n):
        yield torch.randn(8, 8), torch.randint(0, 2, (8,))


def setup(lr: float = 0.01) -> tuple[Net, torch.optim.Optimizer]:
    model = Net()
    return model, torch.optim.SGD(model.parameters(), lr=lr)


def train_step(model: nn.Module, optimizer: torch.optim.Optimizer, x, y, zero: bool = True):
    if zero:
        optimizer.zero_grad()
    nn.functional.cross_entropy(model(x), y).backward()
    optimizer.step()


def evaluate(model: nn.Module, no_grad: bool = True) -> float:
    model.eval()
    total = 0.0
    with torch.set_grad_enabled(not no_grad):
        for x, y in batches(3):
            total += nn.functional.cross_entropy(model(x), y).item()
    return total


@contextmanager
def caught() -> Iterator[list[warnings.WarningMessage]]:
    with warnings.catch_warnings(record=True) as records:
        warnings.simplefilter("always")
        yield records


def torchmode_warnings(records: list[warnings.WarningMessage]) -> list[str]:
    return [str(r.message) for r in records if issubclass(r.category, TorchmodeWarning)]


def kinds(records: list[warnings.WarningMessage]) -> list[str]:
    return [m.split("]")[0].removeprefix("[") for m in torchmode_warnings(records)]


def run(loop: Callable[[Net, torch.optim.Optimizer], None], **kwargs) -> list[str]:
    model, optimizer = setup()
    with caught() as records, guard(model, optimizer, **kwargs):
        loop(model, optimizer)
    return kinds(records)


# --- correct loops: no warning -------------------------------------------------------------------


def correct_loop(model: Net, optimizer: torch.optim.Optimizer) -> None:
    for _epoch in range(2):
        model.train()
        for i, (x, y) in enumerate(batches()):
            train_step(model, optimizer, x, y)
            if i == 2:
                evaluate(model)
                model.train()
        evaluate(model)


def accumulation_loop(set_to_none: bool) -> Callable[[Net, torch.optim.Optimizer], None]:
    def loop(model: Net, optimizer: torch.optim.Optimizer) -> None:
        k = 3
        optimizer.zero_grad(set_to_none=set_to_none)
        for i, (x, y) in enumerate(batches(12)):
            (nn.functional.cross_entropy(model(x), y) / k).backward()
            if (i + 1) % k == 0:
                optimizer.step()
                optimizer.zero_grad(set_to_none=set_to_none)

    return loop


def zero_after_step_loop(model: Net, optimizer: torch.optim.Optimizer) -> None:
    for x, y in batches():
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
        model.zero_grad()


def frozen_backbone_loop(model: Net, optimizer: torch.optim.Optimizer) -> None:
    model.train()
    model.backbone.eval().requires_grad_(False)  # frozen on purpose, BatchNorm included
    for x, y in batches():
        train_step(model, optimizer, x, y)


def saliency_loop(model: Net, optimizer: torch.optim.Optimizer) -> None:
    model.eval()  # input gradients of an eval-mode model: the graph is used
    for x, y in batches(4):
        x.requires_grad_(True)
        nn.functional.cross_entropy(model(x), y).backward()
        assert x.grad is not None


def inference_mode_eval_loop(model: Net, optimizer: torch.optim.Optimizer) -> None:
    model.eval()
    with torch.inference_mode():
        for x, _y in batches(4):
            model(x)


@pytest.mark.parametrize(
    "loop",
    [
        correct_loop,
        accumulation_loop(set_to_none=True),
        accumulation_loop(set_to_none=False),
        zero_after_step_loop,
        frozen_backbone_loop,
        saliency_loop,
        inference_mode_eval_loop,
    ],
    ids=lambda f: f.__qualname__.split(".")[0],
)
@pytest.mark.parametrize("strict", [False, True])
def test_correct_loops_raise_no_warning(loop, strict: bool) -> None:
    assert run(loop, strict=strict) == []


def test_frozen_parameterless_layers_in_eval_are_fine() -> None:
    model = nn.Sequential(
        nn.Sequential(nn.Linear(8, 8), nn.Dropout(0.5)),  # frozen block, Dropout in eval
        nn.Linear(8, 2),
    )
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with caught() as records, guard(model, optimizer):
        model[0].eval().requires_grad_(False)
        for x, y in batches():
            train_step(model, optimizer, x, y)
    assert kinds(records) == []


def test_model_without_mode_sensitive_layers_in_eval_is_fine() -> None:
    model = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 2)).eval()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with caught() as records, guard(model, optimizer):
        for x, y in batches():
            train_step(model, optimizer, x, y)
    assert kinds(records) == []


# --- each mistake: one warning -----------------------------------------------------------------


def eval_leaks_into_training(model: Net, optimizer: torch.optim.Optimizer) -> None:
    model.train()
    for i, (x, y) in enumerate(batches()):
        train_step(model, optimizer, x, y)
        if i == 1:
            evaluate(model)  # never switches back


def test_step_in_eval_mode_warns_once_naming_the_model() -> None:
    model, optimizer = setup()
    with caught() as records, guard(model, optimizer, name="net"):
        eval_leaks_into_training(model, optimizer)
    messages = torchmode_warnings(records)
    assert kinds(records) == [STEP_IN_EVAL]
    assert "`net` is in eval mode" in messages[0]
    assert "`net.backbone.1` (BatchNorm1d)" in messages[0] and "`net.drop` (Dropout)" in messages[0]
    assert records[0].filename == __file__  # points at the user's optimizer.step()


def test_trained_submodule_in_eval_mode_warns_with_its_path() -> None:
    model, optimizer = setup()
    with caught() as records, guard(model, optimizer):
        model.train()
        model.backbone[1].eval()  # BatchNorm in eval, but its parameters are still trained
        for x, y in batches(2):
            train_step(model, optimizer, x, y)
    messages = torchmode_warnings(records)
    assert kinds(records) == [STEP_IN_EVAL]
    assert "`model.backbone.1` (BatchNorm1d) is in eval mode" in messages[0]


def test_strict_mode_raises() -> None:
    model, optimizer = setup()
    guard(model, optimizer, strict=True)
    model.eval()
    with pytest.raises(TorchmodeError, match=STEP_IN_EVAL):
        train_step(model, optimizer, *next(batches()))
    assert issubclass(TorchmodeWarning, UserWarning)


def test_evaluation_without_no_grad_warns() -> None:
    def loop(model: Net, optimizer: torch.optim.Optimizer) -> None:
        train_step(model, optimizer, *next(batches()))
        evaluate(model, no_grad=False)
        model.train()

    assert run(loop) == [EVAL_RECORDS_GRAPH]


def test_evaluation_without_no_grad_is_an_error_when_strict() -> None:
    model, optimizer = setup()
    with guard(model, optimizer, strict=True), pytest.raises(TorchmodeError, match="no_grad"):
        evaluate(model, no_grad=False)


def test_gradients_never_cleared_warns() -> None:
    def loop(model: Net, optimizer: torch.optim.Optimizer) -> None:
        for x, y in batches():
            train_step(model, optimizer, x, y, zero=False)

    assert run(loop) == [GRADIENTS_NOT_CLEARED]


def test_optimizer_zeroing_other_parameters_warns() -> None:
    def loop(model: Net, optimizer: torch.optim.Optimizer) -> None:
        other = nn.Linear(2, 2)  # zero_grad() on the wrong module clears nothing of ours
        for x, y in batches():
            other.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()

    assert run(loop) == [GRADIENTS_NOT_CLEARED]


def test_step_reusing_gradients_warns() -> None:
    def loop(model: Net, optimizer: torch.optim.Optimizer) -> None:
        x, y = next(batches())
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
        optimizer.step()  # the same gradients again

    assert run(loop) == [GRADIENTS_NOT_CLEARED]


@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad_between_backward_and_step_warns(set_to_none: bool) -> None:
    def loop(model: Net, optimizer: torch.optim.Optimizer) -> None:
        for x, y in batches():
            nn.functional.cross_entropy(model(x), y).backward()
            optimizer.zero_grad(set_to_none=set_to_none)  # TM302: nothing is learned
            optimizer.step()

    assert run(loop) == [CLEARED_BEFORE_STEP]  # and no accumulation: nothing is left over


def test_all_three_mistakes_each_warn_once() -> None:
    def loop(model: Net, optimizer: torch.optim.Optimizer) -> None:
        for _epoch in range(3):
            for x, y in batches(3):
                train_step(model, optimizer, x, y, zero=False)
            evaluate(model, no_grad=False)

    assert sorted(run(loop)) == sorted([STEP_IN_EVAL, EVAL_RECORDS_GRAPH, GRADIENTS_NOT_CLEARED])


def global_registration_hooks() -> tuple[int, int]:
    from torch.nn.modules import module

    return (
        len(module._global_module_registration_hooks),
        len(module._global_parameter_registration_hooks),
    )


def test_remove_uninstalls_every_hook() -> None:
    model, optimizer = setup()
    gc.collect()  # guards of other tests, never removed
    before = global_registration_hooks()
    handle = guard(model, optimizer, strict=True)
    train_step(model, optimizer, *next(batches()))  # installs the gradient probes too
    handle.remove()
    assert global_registration_hooks() == before
    assert not model._forward_hooks
    assert not optimizer._optimizer_step_pre_hooks and not optimizer._optimizer_step_post_hooks
    assert all(
        not p._backward_hooks and not p._post_accumulate_grad_hooks for p in model.parameters()
    )
    with caught() as records:
        for _ in range(2):
            for x, y in batches(2):
                train_step(model, optimizer, x, y, zero=False)
            evaluate(model, no_grad=False)
    assert kinds(records) == []


def gradient_penalty_loop(model: Net, optimizer: torch.optim.Optimizer) -> None:
    for x, y in batches():
        out = model(x)
        # autograd.grad runs the parameters' tensor hooks while the previous step's gradients
        # are still in .grad (zero_grad() comes later): that is not accumulation
        grads = torch.autograd.grad(out.sum(), list(model.parameters()), create_graph=True)
        optimizer.zero_grad()
        penalty = sum(g.square().sum() for g in grads)
        (nn.functional.cross_entropy(out, y) + 0.01 * penalty).backward()
        optimizer.step()


def manual_clearing_loop(model: Net, optimizer: torch.optim.Optimizer) -> None:
    for x, y in batches():
        for p in model.parameters():  # the pre-1.0 idiom
            if p.grad is not None:
                p.grad.data.zero_()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()


def grad_scaler_loop(model: Net, optimizer: torch.optim.Optimizer) -> None:
    scaler = torch.amp.GradScaler("cpu")
    for x, y in batches():
        optimizer.zero_grad()
        scaler.scale(nn.functional.cross_entropy(model(x), y)).backward()
        scaler.step(optimizer)
        scaler.update()


def param_group_added_loop(model: Net, optimizer: torch.optim.Optimizer) -> None:
    extra = nn.Linear(2, 2)
    optimizer.add_param_group({"params": extra.parameters()})
    for x, y in batches():
        optimizer.zero_grad()
        (nn.functional.cross_entropy(model(x), y) + extra(model(x)).sum()).backward()
        optimizer.step()


@pytest.mark.parametrize(
    "loop", [gradient_penalty_loop, manual_clearing_loop, grad_scaler_loop, param_group_added_loop]
)
def test_more_correct_loops(loop) -> None:
    assert run(loop, strict=True) == []


def test_accumulation_without_clearing_in_a_second_group_is_seen() -> None:
    def loop(model: Net, optimizer: torch.optim.Optimizer) -> None:
        extra = nn.Linear(2, 2)
        optimizer.add_param_group({"params": extra.parameters()})
        for x, y in batches():
            model.zero_grad()  # clears the model, never `extra`
            (nn.functional.cross_entropy(model(x), y) + extra(model(x)).sum()).backward()
            optimizer.step()

    assert run(loop) == [GRADIENTS_NOT_CLEARED]


def test_strict_accumulation_raises_at_the_step_before_it_applies_anything() -> None:
    model, optimizer = setup()
    with guard(model, optimizer, strict=True):
        train_step(model, optimizer, *next(batches()))
        x, y = next(batches())
        # backward() adding to the used gradients is not yet wrong: zero_grad() may follow
        nn.functional.cross_entropy(model(x), y).backward()
        before = [p.detach().clone() for p in model.parameters()]
        with pytest.raises(TorchmodeError, match=GRADIENTS_NOT_CLEARED):
            optimizer.step()
        assert all(torch.equal(b, p) for b, p in zip(before, model.parameters(), strict=True))


def clip_and_skip_loop(model: Net, optimizer: torch.optim.Optimizer) -> None:
    for i, (x, y) in enumerate(batches()):
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        if i == 2:
            continue  # a skipped batch: no backward, no step
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 0.1)
        optimizer.step()


def test_clipping_and_skipped_batches() -> None:
    assert run(clip_and_skip_loop, strict=True) == []


def test_closure_optimizers() -> None:
    model = Net()
    lbfgs = torch.optim.LBFGS(model.parameters(), max_iter=3)
    with caught() as records, guard(model, lbfgs, strict=True):
        for x, y in batches(3):

            def closure(x: torch.Tensor = x, y: torch.Tensor = y) -> torch.Tensor:
                lbfgs.zero_grad()
                loss = nn.functional.cross_entropy(model(x), y)
                loss.backward()
                return loss

            lbfgs.step(closure)
    assert kinds(records) == []


def test_importing_the_guard_does_not_import_torch() -> None:
    import subprocess
    import sys

    code = "import sys, torchmode.runtime; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_closure_that_never_clears_warns() -> None:
    model = Net()
    lbfgs = torch.optim.LBFGS(model.parameters(), max_iter=2)
    with caught() as records, guard(model, lbfgs):
        for x, y in batches(3):

            def closure(x: torch.Tensor = x, y: torch.Tensor = y) -> torch.Tensor:
                loss = nn.functional.cross_entropy(model(x), y)  # no zero_grad()
                loss.backward()
                return loss

            lbfgs.step(closure)
    assert kinds(records) == [GRADIENTS_NOT_CLEARED]


def test_never_cleared_with_create_graph_warns() -> None:
    # backward(create_graph=True) replaces .grad with a new tensor holding the sum
    def loop(model: Net, optimizer: torch.optim.Optimizer) -> None:
        for x, y in batches(4):
            nn.functional.cross_entropy(model(x), y).backward(create_graph=True)
            optimizer.step()
        for p in model.parameters():
            p.grad = None  # the graph kept by create_graph=True

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Using backward.. with create_graph=True")
        assert run(loop) == [GRADIENTS_NOT_CLEARED]


# --- adversarial training: a backward() for the input's gradient, cleared before the step -------


def adversarial_loop(
    input_gradient: str = "backward", clear: str = "optimizer", set_to_none: bool = True
) -> Callable[[Net, torch.optim.Optimizer], None]:
    """FGSM: the input's gradient from a first forward/backward, then the real step on the
    perturbed input. ``clear`` is where gradients are cleared: "optimizer"/"model"
    (zero_grad() between the two backward passes), "nowhere", or "before-step" (between the
    second backward and the step)."""

    def loop(model: Net, optimizer: torch.optim.Optimizer) -> None:
        zero_grad = model.zero_grad if clear == "model" else optimizer.zero_grad
        for x, y in batches():
            x.requires_grad_(True)
            loss = nn.functional.cross_entropy(model(x), y)
            if input_gradient == "autograd.grad":
                (x_grad,) = torch.autograd.grad(loss, x)
            else:
                loss.backward()  # also adds into every parameter's .grad
                x_grad = x.grad
            x_adv = (x + 0.1 * x_grad.sign()).detach()
            if clear in ("optimizer", "model"):
                zero_grad(set_to_none=set_to_none)
            nn.functional.cross_entropy(model(x_adv), y).backward()
            if clear == "before-step":
                zero_grad(set_to_none=set_to_none)
            optimizer.step()

    loop.__qualname__ = f"adversarial-{input_gradient}-{clear}-set_to_none={set_to_none}"
    return loop


def adversarial_accumulation_loop(model: Net, optimizer: torch.optim.Optimizer) -> None:
    k = 3
    optimizer.zero_grad()
    for i, (x, y) in enumerate(batches(12)):
        x.requires_grad_(True)
        # only the input's gradient: the accumulating parameter gradients are left alone
        nn.functional.cross_entropy(model(x), y).backward(inputs=[x])
        x_adv = (x + 0.1 * x.grad.sign()).detach()
        (nn.functional.cross_entropy(model(x_adv), y) / k).backward()
        if (i + 1) % k == 0:
            optimizer.step()
            optimizer.zero_grad()


def adversarial_windows_loop(set_to_none: bool) -> Callable[[Net, torch.optim.Optimizer], None]:
    """Accumulation over k batches: the adversarial examples of a window first (their
    input-gradient backward passes also add into the parameters' .grad), then zero_grad() and
    the window's accumulated backward passes, and one step."""

    def loop(model: Net, optimizer: torch.optim.Optimizer) -> None:
        k = 3
        pending: list[tuple[torch.Tensor, torch.Tensor]] = []
        for i, (x, y) in enumerate(batches(12)):
            x.requires_grad_(True)
            nn.functional.cross_entropy(model(x), y).backward()
            pending.append(((x + 0.1 * x.grad.sign()).detach(), y))
            if (i + 1) % k == 0:
                optimizer.zero_grad(set_to_none=set_to_none)
                for x_adv, y_adv in pending:
                    (nn.functional.cross_entropy(model(x_adv), y_adv) / k).backward()
                optimizer.step()
                pending.clear()

    loop.__qualname__ = f"adversarial-windows-set_to_none={set_to_none}"
    return loop


@pytest.mark.parametrize(
    "loop",
    [
        adversarial_loop("backward", "optimizer", set_to_none=True),
        adversarial_loop("backward", "optimizer", set_to_none=False),
        adversarial_loop("backward", "model", set_to_none=True),
        adversarial_loop("backward", "model", set_to_none=False),
        adversarial_loop("autograd.grad", "optimizer"),
        adversarial_accumulation_loop,
        adversarial_windows_loop(set_to_none=True),
        adversarial_windows_loop(set_to_none=False),
    ],
    ids=lambda f: f.__qualname__.split(".")[0],
)
@pytest.mark.parametrize("strict", [False, True])
def test_adversarial_training_is_fine(loop, strict: bool) -> None:
    assert run(loop, strict=strict) == []


@pytest.mark.parametrize("set_to_none", [True, False])
@pytest.mark.parametrize("input_gradient", ["backward", "autograd.grad"])
def test_adversarial_training_never_clearing_warns(input_gradient: str, set_to_none: bool):
    loop = adversarial_loop(input_gradient, "nowhere", set_to_none)
    assert run(loop) == [GRADIENTS_NOT_CLEARED]


@pytest.mark.parametrize("set_to_none", [True, False])
def test_adversarial_training_clearing_before_the_step_warns(set_to_none: bool) -> None:
    loop = adversarial_loop("backward", "before-step", set_to_none)
    assert run(loop) == [CLEARED_BEFORE_STEP]


# --- layers and parameter groups changed after guard() -----------------------------------------


def classifier_model() -> nn.Sequential:
    model = nn.Sequential()  # no mode-sensitive layer when guard() is installed
    model.features = nn.Sequential(nn.Linear(8, 16), nn.ReLU())
    model.classifier = nn.Sequential(nn.Linear(16, 16), nn.Identity(), nn.Linear(16, 2))
    return model


def test_dropout_swapped_into_a_container_after_guard_is_watched() -> None:
    model = classifier_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    with caught() as records, guard(model, optimizer):
        train_step(model, optimizer, *next(batches()))
        model.classifier[1] = nn.Dropout()
        model.eval()  # evaluation that never switches back
        train_step(model, optimizer, *next(batches()))
    messages = torchmode_warnings(records)
    assert kinds(records) == [STEP_IN_EVAL]
    assert "`model.classifier.1` (Dropout)" in messages[0]


def test_head_swapped_in_after_guard_with_its_own_param_group_is_watched() -> None:
    model, optimizer = setup()
    with caught() as records, guard(model, optimizer):
        train_step(model, optimizer, *next(batches()))
        head = nn.Sequential(nn.Dropout(0.5), nn.Linear(16, 2)).eval()  # built for inference
        model.head = head
        optimizer.add_param_group({"params": head.parameters()})
        for x, y in batches(2):  # `model` trains, `head` is in eval mode
            train_step(model, optimizer, x, y)
    messages = torchmode_warnings(records)
    assert kinds(records) == [STEP_IN_EVAL]
    assert "`model.head.0` (Dropout) is in eval mode" in messages[0]


def test_param_group_added_after_guard_is_watched_from_its_first_step() -> None:
    def loop(model: Net, optimizer: torch.optim.Optimizer) -> None:
        extra = nn.Linear(2, 2)
        optimizer.add_param_group({"params": extra.parameters()})
        x, y = next(batches())
        optimizer.zero_grad()
        (nn.functional.cross_entropy(model(x), y) + extra(model(x)).sum()).backward()
        extra.zero_grad()  # the new group's gradients, gone before its first step
        optimizer.step()

    assert run(loop) == [CLEARED_BEFORE_STEP]


def test_gradients_are_probed_on_the_model_not_on_a_layer_swapped_out() -> None:
    model, optimizer = setup()  # the probe of the only group: `head.bias`, the smallest
    with caught() as records, guard(model, optimizer):
        for x, y in batches(2):
            train_step(model, optimizer, x, y, zero=False)
            optimizer.zero_grad(set_to_none=False)  # the old head keeps zeros in .grad
        model.head = nn.Linear(16, 2)
        optimizer.add_param_group({"params": model.head.parameters()})
        for x, y in batches(3):
            model.head.zero_grad()  # clears the new head, never the backbone (group 0)
            train_step(model, optimizer, x, y, zero=False)
    assert kinds(records) == [GRADIENTS_NOT_CLEARED]


def test_a_layer_deleted_after_guard_is_forgotten() -> None:
    model = nn.Sequential(nn.Linear(8, 16), nn.Dropout(0.5), nn.ReLU(), nn.Linear(16, 2))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    with caught() as records, guard(model, optimizer, strict=True):
        model[1].eval()
        del model[1]  # no registration hook sees a deletion
        for x, y in batches(2):
            train_step(model, optimizer, x, y)
    assert kinds(records) == []


def test_an_unremoved_guard_goes_with_its_model() -> None:
    gc.collect()  # guards of other tests, never removed
    before = global_registration_hooks()
    model, optimizer = setup()
    guard(model, optimizer)  # never removed
    train_step(model, optimizer, *next(batches()))
    assert global_registration_hooks() != before
    del model, optimizer
    gc.collect()
    assert global_registration_hooks() == before
