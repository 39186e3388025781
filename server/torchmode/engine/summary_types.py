"""What a file gives the other files of its project (its summary), as plain data: what each of
its functions does to the models it is given and to the grad mode, its nn.Module classes, its
calls into the other files, what its meters keep (project.py computes and keeps them)."""

from __future__ import annotations

from dataclasses import dataclass, field

from torchmode.engine.accumulation import Accumulator
from torchmode.engine.callers import CallSite, RepeatedCall
from torchmode.engine.values import CallerSite, Mode


@dataclass(frozen=True)
class ParamEffect:
    """What happens to ``param`` + ``suffix`` (``model`` + ``.encoder``): its mode."""

    param: str
    suffix: str
    mode: Mode


@dataclass(frozen=True)
class Inside:
    """The state inside ``with helper(...):`` for a ``@contextmanager`` helper: at its yield."""

    modes: tuple[ParamEffect, ...]  # modes it has put what it was given in
    grad: bool | None  # grad mode (None: as it found it)


@dataclass(frozen=True)
class ExternalFunction:
    """A summary of a function defined in another file of the project."""

    qualified: str
    params: tuple[str, ...]
    exit_modes: tuple[ParamEffect, ...] = ()  # modes it leaves what it was given in
    trains: tuple[ParamEffect, ...] = ()  # modes of what it was given where it trains them
    exit_grad: bool | None = None  # grad mode it leaves (None: as it found it)
    grad_off_decorator: bool = False  # used as a decorator, runs what it wraps without grad
    inside: Inside | None = None  # a @contextmanager: the state in the ``with`` block
    # and the modes what it was given is left in when the block ends (INPUT: as before it)
    context_exit: tuple[ParamEffect, ...] = ()
    # ``trains`` are what its own optimizer steps update (else: what it computes gradients for,
    # which its caller's step may or may not update)
    steps: bool = False
    # what it was given that it runs once, in the mode and grad mode it was given (a
    # ``forward_step(model, batch)`` helper): a forward pass at each call, in the caller's terms
    forwards: tuple[ParamEffect, ...] = ()
    # what it was given whose gradients it clears (``optimizer.zero_grad()`` on a parameter):
    # (parameter, suffix) pairs
    clears: tuple[tuple[str, str], ...] = ()
    # every return gives a module it built and never switched (``return VGG(layers)``): the
    # caller's ``model = vgg19()`` starts in train mode, as ``model = VGG(layers)`` would
    returns_fresh: bool = False
    # the class it builds, as its file names it (``VGG``, ``torch.nn.Sequential``; "": not known)
    returns_class: str = ""
    # what it returns carries an autograd graph (a helper returning ``model(x)``, a trainer
    # module's ``train_step()`` handing back its losses), and is a loss
    returns_graph: bool = False
    returns_loss: bool = False


@dataclass(frozen=True)
class Subclass:
    """A class of the file whose base is a class of another file of the project: what that
    base's own ``self.method()`` runs when this is the one subclass defining the method
    (overrides.py)."""

    name: str
    bases: tuple[tuple[str, str], ...]  # (real path of the base's file, the base's name)
    methods: tuple[str, ...]  # every method it defines, stubs left out
    # per method, the attributes of ``self`` it calls (``self.model(x)``: ``.model``) with
    # gradients as it was entered and nothing trained: each with the mode it switches that
    # attribute to first (INPUT: none) and where the call is
    runs: dict[str, tuple[tuple[ParamEffect, CallerSite], ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class FileSummary:
    """What other files need of one file: its functions' summaries, its nn.Module classes."""

    functions: dict[str, ExternalFunction] = field(default_factory=dict)
    # its nn.Module classes, and whether each has mode-dependent layers (None: not known)
    module_classes: dict[str, bool | None] = field(default_factory=dict)
    analysed: bool = False
    # its calls to functions of other project files: (real path, function) -> each call
    calls: dict[tuple[str, str], tuple[CallSite, ...]] = field(default_factory=dict)
    # how its code names them: (real path, function) -> (named in a call, named otherwise)
    references: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)
    direct_calls: dict[tuple[str, str], int] = field(default_factory=dict)  # calls analysed
    imported: frozenset[tuple[str, str]] = frozenset()  # functions it imports by name
    # project files it uses in ways that hide their functions' callers (``import *``, the
    # module itself passed around)
    unknown_targets: frozenset[str] = frozenset()
    # class -> method -> what the method keeps of its arguments (``AverageMeter.update``)
    accumulators: dict[str, dict[str, Accumulator]] = field(default_factory=dict)
    subclasses: tuple[Subclass, ...] = ()  # its classes with a base in another project file
    # its calls made inside a loop to functions (``f``) and class methods (``Class.m``) of
    # other project files: (real path, name) -> each
    repeated: dict[tuple[str, str], tuple[RepeatedCall, ...]] = field(default_factory=dict)
    # its plain classes -> method -> what the method does to the modules it holds as
    # attributes of ``self`` (``VSE.val_start``: ``self.img_enc`` to eval mode), ``self`` its
    # first parameter; and its module classes -> method -> the same, and whether what it
    # returns carries a graph (``DetectorTrainer.train_step``)
    methods: dict[str, dict[str, ExternalFunction]] = field(default_factory=dict)
    # those plain classes -> the modules they hold (``self.img_enc``: ``img_enc``), with the
    # class each is built from (as the file names it, "": not known) and whether it has
    # mode-dependent layers (None: not known)
    held_modules: dict[str, dict[str, tuple[str, bool | None]]] = field(default_factory=dict)
    # its nn.Module classes -> their constructor's parameters (after ``self``) and those it
    # keeps as they are as ``self.<attr>`` (``Distiller(t_net, s_net)``: its children)
    constructor_children: dict[str, tuple[tuple[str, ...], tuple[tuple[str, str], ...]]] = field(
        default_factory=dict
    )
