"""Princeton Applied Research PowerSuite impedance text exports.

A tab-separated table whose first line names the columns::

    Frequency<TAB> Zre<TAB> Zimg
    0.1<TAB> 423929.46<TAB> -49014.063

Lines end in CR CR LF (an artefact of PowerSuite's export), which text mode
reads as blank lines; they are skipped. Units are Hz and ohm. ``Zimg`` is written
with its physical sign (negative for a capacitive arc), as impedance.py's
``readPowerSuite`` reads it. Extra columns PowerSuite can add (e.g. ``Zmod``,
``Zphz``) are ignored.
"""

from __future__ import annotations

import numpy as np

from echem.errors import EmptyDataError, ReaderError
from echem.io._text import column_floats, decode, guess_decimal, head_text
from echem.measurement import Measurement, canonical_frame

FORMAT = "powersuite-txt"
VENDOR = "Princeton Applied Research"

_ROLES = {"frequency": "freq_Hz", "zre": "Z_re_ohm", "zimg": "Z_im_ohm"}


def _lines(text: str) -> list[str]:
    return [l for l in text.lstrip("\ufeff").splitlines() if l.strip()]


def sniff(raw: bytes, name: str) -> bool:
    """First line: tab-separated ``Frequency``, ``Zre``, ``Zimg`` (PowerSuite's spelling)."""
    lines = _lines(head_text(raw, 512))
    if not lines or "\t" not in lines[0]:
        return False
    cells = [c.strip().lower() for c in lines[0].split("\t")]
    return cells[:3] == ["frequency", "zre", "zimg"]


def parse(raw: bytes, name: str) -> Measurement:
    lines = _lines(decode(raw))
    header = [c.strip().lower() for c in lines[0].split("\t")]
    index = {role: header.index(col) for col, role in _ROLES.items() if col in header}
    if len(index) < 3:
        raise ReaderError(f"{name}: PowerSuite header {lines[0]!r} lacks Frequency, Zre or Zimg")
    rows = [l.split("\t") for l in lines[1:]]
    if not rows:
        raise EmptyDataError(f"{name}: PowerSuite file has a header but no data rows")
    width = max(index.values()) + 1
    short = [k for k, r in enumerate(rows) if len(r) < width]
    if short:
        raise ReaderError(
            f"{name}: data row {short[0] + 2} has {len(rows[short[0]])} fields, expected {width}; "
            "the file may be truncated or edited"
        )
    decimal = guess_decimal(lines[1:50], "\t")
    columns = {role: column_floats((r[i] for r in rows), decimal) for role, i in index.items()}
    bad = ~np.isfinite(columns["freq_Hz"])
    if bad.any():
        raise ReaderError(
            f"{name}: {int(bad.sum())} data rows have no readable frequency (first: data row {int(np.argmax(bad)) + 1}); "
            "the file may be edited"
        )
    meta = {"z_im_sign": "as written (PowerSuite writes Zimg with its physical sign)"}
    return Measurement(data=canonical_frame(columns), meta=meta)
