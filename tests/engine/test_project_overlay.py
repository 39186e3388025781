"""Summaries of other files of the project read from an editor's open buffers (the overlay)
before the disk, and kept exactly while what they were computed from is unchanged."""

from __future__ import annotations

from pathlib import Path

from torchmode.analysis import Session, project_files_changed
from torchmode.config import in_project
from torchmode.engine import project
from torchmode.engine.chunks import ChunkCache
from torchmode.settings import DEFAULT_SETTINGS

from ..cli.test_cross_file import EVALUATE, EVALUATE_RESTORING, TRAIN


def _codes(
    session: Session,
    root: Path,
    overlay: dict[str, tuple[int | None, str]] | None,
    cache: ChunkCache | None = None,
) -> list[str]:
    path = root / "train.py"
    settings = in_project(DEFAULT_SETTINGS, path, [root], overlay)
    analysis = session.analyze(path.read_text(), settings, cache)
    return [f.code for f in analysis.findings]


def test_an_open_buffer_wins_over_the_file_on_disk(tmp_path):
    (tmp_path / "evaluation.py").write_text(EVALUATE)
    (tmp_path / "train.py").write_text(TRAIN.format(module="evaluation"))
    evaluation = str(tmp_path / "evaluation.py")
    session = Session()
    assert _codes(session, tmp_path, None) == ["TM101"]
    # the fix typed in the editor, not saved
    assert _codes(session, tmp_path, {evaluation: (2, EVALUATE_RESTORING)}) == []
    # undone in the buffer: the new version counts, not the summary kept of version 2
    assert _codes(session, tmp_path, {evaluation: (3, EVALUATE)}) == ["TM101"]
    # closed without saving: the disk again
    assert _codes(session, tmp_path, {}) == ["TM101"]


def test_a_reused_analysis_sees_the_new_summary(tmp_path):
    """The importing file's text is unchanged, its cached function analyses are not: they
    applied the old summary at the call."""
    (tmp_path / "evaluation.py").write_text(EVALUATE)
    (tmp_path / "train.py").write_text(TRAIN.format(module="evaluation"))
    evaluation = str(tmp_path / "evaluation.py")
    session, cache = Session(), ChunkCache()
    assert _codes(session, tmp_path, {evaluation: (1, EVALUATE)}, cache) == ["TM101"]
    assert _codes(session, tmp_path, {evaluation: (2, EVALUATE_RESTORING)}, cache) == []
    assert _codes(session, tmp_path, {evaluation: (3, EVALUATE)}, cache) == ["TM101"]


def test_the_files_an_analysis_read_are_named(tmp_path):
    (tmp_path / "evaluation.py").write_text(EVALUATE)
    (tmp_path / "train.py").write_text(TRAIN.format(module="evaluation"))
    path = tmp_path / "train.py"
    analysis = Session().analyze(path.read_text(), in_project(DEFAULT_SETTINGS, path, [tmp_path]))
    assert analysis.depends_on == (str(tmp_path / "evaluation.py"),)


HELPERS = """\
def to_eval(net):
    net.eval()
"""

EVALUATION_WITH_HELPER = """\
import torch

from helpers import to_eval


def evaluate(net, loader):
    to_eval(net)
    with torch.no_grad():
        return [net(x) for x in loader]
"""


def test_a_summary_follows_the_files_it_imports(tmp_path):
    """evaluation.py's function switches the model through helpers.py's: a change there
    reaches train.py although evaluation.py is unchanged."""
    (tmp_path / "helpers.py").write_text(HELPERS)
    (tmp_path / "evaluation.py").write_text(EVALUATION_WITH_HELPER)
    (tmp_path / "train.py").write_text(TRAIN.format(module="evaluation"))
    helpers = str(tmp_path / "helpers.py")
    session = Session()
    assert _codes(session, tmp_path, {helpers: (1, HELPERS)}) == ["TM101"]
    harmless = HELPERS.replace("net.eval()", "print(net)")
    assert _codes(session, tmp_path, {helpers: (2, harmless)}) == []


def test_a_file_created_on_disk_resolves_once_told(tmp_path):
    (tmp_path / "train.py").write_text(TRAIN.format(module="evaluation"))
    session = Session()
    assert _codes(session, tmp_path, None) == []
    (tmp_path / "evaluation.py").write_text(EVALUATE)
    project_files_changed([str(tmp_path / "evaluation.py")], created_or_deleted=True)
    assert _codes(session, tmp_path, None) == ["TM101"]


def test_a_buffer_in_mid_edit_keeps_what_it_gave(tmp_path):
    """A keystroke that leaves evaluation.py unparsable does not take train.py's finding away
    (nor would it add one): the last summary of the buffer that parsed stands."""
    (tmp_path / "evaluation.py").write_text(EVALUATE_RESTORING)
    (tmp_path / "train.py").write_text(TRAIN.format(module="evaluation"))
    evaluation = str(tmp_path / "evaluation.py")
    session = Session()
    assert _codes(session, tmp_path, {evaluation: (1, EVALUATE)}) == ["TM101"]
    typing = EVALUATE.replace("def evaluate(net, loader):", "def evaluate(net, loader:")
    assert _codes(session, tmp_path, {evaluation: (2, typing)}) == ["TM101"]


def test_an_open_document_gives_its_summary_from_its_own_analysis(tmp_path, monkeypatch):
    (tmp_path / "evaluation.py").write_text(EVALUATE)
    (tmp_path / "train.py").write_text(TRAIN.format(module="evaluation"))
    evaluation = tmp_path / "evaluation.py"
    overlay = {str(evaluation): (2, EVALUATE_RESTORING)}
    session = Session()
    settings = in_project(DEFAULT_SETTINGS, evaluation, [tmp_path], overlay, gives_summary=True)
    session.analyze(EVALUATE_RESTORING, settings)
    summarised: list[Path] = []
    original = project._summarise

    def counting(path: Path, *args: object) -> object:
        summarised.append(path)
        return original(path, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(project, "_summarise", counting)
    assert _codes(session, tmp_path, overlay) == []
    assert summarised == []  # taken from evaluation.py's own analysis
    assert _codes(session, tmp_path, {str(evaluation): (3, EVALUATE)}) == ["TM101"]
    assert summarised == [evaluation]  # a text it did not analyse: summarised here


UNRELATED = """


def pretrain(net, loader, optimizer):
    net.train()
    for x, y in loader:
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(net(x), y).backward()
        optimizer.step()
"""


def test_only_the_functions_that_call_a_changed_function_are_analysed_again(tmp_path):
    """A new summary of ``evaluate()`` (its fix typed in evaluation.py) analyses again the
    functions that call it, not the whole importing file: the others' cached analyses stand,
    and the findings are those of a fresh analysis."""
    (tmp_path / "evaluation.py").write_text(EVALUATE)
    text = TRAIN.format(module="evaluation") + UNRELATED
    (tmp_path / "train.py").write_text(text)
    evaluation = str(tmp_path / "evaluation.py")
    session, cache = Session(), ChunkCache()
    assert _codes(session, tmp_path, {evaluation: (1, EVALUATE)}, cache) == ["TM101"]
    before = {record.node.name.value: record.flow for record in cache.flows.values()}
    assert {"pretrain", "main"} <= set(before)
    assert _codes(session, tmp_path, {evaluation: (2, EVALUATE_RESTORING)}, cache) == []
    after = {record.node.name.value: record.flow for record in cache.flows.values()}
    assert after["pretrain"] is before["pretrain"]
    assert after["main"] is not before["main"]  # it calls evaluate()
    fresh = _codes(Session(), tmp_path, {evaluation: (2, EVALUATE_RESTORING)})
    assert fresh == []
