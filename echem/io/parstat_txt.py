"""Princeton Applied Research Parstat text exports (PowerSine/ZSimpWin-style table).

One tab-separated table, header on the first line::

    Potential (V)  Current (A)  Elapsed Time (s)  Frequency (Hz)  Zre (ohms)  Zim (ohms)  |Vac| (V)  |Iac| (A)

A file may hold a DC part (rows with ``Frequency (Hz)`` = 0: potential and current
against time, e.g. the conditioning before the sweep) followed by the impedance
sweep. impedance.py's ``readParstat`` keeps only the rows with a non-zero
frequency; so does this reader: the result is the EIS spectrum (with the DC
potential, current and time of each impedance point), and ``meta["dc_part"]``
describes the rows that were dropped. A file with no impedance rows at all is
returned as its DC part (potential, current, time), with no impedance columns.

``Zim (ohms)`` is written with its physical sign (negative for a capacitive arc)
and used as is.
"""

from __future__ import annotations

import re

import numpy as np

from echem.errors import EmptyDataError, ReaderError
from echem.io._text import column_floats, decode, guess_decimal, head_text
from echem.measurement import Measurement, canonical_frame

FORMAT = "parstat-txt"
VENDOR = "Princeton Applied Research"

_ROLES = {
    "E_V": re.compile(r"^potential\s*\(v\)$", re.I),
    "I_A": re.compile(r"^current\s*\(a\)$", re.I),
    "time_s": re.compile(r"^(elapsed\s*)?time\s*\(s\)$", re.I),
    "freq_Hz": re.compile(r"^frequency\s*\(hz\)$", re.I),
    "Z_re_ohm": re.compile(r"^zre\s*\(ohms?\)$", re.I),
    "Z_im_ohm": re.compile(r"^zim\s*\(ohms?\)$", re.I),
}


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line
    return ""


def sniff(raw: bytes, name: str) -> bool:
    """The first line names ``Frequency (Hz)``, ``Zre (ohms)`` and ``Zim (ohms)``, tab-separated."""
    first = _first_line(head_text(raw, 1024).lstrip("\ufeff"))
    if "\t" not in first:
        return False
    cells = {c.strip().lower() for c in first.split("\t")}
    return {"frequency (hz)", "zre (ohms)", "zim (ohms)"} <= cells


def _range(values: np.ndarray) -> list[float] | None:
    finite = values[np.isfinite(values)]
    return [float(finite.min()), float(finite.max())] if finite.size else None


def parse(raw: bytes, name: str) -> Measurement:
    lines = [l for l in decode(raw).lstrip("\ufeff").splitlines() if l.strip()]
    if not lines:
        raise EmptyDataError(f"{name}: the file is empty")
    header = [c.strip() for c in lines[0].split("\t")]
    index: dict[str, int] = {}
    for i, col in enumerate(header):
        for role, pattern in _ROLES.items():
            if role not in index and pattern.match(col):
                index[role] = i
    missing = [r for r in ("freq_Hz", "Z_re_ohm", "Z_im_ohm") if r not in index]
    if missing:
        raise ReaderError(f"{name}: Parstat header {header!r} lacks {missing}; re-export the impedance table")
    rows = [l.split("\t") for l in lines[1:]]
    if not rows:
        raise EmptyDataError(f"{name}: Parstat file has a header but no data rows")
    width = max(index.values()) + 1
    short = [k for k, r in enumerate(rows) if len(r) < width]
    if short:
        raise ReaderError(
            f"{name}: data row {short[0] + 2} has {len(rows[short[0]])} fields, expected {width}; "
            "the file may be truncated or edited"
        )
    decimal = guess_decimal(lines[1:50], "\t")
    columns = {role: column_floats((r[i] for r in rows), decimal) for role, i in index.items()}

    freq = columns["freq_Hz"]
    ac = freq != 0
    meta: dict = {"z_im_sign": "as written (Parstat writes Zim with its physical sign)"}
    if decimal == ",":
        meta["decimal"] = ","
    if ac.any():
        dc = ~ac
        if dc.any():
            part = {"rows": int(dc.sum())}
            for role, key in (("time_s", "time_s"), ("E_V", "E_V"), ("I_A", "I_A")):
                if role in columns:
                    part[f"{key}_range"] = _range(columns[role][dc])
            meta["dc_part"] = part
            meta["dropped"] = (
                f"{int(dc.sum())} rows with Frequency (Hz) = 0 (DC potential/current against time, "
                "not part of the impedance spectrum) were dropped, as impedance.py's readParstat does"
            )
        keep = {role: values[ac] for role, values in columns.items()}
    else:
        # No impedance point: the file is a DC record only.
        keep = {role: values for role, values in columns.items() if role in ("time_s", "E_V", "I_A")}
        meta["dropped"] = "no impedance rows (all frequencies are 0); returned the DC potential/current record"
    data = canonical_frame(keep)
    return Measurement(data=data, meta=meta)
