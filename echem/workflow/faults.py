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
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any


def run_job(pool, target: str, kwargs: dict[str, Any], stage: str, sample: str, errors_path: str) -> None:
    """``target(**kwargs)`` (``module:function``, one stage of one sample) in ``pool``; if it
    fails, the stage's outputs empty and an error row instead (then the job still succeeds)."""
    from echem.workflow.workers import WorkerDied

    try:
        pool.call(target, **kwargs)
        return
    except WorkerDied as exc:
        message = (f"{exc}, twice, while the {stage} stage analysed this sample: its {stage} results are "
                   "missing (written empty). Re-run to try again; if it dies again, the sample's data may "
                   "need more memory than the machine has (split long files, run fewer jobs: --cores 1), "
                   "or report it with the sample's files")
    except Exception as exc:  # noqa: BLE001 - a failed job must not stop the collection
        message = (f"the {stage} job failed ({type(exc).__name__}: {' '.join(str(exc).split())}); its "
                   f"{stage} results are missing (written empty). Check the disk and the log, then re-run")
    pool.call("echem.workflow.faults:without_data", stage_target=target, stage_kwargs=kwargs, stage=stage,
              sample_id=sample, errors_path=errors_path, message=message)


def without_data(stage_target: str, stage_kwargs: dict[str, Any], stage: str, sample_id: str,
                 errors_path: str, message: str) -> None:
    """Run a stage's function with none of the sample's files (the ingest stage lists none, the
    others see an ingest record without files): its outputs are written, empty; then the error
    row ``message`` is added to the stage's error rows and log."""
    from pathlib import Path

    from echem.workflow.workers import resolve

    kwargs = {**stage_kwargs, "files": []} if stage == "ingest" else stage_kwargs
    with _no_files():
        resolve(stage_target)(**kwargs)
    _add_error(errors_path, sample_id, stage, message)
    log = kwargs.get("log_path")
    if log:
        with open(Path(log), "a", encoding="utf-8") as fh:
            fh.write(f"ERROR {message}\n")


@contextmanager
def _no_files():
    from echem.workflow import ingest

    ingest.NO_FILES = True
    try:
        yield
    finally:
        ingest.NO_FILES = False


def _add_error(errors_path: str, sample: str, stage: str, message: str) -> None:
    from pathlib import Path

    import pandas as pd

    from echem.workflow.tables import frame, read_csv, write_csv

    path = Path(errors_path)
    rows = read_csv(path, "errors") if path.is_file() else frame([], "errors")
    row = frame([{"sample": sample, "file": "", "stage": stage, "error": " ".join(message.split())}], "errors")
    write_csv(pd.concat([rows, row], ignore_index=True) if len(rows) else row, path)
