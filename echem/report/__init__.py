"""The HTML report of a workflow run (:func:`build`) and numbers as people read them
(:mod:`echem.report.numbers`). Importing this package is light: the builder and its
dependencies (pandas) load on the first call of :func:`build`."""

from __future__ import annotations


def build(results_dir, out_dir=None, **kwargs):
    """Write the offline HTML report of ``results_dir``; see :func:`echem.report.build.build`."""
    from echem.report.build import build as _build

    return _build(results_dir, out_dir, **kwargs)
