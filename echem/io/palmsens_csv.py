"""PalmSens PSTrace CSV exports (UTF-16LE with BOM, CRLF, comma separated).

Voltammetry and chronometry::

    Date and time:,2020-07-10 17:21:23            <- when the file was written
    Notes:
    Medida_ECSA_scanrate0.005                     <- free text typed by the user
    Cyclic Voltammetry: CV I vs E Scan 1          <- one title cell per curve
    Date and time measurement:,2020-07-10 16:59:57
    V,µA                                          <- units only, one pair per curve
    6.89963E-001,3.98159E-001

Several curves are written side by side (``V,µA,V,µA,...``; titles ``... Scan 1,,... Scan 2``,
shorter curves padded with empty cells); each becomes a ``cycle`` (the scan number in its
title when there is one). Impedance::

    File date:,2024-10-29 08:23:17
    Measurement:,Impedance Spectroscopy
    Notes:,...
    Date and time:,2024-10-29 08:21:56
    39 freqs
    freq / Hz,neg. Phase / °,Idc / uA,Z / Ohm,Z' / Ohm,-Z'' / Ohm,Cs / F,

``-Z''`` is minus the imaginary part and is negated here. Currents in µA/mA/nA are converted
to A. The notes are the user's own text (in the corpus they still say
"scanrate0.005" for the 60 mV/s run), so no value is taken from them.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np

from echem.errors import EmptyDataError, ReaderError
from echem.io._text import column_floats, decode, head_text, normalise_unit, technique_from_label, to_float
from echem.measurement import Measurement, canonical_frame

FORMAT = "palmsens-csv"
VENDOR = "PalmSens"

_UNIT_SCALE = {
    "v": ("E_V", 1.0), "mv": ("E_V", 1e-3),
    "a": ("I_A", 1.0), "ma": ("I_A", 1e-3), "µa": ("I_A", 1e-6), "ua": ("I_A", 1e-6),
    "na": ("I_A", 1e-9), "pa": ("I_A", 1e-12),
    "s": ("time_s", 1.0), "ms": ("time_s", 1e-3), "min": ("time_s", 60.0),
    "hz": ("freq_Hz", 1.0),
}
_CHARGE_UNITS = {"c", "mc", "µc", "uc", "nc"}

# Named EIS columns "quantity / unit": quantity -> (canonical, sign)
_EIS_QUANTITY = {
    "freq": ("freq_Hz", 1.0), "frequency": ("freq_Hz", 1.0),
    "z'": ("Z_re_ohm", 1.0), "z' (re)": ("Z_re_ohm", 1.0),
    "-z''": ("Z_im_ohm", -1.0), "-z\"": ("Z_im_ohm", -1.0),
    "z''": ("Z_im_ohm", 1.0), "z\"": ("Z_im_ohm", 1.0),
    "idc": ("I_A", 1.0), "edc": ("E_V", 1.0), "e": ("E_V", 1.0), "time": ("time_s", 1.0),
    "t": ("time_s", 1.0),
}
_OHM = {"ohm": 1.0, "kohm": 1e3, "megaohm": 1e6, "milliohm": 1e-3}
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})")


def _clean(text: str) -> str:
    """Lower-cased unit or name, one spelling of ohm/micro whatever the encoding."""
    s = text.strip().strip('"').strip().lower()
    s = s.replace("\u03bc", "µ").replace("Âµ", "µ")  # Greek mu; UTF-8 read as cp1252
    for ohm in ("ω", "\u2126", "ohms"):
        s = s.replace(ohm, "ohm")
    return s


def sniff(raw: bytes, name: str) -> bool:
    """First line ``Date and time:,`` or ``File date:,`` and a PSTrace header line below."""
    text = head_text(raw, 2048).replace("\ufeff", "")
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not lines or not lines[0].startswith(("Date and time:,", "File date:,")):
        return False
    return any(ln.startswith(("Notes:", "Measurement:,", "Date and time measurement:,")) for ln in lines[1:8])


def _iso(text: str) -> str | None:
    m = _DATE.search(text)
    return f"{m[1]}-{m[2]}-{m[3]}T{m[4]}:{m[5]}:{m[6]}" if m else None


def _is_numeric_row(cells: list[str]) -> bool:
    filled = [c for c in cells if c.strip()]
    return bool(filled) and all(not math.isnan(to_float(c)) for c in filled)


def parse(raw: bytes, name: str) -> Measurement:
    text = decode(raw).replace("\ufeff", "")
    lines = [ln.rstrip("\r") for ln in text.splitlines()]
    first_data = next(
        (i for i, ln in enumerate(lines) if _is_numeric_row(ln.split(",")) and i > 0), None
    )
    if first_data is None:
        raise EmptyDataError(
            "PalmSens file has a header but no data rows; the measurement may have been "
            "aborted before the first point, or the export is cut. Export it again from PSTrace"
        )
    column_line = lines[first_data - 1].split(",")
    header = lines[: first_data - 1]

    meta: dict[str, Any] = {}
    titles: list[str] = []
    keys = [ln.split(",")[0].strip() for ln in header]
    measured_at = keys.index("Date and time measurement:") if "Date and time measurement:" in keys else None
    if measured_at is not None and measured_at > 0:
        titles = [c.strip() for c in header[measured_at - 1].split(",")]
    notes: list[str] = []
    in_notes = False
    for line, key in zip(header, keys):
        cells = line.split(",")
        rest = ",".join(cells[1:]).strip(", ")
        if key in ("Date and time:", "File date:", "Date and time measurement:", "Measurement:") \
                or re.fullmatch(r"\d+ freqs", key) or (titles and line.strip() == ",".join(titles).strip()):
            in_notes = False
        if key == "File date:":
            meta["file_written"] = _iso(line)
        elif key == "Date and time:":
            # Above a voltammetry curve it is when the file was written; below "File date:"
            # (impedance) it is when the measurement started.
            meta["start_time" if "File date:" in keys else "file_written"] = _iso(line)
        elif key == "Date and time measurement:":
            meta.setdefault("start_time", _iso(line))
        elif key == "Measurement:":
            titles = [rest]
        elif re.fullmatch(r"\d+ freqs", key):
            meta["points_declared"] = int(key.split()[0])
        elif key == "Notes:":
            in_notes = True
            if rest:
                notes.append(rest)
        elif in_notes and line.strip(", "):
            notes.append(line.strip(", "))
    if notes:
        meta["notes"] = "\n".join(notes)
    if not titles:
        # No "Date and time measurement:" line: take a "Technique: curve" line if there is one.
        for line in header:
            first = line.split(",")[0]
            if ":" in first and technique_from_label(first.split(":")[0]) is not None:
                titles = [c.strip() for c in line.split(",")]

    label = next((t for t in titles if t), "")
    technique = technique_from_label(label.split(":")[0]) or technique_from_label(label)
    if technique:
        meta["technique"] = technique
    if label:
        meta["technique_label"] = label

    # rows with any cell that is not blank (commas removed, something is left)
    rows = [ln.split(",") for ln in lines[first_data:] if ln.replace(",", "").strip()]
    if any(" / " in c for c in column_line):
        data = _named_table(column_line, rows, meta)
    else:
        data = _unit_pairs(column_line, rows, titles, meta)
    if meta.get("points_declared") and len(data.get("freq_Hz", [])) < meta["points_declared"]:
        meta["truncated"] = True
        meta.setdefault("warnings", []).append(
            f"{len(data['freq_Hz'])} of the {meta['points_declared']} frequencies announced"
        )
    return Measurement(data=canonical_frame(data), meta=meta)


def _column(rows: list[list[str]], k: int) -> np.ndarray:
    try:
        cells = [r[k] for r in rows]
    except IndexError:  # a shorter row: NaN there
        return np.array([to_float(r[k]) if k < len(r) else float("nan") for r in rows], dtype=float)
    return column_floats(cells)


def _named_table(column_line: list[str], rows: list[list[str]], meta: dict[str, Any]) -> dict[str, Any]:
    """Impedance-style table: 'quantity / unit' headers.

    Several spectra exported side by side repeat the first column name; each block becomes
    a ``cycle`` (rows a shorter block pads with empty cells are dropped from that block).
    """
    first = column_line[0].strip()
    starts = [k for k, c in enumerate(column_line) if c.strip() == first] or [0]
    bounds = list(zip(starts, starts[1:] + [len(column_line)]))
    blocks = [_named_block(column_line, rows, lo, hi) for lo, hi in bounds]
    blocks = [b for b in blocks if b]
    if not blocks:
        raise ReaderError("PalmSens table has no column this reader knows (freq, Z', -Z'', ...)")
    zim = [c for c in column_line if _clean(c.rsplit(" / ", 1)[0]) in ("-z''", "z''", "-z\"", "z\"")]
    if zim:
        meta["Z_im_column"] = zim[0].strip()
    if len(blocks) == 1:
        return blocks[0]
    if len({tuple(b) for b in blocks}) != 1:
        raise ReaderError("PalmSens spectra side by side have different columns; export them separately")
    meta["curves"] = len(blocks)
    out: dict[str, Any] = {k: np.concatenate([b[k] for b in blocks]) for k in blocks[0]}
    out["cycle"] = np.concatenate([np.full(len(next(iter(b.values()))), n + 1, dtype=np.int64)
                                   for n, b in enumerate(blocks)])
    return out


def _named_block(column_line: list[str], rows: list[list[str]], lo: int, hi: int) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for k in range(lo, hi):
        cell = column_line[k]
        if " / " not in cell:
            continue
        quantity, unit = cell.rsplit(" / ", 1)
        quantity, unit = _clean(quantity), normalise_unit(unit)
        target = _EIS_QUANTITY.get(quantity)
        if target is None or target[0] in out:
            continue
        canon, sign = target
        if canon in ("Z_re_ohm", "Z_im_ohm"):
            scale = _OHM.get(unit)
        else:
            unit_target = _UNIT_SCALE.get(unit)
            scale = unit_target[1] if unit_target and unit_target[0] == canon else None
        if scale is None:
            raise ReaderError(f"PalmSens column {cell!r}: unit {unit!r} not understood; export in SI units")
        out[canon] = _column(rows, k) * scale * sign
    if out:
        keep = np.all([np.isfinite(v) for v in out.values()], axis=0)
        out = {k: v[keep] for k, v in out.items()}
    return out


def _unit_pairs(column_line: list[str], rows: list[list[str]], titles: list[str],
                meta: dict[str, Any]) -> dict[str, Any]:
    """Curves written side by side as (x, y) unit pairs, e.g. ``V,µA,V,µA``."""
    units = [_clean(u) for u in column_line]
    while units and not units[-1]:
        units.pop()
    if len(units) % 2:
        raise ReaderError(
            f"PalmSens unit row {','.join(column_line)!r} does not pair up into (x, y) curves; "
            "export each curve separately or as one table"
        )
    curves: list[dict[str, np.ndarray]] = []
    scans: list[int | None] = []
    for c in range(len(units) // 2):
        curve: dict[str, np.ndarray] = {}
        for k in (2 * c, 2 * c + 1):
            unit = units[k]
            if unit in _CHARGE_UNITS:
                continue
            target = _UNIT_SCALE.get(unit)
            if target is None:
                raise ReaderError(f"PalmSens unit {column_line[k]!r} not understood; export in SI units")
            canon, scale = target
            curve[canon] = _column(rows, k) * scale
        if curve:
            keep = np.all([np.isfinite(v) for v in curve.values()], axis=0)
            curves.append({k: v[keep] for k, v in curve.items()})
            title = titles[2 * c] if 2 * c < len(titles) else ""
            m = re.search(r"scan\s+(\d+)", title, re.IGNORECASE)
            scans.append(int(m[1]) if m else None)
    if not curves:
        raise EmptyDataError("PalmSens file has no current, potential or time curve; export it again")

    kinds = {tuple(sorted(c)) for c in curves}
    if len(kinds) == 1 and len(curves) > 1:
        out: dict[str, Any] = {k: np.concatenate([c[k] for c in curves]) for k in curves[0]}
        numbers = scans if all(s is not None for s in scans) and len(set(scans)) == len(scans) \
            else list(range(1, len(curves) + 1))
        out["cycle"] = np.concatenate([np.full(len(next(iter(c.values()))), n, dtype=np.int64)
                                       for c, n in zip(curves, numbers)])
        meta["curves"] = len(curves)
        return out
    if len(kinds) == 1:
        out = dict(curves[0])
        if scans[0] is not None:
            out["cycle"] = np.full(len(next(iter(out.values()))), scans[0], dtype=np.int64)
        return out
    # Different quantities against the same time axis (e.g. charge, current, potential vs t).
    merged: dict[str, Any] = {}
    for curve in curves:
        for k, v in curve.items():
            if k in merged:
                if k == "time_s" and len(merged[k]) == len(v) and np.allclose(merged[k], v):
                    continue
                raise ReaderError(
                    "PalmSens file holds curves of different kinds on different axes; "
                    "export them as separate files"
                )
            merged[k] = v
    lengths = {len(v) for v in merged.values()}
    if len(lengths) != 1:
        raise ReaderError("PalmSens curves side by side have different lengths; export them separately")
    return merged
