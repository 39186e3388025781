"""Running the per-file checks on all cores, results in input order."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from torchmode.cli.checking import FileResult, Job, check_file


def default_jobs() -> int:
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def run(jobs: Sequence[Job], workers: int, on_result: Callable[[int], None]) -> list[FileResult]:
    """Check every job; ``on_result(n)`` after each of the n results so far."""
    results: list[FileResult] = []
    for result in _results(jobs, workers):
        results.append(result)
        on_result(len(results))
    return results


def _results(jobs: Sequence[Job], workers: int) -> Iterator[FileResult]:
    workers = min(workers, len(jobs))
    if workers <= 1:
        yield from map(check_file, jobs)
        return
    # Small chunks keep both cores busy when a few files are much larger than the rest.
    chunksize = max(1, min(16, len(jobs) // (workers * 8)))
    context = multiprocessing.get_context("fork" if os.name == "posix" else "spawn")
    done = 0
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            for result in pool.map(check_file, jobs, chunksize=chunksize):
                done += 1
                yield result
    except BrokenProcessPool:
        # A worker died (a crash in a native parser): the files it had are not checked.
        for job in jobs[done:]:
            yield FileResult(job.path, job.display, error="the checking process crashed")
