"""Running the per-file checks on all cores, results in input order."""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterator, Sequence

from torchmode.cli.checking import FileResult, Job, check_file


def default_jobs() -> int:
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def run(jobs: Sequence[Job], workers: int, on_result: Callable[[int], None]) -> list[FileResult]:
    """Check every job; ``on_result(n)`` after each of the n results so far."""
    results: list[FileResult] = []
    # An analysis is one big web of reference cycles (trees, flows, facts) that only the cyclic
    # collector frees. Left to run on its own, it walks each file's objects several times as
    # they age through its generations (~15 % of a run); collecting the youngest generation
    # once per file, with the collector otherwise off and the start-up objects frozen, walks
    # them once. Forked workers inherit the setting.
    was_enabled = gc.isenabled()
    gc.disable()
    gc.freeze()
    try:
        for result in _results(jobs, workers):
            results.append(result)
            on_result(len(results))
    finally:
        gc.unfreeze()
        if was_enabled:
            gc.enable()
    return results


def check_and_collect(job: Job) -> FileResult:
    result = check_file(job)
    gc.collect(0)  # the file's analysis, now garbage: everything allocated since the last file
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
