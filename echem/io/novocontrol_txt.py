"""Novocontrol WinDETA / NEISYS ASCII exports of impedance spectra.

Layout (header lines are optional; the column row is not)::

    s05751_25deg, 26.02.2025, 15:11                      title, date (DD.MM.YYYY), time
    Diameter[mm]: 1.300e+01  Thickness[mm]: 7.500e-01 ... sample geometry
    Fixed value(s) :  AC Volt  [Vrms]=7.1000e-03           quantities held constant
         Freq.[Hz]      Zs'[ohm]     Zs''[ohm]              column row, units in brackets
     1.0000000e+06   3.8055903e+03  -6.3180615e+03         tab-separated data

``Zs'``/``Zs''`` are the real and imaginary parts of the sample impedance in the
unit given in brackets (ohm here; kOhm/MOhm/GOhm are converted). WinDETA writes
Z'' with its physical sign (negative for a capacitive arc), so it is used as is;
a file whose Z'' is mostly positive is still read as written, with a warning in
``meta["warnings"]``.

Temperature: a ``Temp``/``Temperature`` entry among the fixed values, a header
line ``Temperature: 140 °C``, or a temperature column. The title line (e.g.
``s04147-140deg``) is a name typed by the user; it is kept as ``meta["title"]``
but not read as a temperature, so ``temperature_C`` stays unset when nothing
else gives it (the workflow then falls back to the file name).
"""

from __future__ import annotations

import math
import re
from datetime import datetime

import numpy as np

from echem.errors import EmptyDataError, ReaderError
from echem.io._text import column_floats, decode, guess_decimal, head_text
from echem.measurement import Measurement, canonical_frame

FORMAT = "novocontrol-windeta-txt"
VENDOR = "Novocontrol"

_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_COLUMN = re.compile(r"^(?P<name>.*?)\s*\[(?P<unit>[^\]]*)\]\s*$")
_BRACKET_ITEM = re.compile(
    rf"(?P<name>[A-Za-z][A-Za-z .()]*?)\s*\[(?P<unit>[^\]]*)\]\s*(?::|=)?\s*=?\s*(?P<value>{_NUM})"
)
_HZ = {"hz": 1.0, "khz": 1e3, "mhz": 1e6}  # Novocontrol does not use millihertz in column units


def _is_column_row(line: str) -> bool:
    first = re.split(r"\t|\s{2,}", line.strip())[0]
    return bool(re.match(r"^Freq(uency)?\.?\s*\[\s*[kKmM]?Hz\s*\]$", first))


def sniff(raw: bytes, name: str) -> bool:
    """``Fixed value(s)`` in the header, or a column row starting with WinDETA's dotted ``Freq.[Hz]``."""
    lines = [l for l in head_text(raw, 2048).lstrip("\ufeff").splitlines() if l.strip()][:8]
    for line in lines:
        if line.strip().lower().startswith("fixed value(s)"):
            return True
        first = re.split(r"\t|\s{2,}", line.strip())[0]
        if re.match(r"^Freq\.\s*\[\s*[kKmM]?Hz\s*\]$", first):
            return True
    return False


def _ohm_factor(unit: str) -> float | None:
    u = unit.strip().replace("Ω", "ohm").replace(" ", "")
    if u.lower() == "ohm":
        return 1.0
    if u in ("MOhm", "Mohm", "MegOhm"):
        return 1e6
    if u.lower() in ("kohm", "gohm", "mohm"):
        return {"kohm": 1e3, "gohm": 1e9, "mohm": 1e-3}[u.lower()]
    return None


def _roles(columns: list[str]) -> tuple[dict[str, tuple[int, float]], list[str]]:
    """Map column names like ``Zs'[ohm]`` to canonical roles with their unit factors."""
    roles: dict[str, tuple[int, float]] = {}
    ignored: list[str] = []
    for i, col in enumerate(columns):
        m = _COLUMN.match(col)
        name, unit = (m.group("name"), m.group("unit")) if m else (col, "")
        key = name.replace(" ", "").lower()
        if key.startswith("freq"):
            factor = _HZ.get(unit.strip().lower())
            if factor is not None:
                roles.setdefault("freq_Hz", (i, factor))
                continue
        elif key in ("z'", "zs'", "zp'"):
            factor = _ohm_factor(unit)
            if factor is not None:
                roles.setdefault("Z_re_ohm", (i, factor))
                continue
        elif key in ("z''", "zs''", "zp''", 'z"', 'zs"'):
            factor = _ohm_factor(unit)
            if factor is not None:
                roles.setdefault("Z_im_ohm", (i, factor))
                continue
        elif key.startswith("temp") or key == "t":
            u = unit.strip().lstrip("°").upper()
            if u in ("C", "K"):
                roles.setdefault("temperature_C", (i, -273.15 if u == "K" else 0.0))
                continue
        ignored.append(col)
    return roles, ignored


def _item_name(item: re.Match) -> str:
    """``Edge Correction On  Electrode Thickness`` -> ``Electrode Thickness`` (items are 2-space separated)."""
    return re.split(r"\s{2,}", item.group("name").strip())[-1]


def _temperature_C(value: float, unit: str) -> float:
    return value - 273.15 if unit.strip().lstrip("°").upper() == "K" else value


def _header_meta(header: list[str], meta: dict) -> None:
    for k, line in enumerate(header):
        text = line.strip().lstrip("#").strip()
        low = text.lower()
        if low.startswith("fixed value(s)"):
            for item in _BRACKET_ITEM.finditer(text.split(":", 1)[1] if ":" in text else text):
                iname = _item_name(item).lower()
                value, unit = float(item.group("value")), item.group("unit")
                if iname.startswith("ac volt") and unit.strip().lower() in ("vrms", "v"):
                    meta["ac_amplitude_V_rms" if unit.strip().lower() == "vrms" else "ac_amplitude_V"] = value
                elif iname.startswith("temp"):
                    meta["temperature_C"] = _temperature_C(value, unit)
                    meta["temperature_source"] = "file header (fixed value)"
                else:
                    meta.setdefault("fixed_values", {})[f"{_item_name(item)} [{unit}]"] = value
            continue
        t = re.match(rf"^temp(?:erature)?\.?\s*(?:\[(?P<u1>[^\]]*)\])?\s*[:=]\s*(?P<v>{_NUM})\s*(?P<u2>°?\s*[CK])?\b", low)
        if t:
            unit = (t.group("u1") or t.group("u2") or "C").replace(" ", "")
            meta["temperature_C"] = _temperature_C(float(t.group("v")), unit)
            meta["temperature_source"] = "file header"
            continue
        if "diameter" in low or "thickness" in low:
            geometry = {}
            for item in _BRACKET_ITEM.finditer(text):
                geometry[f"{_item_name(item)} [{item.group('unit')}]"] = float(item.group("value"))
            meta["cell"] = geometry
            d = geometry.get("Diameter [mm]")
            th = geometry.get("Thickness [mm]")
            if d and d > 0:
                meta["area_cm2"] = math.pi * (d / 20.0) ** 2  # diameter mm -> radius cm
                meta["area_source"] = "pi/4 * Diameter[mm]^2 from the file header"
            if d and th and d > 0 and th > 0:
                meta["geometry"] = {
                    "kind": "through-plane",
                    "thickness_cm": th / 10.0,
                    "area_cm2": meta["area_cm2"],
                }
            continue
        if k == 0 and not text.startswith("#"):
            m = re.match(r"^(?P<title>.*?),\s*(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{4})(?:,\s*(?P<H>\d{1,2}):(?P<M>\d{2}))?", text)
            if m:
                meta["title"] = m.group("title").strip()
                try:
                    meta["start_time"] = datetime(
                        int(m.group("y")), int(m.group("m")), int(m.group("d")),
                        int(m.group("H") or 0), int(m.group("M") or 0),
                    ).isoformat()
                except ValueError:
                    meta["date_as_written"] = text[m.end("title"):].strip(", ")
            else:
                meta["title"] = text


def parse(raw: bytes, name: str) -> Measurement:
    lines = [l for l in decode(raw).lstrip("\ufeff").splitlines() if l.strip()]
    start = next((i for i, l in enumerate(lines) if _is_column_row(l)), None)
    if start is None:
        raise ReaderError(f"{name}: no 'Freq.[Hz]' column row found; export the data with its column headers")
    columns = [c.strip() for c in re.split(r"\t|\s{2,}", lines[start].strip()) if c.strip()]
    roles, ignored = _roles(columns)
    missing = [r for r in ("freq_Hz", "Z_re_ohm", "Z_im_ohm") if r not in roles]
    if missing:
        raise ReaderError(
            f"{name}: columns {columns!r} do not include frequency, Z' and Z'' with units "
            "(e.g. Zs'[ohm], Zs''[ohm]); export the impedance (not permittivity or conductivity) from WinDETA"
        )
    meta: dict = {}
    _header_meta(lines[:start], meta)
    body = lines[start + 1:]
    if not body:
        raise EmptyDataError(f"{name}: Novocontrol file has a header but no data rows")
    delimiter = "\t" if "\t" in body[0] else None
    rows = [l.split(delimiter) if delimiter else l.split() for l in body]
    width = max(i for i, _ in roles.values()) + 1
    short = [k for k, r in enumerate(rows) if len(r) < width]
    if short:
        raise ReaderError(
            f"{name}: data row {short[0] + 1} has {len(rows[short[0]])} fields, expected {width}; "
            "the file may be truncated or edited"
        )
    decimal = guess_decimal(body[:50], delimiter or " ") if delimiter else "."
    data_cols: dict[str, np.ndarray] = {}
    for role, (i, factor) in roles.items():
        values = column_floats((r[i] for r in rows), decimal)
        data_cols[role] = values + factor if role == "temperature_C" else values * factor
    bad = ~np.isfinite(data_cols["freq_Hz"])
    if bad.any():
        raise ReaderError(
            f"{name}: {int(bad.sum())} data rows have no readable frequency (first: data row {int(np.argmax(bad)) + 1})"
        )
    if "temperature_C" in data_cols:
        T = data_cols["temperature_C"]
        if np.ptp(T) == 0 and "temperature_C" not in meta:
            meta["temperature_C"] = float(T[0])
            meta["temperature_source"] = "file content (temperature column)"
    if ignored:
        meta["columns_ignored"] = ignored
    zim = data_cols["Z_im_ohm"]
    if np.mean(zim > 0) > 2 / 3:
        meta.setdefault("warnings", []).append(
            f"Z'' is positive at {int(np.sum(zim > 0))} of {zim.size} points; WinDETA writes the physical sign "
            "(negative for a capacitive arc), so the values were kept as written: check the export settings"
        )
    meta["z_im_sign"] = "as written (WinDETA writes Z'' with its physical sign)"
    return Measurement(data=canonical_frame(data_cols), meta=meta)
