"""A sample's job whose worker died (or that failed outside the stage's own error handling)
must not cost the other samples their tables.

Snakemake skips every job downstream of a failed one, even with ``keep-going``; the collect
rules read every sample's stage outputs, so one failed job would leave ``results/tables/``
unwritten. So the job does not fail: :func:`run_job` runs the stage's function in a worker and,
when the worker dies (:class:`~echem.workflow.workers.WorkerDied`) or the call raises, runs the
same function again *without the sample's data* (:func:`without_data`: no files read, so nothing
that could kill a worker again), which writes every output of the stage empty, and adds an
error row that says what happened to the sample's ``errors/<stage>.csv``. Later stages of that
sample then run on empty inputs, and the collection goes on with every sample.

The next run must try such a job again (one out-of-memory kill must not leave a sample empty
for good), but its outputs exist and Snakemake touches a job's outputs when it ends, so their
dates cannot say so. A failed job therefore writes a new token to
``results/retry/<stage>/<sample>``; the stage rules have the token as a param
(:func:`retry_tokens`, read when the workflow is parsed), and Snakemake re-runs a job whose
params changed. The token stays after the retry: a job is retried once per failure.
"""

from __future__ import annotations

from typing import Any


def run_job(pool, target: str, kwargs: dict[str, Any], stage: str, sample: str, errors_path: str,
            retry_path: str) -> None:
    """``target(**kwargs)`` (``module:function``, one stage of one sample) in ``pool``; if it
    fails, the stage's outputs empty and an error row instead (then the job still succeeds), and
    a new token in ``retry_path`` (:func:`retry_tokens`: the next run does the job again)."""
    from echem.workflow.workers import WorkerDied

    try:
        pool.call(target, **kwargs)
        return
    except WorkerDied as exc:
        message = (f"{exc}, twice, while the {stage} stage analysed this sample: its {stage} results are "
                   "missing (written empty). The next run tries again; if it dies again, the sample's data "
                   "may need more memory than the machine has (split long files, run fewer jobs: --cores 1), "
                   "or report it with the sample's files")
    except Exception as exc:  # noqa: BLE001 - a failed job must not stop the collection
        message = (f"the {stage} job failed ({type(exc).__name__}: {' '.join(str(exc).split())}); its "
                   f"{stage} results are missing (written empty). Check the disk and the log; the next run "
                   "tries again")
    pool.call("echem.workflow.faults:without_data", stage_target=target, stage_kwargs=kwargs, stage=stage,
              sample_id=sample, errors_path=errors_path, message=message)
    _mark_for_retry(retry_path)


def without_data(stage_target: str, stage_kwargs: dict[str, Any], stage: str, sample_id: str,
                 errors_path: str, message: str) -> None:
    """Run a stage's function with none of the sample's files (the ingest stage lists none, the
    others see an ingest record without files): its outputs are written, empty; then the error
    row ``message`` is added to the stage's error rows and log."""
    from pathlib import Path

    from echem.workflow.workers import resolve

    kwargs = {**stage_kwargs, "files": []} if stage == "ingest" else {**stage_kwargs, "with_data": False}
    resolve(stage_target)(**kwargs)
    _add_error(errors_path, sample_id, stage, message)
    log = kwargs.get("log_path")
    if log:
        with open(Path(log), "a", encoding="utf-8") as fh:
            fh.write(f"ERROR {message}\n")


def _add_error(errors_path: str, sample: str, stage: str, message: str) -> None:
    from pathlib import Path

    import pandas as pd

    from echem.workflow.tables import frame, read_csv, write_csv

    path = Path(errors_path)
    rows = read_csv(path, "errors") if path.is_file() else frame([], "errors")
    row = frame([{"sample": sample, "file": "", "stage": stage, "error": " ".join(message.split())}], "errors")
    write_csv(pd.concat([rows, row], ignore_index=True) if len(rows) else row, path)


def _mark_for_retry(path: str) -> None:
    """A new token for :func:`retry_tokens` (the time, in ns: different for every failure)."""
    import os
    import time

    from echem.workflow.tables import atomic_write_text

    os.makedirs(os.path.dirname(path), exist_ok=True)
    atomic_write_text(path, f"{time.time_ns()}\n")


def retry_tokens(results_dir: str, stages) -> dict[str, dict[str, str]]:
    """``{stage: {sample: token}}`` of the jobs that failed in an earlier run (:func:`run_job`):
    one listing per stage, read at parse time (standard library only)."""
    import os

    tokens: dict[str, dict[str, str]] = {}
    for stage in stages:
        folder = os.path.join(results_dir, "retry", stage)
        try:
            with os.scandir(folder) as entries:
                names = [e for e in entries if e.is_file() and not e.name.startswith(".")]
        except OSError:
            continue
        for entry in names:
            try:
                with open(entry.path, encoding="utf-8") as fh:
                    tokens.setdefault(stage, {})[entry.name] = fh.read().strip()
            except OSError:
                continue
    return tokens
