"""CH Instruments text exports (``.txt`` / ``.csv`` from "Convert to Text" / "Save As").

Layout::

    July 27, 2020   17:10:46          <- start of the run
    Cyclic Voltammetry                <- technique, as CHI names it
    File: ...
    Data Source:  Experiment
    Instrument Model:  CHI1100B
    Header: / Note:
                                      <- blank
    Init E (V) = -0.5                 <- parameters, "name (unit) = value"
    Scan Rate (V/s) = 0.02
    Segment = 6
    ...
    Results: / Segment 1: ...         <- optional peak results (skipped)
    Potential/V, Current/A            <- column names "quantity/unit", comma separated
                                      <- blank
    -0.500, -5.780e-5                 <- data

Impedance (``A.C. Impedance``) has ``Freq/Hz, Z'/ohm, Z"/ohm, Z/ohm, Phase/deg``; CHI writes
``Z"`` with the physical sign (negative for a capacitive arc, same sign as ``Phase``), and the
reader checks it against the phase column when there is one.

A CV is written as one table; the sweep segments (``Segment = n`` in the header) are found
from the turning points of the potential, and two segments make one ``cycle``.

Current sign: CHI software lets the user pick the polarity convention and the text export
usually does not say which one was used. When the header states it (a line with "anodic"
or "cathodic" ... "positive"), ``meta["current_sign_convention"]`` says so; otherwise the
numbers are kept as written and the meta says the convention is not stated.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Any

import numpy as np

from echem.sweeps import sweep_segments  # noqa: F401  (re-exported for callers)

from echem.errors import EmptyDataError, ReaderError
from echem.io._text import decode, head_text, normalise_unit, technique_from_label, to_float
from echem.measurement import Measurement, canonical_frame

FORMAT = "chi-txt"
VENDOR = "CH Instruments"

_MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
    "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
}
_DATE_LINE = re.compile(
    r"^\s*([A-Z][a-z]{2,8})\.?\s+(\d{1,2}),\s*(\d{4})\s+(\d{1,2}):(\d{2}):(\d{2})\s*$"
)

#: CHI technique names the generic label matcher does not know, or gets wrong.
_CHI_TECHNIQUES = {
    "amperometric i-t curve": "CA",
    "bulk electrolysis with coulometry": "CA",
    "multi-potential steps": None,
    "impedance - time": None,  # one frequency against time, not a spectrum
    "impedance - potential": None,
    "differential pulse voltammetry": None,
    "square wave voltammetry": None,
    "normal pulse voltammetry": None,
    "chronocoulometry": None,
}

_UNIT_SCALE = {
    "v": 1.0, "mv": 1e-3,
    "a": 1.0, "ma": 1e-3, "ua": 1e-6, "µa": 1e-6, "na": 1e-9, "pa": 1e-12,
    "s": 1.0, "sec": 1.0, "ms": 1e-3, "min": 60.0,
    "hz": 1.0, "khz": 1e3,
    "ohm": 1.0, "kohm": 1e3, "megaohm": 1e6, "milliohm": 1e-3,
    "deg": 1.0, "°": 1.0, "c": 1.0, "deg c": 1.0,
}

# CHI quantity name (lower case, before the "/") -> canonical column.
_QUANTITY = {
    "potential": "E_V", "e": "E_V",
    "current": "I_A", "i": "I_A", "i1": "I_A",
    "time": "time_s", "t": "time_s",
    "freq": "freq_Hz", "frequency": "freq_Hz",
    "z'": "Z_re_ohm", "z\"": "Z_im_ohm", "z''": "Z_im_ohm",
    "-z\"": "Z_im_ohm", "-z''": "Z_im_ohm",
}

_PARAMETERS = {
    # CHI parameter name -> (meta key, factor to SI)
    "init e (v)": ("E_init_V", 1.0),
    "high e (v)": ("E_high_V", 1.0),
    "low e (v)": ("E_low_V", 1.0),
    "final e (v)": ("E_final_V", 1.0),
    "segment": ("segments_programmed", 1.0),
    "sample interval (v)": ("sample_interval_V", 1.0),
    "sample interval (s)": ("sample_interval_s", 1.0),
    "quiet time (sec)": ("quiet_time_s", 1.0),
    "run time (sec)": ("run_time_s", 1.0),
    "sensitivity (a/v)": ("sensitivity_A_V", 1.0),
    "high frequency (hz)": ("freq_high_Hz", 1.0),
    "low frequency (hz)": ("freq_low_Hz", 1.0),
    "amplitude (v)": ("ac_amplitude_V", 1.0),
    "anodic current (a)": ("I_anodic_A", 1.0),
    "cathodic current (a)": ("I_cathodic_A", 1.0),
}


def sniff(raw: bytes, name: str) -> bool:
    """CHI date line first, then a technique line, or an ``Instrument Model:  CHI`` line."""
    text = head_text(raw, 2048).lstrip("\ufeff")
    if re.search(r"^Instrument Model:\s+CHI", text, re.MULTILINE):
        return True
    lines = [ln for ln in text.splitlines()[:6]]
    return (
        len(lines) >= 3  # a file cut inside its header is still CHI (and then says so)
        and _DATE_LINE.match(lines[0]) is not None
        and bool(lines[1].strip())
        and any(ln.startswith(("File:", "Data Source:", "Instrument Model:")) for ln in lines[2:])
    )


def _start_time(line: str) -> str | None:
    m = _DATE_LINE.match(line)
    if not m:
        return None
    month = _MONTHS.get(m[1][:3].lower())
    if month is None:
        return None
    try:
        return datetime(int(m[3]), month, int(m[2]), int(m[4]), int(m[5]), int(m[6])).isoformat()
    except ValueError:
        return None


def _split_name(cell: str) -> tuple[str, str]:
    """'Potential/V' -> ('potential', 'v'); "Z'/ohm" -> ("z'", 'ohm')."""
    cell = cell.strip()
    if "/" in cell:
        quantity, unit = cell.rsplit("/", 1)
    else:
        quantity, unit = cell, ""
    return quantity.strip().lower(), normalise_unit(unit)


def _is_column_line(line: str) -> bool:
    cells = [c.strip() for c in line.split(",")]
    return len(cells) >= 2 and all("/" in c and not _is_number(c) for c in cells if c)


def _is_number(cell: str) -> bool:
    return not math.isnan(to_float(cell))


def _numbers(lines: list[str], width: int) -> np.ndarray | None:
    """The data table under the column line: one row per column, ``None`` if it has no row.

    Blank lines are skipped; the table ends at the first line with fewer than ``width``
    cells, or with text or NaN in one of its first ``width`` cells (a trailer or a cut line).
    """
    lines = [line for line in lines if line.strip()]
    if lines:
        # the common case: every line exactly ``width`` numbers, parsed in one go
        joined = "\n".join(lines)
        raw = np.frombuffer(joined.encode("utf-8", "surrogatepass"), dtype=np.uint8)
        commas = np.concatenate(([0], np.cumsum(raw == ord(","))))
        breaks = np.flatnonzero(raw == ord("\n"))
        starts = np.concatenate(([0], breaks + 1))
        ends = np.append(breaks, raw.size)
        if np.all(commas[ends] - commas[starts] == width - 1):
            try:
                values = np.array(list(map(float, joined.replace("\n", ",").split(","))), dtype=float)
            except ValueError:
                values = None
            if values is not None and not np.isnan(values).any():
                return values.reshape(len(lines), width).T.copy()
    rows: list[list[float]] = []
    for line in lines:
        cells = line.split(",")
        if len(cells) < width:
            break
        try:
            values = list(map(float, cells[:width]))  # float() strips whitespace like to_float
        except ValueError:
            values = [to_float(c) for c in cells[:width]]  # quoted numbers, or text
        if any(map(math.isnan, values)):
            break
        rows.append(values)
    return np.array(rows, dtype=float).T.copy() if rows else None


def parse(raw: bytes, name: str) -> Measurement:
    text = decode(raw).lstrip("\ufeff")
    lines = text.splitlines()
    if not lines:
        raise EmptyDataError("CHI file is empty; re-export it from the CHI software")

    start = _start_time(lines[0])
    label = lines[1].strip() if len(lines) > 1 else ""
    meta: dict[str, Any] = {"technique_label": label or None}
    chi_key = label.lower()
    technique = _CHI_TECHNIQUES[chi_key] if chi_key in _CHI_TECHNIQUES else technique_from_label(label)
    if technique:
        meta["technique"] = technique
    if start:
        meta["start_time"] = start

    params: dict[str, str] = {}
    header_at = None
    for i, line in enumerate(lines[2:], start=2):
        stripped = line.strip()
        if not stripped:
            continue
        if _is_column_line(stripped):
            header_at = i
            break
        if stripped.startswith("Instrument Model:"):
            meta["instrument"] = stripped.split(":", 1)[1].strip()
        elif stripped.startswith("File:"):
            meta["original_file"] = stripped.split(":", 1)[1].strip()
        elif stripped.startswith("Data Source:"):
            meta["data_source"] = stripped.split(":", 1)[1].strip()
        elif stripped.startswith(("Header:", "Note:")):
            key, _, value = stripped.partition(":")
            if value.strip():
                meta[key.lower()] = value.strip()
        elif "=" in stripped:
            key, _, value = stripped.partition("=")
            params[key.strip()] = value.strip()
    if header_at is None:
        raise EmptyDataError(
            f"CHI file ({label or 'unknown technique'}) has no data table (no 'Potential/V, "
            "Current/A'-style column line); the file is cut inside its header. Re-export it"
        )

    for key, value in params.items():
        target = _PARAMETERS.get(key.lower())
        number = to_float(value)
        if target and not math.isnan(number):
            meta[target[0]] = int(number) if target[0] == "segments_programmed" else number * target[1]
        elif re.match(r"scan rate", key, re.IGNORECASE) and not math.isnan(number):
            unit = re.search(r"\(([^)]*)\)", key)
            per = {"v/s": 1.0, "mv/s": 1e-3}.get(unit[1].lower() if unit else "v/s")
            if per is None:
                raise ReaderError(f"scan rate unit in {key!r} not understood; expected V/s or mV/s")
            meta["scan_rate_V_s"] = number * per
        elif re.search(r"area", key, re.IGNORECASE) and re.search(r"cm\^?2", key) and not math.isnan(number):
            meta["area_cm2"] = number
        elif re.match(r"temp", key, re.IGNORECASE) and re.search(r"\((deg\s*)?c\)", key, re.IGNORECASE):
            if not math.isnan(number):
                meta["temperature_C"] = number
    if params:
        meta["chi_parameters"] = params

    header_text = "\n".join(lines[:header_at])
    polarity = re.search(r"\b(anodic|cathodic)\b[^\n=]*\bpositive\b", header_text, re.IGNORECASE)
    if polarity:
        meta["current_sign_convention"] = f"{polarity[1].lower()} positive"
    else:
        meta["current_sign_convention"] = "not stated in the file; currents as written"

    names = [_split_name(c) for c in lines[header_at].split(",") if c.strip()]
    meta["columns_as_written"] = [c.strip() for c in lines[header_at].split(",") if c.strip()]
    table = _numbers(lines[header_at + 1 :], len(names))
    if table is None:
        raise EmptyDataError(
            f"CHI file ({label}) has its column line but no data rows; re-export it from the CHI software"
        )

    columns: dict[str, np.ndarray] = {}
    phase = None
    for k, (quantity, unit) in enumerate(names):
        values = table[k]
        if quantity == "phase":
            phase = values
            continue
        canon = _QUANTITY.get(quantity)
        if canon is None or canon in columns:
            continue
        scale = _UNIT_SCALE.get(unit)
        if scale is None:
            raise ReaderError(
                f"CHI column {quantity}/{unit} has a unit this reader does not know; "
                "export with SI units (V, A, s, Hz, ohm)"
            )
        if quantity.startswith("-"):
            scale = -scale
        columns[canon] = values * scale

    if "Z_im_ohm" in columns and phase is not None:
        zim = columns["Z_im_ohm"]
        ok = np.isfinite(zim) & np.isfinite(phase) & (np.abs(phase) > 0.5)
        if ok.any() and np.mean(np.sign(zim[ok]) == np.sign(phase[ok])) < 0.1:
            columns["Z_im_ohm"] = -zim
            meta.setdefault("warnings", []).append(
                "Z\" had the opposite sign of Phase; flipped to the physical sign"
            )

    if technique == "CV" and "E_V" in columns:
        segments = sweep_segments(columns["E_V"])
        columns["cycle"] = segments // 2 + 1
        meta["segments_found"] = int(segments.max()) + 1
        expected = meta.get("segments_programmed")
        if expected is not None and expected != meta["segments_found"]:
            meta.setdefault("warnings", []).append(
                f"{meta['segments_found']} sweep segments found, {expected} programmed"
            )
            meta["truncated"] = meta["segments_found"] < expected

    return Measurement(data=canonical_frame(columns), meta=meta)
