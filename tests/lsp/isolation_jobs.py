"""Jobs for the analysis process's own tests (test_isolation.py): a child that sleeps,
allocates, crashes or answers on demand, started as ``python -m isolation_jobs``."""

from __future__ import annotations

import os
import time

from torchmode.lsp.isolation import NotHeld, serve

_held: list[bytearray] = []


def echo(value: object) -> object:
    return value


def pid() -> int:
    return os.getpid()


def sleep(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def grow(megabytes: int, step_s: float) -> int:
    """Allocates (and touches) ``megabytes``, 10 MB at a time: resident memory grows steadily."""
    for _ in range(megabytes // 10):
        _held.append(bytearray(10 * 1024 * 1024))
        time.sleep(step_s)
    return megabytes


def allocate_at_once(megabytes: int) -> int:
    _held.append(bytearray(megabytes * 1024 * 1024))
    return megabytes


def crash(code: int) -> None:
    os._exit(code)


def not_held() -> None:
    raise NotHeld()


def fail() -> None:
    raise ValueError("a bug in the job")


if __name__ == "__main__":
    import isolation_jobs

    serve(
        {
            name: getattr(isolation_jobs, name)
            for name in (
                "echo",
                "pid",
                "sleep",
                "grow",
                "allocate_at_once",
                "crash",
                "not_held",
                "fail",
            )
        }
    )
