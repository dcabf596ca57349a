"""Warm worker processes for the per-sample jobs of a local run.

Snakemake runs the `run:` blocks of a local run in threads of its own process
(``force-use-threads`` in profiles/default), so numpy/scipy/pandas/matplotlib are
imported once, not once per job. Threads share one interpreter lock, though, and the
stages are Python-heavy (fits, figures): in threads they would use one core. So a
job's thread hands its work to a small pool of worker processes, started once per
run from a forkserver that has already imported echem's stages. The thread waits,
the worker computes; ``--cores 2`` means two jobs, two workers, two busy cores.

Everything a stage needs arrives as plain values (paths, dicts), and every stage
function writes its own outputs, log and error rows, so a worker returns nothing.
Cluster runs (no threads) call the stage inline: a SLURM job is its own process.
"""

from __future__ import annotations

import importlib
import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

#: Modules the forkserver imports before forking workers (the expensive imports).
PRELOAD = ["echem.workflow.preload"]


class WorkerPool:
    """A lazily started process pool of a fixed size; restarted if a worker dies."""

    def __init__(self, workers: int):
        self.workers = max(1, int(workers))
        self._executor: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def _get(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._executor is None:
                context = multiprocessing.get_context("forkserver")
                context.set_forkserver_preload(PRELOAD)
                self._executor = ProcessPoolExecutor(max_workers=self.workers, mp_context=context)
            return self._executor

    def warm(self) -> None:
        """Start the forkserver and the workers now, without waiting for them.

        The forkserver's imports take seconds; started while Snakemake still builds its
        DAG, they are done by the time the first job needs a worker.
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
