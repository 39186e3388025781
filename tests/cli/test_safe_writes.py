"""``--fix`` never loses or misplaces a user's work: a file changed while it was checked is
left alone, a symbolic link or hard link stays one, owner and mode are kept, and a file the
user may not write is never rewritten, even by root (fake engine).

Permission tests run the CLI in a forked child that, when the tests run as root (as in
CI), becomes the unprivileged user ``nobody`` first: as root they could never fail.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import stat
import sys
import tempfile
import traceback
from collections.abc import Iterator
from pathlib import Path

import pytest
import torchmode.analysis.driver
from torchmode.analysis import Analysis
from torchmode.cli.main import main
from torchmode.settings import DEFAULT_SETTINGS, Settings

pytestmark = pytest.mark.usefixtures("fake_engine")

NOBODY = 65534
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
CHANGED = "train.py: not fixed: changed while it was being checked (run torchmode again)\n"
READ_ONLY = "train.py: not fixed: the file is read-only (no permission to write it)\n"


# --- a file changed while it is checked ------------------------------------------------------


def _saving_during_analysis(
    monkeypatch: pytest.MonkeyPatch, path: Path, saved: bytes, *, keep_stat: bool
) -> None:
    """The engine, but the user saves ``saved`` into ``path`` while it analyses."""
    analyze = torchmode.analysis.driver.analyze

    def analyse_while_saving(source: str, settings: Settings = DEFAULT_SETTINGS, **kw) -> Analysis:
        if path.read_bytes() != saved:
            before = path.stat()
            path.write_bytes(saved)
            if keep_stat:  # an edit of the same size within the clock's resolution
                os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
        return analyze(source, settings, **kw)

    monkeypatch.setattr(torchmode.analysis.driver, "analyze", analyse_while_saving)


@pytest.mark.parametrize("keep_stat", [False, True], ids=["grown", "same-size-and-time"])
def test_a_file_saved_during_the_run_is_not_overwritten(
    project, run, monkeypatch, training, keep_stat
):
    path = project / "train.py"
    path.write_text(training)
    saved = training.replace("validate(model)", "evaluate(model)").encode()
    if not keep_stat:
        saved += b"# more work\n"
    assert len(saved) != len(training) or keep_stat
    _saving_during_analysis(monkeypatch, path, saved, keep_stat=keep_stat)
    code, out, err = run("check", "--fix", "-j", "1", "train.py")
    assert path.read_bytes() == saved
    assert (code, err) == (2, CHANGED)
    assert "Fixed" not in out
    assert out.endswith("1 file could not be fixed.\n")


# --- links, owner and mode --------------------------------------------------------------------


def test_fix_through_a_symbolic_link_fixes_its_target(project, run, training, fixed_training):
    (project / "real").mkdir()
    target = project / "real" / "train.py"
    target.write_text(training)
    link = project / "train.py"
    link.symlink_to(Path("real") / "train.py")
    code, _, err = run("check", "--fix", "train.py")
    assert (code, err) == (0, "")
    assert link.is_symlink() and os.readlink(link) == str(Path("real") / "train.py")
    assert target.read_text() == fixed_training
    assert sorted(p.name for p in target.parent.iterdir()) == ["train.py"]  # no temporary left


def test_fix_keeps_hard_links(project, run, training, fixed_training):
    path = project / "train.py"
    path.write_text(training)
    other = project / "copy.py"
    os.link(path, other)
    inode = path.stat().st_ino
    assert run("check", "--fix", "train.py")[0] == 0
    assert path.stat().st_ino == other.stat().st_ino == inode
    assert other.read_text() == fixed_training
    assert path.stat().st_nlink == 2


@pytest.mark.skipif(not IS_ROOT, reason="only root can give a file to another user")
def test_fix_keeps_owner_group_and_mode(project, run, training, fixed_training):
    path = project / "train.py"
    path.write_text(training)
    os.chown(path, NOBODY, NOBODY)
    os.chmod(path, 0o2640)  # set-group-ID too: chown clears it, so the order matters
    assert run("check", "--fix", "train.py")[0] == 0
    status = path.stat()
    assert path.read_text() == fixed_training
    assert (status.st_uid, status.st_gid, stat.S_IMODE(status.st_mode)) == (NOBODY, NOBODY, 0o2640)


def test_a_read_only_file_is_not_fixed_even_by_root(project, run, training):
    path = project / "train.py"
    path.write_text(training)
    os.chmod(path, 0o444)
    code, out, err = run("check", "--fix", "train.py")
    assert path.read_text() == training
    assert (code, err) == (2, READ_ONLY)
    assert "Fixed" not in out


def test_a_failed_write_is_not_reported_as_fixed(project, run, monkeypatch, training):
    def full_disk(fd: int) -> None:
        raise OSError(28, "No space left on device")

    path = project / "train.py"
    path.write_text(training)
    monkeypatch.setattr(os, "fsync", full_disk)
    code, out, err = run("check", "--fix", "train.py")
    assert "Fixed" not in out
    assert out.endswith("1 file could not be fixed.\n")
    assert path.read_text() == training
    assert (code, err) == (2, "train.py: not fixed: cannot write: No space left on device\n")
    assert sorted(p.name for p in project.iterdir()) == ["pyproject.toml", "train.py"]


# --- as an unprivileged user ------------------------------------------------------------------


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A project directory that ``nobody`` can reach (pytest's tmp_path is private to root)."""
    directory = Path(tempfile.mkdtemp(prefix="torchmode-unprivileged-"))
    os.chmod(directory, 0o755)
    (directory / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _give_to_nobody(path: Path) -> None:
    if IS_ROOT:
        os.chown(path, NOBODY, NOBODY)


def _warm_up(directory: Path) -> None:
    """Import everything the CLI imports lazily while still able to read the interpreter's
    files (``nobody`` may not read them)."""
    scratch = directory / ".warm-up"
    scratch.mkdir()
    (scratch / "a.py").write_text("model.eval()\n")
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        main(["check", "--diff", "-j", "1", str(scratch / "a.py")])
        main(["check", "--fix", "-j", "1", str(scratch / "a.py")])
    shutil.rmtree(scratch)


def run_unprivileged(directory: Path, *argv: str) -> tuple[int, str, str]:
    """Run the CLI in ``directory`` in a forked child, as ``nobody`` if we are root.

    A child rather than a new interpreter: this interpreter and its libraries may live
    where ``nobody`` cannot read (under /root), and the fake engine stays in place.
    """
    _warm_up(directory)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            _child(directory, list(argv), out.fileno(), err.fileno())
        _, status = os.waitpid(pid, 0)
        out.seek(0)
        err.seek(0)
        return os.waitstatus_to_exitcode(status), out.read().decode(), err.read().decode()


def _child(directory: Path, argv: list[str], out: int, err: int) -> None:  # pragma: no cover
    code = 99
    try:
        sys.stdout = io.TextIOWrapper(io.FileIO(out, "w", closefd=False), write_through=True)
        sys.stderr = io.TextIOWrapper(io.FileIO(err, "w", closefd=False), write_through=True)
        if IS_ROOT:
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
        if os.geteuid() == 0:
            raise RuntimeError("still root")
        os.chdir(directory)
        code = main(argv)
    except BaseException:
        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def _cannot_open_for_writing(directory: Path, name: str) -> bool:
    """Whether the unprivileged child really cannot open ``name`` for writing."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        denied = 1
        try:
            if IS_ROOT:
                os.setgroups([])
                os.setgid(NOBODY)
                os.setuid(NOBODY)
            try:
                open(directory / name, "r+b").close()
                denied = 0
            except PermissionError:
                denied = 1
        finally:
            os._exit(denied)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 1


@pytest.mark.parametrize("owner", ["another user", "the user, read-only"])
def test_a_file_the_user_cannot_write_is_not_replaced(shared_dir, training, owner):
    """The folder is the user's, so a rename would succeed: the file's own permission
    decides."""
    _give_to_nobody(shared_dir)
    path = shared_dir / "train.py"
    path.write_text(training)
    if owner == "another user":
        if not IS_ROOT:
            pytest.skip("only root can give a file to another user")
        os.chmod(path, 0o644)  # root's, and nobody may not write it
    else:
        _give_to_nobody(path)
        os.chmod(path, 0o444)
    assert _cannot_open_for_writing(shared_dir, "train.py")
    before = path.stat()
    code, out, err = run_unprivileged(shared_dir, "check", "--fix", "-j", "1", "train.py")
    assert err == READ_ONLY
    assert code == 2
    assert "Fixed" not in out
    after = path.stat()
    assert path.read_text() == training
    assert (after.st_ino, after.st_uid, after.st_mode) == (
        before.st_ino,
        before.st_uid,
        before.st_mode,
    )


@pytest.mark.skipif(not IS_ROOT, reason="only root can give a file to another user")
def test_a_group_writable_file_of_another_user_keeps_its_owner(
    shared_dir, training, fixed_training
):
    """Writable through its group, but the user could not give a new file its owner: it is
    written in place rather than replaced by a file of the user's."""
    _give_to_nobody(shared_dir)
    path = shared_dir / "train.py"
    path.write_text(training)
    os.chown(path, 0, NOBODY)
    os.chmod(path, 0o664)
    inode = path.stat().st_ino
    code, out, err = run_unprivileged(shared_dir, "check", "--fix", "-j", "1", "train.py")
    assert (code, err) == (0, ""), out
    status = path.stat()
    assert path.read_text() == fixed_training
    assert (status.st_ino, status.st_uid, status.st_gid) == (inode, 0, NOBODY)
    assert stat.S_IMODE(status.st_mode) == 0o664


def test_a_writable_file_in_a_folder_the_user_cannot_write_is_fixed(
    shared_dir, training, fixed_training
):
    """No temporary file can be made beside it: it is written in place, as an editor would."""
    path = shared_dir / "train.py"
    path.write_text(training)
    _give_to_nobody(path)
    os.chmod(shared_dir, 0o555)
    try:
        code, out, err = run_unprivileged(shared_dir, "check", "--fix", "-j", "1", "train.py")
    finally:
        os.chmod(shared_dir, 0o755)
    assert (code, err) == (0, ""), out
    assert path.read_text() == fixed_training
    assert out == "Fixed 1 problem. All checks passed (1 file checked).\n"


def test_a_folder_the_user_cannot_read_is_reported_and_the_rest_checked(shared_dir):
    (shared_dir / "a.py").write_text("model.train()\n")
    sub = shared_dir / "sub"
    sub.mkdir()
    (sub / "b.py").write_text("model.train()\n")
    os.chmod(sub, 0)
    try:
        code, out, err = run_unprivileged(shared_dir, "check", "-j", "1", ".")
    finally:
        os.chmod(sub, 0o755)
    assert (code, err) == (2, "sub: cannot list directory: Permission denied\n")
    assert out == "No problems found in 1 file checked. 1 path could not be checked (see above).\n"
