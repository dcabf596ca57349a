"""Names that become paths: sample ids (the folder names in raw/) and series names.

A sample id names folders and files under results/ (``results/samples/<id>/``,
``results/logs/<stage>/<id>.log``, ...), a series name the folder of its comparative figures
(``results/figures/<series>/``), and both are Snakemake wildcard values. So a name is
letters, digits, ``.``, ``_`` and ``-`` only: no ``/``, no ``..`` (a series ``..`` would put
its figures in results/ itself), no line breaks. Standard library only: the workflow's
discovery imports this while Snakemake parses the Snakefile.
"""

from __future__ import annotations

import re

NAME = re.compile(r"[A-Za-z0-9._-]+")

#: Longest sample id or series name. A name is part of file names under results/
#: (``<id>.log``, ``<id>.tsv``, ``.<id>.tsv.<random>`` while a file is written atomically) and
#: of the report's page names: 100 characters keep them under the 255-byte limit of a file
#: name on every common file system.
MAX_NAME_LENGTH = 100

#: Snakemake refuses a wildcard value that ends in a string repeated this many times (its
#: guard against endless recursion, ``snakemake.io.PeriodicityDetector``): such an id would
#: stop the whole run while the DAG is built.
PERIODIC_REPEATS = 20
_PERIODIC = re.compile(r"(.+?)\1{%d,}$" % (PERIODIC_REPEATS - 1))


def _shown(name: str) -> str:
    """A name for a message: shortened when long, control characters (a line break) escaped."""
    shown = name if len(name) <= 60 else f"{name[:40]}...{name[-12:]}"
    return re.sub(r"[\x00-\x1f\x7f]", lambda m: m.group(0).encode("unicode_escape").decode("ascii"), shown)


def name_problem(name: str, what: str = "sample id") -> str | None:
    """Why ``name`` cannot be a sample id (or series name, ``what``), or None if it can:
    ``'<name>' is ...`` (a message goes on from there)."""
    shown = _shown(name)
    if not name:
        return f"'' is empty: not a valid {what}"
    if not NAME.fullmatch(name):
        return f"'{shown}' is not a valid {what} (letters, digits, '.', '_', '-' only)"
    if set(name) == {"."}:
        return f"'{shown}' is not a valid {what}: '.' and '..' name folders, not samples or series"
    if len(name) > MAX_NAME_LENGTH:
        return (f"'{shown}' is {len(name)} characters long, too long for a {what} (at most {MAX_NAME_LENGTH}): "
                "the files named after it would exceed the file system's limit of 255 bytes per name")
    periodic = _PERIODIC.search(name)
    if periodic:
        unit = periodic.group(1)
        return (f"'{shown}' ends in '{unit}' repeated {len(periodic.group(0)) // len(unit)} times: Snakemake "
                f"refuses such a {what} (it takes it for an endless recursion)")
    return None


def suggest_name(name: str) -> str:
    """A valid name close to ``name`` (for a message: rename it, e.g. to ...)."""
    out = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_.")
    out = out[:MAX_NAME_LENGTH]
    while out and _PERIODIC.search(out):
        out = _PERIODIC.sub(lambda m: m.group(1) * 3, out)
    return out or "sample1"


def default_series(sample_id: str) -> str:
    """Series name when sample.yaml gives none: the part of the id before the first ``_``
    (the whole id when that part is not a name, e.g. empty or ``..``)."""
    prefix = sample_id.split("_", 1)[0]
    return prefix if name_problem(prefix, "series") is None else sample_id
