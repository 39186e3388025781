"""Per-document debouncing and one analysis worker thread.

The engine is CPU-bound Python: it runs in a worker thread so the message loop keeps
answering hover, code actions and cancellations while a large file is analysed. One worker
is enough (the GIL would serialise more) and keeps the engine's caches single-threaded.
Hover reads a finished analysis only: it gets a thread of its own, so it is not queued behind
the analysis of another, large file. Quick fixes are checked by analysing the fixed text with
the document's caches, so they run in the worker.

Documents too big for this process (isolation.py) are analysed in another: their jobs wait on
a pipe in the message loop, not in this worker, so they hold up no other document.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


class Scheduler:
    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="torchmode-analysis")
        self._queries = ThreadPoolExecutor(max_workers=1, thread_name_prefix="torchmode-query")
        self._pending: dict[str, asyncio.Task[None]] = {}
        self._started: set[asyncio.Task[None]] = set()

    def schedule(self, key: str, delay: float, job: Callable[[], Awaitable[None]]) -> None:
        """Run ``job`` after ``delay`` seconds unless ``key`` is scheduled again before."""
        previous = self._pending.get(key)
        if previous is not None and previous not in self._started:
            # Still waiting out its delay: the newer edit supersedes it. A job already in
            # the worker finishes, and its result is dropped as stale by the job itself.
            previous.cancel()
        task = asyncio.get_running_loop().create_task(self._run(key, delay, job))
        self._pending[key] = task

    async def _run(self, key: str, delay: float, job: Callable[[], Awaitable[None]]) -> None:
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.current_task()
        assert task is not None
        self._started.add(task)
        try:
            await job()
        finally:
            self._started.discard(task)
            if self._pending.get(key) is task:
                del self._pending[key]

    def busy(self) -> bool:
        """Whether an analysis is waiting or running."""
        return bool(self._pending)

    def pending(self, key: str) -> asyncio.Task[None] | None:
        return self._pending.get(key)

    def cancel(self, key: str) -> None:
        task = self._pending.pop(key, None)
        if task is not None and task not in self._started:
            task.cancel()

    async def in_worker(self, function: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, function, *args)

    def in_worker_later(self, function: Callable[..., Any], *args: Any) -> None:
        """Queue ``function`` in the worker without waiting for it (housekeeping)."""
        self._executor.submit(function, *args)

    async def in_query_thread(self, function: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._queries, function, *args)

    def shutdown(self) -> None:
        for key in list(self._pending):
            self.cancel(key)
        self._executor.shutdown(wait=False, cancel_futures=True)
        self._queries.shutdown(wait=False, cancel_futures=True)
