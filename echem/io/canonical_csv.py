"""Write a :class:`Measurement` as the project's canonical CSV.

Layout::

    # echem-canonical-csv 1
    # technique: EIS
    # vendor: Scribner ZPlot/ZView
    # area_cm2: 1.0
    # segments: [{"segment": 1, "rows": 61}]
    freq_Hz,Z_re_ohm,Z_im_ohm
    300000.0,147.77,-11.335

Each meta entry is one ``# key: value`` line. The value is JSON, except that a
string is written bare when reading it back as JSON would not give the same
string (``EIS`` rather than ``"EIS"``); a string that would (``"1.5"``,
``"true"``, or with surrounding blanks or line breaks) is written JSON-quoted,
with non-ASCII characters escaped. Tuples and sets come back as lists. The
columns are the canonical ones in canonical order; floats are written with
``repr`` (shortest text that reads back to the same double), empty cells are NaN.
:mod:`echem.io.generic_csv` reads the file back to the same data and meta.
"""

from __future__ import annotations

import csv
import json
import math
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np

from echem.io.generic_csv import CANONICAL_MARKER
from echem.measurement import COLUMNS, Measurement


def _jsonable(value: Any) -> Any:
    """Make a meta value JSON-serialisable (numpy scalars/arrays, dates, paths, sets)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"meta value of type {type(value).__name__} cannot be written as JSON: {value!r}")


def encode_value(value: Any) -> str:
    """Text of one meta value for a ``# key: value`` line (see module docstring)."""
    if isinstance(value, str):
        # Bare only if it stays one line (str.splitlines also breaks on \x85, \u2028...)
        # and does not read back as another JSON value.
        if value == value.strip() and value.isprintable() and len(f"x{value}x".splitlines()) == 1:
            try:
                json.loads(value)
            except ValueError:
                return value
        return json.dumps(value)
    # ASCII-escaped JSON: no character of a string value can break the line.
    return json.dumps(value, default=_jsonable, allow_nan=True)


def _cell(value: Any, column: str) -> str:
    if column == "cycle":
        return str(int(value))
    x = float(value)
    return "" if math.isnan(x) else repr(x)


def write_csv(measurement: Measurement, path: str | Path) -> Path:
    """Write ``measurement`` to ``path`` as canonical CSV (UTF-8); returns the path.

    Raises ``ValueError`` for a non-canonical column or a meta key that cannot be
    written on one ``# key: value`` line (empty, containing ``:`` or a line break).
    """
    path = Path(path)
    data = measurement.data
    unknown = [c for c in data.columns if c not in COLUMNS]
    if unknown:
        raise ValueError(f"not canonical columns: {unknown}; only {', '.join(COLUMNS)} can be written")
    columns = [c for c in COLUMNS if c in data.columns]
    lines = [CANONICAL_MARKER]
    for key, value in measurement.meta.items():
        key = str(key)
        if not key or ":" in key or "\n" in key or "\r" in key or key != key.strip():
            raise ValueError(f"meta key {key!r} cannot be written as a '# key: value' line")
        lines.append(f"# {key}: {encode_value(value)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        for line in lines:
            fh.write(line + "\n")
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(columns)
        arrays = [data[c].to_numpy() for c in columns]
        for row in zip(*arrays):
            writer.writerow([_cell(v, c) for v, c in zip(row, columns)])
    return path
