"""Collecting the facts of a file: the records of its top-level statements (chunk_records.py:
what each defines, builds, assigns and hands on) replayed over the whole file into ``Facts``,
with what the file's imports and classes make of them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

import libcst as cst

from torchmode.engine import torch_api as api
from torchmode.engine.chunk_records import (
    ChunkRecord,
    Coverage,
    Evidence,
    attribute_chains,
    record_chunk,
)
from torchmode.engine.chunks import Chunk
from torchmode.engine.inherited import add_inherited_modules
from torchmode.engine.init_rates import bind, template
from torchmode.engine.init_rates import literal_arguments as _literal_arguments
from torchmode.engine.library_engines import INITIALIZE
from torchmode.engine.names import ImportTable, dotted, key_of
from torchmode.engine.walk import calls_in, names_in
from torchmode.knowledge.layers import (
    construction_is_parameter_free,
    construction_sensitivity,
)

if TYPE_CHECKING:
    from torchmode.engine.project import ProjectContext
from torchmode.engine.facts import (
    READS_TRAINING,
    ClassInfo,
    Facts,
    FunctionInfo,
)


def collect_facts(
    chunks: list[Chunk],
    records: dict[int, ChunkRecord] | None = None,
    project: ProjectContext | None = None,
) -> Facts:
    """The file's facts; ``records`` caches each chunk's record by its parsed module;
    ``project`` answers for the classes imported from the project's other files."""
    facts = Facts(ImportTable(), project=project)
    pairs: list[tuple[Chunk, ChunkRecord]] = []
    for chunk in chunks:
        record = records.get(id(chunk.module)) if records is not None else None
        if record is None or record.module is not chunk.module:
            record = record_chunk(chunk.module)
            if records is not None:
                records[id(chunk.module)] = record
        pairs.append((chunk, record))
    _Replay(facts).run(pairs)
    return facts


class _Replay:
    """Builds the file's facts from its chunks' records, in order.

    What an assignment or a call in a class is evidence of depends on the imports and on the
    file's classes (their names and bases); it is worked out once per record and reused while
    those are unchanged, as they are on a keystroke (see ``ChunkRecord.evidence``)."""

    def __init__(self, facts: Facts) -> None:
        self.facts = facts
        self.classes: dict[int, ClassInfo] = {}  # id(class node) -> its info in this analysis
        self.functions: dict[int, FunctionInfo] = {}
        self._ctors: dict[int, bool] = {}  # id(call) -> is_optimizer_ctor (asked twice each)
        self.parameter_free: set[str] = set()  # names given a torch.nn layer without parameters

    def run(self, pairs: list[tuple[Chunk, ChunkRecord]]) -> None:
        facts = self.facts
        for _, record in pairs:
            for stmt in record.imports:
                facts.imports.add_statement(stmt)
        classes, functions = self.classes, self.functions
        for chunk, record in pairs:
            for node, top in record.classes:
                bases = [
                    facts.imports.resolve(arg.value) or dotted(arg.value) or ""
                    for arg in node.bases
                ]
                info_c = ClassInfo(node, chunk, bases)
                classes[id(node)] = info_c
                if top:
                    facts.classes.setdefault(node.name.value, info_c)
            for def_node, cls_node, outer, params in record.functions:
                cls = classes.get(id(cls_node)) if cls_node is not None else None
                # the record's list: shared by this statement's analyses, never changed
                info = FunctionInfo(def_node, chunk, cls, params, functions.get(id(outer)))
                functions[id(def_node)] = info
                facts.function_by_node[id(def_node)] = info
                facts.all_functions.append(info)
                if cls is not None:
                    cls.methods.setdefault(def_node.name.value, info)
                elif outer is None:
                    facts.functions.setdefault(def_node.name.value, info)
            facts.frozen |= record.frozen
            facts.handed_on |= record.handed_on
            for key, call in record.engines:
                if facts.imports.resolve(call.func) == INITIALIZE:
                    facts.engines.add(key)
            _call_assignments(facts.call_assigned, record)
        self.finish([record for _, record in pairs])

    def environment(self, records: list[ChunkRecord]) -> tuple[object, ...]:
        """What evidence depends on besides the record itself (the previous analysis' object
        when equal, so that the records compare it by identity)."""
        facts = self.facts
        env = (
            tuple(facts.imports.names.items()),
            tuple((name, tuple(info.bases)) for name, info in facts.classes.items()),
        )
        for record in records:
            if record.evidence is not None:
                return record.evidence.env if record.evidence.env == env else env
        return env

    def finish(self, records: list[ChunkRecord]) -> None:
        facts = self.facts
        env = self.environment(records)
        evidence = [self.evidence(record, env) for record in records]
        # The instances of the file's classes are not known yet while calls are replayed
        # (assignments come next): a mode switch's receiver counts as a module here.
        for record in records:
            for kind, receiver in record.call_facts:
                getattr(facts, kind).add(receiver)
        for found in evidence:
            for key, value, fact in found.facts:
                self.apply(key, value, fact)
        # a DeepSpeed engine is an nn.Module, whatever the model it wraps is known to be
        facts.module_keys |= facts.engines
        if self.parameter_free:
            self.find_parameter_free(records, evidence)
        add_inherited_modules(facts)
        # second round, now that parameter lists are known: what each optimizer covers, per
        # function (the same name often means different optimizers in different functions)
        facts.optimizer_cover.clear()
        facts.class_cover.clear()
        facts.cover_at.clear()
        facts.tensor_optimizers.clear()
        self_aliases: dict[tuple[int, str], set[str]] = {}
        for found in evidence:
            for cls_id, name, key in found.self_aliases:
                self_aliases.setdefault((cls_id, name), set()).add(key)
        for found in evidence:
            for key, cls_node, func_node, ctor, value_id in found.ctors:
                cover = self.cover(ctor)
                if cls_node is not None:
                    # torch.optim.AdamW(model.parameters()) after self.model = model
                    for owner in list(cover):
                        cover |= self_aliases.get((id(cls_node), owner), set())
                facts.optimizer_cover.setdefault(key, set()).update(cover)
                built_in = self.classes.get(id(cls_node)) if cls_node is not None else None
                if built_in is not None and key.startswith("self."):
                    facts.class_cover.setdefault((built_in.name, key), set()).update(cover)
                func = self.functions.get(id(func_node)) if func_node is not None else None
                scope = id(func.node) if func is not None and not key.startswith("self.") else 0
                facts.scoped_cover.setdefault((scope, key), set()).update(cover)
                facts.cover_at[value_id] = frozenset(cover)
                if ctor.tensor_list and not cover and not (set(ctor.names) & facts.module_keys):
                    facts.tensor_optimizers.add((scope, key))
        for found in evidence:
            for cls_node, layer in found.layers:
                cls = self.classes.get(id(cls_node))
                if cls is not None:
                    cls.layers.add(layer)
                    cls.fixed_layers.add(layer)
            for cls_node, layer, rated in found.rated:
                cls = self.classes.get(id(cls_node))
                if cls is not None:
                    cls.layers.add(layer)
                    cls.rated_layers.setdefault(layer, []).append(rated)
        facts.module_keys -= set(facts.optimizer_cover)

    def find_parameter_free(self, records: list[ChunkRecord], evidence: list[Evidence]) -> None:
        """The names only ever given layers without parameters (``BatchNorm1d(n,
        affine=False)`` normalising data): forwarding one records no graph (its mode still
        matters: a Dropout or a BatchNorm in eval mode while the model around it trains)."""
        free = {
            id(value)
            for found in evidence
            for _, value, fact in found.facts
            if fact[0] == "parameter_free"
        }
        names = set(self.parameter_free)
        for record in records:
            for key, value, _, _ in record.assignments:
                if key in names and id(value) not in free:
                    names.discard(key)  # also given something else
        self.facts.parameter_free |= names

    def evidence(self, record: ChunkRecord, env: tuple[object, ...]) -> Evidence:
        known = record.evidence
        if known is not None and known.env is env:
            return known
        found = Evidence(env)
        grad_values = record.grad_values
        for key, value, cls_node, func_node in record.assignments:
            fact = self.assignment_fact(value, id(value) in grad_values)
            if fact is not None:
                found.facts.append((key, value, fact))
            ctor = self.ctor_of(value)
            if ctor is not None:
                found.ctors.append((key, cls_node, func_node, ctor, id(value)))
            if cls_node is not None and key.startswith("self.") and type(value) is cst.Name:
                found.self_aliases.append((id(cls_node), value.value, key))
        for call, cls_node in record.class_calls:
            layer = self.layer_of(call)
            if layer is None:
                continue
            arguments = _literal_arguments(call) if layer.startswith("torch.nn.") else None
            rated = template(call, arguments, cls_node) if arguments is not None else None
            if rated is not None:
                found.rated.append((cls_node, layer, rated))
            else:
                found.layers.append((cls_node, layer))
        found.layers.extend((cls_node, READS_TRAINING) for cls_node in record.training_readers)
        record.evidence = found
        return found

    def apply(self, key: str, value: cst.BaseExpression, fact: tuple[object, ...]) -> None:
        facts = self.facts
        kind = fact[0]
        if kind == "grad_context":
            facts.grad_contexts[key] = value  # type: ignore[assignment]
        elif kind == "grad_factory":
            facts.grad_factories.add(key)
        elif kind == "optimizer":
            facts.optimizer_cover[key] = self.cover(fact[1])  # type: ignore[arg-type]
        elif kind == "instance":
            name = str(fact[1])
            facts.instances[key] = name
            if fact[2]:
                facts.module_keys.add(key)
                facts.module_class[key] = name
                self.bind_init_arguments(key, name, value)
        elif kind == "loss":
            facts.loss_fns.add(key)
        elif kind == "module":
            facts.module_keys.add(key)
            if fact[1] is not None:
                facts.module_class[key] = str(fact[1])
            if fact[1] == "torch.nn.Sequential":
                layers = self.sequential_layers(value)
                known = facts.sequential_layers.get(key, layers)
                facts.sequential_layers[key] = layers if known == layers else None
        elif kind == "parameter_free":
            facts.module_keys.add(key)
            facts.module_class[key] = str(fact[1])
            self.parameter_free.add(key)
        elif kind == "params":
            facts.param_lists[key] = set(fact[1])  # type: ignore[call-overload]
        elif kind == "built":
            if facts.built_from.get(key, fact[1]) != fact[1]:
                facts.built_mixed.add(key)
            facts.built_from[key] = str(fact[1])
        elif kind == "frozen_module":
            facts.module_keys.add(key)
            facts.module_class[key] = str(fact[1])
            facts.frozen.add(key)
        elif kind == "alias" and fact[1] in facts.module_keys:
            facts.module_keys.add(key)
            facts.aliased.setdefault(key, str(fact[1]))

    def bind_init_arguments(self, key: str, cls: str, value: cst.BaseExpression) -> None:
        """``block = Block(8, 0.0)``: the literal arguments of that construction, for the
        class's layers built from its parameters (several different ones: None)."""
        facts = self.facts
        base = _strip_identity_calls(value)
        info = facts.classes.get(cls)
        bound = None
        if type(base) is cst.Call and info is not None:
            bound = bind(base, info.node)
        if facts.init_arguments.get(key, bound) != bound:
            bound = None
        facts.init_arguments[key] = bound

    def assignment_fact(
        self, value: cst.BaseExpression, names_grad_api: bool
    ) -> tuple[object, ...] | None:
        """What ``key = value`` is evidence of, as far as the imports and classes tell; the
        parts that depend on earlier assignments (``apply``) are left for the replay."""
        facts = self.facts
        base = _strip_identity_calls(value)
        mentioned = (
            {facts.imports.resolve(n) for n in attribute_chains(value)} if names_grad_api else set()
        )
        if mentioned & api.GRAD_CONTEXTS:
            if type(value) is cst.Call and facts.imports.resolve(value.func) in api.GRAD_CONTEXTS:
                return ("grad_context",)
            return ("grad_factory",)
        if type(base) is cst.Call:
            name = facts.imports.resolve(base.func) or dotted(base.func) or ""
            last = name.rsplit(".", 1)[-1]
            if self.is_optimizer_ctor(base):
                return ("optimizer", _coverage_inputs(base))
            project_class = None if name in facts.classes else facts.project_class(name)
            if (
                _LOSS_CLASS_NAME.search(last)
                and (name in facts.classes or project_class is not None)
            ) or (project_class is not None and _kept_with_losses(project_class)):
                # the project's own Tacotron2Loss or LossFactory, or a class of its losses
                # package (``kd_losses/fitnet.py``'s Hint): it computes a loss, it is not a
                # model that is trained or evaluated
                return ("loss",)
            if name in facts.classes:
                return ("instance", name, facts.class_is_module(name))
            if project_class is not None:
                return ("module", project_class)  # ``net = UNet(3, 1)`` from ``unet/``
            built = facts.project_builder(name)
            if built is not None:  # ``net = vgg19()``, which returns ``VGG(layers)``
                return ("module", built or None)
            if api.LOSS_CLASS.match(name) or (
                last.endswith("Loss") and name.startswith(("torch.", "nn."))
            ):
                return ("loss",)
            if api.MODULE_FACTORIES.match(name) and not api.LOSS_CLASS.match(name):
                if name.startswith("torch.nn.") and last in _NOT_MODULES:
                    return None
                if name.startswith("torch.nn.") and _parameter_free(last, base):
                    return ("parameter_free", name)
                return ("module", name)
            if name in _FROZEN_BY_DEFAULT and not _unfrozen(base):
                return ("frozen_module", name.rsplit(".", 1)[0])
            if name.endswith(("from_pretrained", "create_model")) and "Tokenizer" not in name:
                if "Config" not in name and "Processor" not in name:
                    if api.is_pipeline_loader(name):
                        return None
                    return ("module", None)
                return None
            if last in {"list", "filter"} or _is_param_call(base):
                owners = _param_owners(base)
                return ("params", frozenset(owners)) if owners else None
            if last[:1].isupper() and facts.imports.resolve(base.func) is not None:
                return ("built", name)  # an imported class (``MetaPath2Vec(...)``)
            return None
        if type(value) in (cst.ListComp, cst.GeneratorExp):
            owners = _param_owners(value)
            return ("params", frozenset(owners)) if owners else None
        key_v = key_of(value)
        return ("alias", key_v) if key_v is not None else None

    def ctor_of(self, value: cst.BaseExpression) -> Coverage | None:
        if type(value) is cst.Call and self.is_optimizer_ctor(value):
            return _coverage_inputs(value)
        return None

    def sequential_layers(self, value: cst.BaseExpression) -> tuple[str, ...] | None:
        """The layers of ``nn.Sequential(nn.Linear(1, 10), nn.ReLU())`` (``.to(device)``
        and the like around it allowed); None when one of them is not a layer built there."""
        base = _strip_identity_calls(value)
        if type(base) is not cst.Call or not base.args:
            return None
        layers: list[str] = []
        for arg in base.args:
            layer = self.layer_of(arg.value) if type(arg.value) is cst.Call else None
            if arg.keyword is not None or arg.star or layer is None:
                return None
            layers.append(layer)
        return tuple(layers)

    def layer_of(self, call: cst.Call) -> str | None:
        facts = self.facts
        name = facts.imports.resolve(call.func) or dotted(call.func)
        if name and name.startswith(("torch.nn.init.", "torch.nn.functional.")):
            return None  # initialising weights, calling a function: no layer is built
        if name and (name.startswith("torch.nn.") or name in facts.classes):
            return _layer_kind(name, call)
        # a block defined in another file of the project (``self.down1 = down(64, 128)``)
        return facts.project_class(name or "")

    def cover(self, inputs: Coverage) -> set[str]:
        """The modules an optimizer built from these arguments trains (parameter lists as
        assigned so far)."""
        owners = set(inputs.owners)
        param_lists = self.facts.param_lists
        for name in inputs.names:
            owners |= param_lists.get(name, set())
        return owners

    def is_optimizer_ctor(self, call: cst.Call) -> bool:
        known = self._ctors.get(id(call))
        if known is None:
            known = self._ctors[id(call)] = self._is_optimizer_ctor(call)
        return known

    def _is_optimizer_ctor(self, call: cst.Call) -> bool:
        func = call.func
        if type(func) is cst.Call and _getattr_of(func) is not None:
            # getattr(torch.optim, config["name"])(model.parameters(), **config): a class of
            # torch.optim picked by name
            owner = _getattr_of(func)
            assert owner is not None
            return (self.facts.imports.resolve(owner) or dotted(owner)) == "torch.optim"
        name = self.facts.imports.resolve(func) or dotted(func) or ""
        last = name.rsplit(".", 1)[-1]
        if name.startswith("torch.optim.") and last[:1].isupper():
            return "lr_scheduler" not in name and "swa_utils" not in name
        return last in api.OPTIMIZER_NAMES or bool(api.OPTIMIZER_FACTORIES.search(name))


def _getattr_of(call: cst.Call) -> cst.BaseExpression | None:
    """The object of ``getattr(obj, name)``."""
    func = call.func
    if type(func) is cst.Name and func.value == "getattr" and len(call.args) == 2:
        return call.args[0].value
    return None


_NOT_MODULES = frozenset({"Parameter", "ParameterList", "ParameterDict"})
_LOSS_CLASS_NAME = re.compile(r"Loss|Criterion$")
# a module or package of losses: ``losses.py``, ``loss/``, ``kd_losses/``, ``focal_loss.py``
_LOSS_MODULE = re.compile(r"(?:^|_)loss(?:es)?(?:_|$)", re.IGNORECASE)


def _kept_with_losses(qualified: str) -> bool:
    """Whether the project class ``qualified`` (``kd_losses.Hint``, ``.loss.dice.Dice``) is
    defined in a module or package named for losses: how a project files the criteria it
    does not name ``...Loss`` (``Hint``, ``SoftTarget``, ``AT``)."""
    return any(_LOSS_MODULE.search(part) for part in qualified.lstrip(".").split(".")[:-1])


def _coverage_inputs(call: cst.Call) -> Coverage:
    names = [name for arg in call.args for name in _names(arg.value)]
    return Coverage(frozenset(_param_owners(call)), tuple(names), _tensor_list(call))


def _tensor_list(call: cst.Call) -> bool:
    """The optimizer's parameters are a literal list of plain names (``SGD([delta], lr)``),
    perhaps joined with other lists of them (``Adam([latent] + noises)``, a GAN inversion
    optimizing a latent code and noise maps): tensors of the script's own, not a model's
    ``parameters()``."""
    params = next(
        (a.value for a in call.args if a.keyword is None or a.keyword.value == "params"), None
    )
    parts = _summed(params) if params is not None else []
    return any(_names_list(p) for p in parts) and all(
        _names_list(p) or type(p) is cst.Name for p in parts
    )


def _summed(expr: cst.BaseExpression) -> list[cst.BaseExpression]:
    """The operands of ``a + b + c``; ``[expr]`` for anything else."""
    if type(expr) is cst.BinaryOperation and type(expr.operator) is cst.Add:
        return _summed(expr.left) + _summed(expr.right)
    return [expr]


def _names_list(expr: cst.BaseExpression) -> bool:
    """``[delta]``, ``(a, b)``: a literal list of plain names."""
    return (
        type(expr) in (cst.List, cst.Tuple)
        and bool(expr.elements)  # type: ignore[attr-defined]
        and all(
            type(e) is cst.Element and type(e.value) is cst.Name
            for e in expr.elements  # type: ignore[attr-defined]
        )
    )


# Modules whose constructor leaves their weights frozen unless told otherwise
_FROZEN_BY_DEFAULT = frozenset(
    {"torch.nn.Embedding.from_pretrained", "torch.nn.EmbeddingBag.from_pretrained"}
)


def _unfrozen(call: cst.Call) -> bool:
    """``from_pretrained(weights, freeze=False)`` (or ``False`` as the second argument)."""
    for index, arg in enumerate(call.args):
        if (arg.keyword is not None and arg.keyword.value == "freeze") or (
            arg.keyword is None and index == 1
        ):
            return not (type(arg.value) is cst.Name and arg.value.value == "True")
    return False


def _layer_kind(name: str, call: cst.Call) -> str:
    """The layer a constructor call builds; a torch.nn layer that its literal arguments make
    mode-independent (``nn.LSTM(8, 8)``: dropout 0; ``nn.Dropout(0.0)``) counts as Identity."""
    if not name.startswith("torch.nn."):
        return name
    arguments = _literal_arguments(call)
    if arguments is None:
        return name
    if construction_sensitivity(name, *arguments) is False:
        return "torch.nn.Identity"  # the same behaviour in train and eval mode
    return name


def _parameter_free(class_name: str, call: cst.Call) -> bool:
    arguments = _literal_arguments(call)
    return arguments is not None and construction_is_parameter_free(class_name, *arguments)


def _strip_identity_calls(node: cst.BaseExpression) -> cst.BaseExpression:
    while (
        type(node) is cst.Call
        and type(node.func) is cst.Attribute
        and node.func.attr.value in api.MODULE_IDENTITY_METHODS
        and type(node.func.value) is cst.Call
    ):
        node = node.func.value
    return node


def _is_param_call(call: cst.Call) -> bool:
    return type(call.func) is cst.Attribute and call.func.attr.value in {
        "parameters",
        "named_parameters",
    }


def _param_owners(node: cst.CSTNode) -> set[str]:
    owners: set[str] = set()
    for call in calls_in(node):
        if _is_param_call(call):
            assert type(call.func) is cst.Attribute
            owner = key_of(call.func.value)
            if owner:
                owners.add(owner)
    return owners


def _names(node: cst.CSTNode) -> Iterator[str]:
    return names_in(node)


def _call_assignments(out: dict[tuple[int, str], cst.Call | None], record: ChunkRecord) -> None:
    """Names given the result of a call of a plain name or a ``self`` method (``step =
    make_step(model)``, ``self.step = self._make_step()``), once per scope."""
    for key, value, cls, func in record.assignments:
        if "." in key:
            if cls is None or func is None or not key.startswith("self.") or key.count(".") != 1:
                continue
            scope = id(cls)
        else:
            scope = id(func) if func is not None else 0
        where = (scope, key)
        out[where] = None if where in out or type(value) is not cst.Call else value
