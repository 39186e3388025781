"""``torchmode explain PATH:LINE`` on the real engine: states, call chains, findings and what
held the rules back."""

from __future__ import annotations

import textwrap

SCRIPT = textwrap.dedent(
    """\
    import torch


    def train(model, loader, optimizer):
        model.train()
        for x, y in loader:
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()


    def validate(model, loader):
        model.eval()
        for x, y in loader:
            out = model(x)


    def test(model, loader):
        model.eval()
        with torch.no_grad():
            for x, y in loader:
                out = model(x)


    def main():
        model = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.Dropout(0.1))
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        for epoch in range(3):
            train(model, loader, optimizer)
            validate(model, loader)
        test(model, loader)


    if __name__ == "__main__":
        main()
    """
)


def _explain(run, project, line: int) -> tuple[int, str, str]:
    (project / "train.py").write_text(SCRIPT)
    return run("explain", f"train.py:{line}")


def test_an_evaluation_reported_through_a_call_chain(run, project):
    code, out, err = _explain(run, project, 16)
    assert code == 0, err
    assert out.startswith("train.py:16: out = model(x)\n")
    # the function's own view: the model as switched on line 14, gradients up to the caller
    assert "in `validate()`" in out
    assert "`model` is in eval mode (set on line 14)" in out
    assert "Gradients are recorded unless the caller of `validate()` turned them off." in out
    # the view from the top: __main__ -> main() -> validate()
    assert "through `main()` (line 36) -> `validate(model, loader)` (line 31)" in out
    assert "Evaluation of `model`: mode eval, gradients on" in out
    assert "TM201" in out.split("Findings:")[1]


def test_an_evaluation_without_a_finding_says_what_held_the_rules_back(run, project):
    code, out, err = _explain(run, project, 23)
    assert code == 0, err
    assert "Gradients are not recorded here (`torch.no_grad()` on line 21)." in out
    assert "Not reported: TM201: gradients are off; TM102: the model is in eval mode." in out
    assert "No finding on this line." in out


def test_a_training_forward_is_not_an_evaluation(run, project):
    code, out, err = _explain(run, project, 8)
    assert code == 0, err
    assert "Forward pass (training, or not known to evaluate) of `model`" in out
    assert "Not reported: TM102 and TM201 look at evaluations only" in out


def test_a_line_without_anything_to_explain(run, project):
    code, out, _ = _explain(run, project, 2)
    assert code == 0
    assert "No statement of the analysed code starts on or spans this line." in out
    assert "No finding on this line." in out


def test_bad_locations_are_usage_errors(run, project):
    (project / "train.py").write_text(SCRIPT)
    for location, message in [
        ("train.py", "expected PATH:LINE"),
        ("train.py:0", "expected PATH:LINE"),
        ("train.py:999", "train.py has 36 lines"),
        ("missing.py:3", "missing.py: no such file or directory"),
        ("nb.ipynb:3", "notebook"),
    ]:
        code, out, err = run("explain", location)
        assert code == 2, location
        assert message in err, (location, err)
        assert out == ""


def test_an_evaluation_entered_from_another_file_names_the_call_there(run, project):
    """``validate()`` alone in ``evaluate.py``, called by ``main()`` of ``train.py``: the
    explanation says which call there decided the mode and grad mode, and where it set them."""
    (project / "evaluate.py").write_text(
        textwrap.dedent(
            """\
            def validate(model, loader):
                for x, y in loader:
                    out = model(x)
            """
        )
    )
    (project / "train.py").write_text(
        textwrap.dedent(
            """\
            import torch

            from evaluate import validate


            def main(loader):
                model = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.Dropout(0.1))
                model.train()
                validate(model, loader)


            if __name__ == "__main__":
                main([])
            """
        )
    )
    code, out, err = run("explain", "evaluate.py:3")
    assert code == 0, err
    assert (
        "entered from train.py:9 (`validate(model, loader)`): gradients on, train mode, "
        "set by `model.train()` at train.py:8"
    ) in out
