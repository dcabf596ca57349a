"""Elchemea Analytical impedance files (``.i2b``).

Free text lines (metadata), then the number of points N on a line of its own, then N
lines ``frequency Z' Z''`` separated by spaces, Z'' with the physical sign (negative on a
capacitive arc; pyimpspec reads the format the same way)::

    Some metadata
    can be stored
    here in the first
    few lines

    29
    10000.0 109.00918219439028 -26.55567987651522
    ...

The point count must match the lines that follow (a cut file is refused, not read short).
Files without the ``.i2b`` extension are recognised by that layout: text lines, a count,
and exactly that many rows of three numbers to the end of the file.
"""

from __future__ import annotations

import re

import numpy as np

from echem.errors import ReaderError, UnknownFormatError
from echem.io._text import decode, is_binary, split_lines
from echem.measurement import Measurement, canonical_frame

FORMAT = "elchemea-i2b"
VENDOR = "Elchemea Analytical"

_ROW = re.compile(r"^\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?:\s+[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?){2}\s*$")


def _layout(lines: list[str]) -> tuple[int, int] | None:
    """(index of the count line, count) if the lines end with a count and that many rows."""
    body = [i for i, line in enumerate(lines) if line.strip()]
    k = len(body) - 1
    rows = 0
    while k >= 0 and _ROW.match(lines[body[k]]):
        rows += 1
        k -= 1
    if k < 0 or rows == 0 or not lines[body[k]].strip().isdigit():
        return None
    return body[k], int(lines[body[k]].strip())


def sniff(raw: bytes, name: str) -> bool:
    if len(raw) > 2_000_000 or is_binary(raw):
        return False
    if name.lower().endswith(".i2b"):
        return True
    tail = decode(raw[-400:]).strip().splitlines()
    if not tail or not _ROW.match(tail[-1]):
        return False  # the common case (a CSV, a vendor export): decided on the last line
    lines = split_lines(decode(raw))
    found = _layout(lines)
    if found is None:
        return False
    index, count = found
    rows = sum(1 for line in lines[index + 1:] if line.strip())
    # free text above the count (not a table's column row): words, no delimiters of a CSV
    above = [line for line in lines[:index] if line.strip()]
    return rows == count and count >= 3 and bool(above) and not any(
        "," in line or "\t" in line or ";" in line for line in above)


def table_start(text: str) -> int:
    found = _layout(split_lines(text))
    return found[0] if found else 0


def parse(raw: bytes, name: str) -> Measurement:
    lines = split_lines(decode(raw))
    found = _layout(lines)
    if found is None:
        raise UnknownFormatError("not an .i2b layout (text lines, the number of points, then rows of "
                                 "frequency Z' Z''); export the spectrum again or as CSV")
    index, count = found
    rows = [line.split() for line in lines[index + 1:] if line.strip()]
    if len(rows) != count:
        raise ReaderError(f"the .i2b announces {count} points but holds {len(rows)} rows: the file is cut "
                          "or edited; export it again")
    values = np.array(rows, dtype=float)
    header = [line.strip() for line in lines[:index] if line.strip()]
    meta = {
        "header_text": header,
        "columns_used": {"freq_Hz": "column 1", "Z_re_ohm": "column 2 (Z')", "Z_im_ohm": "column 3 (Z'')"},
        "z_im_sign": "as written (.i2b holds Z'' with its physical sign)",
        "technique": "EIS",
        "technique_label": "Elchemea impedance",
    }
    return Measurement(data=canonical_frame({"freq_Hz": values[:, 0], "Z_re_ohm": values[:, 1],
                                             "Z_im_ohm": values[:, 2]}), meta=meta)
