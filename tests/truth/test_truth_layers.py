"""The mode-sensitive layer table against PyTorch: every ``torch.nn`` module class is built
with small inputs and run in train and in eval mode from the same random state; it is
mode-sensitive exactly when the outputs or the module's state (buffers, parameters) differ."""

from __future__ import annotations

import copy
import importlib
import inspect
import itertools
import pkgutil
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import torch
from torch import nn
from torchmode.knowledge import layers


@dataclass(frozen=True)
class Case:
    """A way to build and call one class; ``sensitive`` is what PyTorch should show."""

    build: Callable[[], nn.Module]
    inputs: Callable[[], tuple[Any, ...]]
    sensitive: bool
    label: str = "default"


def t(*shape: int) -> Callable[[], tuple[torch.Tensor]]:
    return lambda: (torch.randn(*shape),)


def long(high: int, *shape: int) -> Callable[[], tuple[torch.Tensor]]:
    return lambda: (torch.randint(0, high, shape),)


def pair(*shape: int) -> Callable[[], tuple[torch.Tensor, torch.Tensor]]:
    return lambda: (torch.randn(*shape), torch.randn(*shape))


def signs(*shape: int) -> torch.Tensor:
    return torch.randint(0, 2, shape).float() * 2 - 1


def _unpool_inputs(dims: int) -> Callable[[], tuple[torch.Tensor, torch.Tensor]]:
    pool = [nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d][dims - 1](2, return_indices=True)
    return lambda: pool(torch.randn(2, 3, *([4] * dims)))


def _ctc_inputs() -> tuple[torch.Tensor, ...]:
    log_probs = torch.randn(12, 2, 5).log_softmax(2)
    targets = torch.randint(1, 5, (2, 4))
    return log_probs, targets, torch.full((2,), 12), torch.full((2,), 4)


def _multilabel_margin_inputs() -> tuple[torch.Tensor, torch.Tensor]:
    return torch.randn(3, 5), torch.tensor([[1, 3, -1, 0, 0], [0, -1, 0, 0, 0], [4, 2, 1, -1, 0]])


def _padding(kind: str, dims: int) -> nn.Module:
    cls = getattr(nn, f"{kind}Pad{dims}d")
    return cls(1, 0.5) if kind == "Constant" else cls(1)


X1, X2, X3 = (2, 4, 8), (2, 4, 6, 6), (2, 4, 4, 4, 4)  # batches of 4-channel inputs
SEQ = (5, 2, 8)  # (sequence, batch, features)

# One entry per class; sensitive classes get a second case with the condition off
# (layers.CONDITIONS), which must then behave the same in both modes.
CASES: dict[str, list[Case]] = {
    # -- mode-sensitive ---------------------------------------------------------------------
    **{
        name: [
            Case(lambda c=cls: c(p=0.5), t(*shape), True),
            Case(lambda c=cls: c(p=0.0), t(*shape), False, "p=0"),
        ]
        for name, cls, shape in [
            ("Dropout", nn.Dropout, (4, 16)),
            ("Dropout1d", nn.Dropout1d, X1),
            ("Dropout2d", nn.Dropout2d, X2),
            ("Dropout3d", nn.Dropout3d, X3),
            ("AlphaDropout", nn.AlphaDropout, (4, 16)),
            ("FeatureAlphaDropout", nn.FeatureAlphaDropout, X2),
        ]
    },
    **{
        name: [
            Case(lambda c=cls, a=args: c(*a), t(*shape), True),
            Case(
                lambda c=cls, a=args: c(*a, track_running_stats=False),
                t(*shape),
                False,
                "track_running_stats=False",
            ),
        ]
        for name, cls, args, shape in [
            ("BatchNorm1d", nn.BatchNorm1d, (4,), (6, 4)),
            ("BatchNorm2d", nn.BatchNorm2d, (4,), X2),
            ("BatchNorm3d", nn.BatchNorm3d, (4,), X3),
            ("LazyBatchNorm1d", nn.LazyBatchNorm1d, (), (6, 4)),
            ("LazyBatchNorm2d", nn.LazyBatchNorm2d, (), X2),
            ("LazyBatchNorm3d", nn.LazyBatchNorm3d, (), X3),
            ("SyncBatchNorm", nn.SyncBatchNorm, (4,), X2),
        ]
    },
    **{
        name: [
            Case(lambda c=cls, a=args: c(*a), t(*shape), name.startswith("Lazy")),
            Case(
                lambda c=cls, a=args: c(*a, track_running_stats=True),
                t(*shape),
                True,
                "track_running_stats=True",
            ),
            Case(
                lambda c=cls, a=args: c(*a, track_running_stats=False),
                t(*shape),
                False,
                "track_running_stats=False",
            ),
        ]
        for name, cls, args, shape in [
            ("InstanceNorm1d", nn.InstanceNorm1d, (4,), X1),
            ("InstanceNorm2d", nn.InstanceNorm2d, (4,), X2),
            ("InstanceNorm3d", nn.InstanceNorm3d, (4,), X3),
            ("LazyInstanceNorm1d", nn.LazyInstanceNorm1d, (), X1),
            ("LazyInstanceNorm2d", nn.LazyInstanceNorm2d, (), X2),
            ("LazyInstanceNorm3d", nn.LazyInstanceNorm3d, (), X3),
        ]
    },
    **{
        name: [
            Case(lambda c=cls: c(8, 8), t(*SEQ), False),
            Case(lambda c=cls: c(8, 8, num_layers=2, dropout=0.5), t(*SEQ), True, "dropout>0"),
            Case(lambda c=cls: c(8, 8, num_layers=2), t(*SEQ), False, "dropout=0"),
            Case(lambda c=cls: c(8, 8, dropout=0.5), t(*SEQ), False, "num_layers=1"),
        ]
        for name, cls in [("RNN", nn.RNN), ("LSTM", nn.LSTM), ("GRU", nn.GRU)]
    },
    "MultiheadAttention": [
        Case(lambda: nn.MultiheadAttention(8, 2), lambda: (torch.randn(*SEQ),) * 3, False),
        Case(lambda: nn.MultiheadAttention(8, 2, dropout=0.5), lambda: (torch.randn(*SEQ),) * 3,
             True, "dropout>0"),
    ],
    **{
        name: [
            Case(lambda b=build: b(0.1), inputs, True),
            Case(lambda b=build: b(0.0), inputs, False, "dropout=0"),
        ]
        for name, build, inputs in [
            ("TransformerEncoderLayer", lambda p: nn.TransformerEncoderLayer(8, 2, 16, p), t(*SEQ)),
            ("TransformerDecoderLayer", lambda p: nn.TransformerDecoderLayer(8, 2, 16, p),
             pair(*SEQ)),
            ("TransformerEncoder", lambda p: nn.TransformerEncoder(
                nn.TransformerEncoderLayer(8, 2, 16, p), 2, enable_nested_tensor=False), t(*SEQ)),
            ("TransformerDecoder", lambda p: nn.TransformerDecoder(
                nn.TransformerDecoderLayer(8, 2, 16, p), 2), pair(*SEQ)),
            ("Transformer", lambda p: nn.Transformer(8, 2, 1, 1, 16, p), pair(*SEQ)),
        ]
    },
    "RReLU": [
        Case(nn.RReLU, t(4, 16), True),
        Case(lambda: nn.RReLU(0.2, 0.2), t(4, 16), False, "lower=upper"),
    ],
    # -- mode-insensitive -------------------------------------------------------------------
    **{
        name: [Case(cls, t(4, 6), False)]
        for name, cls in [
            ("CELU", nn.CELU), ("ELU", nn.ELU), ("GELU", nn.GELU), ("Hardshrink", nn.Hardshrink),
            ("Hardsigmoid", nn.Hardsigmoid), ("Hardswish", nn.Hardswish),
            ("Hardtanh", nn.Hardtanh), ("Identity", nn.Identity), ("LeakyReLU", nn.LeakyReLU),
            ("LogSigmoid", nn.LogSigmoid), ("Mish", nn.Mish), ("ReLU", nn.ReLU),
            ("ReLU6", nn.ReLU6), ("SELU", nn.SELU), ("SiLU", nn.SiLU), ("Sigmoid", nn.Sigmoid),
            ("Softplus", nn.Softplus), ("Softshrink", nn.Softshrink), ("Softsign", nn.Softsign),
            ("Tanh", nn.Tanh), ("Tanhshrink", nn.Tanhshrink), ("PReLU", nn.PReLU),
            ("GLU", nn.GLU), ("Flatten", nn.Flatten),
        ]
    },
    "Softmax": [Case(lambda: nn.Softmax(dim=1), t(4, 6), False)],
    "LogSoftmax": [Case(lambda: nn.LogSoftmax(dim=1), t(4, 6), False)],
    "Softmin": [Case(lambda: nn.Softmin(dim=1), t(4, 6), False)],
    "Softmax2d": [Case(nn.Softmax2d, t(*X2), False)],
    "Threshold": [Case(lambda: nn.Threshold(0.1, 0.0), t(4, 6), False)],
    "Unflatten": [Case(lambda: nn.Unflatten(1, (2, 3)), t(4, 6), False)],
    "ChannelShuffle": [Case(lambda: nn.ChannelShuffle(2), t(*X2), False)],
    "PixelShuffle": [Case(lambda: nn.PixelShuffle(2), t(*X2), False)],
    "PixelUnshuffle": [Case(lambda: nn.PixelUnshuffle(2), t(*X2), False)],
    **{
        f"{kind}{d}d": [Case(lambda k=kind, d=d: getattr(nn, f"{k}{d}d")(2), t(*x), False)]
        for kind in ("AdaptiveAvgPool", "AdaptiveMaxPool", "AvgPool", "MaxPool")
        for d, x in ((1, X1), (2, X2), (3, X3))
    },
    **{
        f"LPPool{d}d": [Case(lambda d=d: getattr(nn, f"LPPool{d}d")(2, 2), t(*x), False)]
        for d, x in ((1, X1), (2, X2), (3, X3))
    },
    "FractionalMaxPool2d": [
        Case(lambda: nn.FractionalMaxPool2d(2, output_size=3), t(*X2), False)
    ],
    "FractionalMaxPool3d": [
        Case(lambda: nn.FractionalMaxPool3d(2, output_size=2), t(*X3), False)
    ],
    **{
        f"MaxUnpool{d}d": [
            Case(lambda d=d: getattr(nn, f"MaxUnpool{d}d")(2), _unpool_inputs(d), False)
        ]
        for d in (1, 2, 3)
    },
    **{
        f"{kind}Pad{d}d": [
            Case(
                lambda k=kind, d=d: _padding(k, d),
                t(*x),
                False,
            )
        ]
        for kind in ("Circular", "Constant", "Reflection", "Replication", "Zero")
        for d, x in ((1, X1), (2, X2), (3, X3))
    },
    **{
        f"{kind}{d}d": [Case(lambda k=kind, d=d: getattr(nn, f"{k}{d}d")(4, 4, 3), t(*x), False)]
        for kind in ("Conv", "ConvTranspose")
        for d, x in ((1, X1), (2, X2), (3, X3))
    },
    **{
        f"Lazy{kind}{d}d": [
            Case(lambda k=kind, d=d: getattr(nn, f"Lazy{k}{d}d")(4, 3), t(*x), False)
        ]
        for kind in ("Conv", "ConvTranspose")
        for d, x in ((1, X1), (2, X2), (3, X3))
    },
    "Linear": [Case(lambda: nn.Linear(6, 3), t(4, 6), False)],
    "LazyLinear": [Case(lambda: nn.LazyLinear(3), t(4, 6), False)],
    "NonDynamicallyQuantizableLinear": [
        Case(lambda: nn.modules.linear.NonDynamicallyQuantizableLinear(6, 3), t(4, 6), False)
    ],
    "Bilinear": [Case(lambda: nn.Bilinear(6, 6, 3), pair(4, 6), False)],
    "Embedding": [Case(lambda: nn.Embedding(10, 4, max_norm=1.0), long(10, 3, 5), False)],
    "EmbeddingBag": [Case(lambda: nn.EmbeddingBag(10, 4), long(10, 3, 5), False)],
    "GroupNorm": [Case(lambda: nn.GroupNorm(2, 4), t(*X2), False)],
    "LayerNorm": [Case(lambda: nn.LayerNorm(6), t(4, 6), False)],
    "RMSNorm": [Case(lambda: nn.RMSNorm(6), t(4, 6), False)],
    "LocalResponseNorm": [Case(lambda: nn.LocalResponseNorm(2), t(*X2), False)],
    "CrossMapLRN2d": [Case(lambda: nn.CrossMapLRN2d(3), t(*X2), False)],
    "RNNCell": [Case(lambda: nn.RNNCell(6, 6), t(4, 6), False)],
    "LSTMCell": [Case(lambda: nn.LSTMCell(6, 6), t(4, 6), False)],
    "GRUCell": [Case(lambda: nn.GRUCell(6, 6), t(4, 6), False)],
    "CosineSimilarity": [Case(nn.CosineSimilarity, pair(4, 6), False)],
    "PairwiseDistance": [Case(nn.PairwiseDistance, pair(4, 6), False)],
    "Fold": [Case(lambda: nn.Fold((4, 4), 2), t(2, 12, 9), False)],
    "Unfold": [Case(lambda: nn.Unfold(2), t(*X2), False)],
    "Upsample": [Case(lambda: nn.Upsample(scale_factor=2), t(*X2), False)],
    "UpsamplingBilinear2d": [Case(lambda: nn.UpsamplingBilinear2d(scale_factor=2), t(*X2), False)],
    "UpsamplingNearest2d": [Case(lambda: nn.UpsamplingNearest2d(scale_factor=2), t(*X2), False)],
    **{name: [Case(getattr(nn, name), pair(4, 6), False)]
       for name in ("L1Loss", "MSELoss", "SmoothL1Loss", "HuberLoss", "BCEWithLogitsLoss",
                    "MultiLabelSoftMarginLoss", "PoissonNLLLoss")},
    "BCELoss": [Case(nn.BCELoss, lambda: (torch.rand(4, 6), torch.rand(4, 6)), False)],
    "KLDivLoss": [Case(lambda: nn.KLDivLoss(reduction="batchmean"),
                       lambda: (torch.randn(4, 6).log_softmax(1), torch.rand(4, 6)), False)],
    "SoftMarginLoss": [Case(nn.SoftMarginLoss, lambda: (torch.randn(4, 6), signs(4, 6)), False)],
    "HingeEmbeddingLoss": [
        Case(nn.HingeEmbeddingLoss, lambda: (torch.randn(4, 6), signs(4, 6)), False)
    ],
    "CrossEntropyLoss": [Case(nn.CrossEntropyLoss,
                              lambda: (torch.randn(4, 5), torch.randint(0, 5, (4,))), False)],
    "NLLLoss": [Case(nn.NLLLoss,
                     lambda: (torch.randn(4, 5).log_softmax(1), torch.randint(0, 5, (4,))), False)],
    "NLLLoss2d": [Case(nn.NLLLoss2d, lambda: (torch.randn(2, 5, 3, 3).log_softmax(1),
                                              torch.randint(0, 5, (2, 3, 3))), False)],
    "MultiMarginLoss": [Case(nn.MultiMarginLoss,
                             lambda: (torch.randn(4, 5), torch.randint(0, 5, (4,))), False)],
    "MultiLabelMarginLoss": [Case(nn.MultiLabelMarginLoss, _multilabel_margin_inputs, False)],
    "GaussianNLLLoss": [Case(nn.GaussianNLLLoss,
                             lambda: (torch.randn(4, 6), torch.randn(4, 6), torch.rand(4, 6) + .1),
                             False)],
    "CosineEmbeddingLoss": [Case(nn.CosineEmbeddingLoss,
                                 lambda: (torch.randn(4, 6), torch.randn(4, 6), signs(4)), False)],
    "MarginRankingLoss": [Case(nn.MarginRankingLoss,
                               lambda: (torch.randn(4), torch.randn(4), signs(4)), False)],
    "TripletMarginLoss": [Case(nn.TripletMarginLoss, lambda: (torch.randn(4, 6),) * 3, False)],
    "TripletMarginWithDistanceLoss": [
        Case(nn.TripletMarginWithDistanceLoss, lambda: (torch.randn(4, 6),) * 3, False)
    ],
    "CTCLoss": [Case(nn.CTCLoss, _ctc_inputs, False)],
    "AdaptiveLogSoftmaxWithLoss": [
        Case(lambda: nn.AdaptiveLogSoftmaxWithLoss(8, 10, cutoffs=[4]),
             lambda: (torch.randn(4, 8), torch.randint(0, 10, (4,))), False)
    ],
    "LinearCrossEntropyLoss": [
        Case(lambda: nn.LinearCrossEntropyLoss(8, 5),
             lambda: (torch.randn(4, 8), torch.randint(0, 5, (4,))), False)
    ],
}  # fmt: skip

NOT_RUN: dict[str, str] = {
    "Module": "the base class: its forward raises NotImplementedError",
    "Container": "deprecated base class without a forward",
    "Sequential": "a container: behaves as the modules it holds",
    "ModuleList": "a container without a forward",
    "ModuleDict": "a container without a forward",
    "ParameterList": "a container without a forward",
    "ParameterDict": "a container without a forward",
    "DataParallel": "a wrapper: behaves as the module it wraps",
    "RNNBase": "abstract base of RNN/LSTM/GRU: defines no forward (its subclasses are run)",
    "RNNCellBase": "abstract base of RNNCell/LSTMCell/GRUCell: defines no forward",
}
"""torch.nn classes that cannot be run on their own, with the reason."""


def torch_nn_classes() -> dict[str, type[nn.Module]]:
    """Every public nn.Module subclass exported by torch.nn or defined in torch.nn.modules."""
    found = {
        name: obj
        for name, obj in vars(nn).items()
        if inspect.isclass(obj) and issubclass(obj, nn.Module) and not name.startswith("_")
    }
    for info in pkgutil.iter_modules(nn.modules.__path__):
        module = importlib.import_module(f"torch.nn.modules.{info.name}")
        for name, obj in vars(module).items():
            if (
                inspect.isclass(obj)
                and issubclass(obj, nn.Module)
                and obj.__module__ == module.__name__
                and not name.startswith("_")
            ):
                found.setdefault(name, obj)
    return found


def flatten(value: Any) -> list[torch.Tensor]:
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, tuple | list):
        return [t for item in value for t in flatten(item)]
    if isinstance(value, dict):
        return [t for item in value.values() for t in flatten(item)]
    return []


def same(a: list[torch.Tensor], b: list[torch.Tensor]) -> bool:
    return len(a) == len(b) and all(
        x.shape == y.shape and torch.allclose(x.float(), y.float(), atol=1e-5, rtol=1e-4)
        for x, y in zip(a, b, strict=True)
    )


def mode_changes_behaviour(case: Case) -> tuple[bool, nn.Module]:
    """Run the module from the same random state in train and in eval mode; True if the
    outputs or the state afterwards differ."""
    torch.manual_seed(1)
    with warnings.catch_warnings():
        # constructor warnings (deprecations, "dropout needs num_layers > 1") are not the point
        warnings.simplefilter("ignore")
        module = case.build()
    inputs = case.inputs()
    if any(isinstance(p, nn.parameter.UninitializedParameter) for p in module.parameters()) or any(
        isinstance(b, nn.parameter.UninitializedBuffer) for b in module.buffers()
    ):
        # lazy modules take their shapes from a first call (made in eval mode: no state change)
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            module.eval()(*inputs)
    runs = []
    for training in (True, False):
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            copy_ = copy.deepcopy(module).train(training)
            torch.manual_seed(2)
            output = copy_(*inputs)
            state = flatten(copy_.state_dict())
        runs.append((flatten(output), state))
    (train_out, train_state), (eval_out, eval_state) = runs
    assert train_out, "the call produced no tensor"
    return not (same(train_out, eval_out) and same(train_state, eval_state)), module


ALL_CASES = [(name, case) for name, cases in CASES.items() for case in cases]


@pytest.mark.parametrize(("name", "case"), ALL_CASES, ids=[f"{n}-{c.label}" for n, c in ALL_CASES])
def test_layer_table_agrees_with_pytorch(name: str, case: Case) -> None:
    changed, module = mode_changes_behaviour(case)
    assert changed is case.sensitive
    assert layers.mode_sensitivity(name) is (name in layers.MODE_SENSITIVE)
    if case.label == "default":  # built with the class's default arguments
        assert case.sensitive is (
            name in layers.MODE_SENSITIVE and name not in layers.OFF_BY_DEFAULT
        )
    assert layers.instance_is_mode_sensitive(module) is changed


def test_every_torch_nn_class_is_classified_and_checked() -> None:
    classes = torch_nn_classes()
    tables = layers.MODE_SENSITIVE | layers.MODE_INSENSITIVE | layers.CONTAINERS
    assert sorted(set(classes) - tables) == []
    assert sorted(set(classes) - set(CASES) - set(NOT_RUN)) == []
    assert sorted((set(CASES) | set(NOT_RUN)) - set(classes)) == []
    assert set(CASES).isdisjoint(NOT_RUN)
    assert set(layers.MODE_SENSITIVE) <= set(layers.CONDITIONS)
    assert layers.OFF_BY_DEFAULT <= layers.MODE_SENSITIVE
    defaults = {n for n, cases in CASES.items() for c in cases if c.label == "default"}
    assert layers.OFF_BY_DEFAULT - {"RNNBase"} <= defaults
    assert all(layers.mode_sensitivity(n) is None for n in layers.CONTAINERS)


def test_not_run_classes_really_cannot_run() -> None:
    for name in ("RNNBase", "RNNCellBase", "Container", "ModuleList", "ModuleDict"):
        assert "forward" not in vars(getattr(nn, name))
    with pytest.raises(NotImplementedError):
        nn.Module()(torch.zeros(1))


def test_mode_sensitivity_accepts_qualified_names() -> None:
    assert layers.mode_sensitivity("torch.nn.BatchNorm2d") is True
    assert layers.mode_sensitivity("nn.Linear") is False
    assert layers.mode_sensitivity("Sequential") is None
    assert layers.mode_sensitivity("MyOwnBlock") is None


def test_instance_check_follows_subclasses_and_children() -> None:
    class MyDropout(nn.Dropout):
        pass

    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.drop = nn.Dropout()

    assert layers.instance_is_mode_sensitive(MyDropout()) is True
    assert layers.instance_is_mode_sensitive(Block()) is None  # its own forward is unknown
    assert layers.instance_is_mode_sensitive(Block().drop) is True


REQUIRED: dict[str, object] = {
    "num_features": 4,
    "input_size": 4,
    "hidden_size": 4,
    "embed_dim": 8,
    "num_heads": 2,
    "d_model": 8,
    "nhead": 2,
    "mode": "LSTM",
    # not required, but small values keep the Transformer cheap to build
    "num_encoder_layers": 1,
    "num_decoder_layers": 1,
    "dim_feedforward": 16,
}
VARIANTS: dict[str, tuple[object, ...]] = {
    "p": (0.0, 0.5),
    "track_running_stats": (True, False),
    "dropout": (0.0, 0.3),
    "num_layers": (1, 2),
    "lower": (0.2,),
    "upper": (0.2, 0.3),
}
OMITTED = object()


def constructor_calls(name: str) -> Iterator[tuple[tuple[object, ...], dict[str, object]]]:
    """Calls of ``nn.<name>`` varying each deciding argument (omitted, or each value), once
    with keywords and once positionally."""
    parameters = layers.CONSTRUCTOR_PARAMETERS[name]
    varied = [p for p, _ in parameters if p in VARIANTS]
    for choice in itertools.product(*((OMITTED, *VARIANTS[p]) for p in varied)):
        chosen = {p: v for p, v in zip(varied, choice, strict=True) if v is not OMITTED}
        required = {p: REQUIRED[p] for p, default in parameters if p in REQUIRED}
        yield (), {**required, **chosen}
        if chosen:
            last = max(i for i, (p, _) in enumerate(parameters) if p in chosen)
            yield tuple(chosen.get(p, required.get(p, d)) for p, d in parameters[: last + 1]), {}


def test_constructor_parameters_match_the_signatures() -> None:
    assert set(layers.CONSTRUCTOR_PARAMETERS) == layers.MODE_SENSITIVE - {
        "TransformerEncoder",  # depend on the layer object they are given
        "TransformerDecoder",
    }
    for name, parameters in layers.CONSTRUCTOR_PARAMETERS.items():
        if name in {"RNN", "LSTM", "GRU"}:  # (*args, **kwargs): checked by the calls below
            continue
        signature = list(inspect.signature(getattr(nn, name).__init__).parameters.values())[1:]
        assert [p.name for p in signature[: len(parameters)]] == [p for p, _ in parameters]
        for (param, default), real in zip(parameters, signature, strict=False):
            expected = inspect.Parameter.empty if default is None else default
            assert (
                real.default == pytest.approx(expected)
                if isinstance(default, float)
                else (real.default == expected)
            ), (name, param)


@pytest.mark.parametrize("name", sorted(layers.CONSTRUCTOR_PARAMETERS))
def test_construction_sensitivity_agrees_with_built_layers(name: str) -> None:
    calls = list(constructor_calls(name))
    assert len(calls) > 1
    for args, kwargs in calls:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            module = getattr(nn, name)(*args, **kwargs)
        expected = layers.instance_is_mode_sensitive(module)
        assert layers.construction_sensitivity(name, args, kwargs) is expected, (args, kwargs)


def test_construction_sensitivity_with_unknown_arguments() -> None:
    unknown = layers.UNKNOWN
    assert layers.construction_sensitivity("nn.Dropout", (unknown,)) is True
    assert layers.construction_sensitivity("LSTM", (unknown, unknown)) is False  # sizes only
    # one layer: its dropout (applied between layers) does nothing, whatever it is
    assert layers.construction_sensitivity("LSTM", (4, 4), {"dropout": unknown}) is False
    assert layers.construction_sensitivity("LSTM", (4, 4, 2), {"dropout": unknown}) is True
    # the default dropout 0: no layer count makes it mode-dependent
    assert layers.construction_sensitivity("GRU", (4, 4, unknown)) is False
    assert layers.construction_sensitivity("GRU", (4, 4, unknown), {"dropout": 0.2}) is True
    assert layers.construction_sensitivity("RReLU", (unknown,)) is True
    assert layers.construction_sensitivity("InstanceNorm2d", (unknown,)) is False
    assert layers.construction_sensitivity("Dropout", ("not a number",)) is True
    assert layers.construction_sensitivity("TransformerEncoder", (unknown, 2)) is True
    assert layers.construction_sensitivity("Linear", (unknown, 3)) is False
    assert layers.construction_sensitivity("Sequential", ()) is None


@pytest.mark.parametrize(
    "wrap",
    [nn.utils.spectral_norm, nn.utils.parametrizations.spectral_norm],
    ids=["utils", "parametrizations"],
)
def test_spectral_norm_makes_the_layer_it_wraps_mode_sensitive(
    wrap: Callable[..., nn.Module],
) -> None:
    assert layers.mode_sensitivity("torch.nn.utils.spectral_norm") is True
    torch.manual_seed(0)
    layer = wrap(nn.Linear(4, 4))
    x = torch.randn(2, 4)
    before = copy.deepcopy(layer.state_dict())
    layer.eval()
    with torch.no_grad():
        first, second = layer(x), layer(x)
    assert torch.equal(first, second)
    assert all(torch.equal(value, layer.state_dict()[key]) for key, value in before.items())
    layer.train()
    with torch.no_grad():
        layer(x)
    # the power iteration's vectors move in train mode only
    assert any(not torch.equal(value, layer.state_dict()[key]) for key, value in before.items())


@pytest.mark.claim("layers.embedding_from_pretrained_frozen")
@pytest.mark.parametrize("cls", [nn.Embedding, nn.EmbeddingBag])
def test_embeddings_from_pretrained_are_frozen_by_default(cls: type[nn.Module]) -> None:
    weights = torch.randn(10, 4)
    tokens = torch.tensor([[1, 2, 3]])
    frozen = cls.from_pretrained(weights)  # type: ignore[attr-defined]
    assert not frozen.weight.requires_grad
    assert not frozen(tokens).requires_grad
    trainable = cls.from_pretrained(weights, freeze=False)  # type: ignore[attr-defined]
    assert trainable.weight.requires_grad and trainable(tokens).requires_grad


def _built(case: Case) -> nn.Module:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return case.build()


DEFAULT_CASES = [(n, c) for n, c in ALL_CASES if c.label == "default"]


@pytest.mark.claim("tm201.parameter_free_layer_records_nothing")
@pytest.mark.parametrize(("name", "case"), DEFAULT_CASES, ids=[n for n, _ in DEFAULT_CASES])
def test_parameter_free_table_agrees_with_pytorch(name: str, case: Case) -> None:
    module = _built(case)
    free = not list(module.parameters())
    assert layers.construction_is_parameter_free(name) is free
    if free:  # with gradients on, nothing is recorded for an input that needs none
        outputs = flatten(module(*case.inputs()))
        assert outputs and all(out.grad_fn is None for out in outputs)


@pytest.mark.claim("tm201.parameter_free_layer_records_nothing")
@pytest.mark.parametrize("name", sorted(layers.AFFINE))
def test_normalisation_without_affine_parameters(name: str) -> None:
    keyword, position, default = layers.AFFINE[name]
    signature = list(inspect.signature(getattr(nn, name).__init__).parameters.values())[1:]
    assert signature[position].name == keyword and signature[position].default is default
    required = {
        p.name: REQUIRED.get(p.name, 4) for p in signature[:position] if p.default is p.empty
    }
    if name == "GroupNorm":
        required = {"num_groups": 2, "num_channels": 4}
    for flag in (True, False):
        module = getattr(nn, name)(**required, **{keyword: flag})
        assert bool(list(module.parameters())) is flag
        assert layers.construction_is_parameter_free(name, (), {keyword: flag}) is (not flag)
        positional = (*required.values(), *[p.default for p in signature[len(required) : position]])
        assert layers.construction_is_parameter_free(name, (*positional, flag)) is (not flag)
    assert layers.construction_is_parameter_free(name, (), {keyword: layers.UNKNOWN}) is False
    shapes = {"1d": (2, 4, 6), "2d": (2, 4, 5, 5), "3d": (2, 4, 3, 3, 3)}
    x = torch.randn(*shapes.get(name[-2:], (2, 4)))
    if name == "SyncBatchNorm":
        return  # runs on a process group only; its parameters are checked above
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        free = getattr(nn, name)(**required, **{keyword: False})
        assert free(x).grad_fn is None
