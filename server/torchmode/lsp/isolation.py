"""Jobs in a separate process, with a time and a memory limit: the parent's side and the child's.

Inside the server's own process a budget cannot be enforced: libcst's native parser cannot be
interrupted, a thread cannot be killed, and memory an analysis freed stays with the process
(a 5 MB document left the server at ~1 GB after it was closed). So the server analyses the
documents too big to analyse in its own process (``ISOLATE_ABOVE_*`` in analysis/memory.py) in a
child process, which it kills when a job takes longer than the time limit or the child's
resident memory exceeds the memory limit, and stops when it holds no document any more: the
memory goes back to the system with it.

The protocol is generic, so that anything else the editor computes at that scale (a project
index) can run the same way with jobs of its own: the child is ``python -m MODULE``, a module
that calls :func:`serve` with its table of jobs (``lsp/worker.py`` holds the documents' jobs).
Frames both ways are an 8-byte big-endian length and a pickle (the child is our own process,
started with our interpreter, talking over its own pipes):

- child -> parent, once started: ``("ready", pid)``;
- parent -> child: ``(number, job name, args)``;
- child -> parent: ``(number, "ok", value)``, ``(number, "error", traceback text)``,
  ``(number, "missing", None)`` (a job about a document the child does not hold, see
  :class:`NotHeld`) or ``(number, "memory", None)`` (a ``MemoryError``: the child exits
  after sending it, its state may be broken).

One job at a time; a caller that is cancelled while its job runs (a hover the editor gave up
on) leaves the job to finish, so the next one is not charged for its time and the process
(and what it holds) is not lost for a cancellation.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import pickle
import signal
import struct
import sys
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from torchmode.analysis.memory import ISOLATE_ABOVE_BYTES, ISOLATE_ABOVE_LINES

_LENGTH = struct.Struct(">Q")
log = logging.getLogger(__name__)

# The limits of a job in the child, and what goes there; each can be set in the server's
# environment (the tests make them small).
# A generated 5 MB training module (bench/lsp_big.py) takes 100-160 s on a loaded 2-core
# machine and peaks at ~600 MB: well inside both. Each job has the time limit: an analysis, a
# hover, the code actions of a range, resolving one (fix-all analyses the text again).
TIME_LIMIT_S = 300.0
MEMORY_LIMIT_MB = 2048
MEMORY_POLL_S = 0.1
START_PATIENCE_S = 60.0  # importing the engine in the child on a loaded machine


@dataclass(frozen=True)
class Limits:
    time_s: float = TIME_LIMIT_S
    memory_mb: int = MEMORY_LIMIT_MB
    above_bytes: int = ISOLATE_ABOVE_BYTES  # documents larger than this go to the child
    above_lines: int = ISOLATE_ABOVE_LINES  # ... or with more lines than this

    @staticmethod
    def from_environment(environ: Mapping[str, str] = os.environ) -> Limits:
        """``TORCHMODE_ANALYSIS_TIME_LIMIT_S``, ``TORCHMODE_ANALYSIS_MEMORY_LIMIT_MB``,
        ``TORCHMODE_ISOLATE_ABOVE_BYTES`` and ``TORCHMODE_ISOLATE_ABOVE_LINES``, where set and
        valid (a value that is not a positive number is ignored, with a warning)."""
        values: dict[str, Any] = {}
        for name, field, kind in (
            ("TORCHMODE_ANALYSIS_TIME_LIMIT_S", "time_s", float),
            ("TORCHMODE_ANALYSIS_MEMORY_LIMIT_MB", "memory_mb", int),
            ("TORCHMODE_ISOLATE_ABOVE_BYTES", "above_bytes", int),
            ("TORCHMODE_ISOLATE_ABOVE_LINES", "above_lines", int),
        ):
            raw = environ.get(name)
            if raw is None:
                continue
            try:
                value = kind(raw)
            except ValueError:
                value = 0
            if value > 0:
                values[field] = value
            else:
                log.warning("%s=%r is not a positive number: ignored", name, raw)
        return Limits(**values)

    def isolates(self, text: str) -> bool:
        """Whether ``text`` is analysed in the child (a bigger text than the engine reads at
        all is refused at once, in the server: analysis.MAX_SOURCE_BYTES)."""
        from torchmode.analysis import MAX_SOURCE_BYTES

        if len(text) > MAX_SOURCE_BYTES:
            return False
        return len(text) > self.above_bytes or text.count("\n") > self.above_lines


class ProcessFailure(Exception):
    """The job did not give an answer; ``message`` says why, for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TimeLimit(ProcessFailure):
    pass


class OutOfMemory(ProcessFailure):
    pass


class Stopped(ProcessFailure):
    """The process was stopped on purpose (no document left in it, or shutdown)."""


class Superseded(Stopped):
    """The job was no longer wanted when its turn came."""


class JobFailed(ProcessFailure):
    """The job raised: the child is fine, the message holds its traceback."""


class NotHeld(Exception):
    """Raised by a job about a document the child does not hold (it was restarted since, or
    never analysed that version): the caller analyses it there again."""


@dataclass
class _Child:
    process: asyncio.subprocess.Process
    why_killed: ProcessFailure | None = None

    @property
    def alive(self) -> bool:
        return self.process.returncode is None

    def kill(self, why: ProcessFailure | None) -> None:
        if why is not None and self.why_killed is None:
            self.why_killed = why
        if self.process.stdin is not None:
            self.process.stdin.close()
        if self.alive:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
            if why is not None:
                log.info("analysis process %d killed: %s", self.process.pid, why.message)


class AnalysisProcess:
    """The parent's side: one child ``python -m module``, started on the first job."""

    def __init__(self, module: str, limits: Limits, path: Sequence[str] = ()) -> None:
        self.module = module
        self.limits = limits
        self.path = tuple(path)  # where else the child finds ``module`` (PYTHONPATH)
        self._child: _Child | None = None
        self._lock = asyncio.Lock()
        self._number = 0
        self.starts = 0  # processes started so far (for tests and logs)

    @property
    def pid(self) -> int | None:
        child = self._child
        return child.process.pid if child is not None and child.alive else None

    async def call(
        self,
        job: str,
        *args: Any,
        time_limit: float | None = None,
        wanted: Callable[[], bool] | None = None,
    ) -> Any:
        """The value of ``job(*args)`` in the child; raises ProcessFailure (or NotHeld).
        ``wanted`` is asked when the job's turn comes: if it says no (the document changed
        while an analysis of another version ran), the job is dropped (Superseded)."""
        request = asyncio.ensure_future(self._exchange(job, args, time_limit, wanted))
        # A cancelled caller leaves the exchange to finish (see the module's docstring).
        return await asyncio.shield(request)

    async def _exchange(
        self,
        job: str,
        args: tuple[Any, ...],
        time_limit: float | None,
        wanted: Callable[[], bool] | None,
    ) -> Any:
        async with self._lock:
            if wanted is not None and not wanted():
                raise Superseded("a newer version is on its way")
            child = await self._started()
            process = child.process
            self._number += 1
            number = self._number
            data = pickle.dumps((number, job, args), protocol=pickle.HIGHEST_PROTOCOL)
            limit = time_limit if time_limit is not None else self.limits.time_s
            watch = asyncio.ensure_future(self._watch_memory(child))
            try:
                assert process.stdin is not None
                process.stdin.write(_LENGTH.pack(len(data)) + data)
                await process.stdin.drain()
                while True:
                    reply = await asyncio.wait_for(_read(process), limit)
                    if reply[0] == number:
                        break  # (an older number: the reply of a job whose caller left)
            except TimeoutError:
                child.kill(TimeLimit(f"the analysis took longer than {limit:g} s"))
                raise await self._died(child) from None
            except (OSError, EOFError, asyncio.IncompleteReadError, pickle.UnpicklingError):
                raise await self._died(child) from None
            finally:
                watch.cancel()
            _, kind, value = reply
            if kind == "ok":
                return value
            if kind == "missing":
                raise NotHeld()
            if kind == "memory":
                child.kill(OutOfMemory(self._memory_message()))
                raise await self._died(child)
            raise JobFailed(str(value))

    async def _started(self) -> _Child:
        child = self._child
        if child is not None and child.alive:
            return child
        env = {**os.environ, "TORCHMODE_ANALYSIS_MEMORY_LIMIT_MB": str(self.limits.memory_mb)}
        # The child must import the same torchmode as the server, even one run from a source
        # tree without installing it.
        package_root = str(Path(__file__).resolve().parents[2])
        path = [*self.path, package_root, env.get("PYTHONPATH")]
        env["PYTHONPATH"] = os.pathsep.join(filter(None, path))
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            self.module,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env=env,
        )
        child = self._child = _Child(process)
        self.starts += 1
        try:
            ready = await asyncio.wait_for(_read(process), START_PATIENCE_S)
        except (TimeoutError, OSError, EOFError, asyncio.IncompleteReadError) as error:
            child.kill(None)
            raise ProcessFailure(f"the analysis process did not start ({error!r})") from None
        if ready[0] != "ready":
            child.kill(None)
            raise ProcessFailure(f"the analysis process did not start ({ready!r})")
        return child

    async def _watch_memory(self, child: _Child) -> None:
        limit_kib = self.limits.memory_mb * 1024
        status = Path(f"/proc/{child.process.pid}/status")
        while child.alive:
            rss = _rss_kib(status)
            if rss is None:
                return  # no /proc here: the child's own RLIMIT_AS is the only limit
            if rss > limit_kib:
                child.kill(OutOfMemory(self._memory_message()))
                return
            await asyncio.sleep(MEMORY_POLL_S)

    def _memory_message(self) -> str:
        return f"the analysis needs more than {self.limits.memory_mb:,} MB of memory"

    async def _died(self, child: _Child) -> ProcessFailure:
        """Why the child went away in the middle of a job."""
        with contextlib.suppress(Exception):
            await asyncio.wait_for(child.process.wait(), 5.0)
        if child.why_killed is not None:
            return child.why_killed
        code = child.process.returncode
        if code is not None and code < 0:
            how = f"was killed by signal {-code} ({_signal_name(-code)})"
            if -code in (signal.SIGKILL, signal.SIGABRT, signal.SIGSEGV):
                how += f", possibly for lack of memory (its limit is {self.limits.memory_mb:,} MB)"
        else:
            how = f"exited with code {code}"
        return ProcessFailure(f"the analysis process {how}")

    def stop(self, why: str = "the analysis process was stopped") -> None:
        """Stop the child now: a job in it fails with Stopped; the next job starts another."""
        child, self._child = self._child, None
        if child is not None:
            child.kill(Stopped(why))

    async def close(self) -> None:
        """``stop``, and wait for the process to be gone."""
        child = self._child
        self.stop()
        if child is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(child.process.wait(), 10.0)


async def _read(process: asyncio.subprocess.Process) -> Any:
    assert process.stdout is not None
    (length,) = _LENGTH.unpack(await process.stdout.readexactly(_LENGTH.size))
    return pickle.loads(await process.stdout.readexactly(length))


def _rss_kib(status: Path) -> int | None:
    try:
        text = status.read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0  # a zombie: no memory


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return "unknown"


# --- the child's side ---------------------------------------------------------------------


def serve(jobs: Mapping[str, Callable[..., Any]], niceness: int = 0) -> None:
    """The child's loop: read a job, run it, answer; until the parent closes the pipe. A
    positive ``niceness`` lowers the child's priority by that much (background work)."""
    requests: BinaryIO = sys.stdin.buffer
    replies: BinaryIO = sys.stdout.buffer
    # Anything a job prints goes to the server's log, never into the replies.
    sys.stdout = sys.stderr
    _limit_memory()
    _die_with_parent()
    if niceness > 0:
        _lower_priority(niceness)

    def send(message: object) -> None:
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        replies.write(_LENGTH.pack(len(data)) + data)
        replies.flush()

    send(("ready", os.getpid()))
    while True:
        header = requests.read(_LENGTH.size)
        if len(header) < _LENGTH.size:
            return  # the server is gone
        (length,) = _LENGTH.unpack(header)
        number, job, args = pickle.loads(requests.read(length))
        try:
            send((number, "ok", jobs[job](*args)))
        except NotHeld:
            send((number, "missing", None))
        except MemoryError:
            send((number, "memory", None))
            os._exit(3)  # what it held may be half-built: start afresh
        except Exception:
            send((number, "error", traceback.format_exc()))


def _lower_priority(niceness: int) -> None:
    with contextlib.suppress(OSError, AttributeError):  # AttributeError: no os.nice (Windows)
        os.nice(niceness)


def _limit_memory() -> None:
    """The parent watches the child's resident memory; the address-space limit catches an
    allocation faster than its polling (as a MemoryError, which the loop reports)."""
    try:
        import resource

        megabytes = int(os.environ.get("TORCHMODE_ANALYSIS_MEMORY_LIMIT_MB", MEMORY_LIMIT_MB))
        # headroom for what is mapped but not used (libraries, thread stacks)
        limit = (megabytes + 512) * 1024 * 1024
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ImportError, ValueError, OSError):
        pass  # not on this system: the parent's watch remains


def _die_with_parent() -> None:
    """On Linux, the child is killed with the server even if the server is killed mid-job."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL)
        if os.getppid() == 1:  # the parent died before prctl
            os._exit(1)
    except (OSError, AttributeError):
        pass
