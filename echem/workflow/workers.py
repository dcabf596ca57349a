"""Warm worker processes for the jobs of a run.

Every rule of the workflow is a `run:` block that calls one echem function. Snakemake
runs `run:` blocks in threads of its own process when ``force-use-threads`` is set
(profiles/default), so no job starts an interpreter (with numpy, scipy, pandas and
matplotlib that costs 2-4 s here, more than most jobs). Threads share one interpreter
lock, though, and the stages are Python-heavy (fits, figures): in threads they would
use one core. So a job's thread hands its work to a small pool of worker processes,
started once per run from a forkserver that has already imported echem's stages. The
thread waits, the worker computes; ``--cores 2`` means two jobs, two workers, two busy
cores.

Everything a stage needs arrives as plain values (paths, dicts), and every stage
function writes its own outputs, log and error rows, so a worker returns nothing.
A job that runs in a process of its own (a cluster job) gets a pool of its own: its
forkserver imports the stack once, as the process itself would have.
"""

from __future__ import annotations

import importlib
import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Callable

#: Modules the forkserver imports before forking workers (the expensive imports).
PRELOAD = ["echem.workflow.preload"]


class WorkerPool:
    """A lazily started process pool; restarted if a worker dies.

    ``workers``: the pool's size, or a function giving it when the pool starts (the
    Snakefile passes ``lambda: workflow.cores``: known only once a run starts).
    """

    def __init__(self, workers: int | Callable[[], int | None]):
        self._workers = workers
        self._executor: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    @property
    def workers(self) -> int:
        n = self._workers() if callable(self._workers) else self._workers
        return max(1, int(n or 1))

    @property
    def started(self) -> bool:
        return self._executor is not None

    def _get(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._executor is None:
                context = multiprocessing.get_context("forkserver")
                context.set_forkserver_preload(PRELOAD)
                self._executor = ProcessPoolExecutor(max_workers=self.workers, mp_context=context)
            return self._executor

    def warm(self) -> None:
        """Start the forkserver and the workers now, without waiting for them.

        The forkserver's imports take seconds; started when the run starts (Snakemake's
        ``onstart``), they overlap the first jobs' bookkeeping.
        """
        executor = self._get()
        for _ in range(self.workers):
            executor.submit(_call, "echem.workflow.workers:_ready", {})

    def call(self, target: str, **kwargs: Any) -> Any:
        """Run ``module:function(**kwargs)`` in a worker; re-raise what it raises."""
        try:
            return self._get().submit(_call, target, kwargs).result()
        except BrokenProcessPool:
            with self._lock:  # a worker died (e.g. killed): start afresh for later jobs
                self._executor = None
            raise

    def shutdown(self) -> None:
        with self._lock:
            if self._executor is not None:
                self._executor.shutdown(wait=True, cancel_futures=True)
                self._executor = None


def _ready() -> None:
    """The task :meth:`WorkerPool.warm` sends: a worker that runs it is up."""


def resolve(target: str):
    """The function ``module:function`` names."""
    module, name = target.split(":")
    return getattr(importlib.import_module(module), name)


def _call(target: str, kwargs: dict[str, Any]) -> Any:
    return resolve(target)(**kwargs)


def run_stage(pool: WorkerPool | None, target: str, **kwargs: Any) -> Any:
    """Call a stage function in the pool when there is one, else in this process."""
    if pool is None:
        return _call(target, kwargs)
    return pool.call(target, **kwargs)
