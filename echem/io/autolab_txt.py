"""Metrohm Autolab text exports: the FRA ``Z60W Data File`` and NOVA column exports.

``autolab-txt`` (FRA / Z60W, the old frequency-response software)::

    "Z60W Data File: Version 1.1"
    ""  (seven quoted comment lines)
    0,2,0,1,0.1,10000                 <- settings, kept as written
    41                                <- number of points
    "  Freq (Hz)    Ampl     Bias   Time(Sec)   Z'(a)    Z''(b)    GD   Err   Range"
    10000,0,0,0,0.0137,0.00719,0,0,0

``Z''(b)`` carries the physical sign: in the corpus file the high-frequency points are
positive (cable inductance) and the capacitive arc is negative.

``autolab-nova-txt`` (NOVA "Export ASCII"): one header row of ``Name (unit)`` columns,
separated by TAB, ``;`` or ``,``; decimal commas on European Windows. DC techniques have
``Potential applied (V)``, ``Time (s)``, ``WE(1).Current (A)``, ``WE(1).Potential (V)``,
``Scan`` (the CV cycle), ``Index``...; impedance has ``Frequency (Hz)``, ``Z' (Ω)``,
``-Z'' (Ω)`` (minus the imaginary part, so it is negated here), ``Z (Ω)``, ``-Phase (°)``.
``E_V`` is the measured ``WE(1).Potential`` when the file has it, else the applied one.
NOVA exports do not name the technique; the registry infers it.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np

from echem.errors import EmptyDataError, ReaderError
from echem.io._text import decode, guess_decimal, head_text, normalise_unit, split_line, to_float
from echem.measurement import Measurement, canonical_frame

FORMAT = "autolab-txt"
VENDOR = "Metrohm Autolab"
NOVA_FORMAT = "autolab-nova-txt"

_UNIT_SCALE = {
    "v": 1.0, "mv": 1e-3,
    "a": 1.0, "ma": 1e-3, "µa": 1e-6, "ua": 1e-6, "na": 1e-9,
    "s": 1.0, "ms": 1e-3, "min": 60.0, "h": 3600.0,
    "hz": 1.0, "khz": 1e3,
    "ohm": 1.0, "kohm": 1e3, "megaohm": 1e6, "milliohm": 1e-3,
    "°c": 1.0, "c": 1.0, "deg c": 1.0,
}


def _normalise(cell: str) -> str:
    """Lower case, one spelling for ohm and the degree sign, whatever the file's encoding."""
    s = cell.strip().strip('"').strip().lower()
    for ohm in ("ω", "\u2126", "î©", "ohms", "ohm"):
        s = s.replace(ohm, "ohm")
    return s.replace("Â°", "°").replace("â°", "°")


def _split_name(cell: str) -> tuple[str, str]:
    """'WE(1).Current (A)' -> ('we(1).current', 'a'); "-Z'' (Ω)" -> ("-z''", 'ohm');
    "Z (MΩ)" -> ('z', 'megaohm'): the unit keeps its prefix's case (:func:`normalise_unit`)."""
    raw = cell.strip().strip('"').strip()
    m = re.fullmatch(r"(.*?)\s*\(([^()]*)\)", raw)
    return (_normalise(m[1]).strip(), normalise_unit(m[2])) if m else (_normalise(raw), "")


def _is_z60w(text: str) -> bool:
    return text.lstrip("\ufeff").lstrip('"').startswith("Z60W Data File")


def _delimiter(line: str) -> str:
    counts = {d: line.count(d) for d in ("\t", ";", ",")}
    return max(counts, key=lambda d: counts[d])


def _nova_names(line: str) -> list[str] | None:
    names = [_split_name(c)[0] for c in split_line(line, _delimiter(line))]
    has_we = any(n.startswith("we(1).") for n in names)
    has_applied = "potential applied" in names
    has_nova_z = "frequency" in names and "-z''" in names  # a bare Z'' is left to the generic reader
    return names if (has_we or has_applied or has_nova_z) else None


def sniff(raw: bytes, name: str) -> bool:
    """``Z60W Data File`` first line, or a NOVA header row (``WE(1).``, ``Potential applied``,
    ``Frequency`` with ``-Z''``)."""
    text = head_text(raw, 2048).lstrip("\ufeff")
    if _is_z60w(text):
        return True
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    return _nova_names(first) is not None


def parse(raw: bytes, name: str) -> Measurement:
    text = decode(raw).lstrip("\ufeff")
    lines = text.splitlines()
    if _is_z60w(text):
        return _parse_z60w(lines)
    return _parse_nova(lines)


def _parse_z60w(lines: list[str]) -> Measurement:
    header_at = next((i for i, ln in enumerate(lines) if "Freq" in ln and "Z'" in ln), None)
    if header_at is None:
        raise EmptyDataError(
            "Z60W file has no column line ('Freq (Hz) ... Z'(a) Z''(b)'); the file is cut "
            "inside its header. Export it again from the FRA software"
        )
    names = re.findall(r"Freq \(Hz\)|Time\s*\(Sec\)|\S+", lines[header_at].strip().strip('"'))
    index = {n.lower().replace(" ", ""): k for k, n in enumerate(names)}
    try:
        k_f, k_re, k_im = index["freq(hz)"], index["z'(a)"], index["z''(b)"]
    except KeyError as exc:
        raise ReaderError(f"Z60W column line lacks {exc}; expected Freq (Hz), Z'(a), Z''(b)") from exc
    declared = None
    for ln in reversed(lines[:header_at]):
        if ln.strip():
            declared = int(ln.strip()) if ln.strip().isdigit() else None
            break
    settings = next((ln.strip() for ln in lines[1:header_at] if re.fullmatch(r"[\d.,eE+-]+", ln.strip())
                     and "," in ln), None)

    rows = []
    for ln in lines[header_at + 1 :]:
        cells = ln.split(",")
        if not ln.strip():
            continue
        if len(cells) < len(names) or any(math.isnan(to_float(c)) for c in cells[: len(names)]):
            break
        rows.append([to_float(c) for c in cells[: len(names)]])
    if not rows:
        raise EmptyDataError("Z60W file has its column line but no data rows; export it again")
    table = np.array(rows, dtype=float)
    columns: dict[str, Any] = {
        "freq_Hz": table[:, k_f],
        "Z_re_ohm": table[:, k_re],
        "Z_im_ohm": table[:, k_im],
    }
    k_t = index.get("time(sec)")
    if k_t is not None and np.any(table[:, k_t] != 0):
        columns["time_s"] = table[:, k_t]
    meta: dict[str, Any] = {"format": FORMAT, "technique": "EIS", "version_line": lines[0].strip().strip('"')}
    if settings:
        meta["z60w_settings"] = settings
    if declared is not None:
        meta["points_declared"] = declared
        if len(rows) < declared:
            meta["truncated"] = True
            meta["aborted"] = True
            meta["warnings"] = [f"{len(rows)} of the {declared} points announced"]
    k_bias = index.get("bias")
    if k_bias is not None and np.any(table[:, k_bias] != 0):
        columns["E_V"] = table[:, k_bias]
    return Measurement(data=canonical_frame(columns), meta=meta)


# NOVA column name (normalised, without unit) -> canonical column; first match wins.
_NOVA_COLUMNS = (
    ("time", "time_s"),
    ("corrected time", "time_s"),
    ("we(1).potential", "E_V"),
    ("potential", "E_V"),
    ("potential applied", "E_V"),
    ("we(1).current", "I_A"),
    ("current", "I_A"),
    ("scan", "cycle"),
    ("frequency", "freq_Hz"),
    ("z'", "Z_re_ohm"),
    ("-z''", "Z_im_ohm"),
    ("z''", "Z_im_ohm"),
    ("temperature", "temperature_C"),
)


def _parse_nova(lines: list[str]) -> Measurement:
    header_at = next((i for i, ln in enumerate(lines) if ln.strip()), None)
    if header_at is None:
        raise EmptyDataError("NOVA export is empty; export it again from NOVA")
    delimiter = _delimiter(lines[header_at])
    cells = split_line(lines[header_at], delimiter)
    parsed = [_split_name(c) for c in cells]
    data_lines = [ln for ln in lines[header_at + 1 :] if ln.strip()]
    decimal = guess_decimal(data_lines[:200], delimiter)

    rows = []
    for ln in data_lines:
        row = split_line(ln, delimiter)
        if len(row) < len(cells):
            break  # cut line
        rows.append(row)
    if not rows:
        raise EmptyDataError("NOVA export has a header row but no data rows; export it again")

    meta: dict[str, Any] = {"format": NOVA_FORMAT, "columns_as_written": [c for c in cells if c]}
    columns: dict[str, np.ndarray] = {}
    used: dict[str, str] = {}
    for wanted, canon in _NOVA_COLUMNS:
        if canon in columns:
            continue
        for k, (quantity, unit) in enumerate(parsed):
            if quantity != wanted:
                continue
            values = np.array([to_float(r[k], decimal) for r in rows], dtype=float)
            if canon == "cycle":
                if not np.all(np.isfinite(values)):
                    raise ReaderError("NOVA 'Scan' column has empty or non-numeric cells; export it again")
                columns[canon] = values.astype(np.int64)
            else:
                scale = _UNIT_SCALE.get(unit)
                if scale is None:
                    raise ReaderError(
                        f"NOVA column {cells[k]!r} has a unit this reader does not know; "
                        "export with SI units (V, A, s, Hz, Ω)"
                    )
                columns[canon] = values * (-scale if quantity.startswith("-") else scale)
            used[canon] = cells[k]
            break
    if not columns:
        raise ReaderError("NOVA export has none of the expected columns (Potential, Current, Frequency, Z')")
    if "E_V" in used:
        meta["E_column"] = used["E_V"]
    if "Z_im_ohm" in used:
        meta["Z_im_column"] = used["Z_im_ohm"]
    if decimal == ",":
        meta["decimal_comma"] = True
    return Measurement(data=canonical_frame(columns), meta=meta)
