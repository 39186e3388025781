"""Every finding's summary fits where findings are listed: one sentence of at most 100
characters (the Problems panel, a terminal line and a GitHub annotation show about that much)
that names the model, optimizer or value concerned, and the full message starts with it.

Run over every rule's own examples, and over the same examples with the model and the
optimizer given longer names, as real code often does."""

from __future__ import annotations

import re

import pytest
from torchmode.analysis import RULES, analyze
from torchmode.findings import Finding, Severity
from torchmode.rules.base import Rule
from torchmode.settings import Settings

ALL_LEVELS = Settings(min_severity=Severity.HINT)
LIMIT = 100

# 15 characters each, so that `self.text_classifier` has 20
LONG_NAMES = {"model": "text_classifier", "optimizer": "adamw_optimizer"}
_NAMED = re.compile(r"\b(" + "|".join(LONG_NAMES) + r")\b")
_LINE = re.compile(r"\bline (\d+)\b")

EXAMPLES = [
    pytest.param(rule, example.source, id=f"{rule.code}-invalid-{i}")
    for rule in RULES.values()
    for i, example in enumerate(rule.invalid)
]


def renamed(source: str) -> str:
    return _NAMED.sub(lambda m: LONG_NAMES[m.group(1)], source)


def findings_of(rule: Rule, source: str) -> list[Finding]:
    return [f for f in analyze(source, ALL_LEVELS).findings if f.code == rule.code]


def check_summary(finding: Finding, source: str) -> None:
    summary = finding.summary
    assert len(summary) <= LIMIT, f"{len(summary)} characters: {summary}"
    assert summary and "\n" not in summary
    # one sentence: no full stop ends it or a sentence inside it (code like `a.b` has none)
    assert not summary.endswith("."), summary
    assert not re.search(r"\.\s", summary), summary
    assert finding.subject and finding.subject in summary, (finding.subject, summary)
    assert finding.message.startswith(summary), finding.message
    if finding.details:
        assert finding.message == f"{summary}. {finding.details}"
    lines = source.count("\n") + 1
    named = [int(n) for n in _LINE.findall(summary)]
    assert all(1 <= n <= lines for n in named), summary
    # a finding that involves other places says where: the reader navigates by line numbers
    if finding.related:
        assert named, summary


@pytest.mark.parametrize(("rule", "source"), EXAMPLES)
def test_summary_of_every_example(rule: Rule, source: str) -> None:
    found = findings_of(rule, source)
    assert found  # the runner of examples checks which; here only that there is something
    for finding in found:
        check_summary(finding, source)


def test_summary_with_long_names() -> None:
    checked = 0
    for rule in RULES.values():
        for example in rule.invalid:
            source = renamed(example.source)
            if source == example.source:
                continue
            for finding in findings_of(rule, source):
                check_summary(finding, source)
                checked += any(name in finding.subject for name in LONG_NAMES.values())
    # most examples name a `model` or an `optimizer`: their findings are about the long names
    assert checked >= 80


@pytest.mark.parametrize(
    ("source", "code", "subject"),
    [
        pytest.param(
            """\
import torch


class SentimentTrainer:
    def fit(self, loader):
        for step, (x, y) in enumerate(loader):
            loss = torch.nn.functional.cross_entropy(self.sentiment_model(x), y)
            loss.backward()
            self.sentiment_optimizer.step()
            self.sentiment_optimizer.zero_grad()
            if step % 100 == 0:
                self.evaluate_on_validation_set(loader, max_batches=50)

    def evaluate_on_validation_set(self, loader, max_batches):
        self.sentiment_model.eval()
        with torch.no_grad():
            for x, y in loader:
                self.sentiment_model(x)
""",
            "TM101",
            "self.sentiment_model",
            id="TM101-helper-with-a-long-name",
        ),
        pytest.param(
            """\
import torch

model = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.Dropout(0.1))
discriminator_optimizer = torch.optim.Adam(model.parameters())
for x in data:
    loss = model(x).sum()
    loss.backward()
    discriminator_optimizer.zero_grad(set_to_none=True)
    discriminator_optimizer.step()
""",
            "TM302",
            "discriminator_optimizer",
            id="TM302-long-optimizer",
        ),
        pytest.param(
            """\
import torch

with torch.autograd.grad_mode.no_grad:
    pass
""",
            "TM203",
            "torch.autograd.grad_mode.no_grad",
            id="TM203-fully-qualified",
        ),
        pytest.param(
            """\
import torch

def validate(model, loader, criterion):
    model.eval()
    running_validation_loss = 0
    for x, y in loader:
        running_validation_loss += criterion(model(x.to("cuda")), y.to("cuda"))
    return running_validation_loss
""",
            "TM204",
            "running_validation_loss",
            id="TM204-long-total-and-long-value",
        ),
    ],
)
def test_summary_with_long_code(source: str, code: str, subject: str) -> None:
    found = [f for f in findings_of(RULES[code], source) if f.subject == subject]
    assert found, [f.message for f in analyze(source, ALL_LEVELS).findings]
    for finding in found:
        check_summary(finding, source)
