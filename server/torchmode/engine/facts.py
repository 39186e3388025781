"""Flow-insensitive facts about a file, gathered in one pass before the flow analysis.

Which names are imported from torch, which functions and classes the file defines, which access
paths hold modules (``model``, ``self.net``), optimizers (and which modules' parameters they
cover), loss functions, frozen sub-modules, and instances of the file's own classes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import libcst as cst

from torchmode.engine import torch_api as api
from torchmode.engine.chunks import Chunk, code_of
from torchmode.engine.init_rates import Arguments, bind, rated_sensitivity
from torchmode.engine.names import ImportTable
from torchmode.engine.values import Mode
from torchmode.knowledge.layers import (
    CONTAINERS,
    mode_sensitivity,
)

if TYPE_CHECKING:
    from torchmode.engine.project import ProjectContext
    from torchmode.engine.project_files import Stamp

MODULE_EVIDENCE = frozenset(
    {
        "parameters",
        "named_parameters",
        "modules",
        "named_modules",
        "children",
        "named_children",
        "buffers",
        "register_buffer",
        "register_forward_hook",
        "load_state_dict",
    }
)


READS_TRAINING = "<self.training>"  # stands for a class's own mode-dependent code in its layers


@dataclass(eq=False)
class FunctionInfo:
    node: cst.FunctionDef
    chunk: Chunk
    cls: ClassInfo | None
    params: list[str]
    outer: FunctionInfo | None = None  # the function it is defined in (a closure)

    @property
    def name(self) -> str:
        return self.node.name.value

    @property
    def qualname(self) -> str:
        return f"{self.cls.name}.{self.name}" if self.cls else self.name

    def receives(self, key: str) -> bool:
        """``key`` (``opt``, ``model.encoder``) is rooted in a parameter other than ``self``:
        what it stands for is the caller's to say."""
        root = key.split(".", 1)[0].split("[", 1)[0]
        return root in self.params and root not in {"self", "cls"}


@dataclass(eq=False)
class ClassInfo:
    node: cst.ClassDef
    chunk: Chunk
    bases: list[str]  # qualified when imported, else as written
    methods: dict[str, FunctionInfo] = field(default_factory=dict)
    layers: set[str] = field(default_factory=set)  # classes instantiated in its methods
    # torch.nn layers built in ``__init__`` from its parameters (``nn.Dropout(p_drop)``), as
    # templates an instance's arguments complete; ``fixed_layers``: also built otherwise
    rated_layers: dict[str, list[Arguments]] = field(default_factory=dict)
    fixed_layers: set[str] = field(default_factory=set)

    @property
    def name(self) -> str:
        return self.node.name.value


@dataclass
class Facts:
    imports: ImportTable
    functions: dict[str, FunctionInfo] = field(default_factory=dict)
    classes: dict[str, ClassInfo] = field(default_factory=dict)
    all_functions: list[FunctionInfo] = field(default_factory=list)
    module_keys: set[str] = field(default_factory=set)
    module_class: dict[str, str] = field(default_factory=dict)  # key -> class it was built from
    # key -> the module key it names too (``engine`` of ``deepspeed.initialize(model=net)``)
    aliased: dict[str, str] = field(default_factory=dict)
    # key -> the layers of the ``nn.Sequential(...)`` it was given, as written in the call
    # (None: given one whose layers are not all known, or several different ones)
    sequential_layers: dict[str, tuple[str, ...] | None] = field(default_factory=dict)
    # key -> the literal ``__init__`` arguments of the project class instance it holds
    # (``block = Block(8, 0.0)``: ``{"width": 8, "p_drop": 0.0}``; None: built several ways)
    init_arguments: dict[str, dict[str, object] | None] = field(default_factory=dict)
    optimizer_cover: dict[str, set[str]] = field(default_factory=dict)  # every function's
    scoped_cover: dict[tuple[int, str], set[str]] = field(default_factory=dict)
    # id(the value of ``opt = Adam(net.parameters())``) -> what that optimizer trains: the
    # cover from that assignment on (``optimizer`` reused for a second model in a notebook)
    cover_at: dict[int, frozenset[str]] = field(default_factory=dict)
    # (class, ``self.<attr>``) -> what the optimizer a method of that class builds there covers
    # (in the class's own terms): ``self.discriminator.optimizer`` of a Discriminator instance
    class_cover: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    # (id of the def it is built in, or 0 at module level and for ``self.``, name): optimizers
    # built over a list of plain tensors (``SGD([delta])``, an attack's perturbation)
    tensor_optimizers: set[tuple[int, str]] = field(default_factory=set)
    step_receivers: set[str] = field(default_factory=set)
    zero_receivers: set[str] = field(default_factory=set)
    frozen: set[str] = field(default_factory=set)
    # names only ever given a torch.nn layer without parameters (``nn.BatchNorm1d(n,
    # affine=False)``): forwarding one records no graph; its mode still matters
    parameter_free: set[str] = field(default_factory=set)
    loss_fns: set[str] = field(default_factory=set)
    instances: dict[str, str] = field(default_factory=dict)  # key -> local class name
    param_lists: dict[str, set[str]] = field(default_factory=dict)
    grad_contexts: dict[str, cst.Call] = field(default_factory=dict)  # no_grad = torch.no_grad()
    grad_factories: set[str] = field(default_factory=set)  # names that pick a grad mode
    built_from: dict[str, str] = field(default_factory=dict)  # key -> imported class built
    # keys given instances of two different imported classes, or one and something else
    # known (a module): which class they hold is not known
    built_mixed: set[str] = field(default_factory=set)
    # see fact_collection.ChunkRecord.handed_on: (id of the def it happens in, or 0 at module
    # level, name)
    handed_on: set[tuple[int, str]] = field(default_factory=set)
    # names given a DeepSpeed engine (``deepspeed.initialize``'s first element): a module
    # whose ``backward(loss)`` backpropagates and whose ``step()`` steps and clears
    engines: set[str] = field(default_factory=set)
    # ``step = make_step(model, opt)``: (id of the def it is assigned in, or 0 at module level,
    # or, for ``self.step = ...``, of the class) -> the call, None when assigned more than once
    call_assigned: dict[tuple[int, str], cst.Call | None] = field(default_factory=dict)
    # ``self.<attr>`` -> the class (as its file names it) and sensitivity to the mode of the
    # module a plain base class of another file of the project keeps there (inherited.py)
    inherited: dict[str, tuple[str, bool | None]] = field(default_factory=dict)
    project: ProjectContext | None = field(default=None, repr=False, compare=False)

    function_by_node: dict[int, FunctionInfo] = field(default_factory=dict)
    # The flow asks about the same few keys thousands of times: answers are kept per analysis.
    _optimizer_memo: dict[str, bool] = field(default_factory=dict, repr=False, compare=False)
    _module_prefixes: frozenset[str] | None = field(default=None, repr=False, compare=False)
    _subclasses: dict[str, list[str]] | None = field(default=None, repr=False, compare=False)
    _covering_memo: dict[tuple[str, int], list[str]] = field(
        default_factory=dict, repr=False, compare=False
    )
    _project_files: tuple[tuple[str, Stamp | None], ...] | None = field(
        default=None, repr=False, compare=False
    )

    def fingerprint(self) -> tuple[object, ...]:
        """Everything the flow analysis reads from the facts: a function's cached analysis is
        reused only while this is unchanged (node identities stand for unchanged code)."""

        def ids(d: dict[str, FunctionInfo] | dict[str, ClassInfo]) -> tuple[str, ...]:
            # names only: a changed function changes its own analysis object, which every
            # analysis that used it checks (CachedFlow.deps)
            return tuple(sorted(d))

        def sets(d: dict[str, set[str]]) -> tuple[tuple[str, tuple[str, ...]], ...]:
            return tuple(sorted((k, tuple(sorted(v))) for k, v in d.items()))

        classes = tuple(
            sorted(
                (
                    name,
                    tuple(c.bases),
                    ids(c.methods),
                    tuple(sorted(c.layers)),
                )
                for name, c in self.classes.items()
            )
        )
        return (
            tuple(sorted(self.imports.names.items())),
            self.imports.star,
            ids(self.functions),
            classes,
            tuple(sorted(self.module_keys)),
            tuple(sorted(self.module_class.items())),
            tuple(sorted(self.aliased.items())),
            tuple(sorted((k, v or ()) for k, v in self.sequential_layers.items())),
            sets(self.optimizer_cover),
            tuple(sorted(tuple(sorted(v)) for v in self.scoped_cover.values())),
            tuple(sorted(tuple(sorted(v)) for v in self.cover_at.values())),
            tuple(sorted((k, tuple(sorted(v))) for k, v in self.class_cover.items())),
            tuple(sorted(name for _, name in self.tensor_optimizers)),
            tuple(sorted(self.step_receivers)),
            tuple(sorted(self.zero_receivers)),
            tuple(sorted(self.frozen)),
            tuple(sorted(self.parameter_free)),
            tuple(sorted(self.loss_fns)),
            tuple(sorted(self.instances.items())),
            tuple(sorted(self.built_from.items())),
            tuple(sorted(self.built_mixed)),
            tuple(sorted(self.engines)),
            sets(self.param_lists),
            tuple(
                sorted(
                    (k, self.imports.resolve(v.func) or "") for k, v in self.grad_contexts.items()
                )
            ),
            tuple(sorted(self.grad_factories)),
            tuple(  # module-level ones are read by functions of other statements
                sorted(
                    (name, code_of(call.func) if call is not None else "")
                    for (scope, name), call in self.call_assigned.items()
                    if scope == 0
                )
            ),
            # which other files its imports resolve to (what their functions do is checked per
            # analysis: FileFlow.external)
            tuple(path for path, _ in self.project_files()),
        )

    def project_files(self) -> tuple[tuple[str, Stamp | None], ...]:
        """The other files of the project this file imports from, each with its stamp (what
        its summary is computed from: project.py); memoised for the analysis."""
        if self._project_files is None:
            project = self.project
            imported = [*self.imports.names.values(), *self.imports.star_modules]
            self._project_files = project.stamp(imported) if project is not None else ()
        return self._project_files

    # -- classes -------------------------------------------------------------------------
    def class_of_alias(self, key: str) -> str | None:
        """The class a module key was built from, following the names it was given on
        (``model = DDP(net)``, ``engine, *_ = deepspeed.initialize(model=net)``)."""
        seen: set[str] = set()
        while key not in self.module_class and key in self.aliased and key not in seen:
            seen.add(key)
            key = self.aliased[key]
        return self.module_class.get(key)

    def class_is_plain(self, name: str, _seen: frozenset[str] = frozenset()) -> bool:
        """A class of this file that is surely not a module: its bases, if any, are
        ``object`` or plain classes of this file (a trainer, a runner)."""
        info = self.classes.get(name)
        if info is None or name in _seen:
            return False
        return all(
            base in {"object", "builtins.object"}
            or self.class_is_plain(base.rsplit(".", 1)[-1], _seen | {name})
            for base in info.bases
        )

    def class_is_module(self, name: str, _seen: frozenset[str] = frozenset()) -> bool:
        info = self.classes.get(name)
        if info is None or name in _seen:
            return False
        for base in info.bases:
            if base in api.MODULE_BASES or base.startswith("torch.nn."):
                return True
            if base in {"nn.Module", "Module"} and not self.imports.names:
                return True
            if self.class_is_module(base.rsplit(".", 1)[-1], _seen | {name}):
                return True
            # ``class VID(Distiller)`` with ``from ._base import Distiller``
            if self.project is not None and "." in base and self.project.is_module_class(base):
                return True
        return False

    def class_bases_in(self, name: str, wanted: frozenset[str]) -> bool:
        info = self.classes.get(name)
        seen: set[str] = set()
        while info is not None and info.name not in seen:
            seen.add(info.name)
            if any(b in wanted for b in info.bases):
                return True
            nxt = None
            for b in info.bases:
                nxt = self.classes.get(b.rsplit(".", 1)[-1])
                if nxt is not None:
                    break
            info = nxt
        return False

    def method(self, cls: ClassInfo, name: str) -> FunctionInfo | None:
        seen: set[str] = set()
        current: ClassInfo | None = cls
        while current is not None and current.name not in seen:
            seen.add(current.name)
            if name in current.methods:
                return current.methods[name]
            current = next(
                (
                    self.classes[b.rsplit(".", 1)[-1]]
                    for b in current.bases
                    if b.rsplit(".", 1)[-1] in self.classes
                ),
                None,
            )
        return None

    def dispatched(self, cls: ClassInfo, name: str) -> FunctionInfo | None:
        """What ``self.name()`` in a method of ``cls`` runs: its own or inherited method, or,
        where that is missing or a stub (``raise NotImplementedError``), the one definition
        among the file's subclasses of ``cls`` (a base trainer's ``train()`` calling
        ``self._valid_epoch()`` that its subclass defines); None when several subclasses
        define it differently or none does."""
        found = self.method(cls, name)
        if found is not None and not is_stub(found.node):
            return found
        overrides = {
            id(m.node): m
            for sub in self._subclasses_of(cls.name)
            if (m := self.classes[sub].methods.get(name)) is not None and not is_stub(m.node)
        }
        if len(overrides) == 1:
            return next(iter(overrides.values()))
        return found

    def _subclasses_of(self, name: str) -> list[str]:
        if self._subclasses is None:
            direct: dict[str, list[str]] = {}
            for sub, info in self.classes.items():
                for base in info.bases:
                    direct.setdefault(base.rsplit(".", 1)[-1], []).append(sub)
            self._subclasses = direct
        out: list[str] = []
        stack = list(self._subclasses.get(name, ()))
        while stack:
            sub = stack.pop()
            if sub not in out and sub != name:
                out.append(sub)
                stack.extend(self._subclasses.get(sub, ()))
        return out

    def mode_sensitivity(self, key: str, own_code: bool = True) -> bool | None:
        """Whether the module at ``key`` has layers that behave differently in eval mode;
        ``own_code`` False leaves out the project classes' own ``self.training`` branches
        (noise layers of RL networks read it on purpose, to be used in train mode)."""

        cls = self.module_class.get(key)
        if cls is None:
            return self._held_sensitivity(key)
        layers = self.sequential_layers.get(key)
        if cls == "torch.nn.Sequential" and layers:
            # ``nn.Sequential(nn.Linear(1, 10), nn.ReLU())``: what its layers are
            verdicts = [self._class_sensitivity(layer, frozenset(), own_code) for layer in layers]
            if any(v is True for v in verdicts):
                return True
            return False if all(v is False for v in verdicts) else None
        bound = self.init_arguments.get(key)
        return self._class_sensitivity(cls, frozenset(), own_code, bound)

    def held_by(self, key: str) -> tuple[str, str] | None:
        """``model.img_enc`` where ``model`` holds only instances of a plain class of another
        file of the project (``model = VSE(opt)``): that class and the attribute."""
        owner, _, attr = key.rpartition(".")
        if not owner or "[" in attr:
            return None
        built = self.built_from.get(owner)
        if built is None or owner in self.built_mixed or owner in self.instances:
            return None
        return built, attr

    def held_module(self, key: str) -> tuple[str, bool | None] | None:
        """The class of the module at ``key`` (``model.img_enc``) that an instance of another
        file's plain class holds, as that file names it, and its sensitivity to the mode; or
        the module at ``self.<attr>`` that a plain base class of another file holds."""
        inherited = self.inherited.get(key)
        if inherited is not None:
            return inherited
        held = self.held_by(key)
        if held is None or self.project is None or "." not in held[0]:
            return None
        return self.project.held_module(*held)

    def held_switch(self, key: str) -> str | None:
        """``model.train_start`` for ``model.img_enc`` when ``model`` holds an instance of
        another file's plain class whose ``train_start()`` switches ``self.img_enc`` (and other
        modules it holds) to train mode, and does nothing else: what its author calls."""
        held = self.held_by(key)
        if held is None or self.project is None or "." not in held[0]:
            return None
        method = self.project.switching_method(held[0], held[1], Mode.TRAIN)
        return f"{key.rpartition('.')[0]}.{method}" if method is not None else None

    def _held_sensitivity(self, key: str) -> bool | None:
        found = self.held_module(key)
        return found[1] if found is not None else None

    def class_sensitivity(self, cls: str, built: cst.Call | None = None) -> bool | None:
        """Whether instances of ``cls`` (a class name as this file spells it) have layers that
        behave differently in eval mode; the one ``built`` by that call if given (its literal
        arguments may turn off layers configured by the constructor's parameters)."""
        local = self.classes.get(cls) if built is not None else None
        bound = bind(built, local.node) if built is not None and local is not None else None
        return self._class_sensitivity(cls, frozenset(), bound=bound)

    def project_builder(self, name: str) -> str | None:
        """``name`` (resolved: ``models.vgg19``) as a function of another file of the project
        whose every return gives a module it built (``return VGG(layers)``): the class, as
        this file can name it ("": not known); None when it is no such function."""
        if self.project is None or "." not in name or not _dotted_name(name):
            return None
        found = self.project.lookup(name)
        if found is None or not found.returns_fresh:
            return None
        cls = found.returns_class
        if not cls or cls.startswith(("torch.", "torchvision.", "timm.")):
            return cls
        # a class of that file, by its bare name there (imported ones are named in its terms)
        return "" if "." in cls else f"{name.rpartition('.')[0]}.{cls}"

    def project_class(self, name: str) -> str | None:
        """``name`` (resolved, or bare and maybe star-imported) as the qualified name of an
        nn.Module class of another file of the project."""
        project = self.project
        if project is None or not _dotted_name(name):
            return None  # ``"{} items".format`` (code, not a name) names no file's class
        if "." in name:
            return name if project.is_module_class(name) else None
        for module in self.imports.star_modules:
            if project.is_module_class(f"{module}.{name}"):
                return f"{module}.{name}"
        return None

    def _class_sensitivity(
        self,
        cls: str,
        seen: frozenset[str],
        own_code: bool = True,
        bound: dict[str, object] | None = None,
    ) -> bool | None:
        local = self.classes.get(cls.rsplit(".", 1)[-1]) if "." not in cls else None
        if local is None:
            if cls.startswith("torch.nn."):
                return mode_sensitivity(cls.rsplit(".", 1)[-1])
            if cls.startswith(("torchvision.models.", "timm.")):
                return True  # their networks are built with BatchNorm and/or Dropout
            qualified = self.project_class(cls)
            if qualified is not None and self.project is not None:
                return self.project.class_sensitivity(qualified)
            return None
        if cls in seen:
            return None
        # a container built in a method (``nn.ModuleList([nn.Conv2d(...), ...])``) holds layers
        # that are built there too and judged on their own
        if own_code and READS_TRAINING in local.layers:
            return True
        verdicts = [
            rated_sensitivity(layer, local.rated_layers[layer], bound)
            if bound is not None and layer in local.rated_layers and layer not in local.fixed_layers
            else self._class_sensitivity(layer, seen | {cls}, own_code)
            for layer in local.layers
            if layer != READS_TRAINING
            and not (layer.startswith("torch.nn.") and layer.rsplit(".", 1)[-1] in CONTAINERS)
        ]
        if any(v is True for v in verdicts):
            return True
        if verdicts and all(v is False for v in verdicts):
            return False
        return None

    # -- values --------------------------------------------------------------------------
    def is_optimizer_key(self, key: str | None) -> bool:
        if key is None:
            return False
        known = self._optimizer_memo.get(key)
        if known is None:
            known = self._optimizer_memo[key] = self._is_optimizer_key(key)
        return known

    def _is_optimizer_key(self, key: str) -> bool:
        if key in self.optimizer_cover:
            return True
        if self._module_prefixes is None:
            self._module_prefixes = frozenset(
                k[:i] for k in self.module_keys for i, c in enumerate(k) if c == "."
            )
        if key in self.module_keys or key in self._module_prefixes:
            return False  # a module, or a wrapper of one (DDP(model).module)
        last = key.rsplit(".", 1)[-1]
        if api.NOT_OPTIMIZER_KEY.search(last):
            return False
        if api.OPTIMIZER_KEY.search(last):
            return True
        # zero_grad() alone is also a module's method: it takes a step() too to be an optimizer
        return key in self.zero_receivers and key in self.step_receivers

    def covered_by(self, optimizer: str, scope: FunctionInfo | None = None) -> set[str]:
        """Module keys whose parameters ``optimizer`` trains (empty: not known)."""
        if scope is not None:
            scoped = self.scoped_cover.get((id(scope.node), optimizer))
            if scoped is not None:
                return scoped
            if scope.receives(optimizer):
                # a parameter is what the caller passes, not the module-level optimizer that
                # happens to share its name: the caller's own analysis binds it
                return set()
        return self.optimizer_cover.get(optimizer) or self._through_instance(optimizer)

    def trains_only_tensors(self, optimizer: str, scope: FunctionInfo | None = None) -> bool:
        """``optimizer`` was built over a list of plain tensors, none of them a module's
        (``SGD([delta])``: an attack optimizing its input perturbation): it trains no model."""
        if scope is not None:
            if (id(scope.node), optimizer) in self.tensor_optimizers:
                return True
            if (id(scope.node), optimizer) in self.scoped_cover or scope.receives(optimizer):
                return False  # another optimizer of that name, built or given here
        return (0, optimizer) in self.tensor_optimizers

    def _through_instance(self, optimizer: str) -> set[str]:
        """``gan.discriminator.optimizer``: the optimizer an instance of one of the file's
        classes builds over its own parameters in its methods (``self.optimizer =
        Adam(self.parameters())``), in the instance's terms (``gan.discriminator``); empty when
        the class is not known or its optimizer covers nothing of the instance's own."""
        owner, _, attr = optimizer.rpartition(".")
        cls = self.class_of(owner) if owner else None
        if cls is None:
            return set()
        # (a parameter of its constructor it keeps as ``self.net`` counts as that attribute)
        cover = self.class_cover.get((cls, "self." + attr), set())
        return {owner + c[4:] for c in cover if c == "self" or c.startswith("self.")}

    def class_of(self, key: str) -> str | None:
        """The file's class an access path holds an instance of: ``gan`` (``gan = GAN()``), or
        ``gan.discriminator`` (``self.discriminator = Discriminator()`` in GAN's methods)."""
        found = self.instances.get(key)
        if found is not None:
            return found
        owner, _, attr = key.rpartition(".")
        if not owner or owner == "self" or self.class_of(owner) is None:
            return None
        return self.instances.get("self." + attr)

    def may_cover(self, optimizer: str, module: str, scope: FunctionInfo | None = None) -> bool:
        """Whether ``optimizer`` may train ``module`` (or a part or a whole of it): yes when
        what it covers is not known."""
        cover = self.covered_by(optimizer, scope)
        return not cover or any(
            module == c or module.startswith(c + ".") or c.startswith(module + ".") for c in cover
        )

    def optimizers_covering(self, module: str, scope: FunctionInfo | None = None) -> list[str]:
        """The optimizers that train ``module`` (or a part or a whole of it); not to be changed
        by the caller (kept per analysis: every zero_grad() and call asks)."""
        memo_key = (module, id(scope.node) if scope is not None else 0)
        found = self._covering_memo.get(memo_key)
        if found is None:
            found = self._covering_memo[memo_key] = [
                o
                for o in self.optimizer_cover
                if any(
                    module == c or module.startswith(c + ".") or c.startswith(module + ".")
                    for c in self.covered_by(o, scope)
                )
            ]
        return found


def is_stub(node: cst.FunctionDef) -> bool:
    """A body of only a docstring, ``pass``, ``...`` or ``raise NotImplementedError``
    (or ``return`` it)."""
    body = node.body
    if isinstance(body, cst.SimpleStatementSuite):
        statements: list[cst.BaseSmallStatement] = list(body.body)
    else:
        statements = []
        for line in body.body:
            if type(line) is not cst.SimpleStatementLine:
                return False
            statements.extend(line.body)
    for small in statements:
        if type(small) is cst.Pass:
            continue
        if type(small) is cst.Expr and type(small.value) in (
            cst.SimpleString,
            cst.ConcatenatedString,
            cst.Ellipsis,
        ):
            continue
        # ``return NotImplementedError(...)``, a slip for ``raise``, marks a stub as well
        thrown = small.exc if type(small) is cst.Raise else None
        if type(small) is cst.Return:
            thrown = small.value
        if thrown is not None:
            exc = thrown.func if type(thrown) is cst.Call else thrown
            if type(exc) is cst.Name and exc.value == "NotImplementedError":
                continue
        return False
    return True


def _dotted_name(name: str) -> bool:
    """``models.vgg19``, ``..parts.Down``: a name, not the code of an expression."""
    return bool(name) and all(part.isidentifier() for part in name.lstrip(".").split("."))
