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

Faults. A worker that dies (killed by the out-of-memory killer or a user, ``os._exit`` in a
library) breaks the pool: every job in flight gets :class:`BrokenProcessPool`, not only the
one whose worker died. So such a job is run once more in a process of its own
(:meth:`WorkerPool.call_alone`): the innocent ones finish, the guilty one dies again alone and
raises :class:`WorkerDied`, and later jobs get a fresh pool. Workers die with their parent:
on Linux the kernel kills a worker when the forkserver that forked it ends
(``PR_SET_PDEATHSIG``), and a watchdog thread in every worker ends it within a second of the
Snakemake process's death (a ``kill -9`` of Snakemake leaves no worker behind).
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
import signal
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Callable

#: Modules the forkserver imports before forking workers (the expensive imports).
PRELOAD = ["echem.workflow.preload"]


class WorkerDied(RuntimeError):
    """A worker process died while it ran a job (killed, out of memory, ``os._exit``)."""


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

    @staticmethod
    def _context():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(PRELOAD)
        return context

    def _get(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ProcessPoolExecutor(max_workers=self.workers, mp_context=self._context(),
                                                     initializer=_worker_init, initargs=(os.getpid(),))
            return self._executor

    def _discard(self, executor: ProcessPoolExecutor) -> None:
        """Drop a broken pool (once, whichever of its jobs notices first); the next call starts
        a new one."""
        with self._lock:
            if self._executor is executor:
                self._executor = None
        executor.shutdown(wait=False, cancel_futures=True)

    def warm(self) -> None:
        """Start the forkserver and the workers now, without waiting for them.

        The forkserver's imports take seconds; started when the run starts (Snakemake's
        ``onstart``), they overlap the first jobs' bookkeeping.
        """
        executor = self._get()
        for _ in range(self.workers):
            executor.submit(_call, "echem.workflow.workers:_ready", {})

    def call(self, target: str, **kwargs: Any) -> Any:
        """Run ``module:function(**kwargs)`` in a worker; re-raise what it raises.

        If a worker of the pool dies meanwhile (this job's or another's: the pool cannot tell),
        the job runs once more in a process of its own; :class:`WorkerDied` if that dies too.
        """
        executor = self._get()
        try:
            return executor.submit(_call, target, kwargs).result()
        except BrokenProcessPool:
            self._discard(executor)
        return self.call_alone(target, **kwargs)

    def call_alone(self, target: str, **kwargs: Any) -> Any:
        """Run ``module:function(**kwargs)`` in a process of its own (forked from the warm
        forkserver); :class:`WorkerDied` saying how, if the process dies."""
        context = self._context()
        receive, send = context.Pipe(duplex=False)
        process = context.Process(target=_alone, args=(send, os.getpid(), target, kwargs), daemon=True)
        process.start()
        send.close()
        try:
            ok, value = receive.recv()
        except EOFError:
            process.join()
            raise WorkerDied(exit_reason(process.exitcode)) from None
        finally:
            receive.close()
        process.join(timeout=30)
        if ok:
            return value
        raise value

    def shutdown(self) -> None:
        with self._lock:
            if self._executor is not None:
                self._executor.shutdown(wait=True, cancel_futures=True)
                self._executor = None


def exit_reason(exitcode: int | None) -> str:
    """How a worker ended, for a person: ``the worker process died (killed by SIGKILL: out of memory?)``."""
    if exitcode is None:
        return "the worker process died"
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        why = ": out of memory?" if -exitcode == signal.SIGKILL else ""
        return f"the worker process died (killed by {name}{why})"
    return f"the worker process died (it exited with status {exitcode})"


# ----------------------------------------------------------------------------- in the workers


_IN_WORKER = False


def _worker_init(owner: int) -> None:
    """Every worker: die with the forkserver (Linux: the kernel sends SIGKILL) and with the
    process that owns the pool, Snakemake (a watchdog thread looks every second)."""
    global _IN_WORKER
    _IN_WORKER = True
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the forkserver ended before prctl took effect
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent or not _alive(owner):
                os._exit(1)

    threading.Thread(target=watch, name="echem-watchdog", daemon=True).start()


def _alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie, dead and not yet reaped, does not)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[1].split()[0] not in (b"Z", b"X")
    except FileNotFoundError:
        return False
    except (OSError, IndexError):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except OSError:
            pass
        return True


def _alone(conn, owner: int, target: str, kwargs: dict[str, Any]) -> None:
    """:meth:`WorkerPool.call_alone`'s process: run the job, send back (ok, result or exception)."""
    _worker_init(owner)
    try:
        result = (True, _call(target, kwargs))
    except Exception as exc:  # noqa: BLE001 - sent back and raised in the job's thread
        result = (False, exc)
    try:
        conn.send(result)
    except Exception:  # noqa: BLE001 - an exception that does not pickle
        conn.send((False, RuntimeError(f"{type(result[1]).__name__}: {result[1]}")))
    conn.close()


def _ready() -> None:
    """The task :meth:`WorkerPool.warm` sends: a worker that runs it is up."""


def resolve(target: str):
    """The function ``module:function`` names."""
    module, name = target.split(":")
    return getattr(importlib.import_module(module), name)


def _call(target: str, kwargs: dict[str, Any]) -> Any:
    _fault_injection(target, kwargs)
    try:
        return resolve(target)(**kwargs)
    except Exception:
        raise
    except BaseException as exc:  # SystemExit, KeyboardInterrupt: in a Snakemake thread they hang the run
        raise RuntimeError(f"{type(exc).__name__} raised in {target} ({exc})") from None


#: ``<stage>:<sample>`` (environment): the worker that is to run that stage of that sample kills
#: itself with SIGKILL first, as the out-of-memory killer would (tests/test_hostile_workflow.py).
FAULT_ENV = "ECHEM_TEST_KILL_WORKER"


def _fault_injection(target: str, kwargs: dict[str, Any]) -> None:
    wanted = os.environ.get(FAULT_ENV)
    if not wanted or not _IN_WORKER or not target.startswith("echem.workflow."):
        return
    stage = target.split(":")[0].rsplit(".", 1)[-1]
    sample = kwargs.get("sample") or os.path.basename(str(kwargs.get("sample_dir", "")).rstrip("/"))
    if wanted == f"{stage}:{sample}":
        os.kill(os.getpid(), signal.SIGKILL)


def run_stage(pool: WorkerPool | None, target: str, **kwargs: Any) -> Any:
    """Call a stage function in the pool when there is one, else in this process."""
    if pool is None:
        return _call(target, kwargs)
    return pool.call(target, **kwargs)
