"""Nordic Electrochemistry EC4 DAQ text files.

Layout (TAB separated, CRLF)::

    EC4 File used by Nordic Electrochemistry Aps
    FileVersion:    1.0
    SetupInfo
    ----------------------------------------------------
    EC_Tech         CV                 <- technique
    Start           1.100 V
    V1              1.100 V            <- vertices
    V2              0.100 V
    Rate            0.005 V            <- scan rate; written with unit "V" but it is V/s
    Nr of Sweeps    0.50
    dateTime        2023-07-12 18:51:58
    Temp_0          298.15 K
    Ref.Electrode   SHE
    Electrode.Area  2.00E-5 m^2
    Convection.Speed 400.0 /min
    ...
    EC Data
    ----------------------------------------------------
    Channel Names   Time; E; i
    Samples         999; 999; 999
    ----------------------------------------------------
    Time (s)  E (V)  i (A)
    0.00000E+0  1.09926  1.29164E-5

Setup keys repeat further down the header; the first occurrence is used. ``R.solution``
and ``IR.compensation`` of -1 mean "not set" and are not reported.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np

from echem.errors import EmptyDataError, ReaderError
from echem.io._text import decode, guess_decimal, head_text, technique_from_label, to_float
from echem.io.chi_txt import sweep_segments
from echem.measurement import Measurement, canonical_frame

FORMAT = "nordic-ec4-txt"
VENDOR = "Nordic Electrochemistry"

_COLUMN_UNITS = {
    "time": ("time_s", {"s": 1.0, "ms": 1e-3, "min": 60.0}),
    "t": ("time_s", {"s": 1.0, "ms": 1e-3, "min": 60.0}),
    "e": ("E_V", {"v": 1.0, "mv": 1e-3}),
    "u": ("E_V", {"v": 1.0, "mv": 1e-3}),
    "i": ("I_A", {"a": 1.0, "ma": 1e-3, "ua": 1e-6, "µa": 1e-6, "na": 1e-9}),
    "freq": ("freq_Hz", {"hz": 1.0}),
    "z_re": ("Z_re_ohm", {"ohm": 1.0}),
    "z_im": ("Z_im_ohm", {"ohm": 1.0}),
}


def sniff(raw: bytes, name: str) -> bool:
    """First line ``EC4 File used by Nordic Electrochemistry``."""
    first = head_text(raw, 256).lstrip("\ufeff").splitlines()
    return bool(first) and first[0].startswith("EC4 File")


def _value(text: str) -> tuple[float, str]:
    """'2.00E-5 m^2' -> (2e-5, 'm^2'); 'SHE' -> (nan, 'SHE')."""
    m = re.fullmatch(r"\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*(.*?)\s*", text)
    if not m:
        return float("nan"), text.strip()
    return float(m[1]), m[2]


def parse(raw: bytes, name: str) -> Measurement:
    lines = decode(raw).lstrip("\ufeff").splitlines()
    setup: dict[str, str] = {}
    header_at = None
    for i, line in enumerate(lines[1:], start=1):
        cells = line.split("\t")
        if (len(cells) >= 2 and all(re.fullmatch(r".+\(.+\)", c.strip()) for c in cells if c.strip())
                and i + 1 <= len(lines)):
            header_at = i
            break
        if len(cells) >= 2:
            setup.setdefault(cells[0].strip().rstrip(":"), cells[1].strip())
    if header_at is None:
        raise EmptyDataError(
            "EC4 file has no data column line ('Time (s)  E (V)  i (A)'); the file is cut "
            "inside its header. Export it again from EC4 DAQ"
        )

    names = []
    for cell in lines[header_at].split("\t"):
        m = re.fullmatch(r"\s*(.+?)\s*\((.+)\)\s*", cell)
        names.append((m[1].lower(), m[2].lower()) if m else (cell.strip().lower(), ""))
    data_lines = [ln for ln in lines[header_at + 1 :] if ln.strip()]
    decimal = guess_decimal(data_lines[:200], "\t")
    rows = []
    for ln in data_lines:
        cells = ln.split("\t")
        values = [to_float(c, decimal) for c in cells[: len(names)]]
        if len(cells) < len(names) or any(math.isnan(v) for v in values):
            break  # cut line or trailer
        rows.append(values)
    if not rows:
        raise EmptyDataError("EC4 file has its column line but no data rows; the run may have been aborted")
    table = np.array(rows, dtype=float)

    columns: dict[str, Any] = {}
    for k, (quantity, unit) in enumerate(names):
        target = _COLUMN_UNITS.get(quantity)
        if target is None or target[0] in columns:
            continue
        canon, scales = target
        if unit not in scales:
            raise ReaderError(f"EC4 column {quantity} ({unit}): unit not understood; expected SI units")
        columns[canon] = table[:, k] * scales[unit]

    meta: dict[str, Any] = {}
    tech = setup.get("EC_Tech")
    if tech:
        meta["technique_label"] = tech
        technique = technique_from_label(tech)
        if technique:
            meta["technique"] = technique
    _number(setup, "Rate", meta, "scan_rate_V_s", {"v": 1.0, "v/s": 1.0, "mv/s": 1e-3})
    _number(setup, "Start", meta, "E_start_V", {"v": 1.0})
    _number(setup, "V1", meta, "E_vertex1_V", {"v": 1.0})
    _number(setup, "V2", meta, "E_vertex2_V", {"v": 1.0})
    _number(setup, "Nr of Sweeps", meta, "sweeps", {"": 1.0})
    _number(setup, "Electrode.Area", meta, "area_cm2", {"m^2": 1e4, "m2": 1e4, "cm^2": 1.0, "cm2": 1.0},
            positive=True)
    _number(setup, "Temp_0", meta, "temperature_C", {"k": None, "c": 1.0, "°c": 1.0})
    _number(setup, "Convection.Speed", meta, "rotation_rpm", {"/min": 1.0, "rpm": 1.0})
    _number(setup, "R.solution", meta, "solution_resistance_ohm", {"ohm": 1.0}, positive=True)
    _number(setup, "IR.compensation", meta, "instrument_ir_compensation_ohm", {"ohm": 1.0}, positive=True)
    ref = setup.get("Ref.Electrode")
    if ref:
        meta["reference_electrode"] = ref
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})\s+(\d{2}):(\d{2}):(\d{2})", setup.get("dateTime", "").strip())
    if m:
        meta["start_time"] = f"{m[1]}-{m[2]}-{m[3]}T{m[4]}:{m[5]}:{m[6]}"
    for key, meta_key in (("Inst.Potentiostat", "instrument"), ("Current Range", "current_range"),
                          ("Control Mode", "control_mode"), ("Name", "run_name")):
        if setup.get(key):
            meta[meta_key] = setup[key]
    if setup.get("Application.Name"):
        meta["software"] = f"{setup['Application.Name']} {setup.get('Application.Version', '')}".strip()
    samples = re.findall(r"\d+", setup.get("Samples", ""))
    if samples:
        meta["points_declared"] = int(samples[0])
        if len(rows) < int(samples[0]):
            meta["truncated"] = meta["aborted"] = True
            meta.setdefault("warnings", []).append(f"{len(rows)} of the {samples[0]} samples announced")

    if meta.get("technique") == "CV" and "E_V" in columns:
        columns["cycle"] = sweep_segments(columns["E_V"]) // 2 + 1
    return Measurement(data=canonical_frame(columns), meta=meta)


def _number(setup: dict[str, str], key: str, meta: dict[str, Any], meta_key: str,
            units: dict[str, float | None], positive: bool = False) -> None:
    """Put the setup value ``key`` into ``meta[meta_key]`` in SI-ish units (K -> deg C)."""
    if key not in setup:
        return
    value, unit = _value(setup[key])
    unit = unit.lower()
    if math.isnan(value) or (positive and value <= 0):
        return
    if unit not in units:
        meta.setdefault("warnings", []).append(f"setup {key} = {setup[key]!r}: unit not understood, not used")
        return
    factor = units[unit]
    meta[meta_key] = round(value - 273.15, 9) if factor is None else value * factor
