"""Which ``torch.nn`` layers behave differently in train and eval mode.

``eval()``/``train()`` only matter for layers whose ``forward`` reads ``self.training``. A model
built only from the layers in ``MODE_INSENSITIVE`` computes the same thing in both modes, so
"evaluated in train mode" or "trained in eval mode" is harmless for it. The tables are checked
by ``tests/truth/test_layers.py``, which runs every ``torch.nn`` module class it can build in
both modes and compares outputs and buffers.

Some layers depend on the mode only in some configurations (``CONDITIONS``): they are listed as
sensitive because a class name alone cannot rule it out. ``construction_sensitivity`` decides
from a constructor call's literal arguments (``nn.LSTM(8, 8)`` is not sensitive), and
``instance_is_mode_sensitive`` from a live module's attributes (duck-typed, so this module
never imports torch).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

_DROPOUT = frozenset(
    {"Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout"}
)
_BATCH_NORM = frozenset(
    {
        "BatchNorm1d",
        "BatchNorm2d",
        "BatchNorm3d",
        "LazyBatchNorm1d",
        "LazyBatchNorm2d",
        "LazyBatchNorm3d",
        "SyncBatchNorm",
    }
)
_INSTANCE_NORM = frozenset({"InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d"})
# unlike InstanceNorm*d, the lazy variants default to track_running_stats=True (PyTorch 2.13)
_LAZY_INSTANCE_NORM = frozenset({"LazyInstanceNorm1d", "LazyInstanceNorm2d", "LazyInstanceNorm3d"})
_RNN = frozenset({"RNN", "LSTM", "GRU", "RNNBase"})
_TRANSFORMER = frozenset(
    {
        "Transformer",
        "TransformerEncoder",
        "TransformerDecoder",
        "TransformerEncoderLayer",
        "TransformerDecoderLayer",
    }
)

MODE_SENSITIVE: frozenset[str] = (
    _DROPOUT
    | _BATCH_NORM
    | _INSTANCE_NORM
    | _LAZY_INSTANCE_NORM
    | _RNN
    | _TRANSFORMER
    | frozenset({"RReLU", "MultiheadAttention"})
)
"""``torch.nn`` classes whose forward can depend on ``training`` (see ``CONDITIONS``)."""

MODE_SENSITIVE_WRAPPERS: frozenset[str] = frozenset({"spectral_norm"})
"""Functions of ``torch.nn.utils`` (and ``torch.nn.utils.parametrizations``) whose wrapped module
becomes mode-sensitive: spectral normalisation runs its power iteration, and updates its
vectors, in train mode only."""

CONDITIONS: dict[str, str] = {
    **{n: "when `p > 0` (train mode drops elements; eval mode is the identity)" for n in _DROPOUT},
    **{
        n: "when `track_running_stats=True` (the default): train mode normalises with batch "
        "statistics and updates the running ones; eval mode uses the running ones"
        for n in _BATCH_NORM
    },
    **{
        n: "only when `track_running_stats=True` (the default is False, and then both modes "
        "normalise with the instance's own statistics)"
        for n in _INSTANCE_NORM
    },
    **{
        n: "when `track_running_stats=True`, which the lazy variants default to (unlike "
        "`InstanceNorm*d`)"
        for n in _LAZY_INSTANCE_NORM
    },
    **{
        n: "only when `dropout > 0` and `num_layers > 1` (dropout between stacked layers; the "
        "defaults are 0 and 1)"
        for n in _RNN
    },
    **{n: "when its `dropout > 0` (the default is 0.1)" for n in _TRANSFORMER},
    "MultiheadAttention": "only when `dropout > 0` (the default is 0.0)",
    "RReLU": "when `lower != upper` (train mode samples a random slope; eval mode uses the mean)",
}
"""For each mode-sensitive class, the configuration in which it actually is."""

OFF_BY_DEFAULT: frozenset[str] = _INSTANCE_NORM | _RNN | frozenset({"MultiheadAttention"})
"""Mode-sensitive classes that are *not* when built with their default arguments
(``nn.InstanceNorm2d(64)``, ``nn.LSTM(8, 8)``, ``nn.MultiheadAttention(64, 8)``)."""

MODE_INSENSITIVE: frozenset[str] = frozenset(
    {
        "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d", "AdaptiveLogSoftmaxWithLoss",
        "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "AdaptiveMaxPool3d", "AvgPool1d", "AvgPool2d",
        "AvgPool3d", "BCELoss", "BCEWithLogitsLoss", "Bilinear", "CELU", "CTCLoss",
        "ChannelShuffle", "CircularPad1d", "CircularPad2d", "CircularPad3d", "ConstantPad1d",
        "ConstantPad2d", "ConstantPad3d", "Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d",
        "ConvTranspose2d", "ConvTranspose3d", "CosineEmbeddingLoss", "CosineSimilarity",
        "CrossEntropyLoss", "CrossMapLRN2d", "ELU", "Embedding", "EmbeddingBag", "Flatten", "Fold",
        "FractionalMaxPool2d", "FractionalMaxPool3d", "GELU", "GLU", "GRUCell", "GaussianNLLLoss",
        "GroupNorm", "Hardshrink", "Hardsigmoid", "Hardswish", "Hardtanh", "HingeEmbeddingLoss",
        "HuberLoss", "Identity", "KLDivLoss", "L1Loss", "LPPool1d", "LPPool2d", "LPPool3d",
        "LSTMCell", "LayerNorm", "LazyConv1d", "LazyConv2d", "LazyConv3d", "LazyConvTranspose1d",
        "LazyConvTranspose2d", "LazyConvTranspose3d", "LazyLinear", "LeakyReLU", "Linear",
        "LinearCrossEntropyLoss", "LocalResponseNorm", "LogSigmoid", "LogSoftmax", "MSELoss",
        "MarginRankingLoss", "MaxPool1d", "MaxPool2d", "MaxPool3d", "MaxUnpool1d", "MaxUnpool2d",
        "MaxUnpool3d", "Mish", "MultiLabelMarginLoss", "MultiLabelSoftMarginLoss",
        "MultiMarginLoss", "NLLLoss", "NLLLoss2d", "NonDynamicallyQuantizableLinear", "PReLU",
        "PairwiseDistance", "PixelShuffle", "PixelUnshuffle", "PoissonNLLLoss", "RMSNorm",
        "RNNCell", "RNNCellBase", "ReLU", "ReLU6", "ReflectionPad1d", "ReflectionPad2d",
        "ReflectionPad3d", "ReplicationPad1d", "ReplicationPad2d", "ReplicationPad3d", "SELU",
        "SiLU", "Sigmoid", "SmoothL1Loss", "SoftMarginLoss", "Softmax", "Softmax2d", "Softmin",
        "Softplus", "Softshrink", "Softsign", "Tanh", "Tanhshrink", "Threshold",
        "TripletMarginLoss", "TripletMarginWithDistanceLoss", "Unflatten", "Unfold", "Upsample",
        "UpsamplingBilinear2d", "UpsamplingNearest2d", "ZeroPad1d", "ZeroPad2d", "ZeroPad3d",
    }
)  # fmt: skip
"""``torch.nn`` classes whose forward never reads ``training``."""

CONTAINERS: frozenset[str] = frozenset(
    {
        "Module",
        "Sequential",
        "ModuleList",
        "ModuleDict",
        "ParameterList",
        "ParameterDict",
        "Container",
        "DataParallel",
        "DistributedDataParallel",
    }
)
"""Classes whose behaviour is that of the modules they hold: ask about their children."""


def mode_sensitivity(class_name: str) -> bool | None:
    """True: the class can behave differently in train and eval mode (``CONDITIONS`` says
    when); False: it never does; None: unknown, or a container that depends on its children.

    Accepts ``"BatchNorm2d"``, ``"nn.BatchNorm2d"`` or ``"torch.nn.BatchNorm2d"``."""
    name = class_name.rpartition(".")[2]
    if name in MODE_SENSITIVE or name in MODE_SENSITIVE_WRAPPERS:
        return True
    if name in MODE_INSENSITIVE:
        return False
    return None


def _positive(attribute: str) -> Callable[[object], bool]:
    return lambda module: float(getattr(module, attribute, 1.0) or 0.0) > 0.0


def _rnn(module: object) -> bool:
    return _positive("dropout")(module) and int(getattr(module, "num_layers", 1)) > 1


def _tracks_running_stats(module: object) -> bool:
    return bool(getattr(module, "track_running_stats", True))


def _rrelu(module: object) -> bool:
    return getattr(module, "lower", 0.0) != getattr(module, "upper", 1.0)


def _any_child_sensitive(module: object) -> bool:
    children = getattr(module, "modules", None)
    if children is None:
        return True
    return any(
        child is not module and instance_is_mode_sensitive(child) is True for child in children()
    )


_PREDICATES: dict[str, Callable[[object], bool]] = {
    **dict.fromkeys(_DROPOUT, _positive("p")),
    **dict.fromkeys(_BATCH_NORM | _INSTANCE_NORM | _LAZY_INSTANCE_NORM, _tracks_running_stats),
    **dict.fromkeys(_RNN, _rnn),
    **dict.fromkeys(_TRANSFORMER, _any_child_sensitive),
    "MultiheadAttention": _positive("dropout"),
    "RReLU": _rrelu,
}


def class_names(module: object) -> list[str]:
    """The names of ``module``'s class and its bases, most derived first."""
    return [cls.__name__ for cls in type(module).__mro__]


def instance_is_mode_sensitive(module: object) -> bool | None:
    """Whether this module object's *own* forward depends on ``training``, judged by the
    nearest known ``torch.nn`` class in its MRO and its configuration. A user-defined
    subclass of ``nn.Dropout`` counts as Dropout; a plain ``nn.Module`` subclass is None
    (its own forward is unknown; its children are judged one by one)."""
    for name in class_names(module):
        if name in _PREDICATES:
            return _PREDICATES[name](module)
        if name in MODE_INSENSITIVE:
            return False
        if name in CONTAINERS:
            return None
    return None


class _Unknown:
    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: object = _Unknown()
"""Stands for a constructor argument whose value is not a literal (a variable, a call...)."""

_BN_ARGS = (("eps", 1e-5), ("momentum", 0.1), ("affine", True), ("track_running_stats", True))
_IN_ARGS = (("eps", 1e-5), ("momentum", 0.1), ("affine", False), ("track_running_stats", False))
_RNN_ARGS = (("num_layers", 1), ("bias", True), ("batch_first", False), ("dropout", 0.0))
_TRANSFORMER_LAYER_ARGS = (("d_model", None), ("nhead", None), ("dim_feedforward", 2048))

CONSTRUCTOR_PARAMETERS: dict[str, tuple[tuple[str, object], ...]] = {
    **dict.fromkeys(_DROPOUT, (("p", 0.5),)),
    **dict.fromkeys(
        _BATCH_NORM - {"LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d"},
        (("num_features", None), *_BN_ARGS),
    ),
    **dict.fromkeys({"LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d"}, _BN_ARGS),
    **dict.fromkeys(_INSTANCE_NORM, (("num_features", None), *_IN_ARGS)),
    **dict.fromkeys(_LAZY_INSTANCE_NORM, _BN_ARGS),  # same defaults as BatchNorm
    "RNN": (
        ("input_size", None),
        ("hidden_size", None),
        ("num_layers", 1),
        ("nonlinearity", "tanh"),
        ("bias", True),
        ("batch_first", False),
        ("dropout", 0.0),
    ),
    **dict.fromkeys({"LSTM", "GRU"}, (("input_size", None), ("hidden_size", None), *_RNN_ARGS)),
    "RNNBase": (("mode", None), ("input_size", None), ("hidden_size", None), *_RNN_ARGS),
    "MultiheadAttention": (("embed_dim", None), ("num_heads", None), ("dropout", 0.0)),
    **dict.fromkeys(
        {"TransformerEncoderLayer", "TransformerDecoderLayer"},
        (*_TRANSFORMER_LAYER_ARGS, ("dropout", 0.1)),
    ),
    "Transformer": (
        ("d_model", 512),
        ("nhead", 8),
        ("num_encoder_layers", 6),
        ("num_decoder_layers", 6),
        ("dim_feedforward", 2048),
        ("dropout", 0.1),
    ),
    "RReLU": (("lower", 1.0 / 8), ("upper", 1.0 / 3)),
}
"""The leading constructor parameters of the mode-sensitive classes, in order, with their
defaults (None: required), up to the last one that decides whether the layer is."""


# the parameters whose value decides; an UNKNOWN one makes the answer "may be" (True)
_DECIDING: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(_DROPOUT, ("p",)),
    **dict.fromkeys(_BATCH_NORM | _INSTANCE_NORM | _LAZY_INSTANCE_NORM, ("track_running_stats",)),
    **dict.fromkeys(_RNN, ("dropout", "num_layers")),
    **dict.fromkeys(_TRANSFORMER, ("dropout",)),
    "MultiheadAttention": ("dropout",),
    "RReLU": ("lower", "upper"),
}


class _Config:
    """Constructor arguments seen as the attributes the predicates read."""

    def __init__(self, values: dict[str, object]) -> None:
        self.__dict__.update(values)


def construction_sensitivity(
    class_name: str, args: tuple[object, ...] = (), kwargs: dict[str, object] | None = None
) -> bool | None:
    """Whether ``nn.<class_name>(*args, **kwargs)`` builds a layer whose forward depends on
    ``training``, judged from the call's literal arguments, e.g. ``nn.LSTM(8, 8)`` -> False,
    ``nn.InstanceNorm2d(64, track_running_stats=True)`` -> True, ``nn.Dropout(0.0)`` -> False.
    Pass ``UNKNOWN`` for arguments that are not literals; a deciding argument that is unknown
    gives True (it may be). Without a constructor table (``TransformerEncoder`` depends on the
    layer it is given) this is ``mode_sensitivity(class_name)``."""
    name = class_name.rpartition(".")[2]
    signature = CONSTRUCTOR_PARAMETERS.get(name)
    if signature is None:
        return mode_sensitivity(name)
    values = {param: default for param, default in signature}
    values.update(zip((param for param, _ in signature), args, strict=False))
    values.update((k, v) for k, v in (kwargs or {}).items() if k in values)
    try:
        config = _Config(values)
        # a transformer layer's Dropout children are built with its `dropout` argument
        predicate = _positive("dropout") if name in _TRANSFORMER else _PREDICATES[name]
        unknown = [k for k, v in values.items() if k in _DECIDING.get(name, ()) and v is UNKNOWN]
        if unknown:
            return _may_be_sensitive(predicate, values, unknown)
        return bool(predicate(config))
    except (TypeError, ValueError):
        return True  # a literal of an unexpected type: say "may be"


# Values an unknown deciding argument is tried with: each side of every threshold the
# predicates test (a probability of 0 or not, one layer or more, a flag on or off).
_PROBES: tuple[object, ...] = (0.0, 0.5, 1, 2, True, False)


def _may_be_sensitive(
    predicate: Callable[[object], bool], values: dict[str, object], unknown: list[str]
) -> bool:
    """Whether some value of the unknown deciding arguments makes the layer mode-dependent,
    the known ones as given: ``nn.GRU(h, h, n_layers)`` keeps the default dropout 0, so it
    is not, whatever ``n_layers`` is; ``nn.Dropout(p)`` may be."""
    for probe in itertools.product(_PROBES, repeat=len(unknown)):
        tried = {**values, **dict(zip(unknown, probe, strict=True))}
        if predicate(_Config(tried)):
            return True
    return False


# Layers without parameters whatever their arguments: forwarding one records no autograd graph
# unless its input carries one.
PARAMETER_FREE: frozenset[str] = frozenset(
    {
        "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d", "AdaptiveMaxPool1d",
        "AdaptiveMaxPool2d", "AdaptiveMaxPool3d", "AlphaDropout", "AvgPool1d", "AvgPool2d",
        "AvgPool3d", "CELU", "ChannelShuffle", "CircularPad1d", "CircularPad2d", "CircularPad3d",
        "ConstantPad1d", "ConstantPad2d", "ConstantPad3d", "CosineSimilarity", "CrossMapLRN2d",
        "Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "ELU", "FeatureAlphaDropout", "Flatten",
        "Fold", "FractionalMaxPool2d", "FractionalMaxPool3d", "GELU", "GLU", "Hardshrink",
        "Hardsigmoid", "Hardswish", "Hardtanh", "Identity", "LPPool1d", "LPPool2d", "LPPool3d",
        "LeakyReLU", "LocalResponseNorm", "LogSigmoid", "LogSoftmax", "MaxPool1d", "MaxPool2d",
        "MaxPool3d", "MaxUnpool1d", "MaxUnpool2d", "MaxUnpool3d", "Mish", "PairwiseDistance",
        "PixelShuffle", "PixelUnshuffle", "RReLU", "ReLU", "ReLU6", "ReflectionPad1d",
        "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d", "ReplicationPad2d",
        "ReplicationPad3d", "SELU", "SiLU", "Sigmoid", "Softmax", "Softmax2d", "Softmin",
        "Softplus", "Softshrink", "Softsign", "Tanh", "Tanhshrink", "Threshold", "Unflatten",
        "Unfold", "Upsample", "UpsamplingBilinear2d", "UpsamplingNearest2d", "ZeroPad1d",
        "ZeroPad2d", "ZeroPad3d",
        # the loss modules
        "BCELoss", "BCEWithLogitsLoss", "CTCLoss", "CosineEmbeddingLoss", "CrossEntropyLoss",
        "GaussianNLLLoss", "HingeEmbeddingLoss", "HuberLoss", "KLDivLoss", "L1Loss", "MSELoss",
        "MarginRankingLoss", "MultiLabelMarginLoss", "MultiLabelSoftMarginLoss",
        "MultiMarginLoss", "NLLLoss", "NLLLoss2d", "PoissonNLLLoss", "SmoothL1Loss",
        "SoftMarginLoss", "TripletMarginLoss", "TripletMarginWithDistanceLoss",
    }
)  # fmt: skip

_NORM_WITH_FEATURES = _BATCH_NORM - {"LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d"}

AFFINE: dict[str, tuple[str, int, bool]] = {
    **dict.fromkeys(_NORM_WITH_FEATURES, ("affine", 3, True)),
    **dict.fromkeys({"LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d"}, ("affine", 2, True)),
    **dict.fromkeys(_INSTANCE_NORM, ("affine", 3, False)),
    **dict.fromkeys(_LAZY_INSTANCE_NORM, ("affine", 2, True)),
    "GroupNorm": ("affine", 3, True),
    "LayerNorm": ("elementwise_affine", 2, True),
    "RMSNorm": ("elementwise_affine", 2, True),
}
"""Normalisation layers whose parameters are a switch of the constructor: (keyword, position,
default); with the switch off they have none."""


def construction_is_parameter_free(
    class_name: str, args: tuple[object, ...] = (), kwargs: dict[str, object] | None = None
) -> bool:
    """Whether ``nn.<class_name>(*args, **kwargs)`` certainly builds a layer without parameters
    (``nn.ReLU()``, ``nn.BatchNorm1d(2, affine=False)``, ``nn.InstanceNorm2d(64)``), from the
    call's literal arguments; an argument that is not a literal (``UNKNOWN``) may switch them
    on."""
    name = class_name.rpartition(".")[2]
    if name in PARAMETER_FREE:
        return True
    switch = AFFINE.get(name)
    if switch is None:
        return False
    keyword, position, default = switch
    given = (kwargs or {}).get(keyword, args[position] if len(args) > position else default)
    return given is False
