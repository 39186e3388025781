"""Running the per-file checks on all cores, results in input order."""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import nullcontext

from torchmode.analysis import disk_unchanged
from torchmode.cli.checking import check_file
from torchmode.cli.reports import FileResult, Job


def default_jobs() -> int:
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def run(jobs: Sequence[Job], workers: int, on_result: Callable[[int], None]) -> list[FileResult]:
    """Check every job; ``on_result(n)`` after each of the n results so far."""
    results: list[FileResult] = []
    # An analysis is one big web of reference cycles (trees, flows, facts). checking.py breaks
    # them once a file's reports are made (engine.analysis.release), so reference counting
    # frees each file's objects at once and the cyclic collector, off for the run with the
    # start-up objects frozen, has nothing to walk. What is left (the analyses of fix checks
    # and of --fix) is collected once enough of it piles up. Forked workers inherit this.
    was_enabled = gc.isenabled()
    gc.disable()
    gc.freeze()
    writes = any(job.mode.fix or job.mode.add_noqa for job in jobs)
    try:
        with nullcontext() if writes else disk_unchanged():
            for result in _results(jobs, workers):
                results.append(result)
                on_result(len(results))
    finally:
        gc.unfreeze()
        if was_enabled:
            gc.enable()
    return results


# Objects allocated and not freed since the last collection, beyond which one runs (a few tens
# of MB; a file whose analysis frees itself leaves next to nothing).
COLLECT_AFTER = 200_000


def check_and_collect(job: Job) -> FileResult:
    result = check_file(job)
    if gc.get_count()[0] > COLLECT_AFTER:
        gc.collect(0)
    return result


def _results(jobs: Sequence[Job], workers: int) -> Iterator[FileResult]:
    workers = min(workers, len(jobs))
    if workers <= 1:
        yield from map(check_and_collect, jobs)
        return
    import multiprocessing  # only for several workers: a tenth of start-up otherwise
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    # Small chunks keep both cores busy when a few files are much larger than the rest.
    chunksize = max(1, min(16, len(jobs) // (workers * 8)))
    context = multiprocessing.get_context("fork" if os.name == "posix" else "spawn")
    done = 0
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            for result in pool.map(check_and_collect, jobs, chunksize=chunksize):
                done += 1
                yield result
    except BrokenProcessPool:
        # A worker died (a crash in a native parser): the files it had are not checked.
        for job in jobs[done:]:
            yield FileResult(job.path, job.display, error="the checking process crashed")
