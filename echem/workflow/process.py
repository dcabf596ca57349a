"""The Snakemake process's garbage collector, around the DAG of thousands of jobs.

Snakemake holds every job of the DAG (at N = 1000: 7,400 jobs, about 700,000 Python
objects) until its process ends. Python's cyclic garbage collector traverses all of them
in each full collection, and again, several times, while the interpreter shuts down:
1.5-2 s of a run with nothing to do. None of those objects becomes garbage before the
end, so the workflow moves them out of the collector's sight (:func:`gc.freeze`, a public
Python API) twice: the objects of the imports once the workflow is parsed, and everything
once the process exits (an ``atexit`` handler; the memory goes back to the system with
the process). Reference counting still frees what is dropped meanwhile.
"""

from __future__ import annotations

import atexit
import gc


def freeze_at_exit() -> None:
    """Leave the objects alive at exit out of the shutdown's collections (``atexit`` runs the
    handlers registered later first: Snakemake's own, then this one, then logging's flush)."""
    atexit.register(gc.freeze)


def freeze_now() -> None:
    """Leave every object alive now (the imports, the parsed workflow) out of later full
    collections."""
    gc.freeze()
