"""The warm worker pool under faults: a dead worker costs only its own job, the pool restarts,
workers die with the process that owns them, and a job whose worker dies writes its outputs
empty with an error row (echem.workflow.faults) instead of failing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pandas as pd
import pytest

from echem.workflow.faults import retry_tokens, run_job
from echem.workflow.workers import WorkerDied, WorkerPool, exit_reason

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="forkserver workers and /proc: Linux")


def _suicide(path: str) -> None:
    """A job that kills its worker (as the out-of-memory killer would), once per marker file."""
    if os.path.exists(path):
        os.remove(path)
        os.kill(os.getpid(), signal.SIGKILL)


@pytest.fixture()
def pool():
    p = WorkerPool(2)
    yield p
    p.shutdown()


def test_a_worker_killed_mid_job_costs_only_that_job(pool, tmp_path):
    assert pool.call("posixpath:basename", p="/x/y.txt") == "y.txt"
    marker = tmp_path / "die"
    marker.write_text("")
    # the first attempt kills the worker; the retry, alone, finds no marker and returns
    assert pool.call("test_workers:_suicide", path=str(marker)) is None
    assert pool.call("posixpath:basename", p="/a/b") == "b"       # a fresh pool


def test_a_job_that_always_kills_its_worker_raises_worker_died(pool):
    with pytest.raises(WorkerDied, match=r"the worker process died \(killed by SIGKILL: out of memory\?\)"):
        pool.call("test_workers:_always_die")
    assert pool.call("posixpath:basename", p="/a/c") == "c"


def _always_die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _exit_hard() -> None:
    os._exit(3)


def _system_exit() -> None:
    raise SystemExit(2)


def test_exit_and_system_exit_are_errors_not_a_hung_thread(pool):
    with pytest.raises(WorkerDied, match=r"died \(it exited with status 3\)"):
        pool.call("test_workers:_exit_hard")
    with pytest.raises(RuntimeError, match="SystemExit raised in test_workers:_system_exit"):
        pool.call("test_workers:_system_exit")


def test_exit_reason():
    assert exit_reason(-9) == "the worker process died (killed by SIGKILL: out of memory?)"
    assert exit_reason(-15) == "the worker process died (killed by SIGTERM)"
    assert exit_reason(1) == "the worker process died (it exited with status 1)"


def _write_outputs(errors_path: str, table: str, log_path: str, crash: bool = True,
                   with_data: bool = True) -> None:
    """A stand-in stage: writes its table (empty without data), dies when it has data."""
    from echem.workflow.tables import frame, write_csv

    if with_data and crash:
        os.kill(os.getpid(), signal.SIGKILL)
    write_csv(frame([], "eis"), table)
    write_csv(frame([], "errors"), errors_path)
    with open(log_path, "w") as fh:
        fh.write("stage ran without data\n")


def test_run_job_writes_empty_outputs_and_an_error_row_when_the_worker_dies(pool, tmp_path):
    errors, table, log = tmp_path / "errors" / "eis.csv", tmp_path / "eis.csv", tmp_path / "eis.log"
    errors.parent.mkdir()
    run_job(pool, "test_workers:_write_outputs",
            {"errors_path": str(errors), "table": str(table), "log_path": str(log)}, "eis", "S1", str(errors),
            str(tmp_path / "retry" / "eis" / "S1"))
    tokens = retry_tokens(str(tmp_path), ["ingest", "eis"])
    assert list(tokens) == ["eis"] and list(tokens["eis"]) == ["S1"]   # the next run does the job again
    run_job(pool, "test_workers:_write_outputs",
            {"errors_path": str(errors), "table": str(table), "log_path": str(log)}, "eis", "S1", str(errors),
            str(tmp_path / "retry" / "eis" / "S1"))
    assert retry_tokens(str(tmp_path), ["eis"])["eis"]["S1"] != tokens["eis"]["S1"]   # a new failure, a new token
    assert list(pd.read_csv(table).columns)[:2] == ["sample", "file"]
    rows = pd.read_csv(errors, dtype=str).fillna("")
    assert len(rows) == 1
    row = rows.iloc[0]
    assert (row["sample"], row["file"], row["stage"]) == ("S1", "", "eis")
    assert row["error"].startswith("the worker process died (killed by SIGKILL: out of memory?), "
                                   "twice, while the eis stage analysed this sample")
    assert "stage ran without data" in log.read_text() and "ERROR the worker process died (killed" in log.read_text()


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except FileNotFoundError:
        return False


def _session(sid: int) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as fh:
                    fields = fh.read().rsplit(b")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == sid and fields[0] != b"Z":
                pids.append(int(entry))
    return pids


def test_workers_die_with_the_process_that_owns_the_pool(tmp_path):
    """kill -9 of the owner (Snakemake) leaves no worker and no forkserver behind."""
    script = tmp_path / "owner.py"
    script.write_text(textwrap.dedent("""
        import time
        from echem.workflow.workers import WorkerPool

        if __name__ == "__main__":
            pool = WorkerPool(2)
            pool.warm()
            pool.call("posixpath:basename", p="/x/y")
            print("ready", flush=True)
            time.sleep(600)
    """))
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        others = [p for p in _session(proc.pid) if p != proc.pid]
        assert len(others) >= 3, others        # forkserver, resource tracker, two workers
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        end = time.monotonic() + 10
        while _session(proc.pid) and time.monotonic() < end:
            time.sleep(0.2)
        assert _session(proc.pid) == [], "processes of the killed owner are still running"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        for pid in _session(proc.pid):
            os.kill(pid, signal.SIGKILL)
