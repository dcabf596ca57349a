"""Bookkeeping of one per-sample job: the log, error rows, JSON-safe values."""

from __future__ import annotations

import datetime as _dt
import json
import traceback
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from echem.errors import EchemError
from echem.jsonsafe import jsonable
from echem.workflow.tables import atomic_write_text, frame, write_csv


def dump_json(obj: Any) -> str:
    return json.dumps(jsonable(obj), indent=2, ensure_ascii=False, allow_nan=False)


class StageRun:
    """Collects the log lines and error rows of one stage for one sample.

    Use as a context manager; on exit the log and the per-sample errors CSV are
    written (atomically), whatever happened inside.
    """

    def __init__(self, stage: str, sample: str, log_path: str | Path | None, errors_path: str | Path | None):
        self.stage = stage
        self.sample = sample
        self.log_path = Path(log_path) if log_path else None
        self.errors_path = Path(errors_path) if errors_path else None
        self.lines: list[str] = []
        self.errors: list[dict[str, str]] = []
        self.warnings: list[dict[str, str]] = []

    def __enter__(self) -> "StageRun":
        self.info(f"{self.stage} for sample {self.sample}")
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc is not None:
            self._record_exception("", exc)
        self.close()
        return True  # the error is recorded; the workflow goes on with other samples

    def info(self, message: str) -> None:
        self.lines.append(f"{_dt.datetime.now().isoformat(timespec='seconds')} INFO {message}")

    def warning(self, message: str, file: str = "", flag: str = "") -> None:
        """A result was produced but deserves a look (no iR correction, KK failed...):
        logged, and a row in results/tables/warnings.csv (``flag``: the code the row's
        number carries in its table, see :mod:`echem.flags`)."""
        message = " ".join(str(message).split())
        self.warnings.append({"sample": self.sample, "file": file, "stage": self.stage, "warning": message,
                              "flag": flag})
        self.lines.append(f"{_dt.datetime.now().isoformat(timespec='seconds')} WARNING "
                          f"{f'[{flag}] ' if flag else ''}{message}")

    def flagged(self, flags, file: str = "") -> str:
        """Write one warning per :class:`~echem.flags.Flag` and return the table's ``flags`` cell."""
        from echem.flags import codes

        seen = set()
        for f in flags:
            if (f.code, f.message) not in seen:
                seen.add((f.code, f.message))
                self.warning(f"{file + ': ' if file else ''}{f.message}", file=file, flag=f.code)
        return codes(flags)

    def error(self, file: str, message: str) -> None:
        """Record one actionable error row (sample, file, stage, error) and log it."""
        message = " ".join(str(message).split())
        self.errors.append({"sample": self.sample, "file": file, "stage": self.stage, "error": message})
        self.lines.append(f"{_dt.datetime.now().isoformat(timespec='seconds')} ERROR {file or '-'}: {message}")

    def _record_exception(self, file: str, exc: BaseException) -> None:
        if isinstance(exc, EchemError):
            self.error(file, str(exc))
        else:
            self.error(file, f"internal error in the {self.stage} stage ({type(exc).__name__}: {exc}); "
                             "the traceback is in the log; please report it with the file")
            self.lines.append("".join(traceback.format_exception(exc)))

    @contextmanager
    def guard(self, file: str = ""):
        """Run a block; any exception becomes an error row for ``file`` and the job goes on."""
        try:
            yield
        except Exception as exc:  # noqa: BLE001 - every failure must become a row, not a crash
            self._record_exception(file, exc)

    def close(self) -> None:
        if self.errors_path is not None:
            write_csv(frame(self.errors, "errors"), self.errors_path)
            warnings_path = self.errors_path.parent.parent / "warnings" / self.errors_path.name
            write_csv(frame(self.warnings, "warnings"), warnings_path)
        if self.log_path is not None:
            atomic_write_text(self.log_path, "\n".join(self.lines) + "\n")
