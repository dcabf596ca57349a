"""Audit records: one JSON per fit, enough to trace any number back to its file.

Every record holds the stage, sample and file, the input's sha256, the settings and
metadata used (with where each came from), the method's own record (window, initial
guess, bounds, criterion...), the result with standard errors, and package versions.
"""

from __future__ import annotations

import datetime as _dt
import functools
import re
from pathlib import Path
from typing import Any

PACKAGES = ("echem", "numpy", "scipy", "pandas", "lmfit", "impedance", "matplotlib", "snakemake")


@functools.lru_cache(maxsize=1)
def versions() -> dict[str, str | None]:
    """Installed versions of the packages a result depends on."""
    from importlib.metadata import PackageNotFoundError, version

    out: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out


def record(stage: str, sample: str, file: str | None, sha256: str | list[str] | None,
           settings: dict[str, Any], metadata: dict[str, Any] | None, method: dict[str, Any],
           result: dict[str, Any]) -> dict[str, Any]:
    """Assemble one audit record (a plain dict; see module docstring)."""
    return {
        "stage": stage,
        "sample": sample,
        "file": file,
        "input_sha256": sha256,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "settings": settings,
        "metadata": metadata or {},
        "method": method,
        "result": result,
        "versions": versions(),
    }


def safe_name(name: str) -> str:
    """A file-system-safe form of a file name, unique for every name.

    Characters outside ``[A-Za-z0-9._-]`` become ``_``; when that changed the name, a short
    hash of the original is appended, so that ``eis 1.DTA`` and ``eis_1.DTA`` (both
    ``eis_1.DTA`` after cleaning) keep records and figures of their own. A name longer than
    100 characters is cut there (with the hash): records and figures named after it, with
    their prefixes and suffixes, stay under the file system's 255 bytes per name.
    """
    import hashlib

    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "file"
    if safe != name or len(safe) > 100:
        safe = f"{safe[:100]}-{hashlib.sha256(name.encode('utf-8', 'surrogateescape')).hexdigest()[:6]}"
    return safe


def audit_name(stage: str, file: str | None, suffix: str = "") -> str:
    """File name of an audit record: ``<stage>__<safe file name><suffix>.json`` (:func:`safe_name`)."""
    return f"{stage}__{safe_name(file) if file else 'sample'}{suffix}.json"


def write(directory: str | Path, name: str, rec: dict[str, Any]) -> Path:
    """Write a record atomically as JSON; returns its path."""
    from echem.workflow.run import dump_json
    from echem.workflow.tables import atomic_write_text

    path = Path(directory) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, dump_json(rec))
    return path
