"""What the analysis knows of PyTorch's and its ecosystem's APIs, by qualified name."""

from __future__ import annotations

import re

NO_GRAD = frozenset(
    {
        "torch.no_grad",
        "torch.autograd.no_grad",
        "torch.autograd.grad_mode.no_grad",
        "torch.inference_mode",
        "torch.autograd.inference_mode",
        "torch.autograd.grad_mode.inference_mode",
    }
)
ENABLE_GRAD = frozenset(
    {"torch.enable_grad", "torch.autograd.enable_grad", "torch.autograd.grad_mode.enable_grad"}
)
SET_GRAD_ENABLED = frozenset(
    {
        "torch.set_grad_enabled",
        "torch.autograd.set_grad_enabled",
        "torch.autograd.grad_mode.set_grad_enabled",
    }
)
INFERENCE_MODE = frozenset(
    {
        "torch.inference_mode",
        "torch.autograd.inference_mode",
        "torch.autograd.grad_mode.inference_mode",
    }
)
GRAD_CONTEXTS = NO_GRAD | ENABLE_GRAD | SET_GRAD_ENABLED

MODULE_BASES = frozenset(
    {
        "torch.nn.Module",
        "torch.nn.modules.module.Module",
        "torch.nn.Sequential",
        "torch.nn.ModuleList",
        "torch.nn.ModuleDict",
        "pytorch_lightning.LightningModule",
        "lightning.LightningModule",
        "lightning.pytorch.LightningModule",
        "transformers.PreTrainedModel",
    }
)
LIGHTNING_BASES = frozenset(
    {
        "pytorch_lightning.LightningModule",
        "pytorch_lightning.core.LightningModule",
        "pytorch_lightning.core.module.LightningModule",
        "lightning.LightningModule",
        "lightning.pytorch.LightningModule",
        "lightning.pytorch.core.LightningModule",
        "lightning.fabric.LightningModule",
    }
)
FRAMEWORK_TRAINER_BASES = frozenset(
    {
        "transformers.Trainer",
        "transformers.Seq2SeqTrainer",
        "transformers.trainer.Trainer",
        "trl.SFTTrainer",
        "trl.DPOTrainer",
        "pytorch_lightning.Callback",
        "lightning.pytorch.Callback",
        "lightning.Callback",
    }
)

OPTIMIZER_NAMES = frozenset(
    {
        "SGD",
        "Adam",
        "AdamW",
        "Adamax",
        "Adadelta",
        "Adagrad",
        "SparseAdam",
        "ASGD",
        "LBFGS",
        "NAdam",
        "RAdam",
        "RMSprop",
        "Rprop",
        "Adafactor",
        "Lion",
        "LAMB",
        "Lamb",
        "AdaBelief",
        "AdamW8bit",
        "Adam8bit",
        "FusedAdam",
        "Muon",
    }
)
OPTIMIZER_FACTORIES = re.compile(
    r"(^|\.)(create_optimizer\w*|build_optimizer\w*|get_optimizer\w*)$"
)
OPTIMIZER_KEY = re.compile(
    r"(^|[._])(opt|optim|optimizer|optimiser)(s?)($|[._\[\d])"
    r"|(^|\.)(opt|optim|optimizer|optimiser)(_?[A-Z]|_[a-z]{1,3})$"  # optimizerG, opt_g, optim_d
)

MODULE_FACTORIES = re.compile(
    r"^(torch\.nn\.(?!functional)[A-Z]\w*"
    r"|torchvision\.models\.\w+"
    r"|torchvision\.models\.\w+\.\w+"
    r"|timm\.create_model"
    r"|transformers\.\w*(Model|For\w+)(\.from_pretrained|\.from_config)?"
    r"|torch\.hub\.load)$"
)
LOSS_CLASS = re.compile(r"^torch\.nn\.\w*Loss$")
LOSS_CALL = re.compile(r"(loss|criterion|crit|cost)", re.IGNORECASE)
LOSS_FUNCTIONAL = re.compile(
    r"^torch\.nn\.functional\.(\w*loss\w*|cross_entropy|binary_cross_entropy\w*|nll_loss|"
    r"kl_div|mse_loss|l1_loss|smooth_l1_loss|huber_loss|cosine_embedding_loss|"
    r"margin_ranking_loss|triplet_margin_loss|ctc_loss|poisson_nll_loss|gaussian_nll_loss)$"
)

# Methods returning the module itself: the result is the same module, same mode.
# Wrappers that run the module they are given, in that module's mode (claim
# wrapper.keeps_module_mode): ``model = DataParallel(model)`` is the same model for the modes.
MODULE_WRAPPERS = frozenset(
    {
        "torch.nn.DataParallel",
        "torch.nn.parallel.DataParallel",
        "torch.nn.parallel.DistributedDataParallel",
        "torch.nn.parallel.distributed.DistributedDataParallel",
    }
)

MODULE_IDENTITY_METHODS = frozenset(
    {
        "to",
        "cuda",
        "cpu",
        "float",
        "half",
        "double",
        "bfloat16",
        "train",
        "eval",
        "requires_grad_",
        "to_empty",
        "share_memory",
        "type",
        "xpu",
        "mps",
    }
)
# ``Variable(x, volatile=True)`` turned autograd off for whatever was computed from it until
# PyTorch 0.4; since then ``volatile`` does nothing (it only warns)
VARIABLE = frozenset({"torch.autograd.Variable", "torch.autograd.variable.Variable"})
# Tensor methods whose result carries no autograd graph.
GRAPH_CUTTERS = frozenset(
    {
        "item",
        "detach",
        "detach_",
        "tolist",
        "numpy",
        "argmax",
        "argmin",
        "argsort",
        "long",
        "int",
        "bool",
        "byte",
        "eq",
        "ne",
        "lt",
        "le",
        "gt",
        "ge",
        "sign",
        "round",
        "floor",
        "ceil",
        "nonzero",
        "count_nonzero",
        "size",
        "dim",
        "numel",
        "isnan",
        "isinf",
        "isfinite",
        "all",
        "any",
        "data",
    }
)
GRAPH_CUTTING_FUNCTIONS = frozenset(
    {"float", "int", "bool", "len", "str", "round", "print", "isinstance", "repr"}
)
# Framework hooks run by the framework in eval mode under no_grad, or with automatic
# optimisation (zero_grad/backward/step done by the framework).
FRAMEWORK_HOOKS = re.compile(
    r"^(training_step|validation_step|test_step|predict_step|"
    r"(on_)?(validation|test|predict|train)_(epoch|batch)_(start|end)|"
    r"validation_epoch_end|test_epoch_end|training_epoch_end|configure_optimizers|"
    r"prediction_step|compute_loss|evaluation_loop|prediction_loop|training_step_end)$"
)
# Names that say "this evaluates a model" (a strong sign, also at a call site in a training loop)
EVALUATION_FUNCTION = re.compile(
    r"^_*(eval|evaluate|evaluation|evaluate_\w+|eval_\w+|validate|validation|validate_\w+|"
    r"valid|valid_\w+|val|val_\w+|test|test_\w+|testing|run_eval\w*|run_val\w*|run_test\w*|"
    r"estimate_loss|compute_metrics)$"
)
# ... and names that may also be a step of training (``infer`` feeding the loss)
EVAL_FUNCTION = re.compile(
    EVALUATION_FUNCTION.pattern[:-2]
    + r"|predict|predict_\w+|prediction|inference|infer|infer_\w+|run_inference|score|sample|"
    r"generate)$"
)
# Names of evaluation data (``val_loader``, ``testloader``, ``self.dev_batches``, ``valid_dl``)
EVALUATION_DATA = re.compile(
    r"(^|_)(val|valid|validation|test|testing|dev|eval|evaluation|holdout)"
    r"(_|$|loader|dl|data|set|ds|iter|batch|batches|gen|generator|queue|samples)",
    re.IGNORECASE,
)
NOT_OPTIMIZER_KEY = re.compile(
    r"(sched|scheduler|lr_|scaler|ema|env|environment|swa|warmup|progress|pbar|bar|"
    r"profiler|prof|writer|logger|step_fn|accelerator|trainer|engine|stepper)",
    re.IGNORECASE,
)


def is_pipeline_loader(name: str) -> bool:
    """``StableDiffusionPipeline.from_pretrained`` (diffusers' ``DiffusionPipeline`` family,
    ``AutoPipelineForText2Image``): a pipeline bundles models but is no ``nn.Module``, and
    calling it samples under ``torch.no_grad()`` inside the library."""
    owner = name.rpartition(".")[0].rpartition(".")[2]
    return "Pipeline" in owner
