"""Each hover/doc claim of torchmode.knowledge.claims, run against real PyTorch."""

from __future__ import annotations

import sys
import threading

import pytest
import torch
from torch import nn
from torchmode.knowledge.claims import ERRORS


def dropout_bn_model() -> nn.Sequential:
    return nn.Sequential(nn.Linear(8, 16), nn.BatchNorm1d(16), nn.Dropout(0.5), nn.Linear(16, 4))


def raised(fn) -> str:
    """'ExceptionType: message' of what ``fn()`` raises."""
    with pytest.raises(Exception) as info:
        fn()
    return f"{info.type.__name__}: {info.value}"


# --- train() / eval() ---------------------------------------------------------------------------


@pytest.mark.claim("train.sets_training_recursively", "eval.sets_training_false_recursively")
def test_train_and_eval_set_every_submodule() -> None:
    model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Dropout(), nn.BatchNorm1d(2)))
    model.eval()
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())


@pytest.mark.claim("train.mode_false_is_eval", "eval.returns_module", "train.returns_module")
def test_train_false_is_eval_and_both_return_the_module() -> None:
    a, b = dropout_bn_model(), dropout_bn_model()
    assert a.train(False) is a
    assert b.eval() is b
    assert [m.training for m in a.modules()] == [m.training for m in b.modules()]
    c = dropout_bn_model()
    assert c.train(mode=False) is c and not any(m.training for m in c.modules())
    assert c.train() is c and c.training


@pytest.mark.claim("train.does_not_enable_grad")
def test_train_mode_records_nothing_under_no_grad() -> None:
    model = dropout_bn_model().train()
    with torch.no_grad():
        out = model(torch.randn(4, 8))
    assert out.grad_fn is None and not out.requires_grad


@pytest.mark.claim("train.dropout_active", "eval.dropout_identity")
def test_dropout_in_train_and_eval_mode() -> None:
    dropout = nn.Dropout(p=0.5)
    x = torch.rand(1000) + 1.0
    first, second = dropout(x), dropout(x)
    assert not torch.equal(first, second)
    kept = first != 0
    assert 0 < kept.sum() < x.numel()
    torch.testing.assert_close(first[kept], x[kept] / (1 - 0.5))
    dropout.eval()
    assert torch.equal(dropout(x), x)


@pytest.mark.claim("train.batchnorm_batch_stats", "eval.batchnorm_running_stats")
def test_batchnorm_statistics_by_mode() -> None:
    bn = nn.BatchNorm1d(3, affine=False)
    x = torch.randn(64, 3) * 5 + 3
    out = bn(x)
    torch.testing.assert_close(out.mean(0), torch.zeros(3), atol=1e-5, rtol=0)
    assert bn.num_batches_tracked.item() == 1
    assert not torch.equal(bn.running_mean, torch.zeros(3))

    bn.eval()
    mean, var = bn.running_mean.clone(), bn.running_var.clone()
    out = bn(x)
    torch.testing.assert_close(out, (x - mean) / torch.sqrt(var + bn.eps))
    assert torch.equal(bn.running_mean, mean) and torch.equal(bn.running_var, var)
    assert bn.num_batches_tracked.item() == 1


@pytest.mark.claim("eval.does_not_disable_autograd")
def test_eval_mode_still_records_the_graph(meter) -> None:
    model = dropout_bn_model().eval()
    with meter.recording():
        out = model(torch.randn(4, 8))
    assert out.requires_grad and out.grad_fn is not None
    assert meter.live_bytes > 0
    del out
    assert meter.live_bytes == 0


@pytest.mark.claim("eval.does_not_freeze_parameters", "step.ignores_mode")
def test_eval_mode_parameters_still_train() -> None:
    model = dropout_bn_model().eval()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    before = [p.clone() for p in model.parameters()]
    model(torch.randn(4, 8)).square().mean().backward()
    assert all(p.grad is not None for p in model.parameters())
    optimizer.step()
    assert all(not torch.equal(b, p) for b, p in zip(before, model.parameters(), strict=True))
    assert not model.training


@pytest.mark.claim("eval.takes_no_argument")
def test_eval_with_an_argument_is_a_type_error() -> None:
    assert raised(lambda: nn.Linear(2, 2).eval(False)) == ERRORS["eval_with_argument"]


@pytest.mark.claim("mode.method_without_call_is_noop")
def test_mode_method_without_call_changes_nothing() -> None:
    model = dropout_bn_model()
    model.eval  # noqa: B018 - the mistake under test
    assert model.training
    model.eval()
    model.train  # noqa: B018
    assert not model.training


# --- grad modes -------------------------------------------------------------------------------


@pytest.mark.claim("no_grad.no_graph")
def test_no_grad_records_no_graph(meter) -> None:
    model = dropout_bn_model().eval()
    with meter.recording(), torch.no_grad():
        out = model(torch.randn(4, 8))
    assert not out.requires_grad and out.grad_fn is None
    assert meter.packed == 0


@pytest.mark.claim("no_grad.does_not_change_mode", "inference_mode.does_not_change_mode")
@pytest.mark.parametrize("grad_mode", [torch.no_grad, torch.inference_mode])
def test_grad_modes_do_not_switch_dropout_or_batchnorm(grad_mode) -> None:
    model = dropout_bn_model()
    x = torch.randn(16, 8)
    stats = model[1].running_mean.clone()
    with grad_mode():
        first, second = model(x), model(x)
    assert model.training
    assert not torch.equal(first, second)  # Dropout still active
    assert not torch.equal(model[1].running_mean, stats)  # running stats updated


@pytest.mark.claim("no_grad.keeps_requires_grad")
def test_no_grad_keeps_requires_grad_and_restores_mode() -> None:
    model = nn.Linear(2, 2)
    with torch.no_grad():
        assert all(p.requires_grad for p in model.parameters())
        assert not torch.is_grad_enabled()
    assert torch.is_grad_enabled()
    torch.set_grad_enabled(False)
    with torch.no_grad():
        pass
    assert not torch.is_grad_enabled()  # the previous mode, not "on"
    torch.set_grad_enabled(True)


@pytest.mark.claim("no_grad.bare_decorator_works", "inference_mode.bare_decorator_works")
@pytest.mark.parametrize("decorator", ["no_grad", "inference_mode"])
@pytest.mark.parametrize("called", [True, False])
def test_grad_mode_decorators_with_and_without_parentheses(decorator: str, called: bool) -> None:
    factory = getattr(torch, decorator)
    wrap = factory() if called else factory

    @wrap
    def evaluate(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
        return model(x)

    out = evaluate(nn.Linear(2, 2), torch.randn(3, 2))
    assert not out.requires_grad and out.grad_fn is None
    assert out.is_inference() == (decorator == "inference_mode")
    assert torch.is_grad_enabled()


@pytest.mark.claim("grad_mode.must_be_called")
@pytest.mark.parametrize(
    "factory",
    [torch.no_grad, torch.inference_mode, torch.enable_grad, torch.set_grad_enabled],
    ids=lambda f: f.__name__,
)
def test_grad_mode_without_parentheses_is_a_type_error(factory) -> None:
    def enter() -> None:
        with factory:
            pass

    message = raised(enter)
    # Python itself words this error: exactly so in 3.11, 3.12 and 3.13 (checked by hand;
    # 3.10 raised AttributeError: __enter__); later versions may add detail at the end
    assert message.startswith(ERRORS["grad_mode_not_entered"])
    if sys.version_info[:2] <= (3, 13):
        assert message == ERRORS["grad_mode_not_entered"]


@pytest.mark.claim("grad_mode.backward_error")
@pytest.mark.parametrize("grad_mode", [torch.no_grad, torch.inference_mode])
def test_backward_on_a_value_computed_without_grad(grad_mode) -> None:
    model = nn.Linear(4, 1)
    with grad_mode():
        loss = model(torch.randn(3, 4)).mean()
    assert raised(loss.backward) == ERRORS["backward_without_graph"]


@pytest.mark.claim("inference_mode.no_graph")
def test_inference_mode_records_no_graph(meter) -> None:
    with meter.recording(), torch.inference_mode():
        out = nn.Linear(4, 4)(torch.randn(2, 4))
    assert out.is_inference() and not out.requires_grad and out.grad_fn is None
    assert meter.packed == 0


@pytest.mark.claim("inference_mode.tensors_rejected_by_autograd")
def test_inference_tensors_cannot_join_autograd_later() -> None:
    model = nn.Linear(4, 1)
    with torch.inference_mode():
        features = torch.randn(3, 4) * 2
    message = raised(lambda: model(features).mean().backward())
    assert message.startswith(ERRORS["inference_tensor_saved"])
    model(features.clone()).mean().backward()  # the documented workaround
    assert model.weight.grad is not None


@pytest.mark.claim("inference_mode.no_inplace_outside")
def test_inference_tensors_no_inplace_outside() -> None:
    with torch.inference_mode():
        t = torch.zeros(3)
    assert raised(lambda: t.add_(1)).startswith(ERRORS["inference_tensor_inplace"])


@pytest.mark.claim("enable_grad.inside_no_grad")
def test_enable_grad_inside_no_grad() -> None:
    w = torch.randn(3, requires_grad=True)

    @torch.no_grad()
    def evaluate_then_train() -> torch.Tensor:
        assert not (w * 2).requires_grad
        with torch.enable_grad():
            return (w * 2).sum()

    out = evaluate_then_train()
    assert out.requires_grad
    out.backward()
    assert w.grad is not None


@pytest.mark.claim("enable_grad.not_inside_inference_mode")
def test_enable_grad_does_not_override_inference_mode() -> None:
    w = torch.randn(3, requires_grad=True)
    with torch.inference_mode(), torch.enable_grad():
        out = w * 2
    assert not out.requires_grad and out.grad_fn is None


@pytest.mark.claim("set_grad_enabled.context")
@pytest.mark.parametrize("flag", [True, False])
def test_set_grad_enabled_as_a_context(flag: bool) -> None:
    w = torch.randn(3, requires_grad=True)
    with torch.set_grad_enabled(flag):
        out = w * 2
    assert out.requires_grad is flag
    assert torch.is_grad_enabled()
    with torch.no_grad():
        with torch.set_grad_enabled(flag):
            pass
        assert not torch.is_grad_enabled()


@pytest.mark.claim("set_grad_enabled.global_call")
def test_set_grad_enabled_as_a_statement() -> None:
    w = torch.randn(3, requires_grad=True)
    try:
        torch.set_grad_enabled(False)
        assert not (w * 2).requires_grad
        assert not (w * 3).requires_grad  # still off: no block ended it
        other_thread: list[bool] = []
        thread = threading.Thread(target=lambda: other_thread.append(torch.is_grad_enabled()))
        thread.start()
        thread.join()
        assert other_thread == [True]  # per thread
        torch.set_grad_enabled(True)
        assert (w * 2).requires_grad
    finally:
        torch.set_grad_enabled(True)


# --- gradients and optimizers -------------------------------------------------------------------


def two_models_one_optimizer() -> tuple[nn.Module, nn.Module, torch.optim.Optimizer]:
    trained, other = nn.Linear(3, 3), nn.Linear(3, 3)
    optimizer = torch.optim.SGD(trained.parameters(), lr=0.1)
    x = torch.randn(5, 3)
    (trained(x).sum() + other(x).sum()).backward()
    return trained, other, optimizer


@pytest.mark.claim("module.zero_grad.all_parameters")
def test_module_zero_grad_clears_every_parameter() -> None:
    model = nn.Sequential(nn.Linear(3, 3), nn.Sequential(nn.Linear(3, 3), nn.BatchNorm1d(3)))
    model(torch.randn(5, 3)).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


@pytest.mark.claim("optimizer.zero_grad.own_parameters")
def test_optimizer_zero_grad_clears_only_its_parameters() -> None:
    trained, other, optimizer = two_models_one_optimizer()
    optimizer.zero_grad()
    assert all(p.grad is None for p in trained.parameters())
    assert all(p.grad is not None for p in other.parameters())


@pytest.mark.claim("zero_grad.set_to_none_default")
def test_zero_grad_sets_to_none_by_default() -> None:
    trained, other, optimizer = two_models_one_optimizer()
    optimizer.zero_grad()
    other.zero_grad()
    assert all(p.grad is None for p in [*trained.parameters(), *other.parameters()])
    trained, other, optimizer = two_models_one_optimizer()
    optimizer.zero_grad(set_to_none=False)
    other.zero_grad(set_to_none=False)
    for p in [*trained.parameters(), *other.parameters()]:
        assert p.grad is not None and not p.grad.any()


@pytest.mark.claim("zero_grad.does_not_change_parameters")
def test_zero_grad_changes_neither_parameters_nor_mode() -> None:
    trained, _other, optimizer = two_models_one_optimizer()
    trained.eval()
    before = [p.clone() for p in trained.parameters()]
    optimizer.zero_grad()
    trained.zero_grad(set_to_none=False)
    assert all(torch.equal(b, p) for b, p in zip(before, trained.parameters(), strict=True))
    assert not trained.training


@pytest.mark.claim("backward.accumulates")
def test_backward_adds_into_grad() -> None:
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    (w * 3).sum().backward()
    assert torch.equal(w.grad, torch.tensor([3.0, 3.0]))
    (w * 5).sum().backward()
    assert torch.equal(w.grad, torch.tensor([8.0, 8.0]))


@pytest.mark.claim("backward.frees_graph")
def test_backward_frees_the_graph(meter) -> None:
    w = torch.randn(4, requires_grad=True)
    with meter.recording():
        loss = (w.exp() * w).sum()
    assert meter.live_bytes > 0
    loss.backward()
    assert meter.live_bytes == 0
    assert raised(loss.backward).startswith(ERRORS["backward_twice"])
    kept = (w.exp() * w).sum()
    kept.backward(retain_graph=True)
    kept.backward()  # allowed once retained


@pytest.mark.claim("backward.scalar_only")
def test_backward_needs_a_scalar() -> None:
    w = torch.randn(3, requires_grad=True)
    assert raised(lambda: (w * 2).backward()) == ERRORS["backward_non_scalar"]
    (w * 2).backward(torch.ones(3))  # an explicit gradient is fine


@pytest.mark.claim("backward.does_not_update_parameters")
def test_backward_leaves_parameters_alone() -> None:
    model = nn.Linear(3, 1)
    before = [p.clone() for p in model.parameters()]
    model(torch.randn(4, 3)).sum().backward()
    assert all(torch.equal(b, p) for b, p in zip(before, model.parameters(), strict=True))


@pytest.mark.claim("step.uses_current_grad")
def test_step_uses_grad_and_keeps_it() -> None:
    w = nn.Parameter(torch.tensor([1.0, 1.0]))
    optimizer = torch.optim.SGD([w], lr=0.5)
    w.grad = torch.tensor([2.0, -4.0])
    optimizer.step()
    assert torch.equal(w.detach(), torch.tensor([0.0, 3.0]))
    assert torch.equal(w.grad, torch.tensor([2.0, -4.0]))


@pytest.mark.claim("step.no_update_after_zero_grad")
@pytest.mark.parametrize("set_to_none", [True, False])
def test_step_after_zero_grad_changes_nothing(set_to_none: bool) -> None:
    model = nn.Linear(3, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model(torch.randn(4, 3)).sum().backward()
    optimizer.zero_grad(set_to_none=set_to_none)
    before = [p.clone() for p in model.parameters()]
    optimizer.step()
    assert all(torch.equal(b, p) for b, p in zip(before, model.parameters(), strict=True))


@pytest.mark.claim("requires_grad_.freezes", "requires_grad_.returns_self")
def test_requires_grad_false_freezes() -> None:
    backbone, head = nn.Linear(3, 3), nn.Linear(3, 1)
    assert backbone.requires_grad_(False) is backbone
    t = torch.zeros(2)
    assert t.requires_grad_() is t
    optimizer = torch.optim.SGD([*backbone.parameters(), *head.parameters()], lr=0.1)
    before = [p.clone() for p in backbone.parameters()]
    head(backbone(torch.randn(4, 3))).sum().backward()
    optimizer.step()
    assert all(p.grad is None for p in backbone.parameters())
    assert all(p.grad is not None for p in head.parameters())
    assert all(torch.equal(b, p) for b, p in zip(before, backbone.parameters(), strict=True))


@pytest.mark.claim("requires_grad_.does_not_change_mode")
def test_frozen_batchnorm_in_train_mode_still_updates_statistics() -> None:
    bn = nn.BatchNorm1d(3).requires_grad_(False)
    stats = bn.running_mean.clone()
    bn(torch.randn(8, 3) + 2)
    assert bn.training and not torch.equal(bn.running_mean, stats)
    bn.eval()
    stats = bn.running_mean.clone()
    bn(torch.randn(8, 3) + 2)
    assert torch.equal(bn.running_mean, stats)


@pytest.mark.claim("detach.no_graph")
def test_detach_drops_the_graph(meter) -> None:
    w = torch.randn(4, requires_grad=True)
    with meter.recording():
        out = (w.exp() * w).sum()
    kept = out.detach()
    assert kept.grad_fn is None and not kept.requires_grad
    del out
    assert meter.live_bytes == 0


@pytest.mark.claim("detach.shares_storage")
def test_detach_shares_storage() -> None:
    w = torch.randn(4, requires_grad=True)
    out = w * 2
    view = out.detach()
    view[0] = 100.0
    assert out[0].item() == 100.0


@pytest.mark.claim("item.python_number")
def test_item_returns_a_python_number(meter) -> None:
    w = torch.randn(4, requires_grad=True)
    with meter.recording():
        value = (w.exp() * w).sum().item()
    assert type(value) is float
    assert meter.live_bytes == 0
    assert type(torch.tensor([3]).item()) is int


@pytest.mark.claim("item.single_element")
def test_item_needs_one_element() -> None:
    assert raised(lambda: torch.ones(2).item()) == ERRORS["item_many_elements"]
    assert torch.ones(1, 1).item() == 1.0


@pytest.mark.claim("wrapper.keeps_module_mode")
def test_a_wrapper_runs_the_model_in_the_models_own_mode(tmp_path) -> None:
    import torch.distributed as dist

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 8), nn.Dropout(0.5))
    model.eval()
    x = torch.randn(4, 8)
    expected = model(x)
    wrapped = nn.DataParallel(model)  # on a machine without GPUs it calls model itself
    assert not model.training
    assert torch.equal(wrapped(x), expected) and torch.equal(wrapped(x), expected)
    dist.init_process_group(
        "gloo", init_method=f"file://{tmp_path / 'rendezvous'}", rank=0, world_size=1
    )
    try:
        ddp = nn.parallel.DistributedDataParallel(model)
        assert not model.training
        assert torch.equal(ddp(x), expected) and torch.equal(ddp(x), expected)
    finally:
        dist.destroy_process_group()
