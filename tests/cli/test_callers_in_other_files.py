"""A function nothing in its own file calls, entered as its callers in the other files of the
project enter it: ``eval_net(net, loader)`` in ``eval.py``, called by ``train.py`` with the
model still in train mode and gradients on, is reported in ``eval.py``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from torchmode.engine.callers import references

EVAL = """\
import torch
import torch.nn.functional as F


def eval_net(net, loader, threshold=0.5):
    \"\"\"Dice score over the validation set.\"\"\"
    total = 0.0
    for images, masks in loader:
        pred = (torch.sigmoid(net(images)) > threshold).float()
        total += (2 * (pred * masks).sum() / (pred.sum() + masks.sum() + 1e-6)).item()
    return total / max(len(loader), 1)
"""

MODEL = """\
import torch.nn as nn


class UNet(nn.Module):
    def __init__(self, channels, classes):
        super().__init__()
        self.down = nn.Sequential(nn.Conv2d(channels, 16, 3, padding=1), nn.BatchNorm2d(16))
        self.drop = nn.Dropout2d(0.2)
        self.out = nn.Conv2d(16, classes, 1)

    def forward(self, x):
        return self.out(self.drop(self.down(x)))
"""

TRAIN = """\
import torch
import torch.nn as nn

{imports}


def train(net, train_loader, val_loader, epochs=5):
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    criterion = nn.BCEWithLogitsLoss()
    for epoch in range(epochs):
        net.train()
        for images, masks in train_loader:
            optimizer.zero_grad()
            loss = criterion(net(images), masks)
            loss.backward()
            optimizer.step()
{validation}


if __name__ == "__main__":
    train(UNet(3, 1), [], [])
"""

VALIDATE = "        score = {call}(net, val_loader)\n        print(epoch, score)"

VALIDATE_PROPERLY = """\
        net.eval()
        with torch.no_grad():
            score = {call}(net, val_loader)
        print(epoch, score)"""


def _train(
    imports: str = "from eval import eval_net\nfrom unet import UNet",
    validation: str = VALIDATE,
    call: str = "eval_net",
) -> str:
    return TRAIN.format(imports=imports, validation=validation.format(call=call))


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def _check(root: Path, *paths: str) -> list[dict[str, object]]:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "torchmode",
            "check",
            "--format",
            "json",
            "--min-severity",
            "hint",
            *paths,
        ],
        cwd=root,
        capture_output=True,
        text=True,
    )
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def _in(found: list[dict[str, object]], name: str) -> list[tuple[str, int, str]]:
    return sorted(
        (str(f["code"]), int(f["location"]["row"]), str(f["severity"]))  # type: ignore[index]
        for f in found
        if Path(str(f["filename"])).name == name
    )


def test_the_callers_in_train_mode_with_gradients_on_decide(tmp_path):
    _write(tmp_path, {"eval.py": EVAL, "unet.py": MODEL, "train.py": _train()})
    found = _check(tmp_path, ".")
    # the model has BatchNorm and Dropout (known in train.py, where it is built): a warning
    assert _in(found, "eval.py") == [("TM102", 9, "warning"), ("TM201", 9, "warning")]
    assert _in(found, "train.py") == []
    tm102 = next(f for f in found if f["code"] == "TM102")
    assert (
        tm102["summary"]
        == "`net` evaluates in train mode on line 9: passed in train mode at train.py:18"
    )
    assert "called from train.py:18 (`eval_net(net, val_loader)`)" in str(tm102["message"])
    assert "`net.train()` at train.py:12" in str(tm102["message"])
    # the call and the train() that decide it are related places, in train.py
    train_py = str((tmp_path / "train.py").resolve())
    assert [
        (r["filename"], r["location"]["row"], r["message"])  # type: ignore[index]
        for r in tm102["related"]  # type: ignore[attr-defined]
        if r["filename"] != tm102["filename"]  # type: ignore[index]
    ] == [
        (train_py, 18, "`net` passed in train mode here"),
        (train_py, 12, "train mode set here"),
    ]
    # the fix goes where the project fixed it: eval() at the top of eval_net
    edits = tm102["fix"]["edits"]  # type: ignore[index]
    assert [(e["location"]["row"], e["content"]) for e in edits] == [(7, "    net.eval()\n")]
    tm201 = next(f for f in found if f["code"] == "TM201")
    assert "called from train.py:18 with gradients on" in str(tm201["message"])
    assert [
        (Path(r["filename"]).name, r["location"]["row"], r["message"])  # type: ignore[index]
        for r in tm201["related"]  # type: ignore[attr-defined]
    ] == [("train.py", 18, "called here with gradients on")]


def test_the_callers_places_in_text_and_sarif(tmp_path):
    """A related place in another file is named by that file's path: in the text output as
    ``train.py:18:...``, in SARIF as its own artifact."""
    _write(tmp_path, {"eval.py": EVAL, "unet.py": MODEL, "train.py": _train()})
    command = [sys.executable, "-m", "torchmode", "check", "eval.py"]
    text = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True).stdout
    assert "  train.py:18:" in text and "  train.py:12:" in text, text
    sarif = subprocess.run(
        [*command, "--format", "sarif"], cwd=tmp_path, capture_output=True, text=True
    ).stdout
    results = json.loads(sarif)["runs"][0]["results"]
    places = {
        (
            place["physicalLocation"]["artifactLocation"]["uri"],
            place["physicalLocation"]["region"]["startLine"],
        )
        for result in results
        for place in result.get("relatedLocations", [])
    }
    assert {("train.py", 18), ("train.py", 12)} <= places
    assert {
        ("eval.py", result["locations"][0]["physicalLocation"]["region"]["startLine"])
        for result in results
    } == {("eval.py", 9)}


def test_a_caller_that_evaluates_properly_leaves_nothing_to_report(tmp_path):
    train = _train(validation=VALIDATE_PROPERLY)
    _write(tmp_path, {"eval.py": EVAL, "unet.py": MODEL, "train.py": train})
    assert _check(tmp_path, ".") == []


def test_gradients_off_at_the_call_but_the_model_still_in_train_mode(tmp_path):
    without_grad = """\
        with torch.no_grad():
            score = {call}(net, val_loader)
        print(epoch, score)"""
    train = _train(validation=without_grad)
    _write(tmp_path, {"eval.py": EVAL, "unet.py": MODEL, "train.py": train})
    found = _check(tmp_path, ".")
    assert _in(found, "eval.py") == [("TM102", 9, "warning")]


def test_callers_that_disagree_give_no_definite_mode(tmp_path):
    report = """\
import torch

from eval import eval_net
from unet import UNet

net = UNet(3, 1)
net.load_state_dict(torch.load("unet.pt"))
net.eval()
print(eval_net(net, []))
"""
    _write(
        tmp_path,
        {"eval.py": EVAL, "unet.py": MODEL, "train.py": _train(), "report.py": report},
    )
    found = _check(tmp_path, ".")
    # train mode in one caller, eval mode in the other: which one runs is not known here;
    # both call it with gradients on
    assert _in(found, "eval.py") == [("TM201", 9, "warning")]
    assert "(called from report.py:9 and 1 other call with gradients on)" in str(
        found[0]["message"]
    )


def test_a_package_importing_relatively(tmp_path):
    train = _train(imports="from .evaluation import eval_net\nfrom .models.unet import UNet")
    _write(
        tmp_path,
        {
            "seg/__init__.py": "",
            "seg/evaluation.py": EVAL,
            "seg/models/__init__.py": "",
            "seg/models/unet.py": MODEL,
            "seg/train.py": train,
        },
    )
    found = _check(tmp_path, ".")
    assert _in(found, "evaluation.py") == [("TM102", 9, "warning"), ("TM201", 9, "warning")]


def test_a_module_imported_whole(tmp_path):
    train = _train(imports="import evaluation\nfrom unet import UNet", call="evaluation.eval_net")
    _write(tmp_path, {"evaluation.py": EVAL, "unet.py": MODEL, "train.py": train})
    found = _check(tmp_path, ".")
    assert _in(found, "evaluation.py") == [("TM102", 9, "warning"), ("TM201", 9, "warning")]


def test_a_caller_out_of_sight_keeps_the_function_as_entered(tmp_path):
    # alone, nothing in eval.py says that ``net`` is a module
    _write(tmp_path, {"eval.py": EVAL, "unet.py": MODEL, "train.py": _train()})
    assert [f["code"] for f in _check(tmp_path, "eval.py")] == ["TM102", "TM201"]
    # handed on as a value: whoever calls it through ``hooks`` is not known
    hooked = _train().replace(
        "    for epoch in range(epochs):", "    hooks = [eval_net]\n    for epoch in range(epochs):"
    )
    _write(tmp_path, {"train.py": hooked})
    assert _check(tmp_path, "eval.py") == []
    # called where the analysis does not go
    lazy = _train().replace(
        "score = eval_net(net, val_loader)", "score = (lambda: eval_net(net, val_loader))()"
    )
    _write(tmp_path, {"train.py": lazy})
    assert _check(tmp_path, "eval.py") == []
    # a notebook of the project imports it
    notebook = {"cells": [{"cell_type": "code", "source": ["from eval import eval_net\n"]}]}
    _write(tmp_path, {"train.py": _train(), "demo.ipynb": json.dumps(notebook)})
    assert _check(tmp_path, "eval.py") == []


def test_a_helper_the_whole_project_imports_is_entered_as_before(tmp_path):
    """Beyond MAX_IMPORTERS importers, callers are not looked for: the module is the project's
    helper, and reading every importer first would hold its check (and an editor) that long."""
    from torchmode.engine.project import MAX_IMPORTERS

    files = {"eval.py": EVAL, "unet.py": MODEL}
    files.update({f"train_{n}.py": _train() for n in range(MAX_IMPORTERS + 1)})
    _write(tmp_path, files)
    assert _in(_check(tmp_path, "."), "eval.py") == []
    (tmp_path / "train_0.py").unlink()  # as many importers as looked at: the callers decide
    assert [code for code, *_ in _in(_check(tmp_path, "."), "eval.py")] == ["TM102", "TM201"]


def test_an_argument_of_no_known_mode(tmp_path):
    unknown = _train(validation="        print(eval_net(load(net), val_loader))")
    _write(tmp_path, {"eval.py": EVAL, "unet.py": MODEL, "train.py": unknown})
    assert _check(tmp_path, "eval.py") == []


def test_checking_one_file_gives_what_checking_the_project_gives_there(tmp_path):
    report = "from eval import eval_net\n\n\ndef report(net, data):\n    return eval_net(net, data)"
    _write(
        tmp_path,
        {
            "eval.py": EVAL,
            "unet.py": MODEL,
            "train.py": _train(),
            "tools/__init__.py": "",
            "tools/report.py": report,
        },
    )
    whole = _check(tmp_path, ".")
    for name in ("eval.py", "train.py", "unet.py"):
        alone = _check(tmp_path, name)
        assert alone == [f for f in whole if Path(str(f["filename"])).name == name]
    assert _in(whole, "eval.py") == [("TM201", 9, "warning")]  # report's net: not known


def test_references_count_calls_and_other_uses_outside_imports():
    text = (
        "from eval import eval_net  # eval_net\n"
        "import eval as ev\n"
        "score = eval_net(net, loader)\n"
        "also = ev.eval_net(net, loader)\n"
        "hooks = [eval_net, ev.eval_net]\n"
        'print("eval_net")\n'
    )
    assert references(text, {"eval_net", "ev"}) == {
        ("eval_net", True): 1,
        ("ev.eval_net", True): 1,
        ("eval_net", False): 1,
        ("ev.eval_net", False): 1,
    }


def test_references_read_the_code_inside_f_strings():
    # one token before Python 3.12: the call in a replacement field is a call all the same
    text = 'print(f"val {evaluate(net, loader):.3f}")\nlog(f"{ev.evaluate}")\n'
    assert references(text, {"evaluate", "ev"}) == {
        ("evaluate", True): 1,
        ("ev.evaluate", False): 1,
    }


def test_the_literal_text_of_an_f_string_is_no_reference():
    # ``f"val accuracy {acc:.3f}"`` beside ``acc = accuracy(model, loader)``: the word in the
    # text is no use of the function, so its callers stay known
    text = (
        "acc = accuracy(model, val_loader)\n"
        'print(f"epoch {epoch}: val accuracy {acc:.3f} {{accuracy}}")\n'
    )
    assert references(text, {"accuracy"}) == {("accuracy", True): 1}


def test_an_f_string_whose_braces_do_not_pair_up_counts_as_a_reference():
    assert references('print(f"accuracy }")\n', {"accuracy"}) == {("accuracy", False): 1}
