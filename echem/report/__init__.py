"""The HTML report of a workflow run (:func:`build`) and numbers as people read them
(:mod:`echem.report.numbers`). Importing this package is light: the builder and its
dependencies (pandas) load on the first call of :func:`build`."""

from __future__ import annotations


def build(results_dir, out_dir=None, **kwargs):
    """Write the offline HTML report of ``results_dir``; see :func:`echem.report.pages.build`."""
    from echem.report.pages import build as _build

    return _build(results_dir, out_dir, **kwargs)


def write_report(results_dir, out_dir, log_path=None) -> str:
    """The workflow's entry point: :func:`build` into ``out_dir``, one line in ``log_path``
    (pages written, seconds). Returns the path of ``index.html`` as text."""
    import time
    from pathlib import Path

    t0 = time.perf_counter()
    index = build(results_dir, out_dir)
    if log_path is not None:
        pages = sum(1 for _ in Path(index).parent.rglob("*.html"))
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        Path(log_path).write_text(f"report: {index} ({pages} pages, {time.perf_counter() - t0:.1f} s)\n",
                                  encoding="utf-8")
    return str(index)
