"""Gamry Framework ``.DTA`` files (the "EXPLAIN" text format).

Layout: the first line is ``EXPLAIN``; then header lines ``KEY<TAB>TYPE<TAB>VALUE<TAB>label``
(``TAG`` names the script, ``AREA`` is in cm2, ``SCANRATE`` in mV/s, ``DATE``/``TIME`` in the
PC's locale); then tables, each introduced by ``NAME<TAB>TABLE[<TAB>count]`` and followed by a
row of column names, a row of units and data rows that start with a TAB::

    ZCURVE  TABLE
            Pt  Time  Freq  Zreal  Zimag  ...
            #   s     Hz    ohm    ohm    ...
            0   1     200015.6  825.8584  -1367.239 ...

Data tables: ``ZCURVE`` for impedance, ``CURVE`` or ``CURVE1..n`` for DC techniques (a CV
writes one ``CURVEn`` per cycle, so ``n`` becomes the ``cycle`` column). ``OCVCURVE`` is the
open-circuit rest *before* the measurement and is not the data.

Drift correction: with ``DRIFTCOR`` on, Gamry writes the spectrum twice in one ZCURVE, as
measured (``Zreal``, ``Zimag``) and drift-corrected (``ZrealDrCor``, ``ZimagDrCor``); the
corrected one is what the user asked for and is read (``meta["columns_used"]`` says so),
the other is not a second spectrum (pyimpspec returns both as two).

Signs: Gamry writes ``Zimag`` with the physical sign (negative for a capacitive arc, the same
sign as ``Zphz``); both corpus EIS files confirm it and the reader checks it against ``Zphz``.
Currents are written as the instrument measured them; with ``CONVENTION`` = 1 anodic current is
positive (checked on the corpus CV: the reduction peak on the cathodic sweep is negative).

Numbers follow the Windows locale: European installations write decimal commas in the
header and in the tables. A run stopped by the user carries ``EXPERIMENTABORTED  TOGGLE  T``;
a file cut short (copy interrupted, disk full) simply ends. Both are read as far as they go
and flagged in ``meta["aborted"]`` / ``meta["truncated"]``.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Any

import numpy as np

from echem.errors import EmptyDataError, ReaderError
from echem.io import _long
from echem.io._text import (_NUMBER, column_floats, decode, guess_decimal, head_text, normalise_unit, split_lines,
                            to_float)
from echem.measurement import Measurement, canonical_frame

FORMAT = "gamry-dta"
VENDOR = "Gamry"

#: Gamry script TAG -> canonical technique. Tags not listed leave the technique to the
#: registry's fallbacks (file name, data shape); the TAG itself is kept in meta.
TAG_TECHNIQUE = {
    "EISPOT": "EIS",
    "EISGALV": "EIS",
    "GALVEIS": "EIS",
    "EISMON": "EIS",
    "HYBRIDEIS": "EIS",
    "CV": "CV",
    "RCV": "CV",
    "CYCPOL": "CV",  # cyclic polarisation: forward and reverse sweep
    "LSV": "LSV",
    "POTENTIODYNAMIC": "LSV",
    "POLDYN": "LSV",
    "TAFEL": "LSV",
    "POLRES": "LSV",  # polarisation resistance: a short linear sweep around Eoc
    "CHRONOA": "CA",
    "POTENTIOSTATIC": "CA",
    "CHRONOP": "CP",
    "GALVANOSTATIC": "CP",
    "CORPOT": "OCV",
}

#: Gamry's "no thermocouple" value in the Temp column.
_NO_TEMPERATURE = -327.67
#: Temperatures outside this range (deg C) are not a cell temperature but an unconnected input.
_PLAUSIBLE_T_C = (-100.0, 1000.0)

_UNIT_SCALE = {
    "s": 1.0, "ms": 1e-3, "min": 60.0, "h": 3600.0,
    "v": 1.0, "v vs. ref.": 1.0, "mv": 1e-3, "mv vs. ref.": 1e-3,
    "a": 1.0, "ma": 1e-3, "µa": 1e-6, "ua": 1e-6, "na": 1e-9,
    "hz": 1.0, "khz": 1e3,
    "ohm": 1.0, "kohm": 1e3, "megaohm": 1e6, "milliohm": 1e-3,
    "deg c": 1.0,
}

# Gamry column name -> canonical column, per kind of table.
_ZCURVE_COLUMNS = {"Time": "time_s", "Freq": "freq_Hz", "Zreal": "Z_re_ohm", "Zimag": "Z_im_ohm",
                   "Vdc": "E_V", "Idc": "I_A"}
_CURVE_COLUMNS = {"T": "time_s", "Vf": "E_V", "Im": "I_A"}


def sniff(raw: bytes, name: str) -> bool:
    """``EXPLAIN`` on the first line and a ``TAG`` line right after it."""
    lines = head_text(raw, 512).lstrip("\ufeff").splitlines()
    return len(lines) >= 2 and lines[0].strip() == "EXPLAIN" and lines[1].startswith("TAG")


class _Table:
    def __init__(self, key: str, declared_rows: int | None, line: int = -1):
        self.key = key
        self.declared_rows = declared_rows
        self.line = line  # index of its "NAME<TAB>TABLE" line
        self.names: list[str] = []
        self.units: list[str] = []
        self.rows: list[list[str]] = []


def _split_lines(text: str) -> list[str]:
    lines = split_lines(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _scan(lines: list[str]) -> tuple[dict[str, list[str]], list[_Table], list[str]]:
    """Split the file into header fields, tables and notes, in one pass."""
    header: dict[str, list[str]] = {}
    tables: list[_Table] = []
    notes: list[str] = []
    i = 1 if lines and lines[0].strip().lstrip("\ufeff") == "EXPLAIN" else 0
    while i < len(lines):
        line = lines[i]
        if not line.strip() or line.startswith("\t"):
            i += 1  # stray continuation line (e.g. an empty notes line)
            continue
        fields = line.split("\t")
        key = fields[0].strip()
        kind = fields[1].strip() if len(fields) > 1 else ""
        if kind == "TABLE":
            declared = None
            if len(fields) > 2 and fields[2].strip().isdigit():
                declared = int(fields[2].strip())
            table = _Table(key, declared, i)
            i += 1
            body: list[str] = []
            while i < len(lines) and lines[i].startswith("\t"):
                body.append(lines[i])
                i += 1
            if body:
                table.names = [c.strip() for c in body[0].split("\t")[1:]]
            if len(body) > 1:
                table.units = [c.strip() for c in body[1].split("\t")[1:]]
            table.rows = [row.split("\t")[1:] for row in body[2:]]
            tables.append(table)
            continue
        if kind == "NOTES":
            count = int(to_float(fields[2])) if len(fields) > 2 and not math.isnan(to_float(fields[2])) else 0
            for j in range(1, count + 1):
                if i + j < len(lines):
                    notes.append(lines[i + j].strip())
            header[key] = fields[1:]
            i += 1 + count
            continue
        header[key] = fields[1:]
        i += 1
    return header, tables, notes


def _header_number(header: dict[str, list[str]], key: str, decimal: str) -> float | None:
    """Numeric value of ``KEY<TAB>TYPE<TAB>VALUE...`` (QUANT, IQUANT, POTEN, SELECTOR)."""
    fields = header.get(key)
    if not fields or len(fields) < 2:
        return None
    number = to_float(fields[1], decimal)
    return None if math.isnan(number) else number


def _header_text(header: dict[str, list[str]], key: str) -> str | None:
    fields = header.get(key)
    if not fields or len(fields) < 2:
        return None
    value = fields[1].strip()
    return value or None


def _header_label(header: dict[str, list[str]], key: str) -> str:
    """The human label (last field) of a header line, e.g. '&Scan Rate (mV/s)'."""
    fields = header.get(key) or []
    return fields[-1].replace("&", "") if fields else ""


def _parse_date(date: str | None, time: str | None) -> tuple[str | None, str | None]:
    """ISO 8601 start time from Gamry's locale-formatted DATE and TIME, and a warning.

    ``18.9.2023`` is day.month.year (German/European locale); ``4/23/2018`` with a slash is
    month/day/year unless the first number exceeds 12. A slash date whose day and month are
    both <= 12 and differ is ambiguous and is not guessed.
    """
    if not date:
        return None, None
    date = date.strip()
    clock = (time or "00:00:00").strip()
    m = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", date)
    if m:
        y, mo, d = int(m[1]), int(m[2]), int(m[3])
    else:
        m = re.fullmatch(r"(\d{1,2})([./-])(\d{1,2})\2(\d{2,4})", date)
        if not m:
            return None, f"DATE {date!r} not understood; start_time left empty"
        a, sep, b, y = int(m[1]), m[2], int(m[3]), int(m[4])
        if y < 100:
            y += 2000
        if sep == ".":
            d, mo = a, b
        elif a > 12:
            d, mo = a, b
        elif b > 12 or a == b:
            mo, d = a, b
        else:
            return None, (f"DATE {date!r} is ambiguous (day/month or month/day); "
                          "start_time left empty")
    try:
        hh, mm, *rest = (int(x) for x in clock.split(":"))
        ss = rest[0] if rest else 0
        return datetime(y, mo, d, hh, mm, ss).isoformat(), None
    except ValueError:
        return None, f"DATE/TIME {date!r} {clock!r} not a valid date; start_time left empty"


#: Columns the reader uses (the others, such as ``Over`` or ``IERange``, are not converted).
_DRIFT_COLUMNS = {"ZrealDrCor": "Z_re_ohm", "ZimagDrCor": "Z_im_ohm"}
_USED_COLUMNS = (frozenset(_ZCURVE_COLUMNS) | frozenset(_CURVE_COLUMNS) | frozenset(_DRIFT_COLUMNS)
                 | {"Temp", "Zphz", "ZphzDrCor"})


def _table_values(table: _Table, decimal: str) -> tuple[dict[str, np.ndarray], bool, int]:
    """Numeric columns of a table (those the reader uses), whether its last row was cut
    short, and the number of rows read.

    A row with fewer cells than there are column names is where the file was cut; it is
    dropped rather than read with missing or half-written numbers.
    """
    width = len(table.names)
    rows = table.rows
    cut = False
    if rows and len(rows[-1]) < width:
        rows = rows[:-1]
        cut = True
    good = [r for r in rows if len(r) >= width]
    cells = list(zip(*good))  # one tuple per column (at least ``width`` of them)
    floats = {k: column_floats(cells[k], decimal) if good else np.array([], dtype=float)
              for k, col in enumerate(table.names) if col in _USED_COLUMNS}
    return _converted(table, floats), cut, len(good)


def _converted(table: _Table, floats: dict[int, np.ndarray]) -> dict[str, np.ndarray]:
    """The used columns (``floats`` by column index) in SI units, by Gamry column name."""
    columns: dict[str, np.ndarray] = {}
    for k, col in enumerate(table.names):
        if col not in _USED_COLUMNS:
            continue
        unit = normalise_unit(table.units[k]) if k < len(table.units) else ""
        values = floats[k]
        if col in _ZCURVE_COLUMNS or col in _CURVE_COLUMNS or col in _DRIFT_COLUMNS or col == "Temp":
            scale = _UNIT_SCALE.get(unit)
            if scale is None:
                raise ReaderError(
                    f"{table.key} column {col!r} has unit {table.units[k]!r}, which this reader "
                    "does not know; export the file again from Gamry Framework or report the unit"
                )
            values = values * scale if scale != 1.0 else values
        columns[col] = values
    return columns


def _temperature(values: np.ndarray | None, warnings: list[str]) -> np.ndarray | None:
    if values is None or values.size == 0:
        return None
    finite = values[np.isfinite(values)]
    if finite.size == 0 or np.all(np.isclose(finite, _NO_TEMPERATURE)):
        return None
    lo, hi = _PLAUSIBLE_T_C
    if np.any(np.isclose(finite, _NO_TEMPERATURE)) or finite.min() < lo or finite.max() > hi:
        warnings.append(
            f"Temp column ignored: values {finite.min():.4g}..{finite.max():.4g} deg C are not a "
            "cell temperature (no thermocouple connected?)"
        )
        return None
    return values


def _zimag_sign(columns: dict[str, np.ndarray], warnings: list[str], drift: bool = False) -> float:
    """+1 if Zimag already carries the physical sign (same sign as Zphz), -1 if flipped."""
    zim, phase = (columns.get("ZimagDrCor"), columns.get("ZphzDrCor")) if drift else (columns.get("Zimag"),
                                                                                     columns.get("Zphz"))
    if zim is None or phase is None:
        return 1.0
    ok = np.isfinite(zim) & np.isfinite(phase) & (np.abs(phase) > 0.5)
    if not ok.any():
        return 1.0
    agree = np.mean(np.sign(zim[ok]) == np.sign(phase[ok]))
    if agree < 0.1:
        warnings.append("Zimag has the opposite sign of Zphz in this file; sign flipped to the physical one")
        return -1.0
    return 1.0


def _data_tables(header: dict[str, list[str]], tables: list[_Table]):
    """(TAG, technique, kind "EIS"/"DC", the data tables)."""
    tag = (header.get("TAG") or [""])[0].strip() or None
    technique = TAG_TECHNIQUE.get(tag.upper()) if tag else None
    z_tables = [t for t in tables if t.key == "ZCURVE"]
    curve_tables = [t for t in tables if re.fullmatch(r"CURVE\d*", t.key)]
    if technique == "EIS" or (technique is None and z_tables):
        return tag, technique, "EIS", z_tables
    return tag, technique, "DC", curve_tables


def parse(raw: bytes, name: str) -> Measurement:
    text = decode(raw)
    lines = _split_lines(text)
    header, tables, notes = _scan(lines)
    decimal = guess_decimal(lines, "\t")
    return _measurement(header, tables, notes, decimal, _table_values)


def _measurement(header: dict[str, list[str]], tables: list[_Table], notes: list[str], decimal: str,
                 table_values) -> Measurement:
    """The measurement of a scanned file; ``table_values(table, decimal)`` gives each data
    table's used columns, whether its last row was cut and its number of rows."""
    warnings: list[str] = []
    tag, technique, kind, data_tables = _data_tables(header, tables)
    if not data_tables:
        found = ", ".join(t.key for t in tables) or "none"
        expected = "ZCURVE" if kind == "EIS" else "CURVE"
        raise EmptyDataError(
            f"Gamry file (TAG {tag}) has no {expected} data table (tables found: {found}); "
            "the file is cut inside its header or the run was aborted before the first point. "
            "Re-export or re-run the measurement"
        )

    aborted_flag = (header.get("EXPERIMENTABORTED") or ["", ""])
    aborted = len(aborted_flag) > 1 and aborted_flag[1].strip().upper() in ("T", "TRUE")
    truncated = False

    parts: dict[str, list[np.ndarray]] = {}
    n_rows = 0
    drift_setting = _header_number(header, "DRIFTCOR", decimal)
    drift_used = False
    for index, table in enumerate(data_tables):
        if not table.names:
            truncated = True
            warnings.append(f"{table.key}: table cut before its column names")
            continue
        columns, cut, n = table_values(table, decimal)
        if cut:
            truncated = True
            warnings.append(f"{table.key}: last row cut short and dropped")
        if table.declared_rows is not None and n < table.declared_rows:
            truncated = True
            warnings.append(f"{table.key}: {n} of the {table.declared_rows} rows announced")
        mapping = _ZCURVE_COLUMNS if kind == "EIS" else _CURVE_COLUMNS
        drift = kind == "EIS" and set(_DRIFT_COLUMNS) <= set(columns) and drift_setting != 0
        if drift:
            mapping = {k: v for k, v in mapping.items() if v not in ("Z_re_ohm", "Z_im_ohm")} | _DRIFT_COLUMNS
            drift_used = True
        z_sign = _zimag_sign(columns, warnings, drift) if kind == "EIS" else 1.0
        for gamry, canon in mapping.items():
            if gamry in columns:
                values = columns[gamry] * z_sign if canon == "Z_im_ohm" and z_sign != 1.0 else columns[gamry]
                parts.setdefault(canon, []).append(values)
        temp = columns.get("Temp")
        if temp is not None:
            parts.setdefault("_temp", []).append(temp)
        if kind == "DC" and len(data_tables) > 1:
            m = re.fullmatch(r"CURVE(\d+)", table.key)
            cycle = int(m[1]) if m else index + 1
            parts.setdefault("cycle", []).append(np.full(n, cycle, dtype=np.int64))
        n_rows += n

    if n_rows == 0:
        raise EmptyDataError(
            f"Gamry file (TAG {tag}) has its data table header but no data rows; "
            "the run was aborted before the first point or the file is cut. Re-run the measurement"
        )

    data_cols: dict[str, Any] = {}
    for canon, chunks in parts.items():
        if canon == "_temp":
            continue
        if sum(len(c) for c in chunks) == n_rows:
            data_cols[canon] = np.concatenate(chunks) if len(chunks) > 1 else chunks[0]
    temp_chunks = parts.get("_temp")
    if temp_chunks and sum(len(c) for c in temp_chunks) == n_rows:
        data_cols["temperature_C"] = _temperature(np.concatenate(temp_chunks), warnings)

    meta: dict[str, Any] = {"gamry_tag": tag, "title": _header_text(header, "TITLE")}
    if drift_used:
        meta["drift_corrected"] = True
        meta["columns_used"] = {"Z_re_ohm": "ZrealDrCor (drift-corrected; Zreal is the uncorrected sweep)",
                                "Z_im_ohm": "ZimagDrCor (drift-corrected; Zimag is the uncorrected sweep)"}
    if technique:
        meta["technique"] = technique
    area = _header_number(header, "AREA", decimal)
    if area is not None and area > 0:
        meta["area_cm2"] = area
    scan_rate = _header_number(header, "SCANRATE", decimal)
    if scan_rate is not None:
        label = _header_label(header, "SCANRATE").lower()
        per = 1.0 if "(v/s)" in label else 1e-3  # Gamry's default label: "Scan Rate (mV/s)"
        meta["scan_rate_V_s"] = scan_rate * per
    start, warn = _parse_date(_header_text(header, "DATE"), _header_text(header, "TIME"))
    if start:
        meta["start_time"] = start
    if warn:
        warnings.append(warn)
    written = [x for x in (_header_text(header, "DATE"), _header_text(header, "TIME")) if x]
    meta["date_as_written"] = " ".join(written) or None

    for key, meta_key in (("VDC", "E_dc_V"), ("VINIT", "E_init_V"), ("VLIMIT1", "E_vertex1_V"),
                          ("VLIMIT2", "E_vertex2_V"), ("VFINAL", "E_final_V")):
        value = _header_number(header, key, decimal)
        if value is not None:
            # POTEN fields carry a flag: T = the value is against the open-circuit potential.
            vs_eoc = (header[key] + ["", ""])[2].strip().upper() == "T"
            meta[meta_key.replace("_V", "_vs_Eoc_V") if vs_eoc else meta_key] = value
    for key, meta_key in (("EOC", "E_oc_V"), ("FREQINIT", "freq_initial_Hz"),
                          ("FREQFINAL", "freq_final_Hz"), ("PTSPERDEC", "points_per_decade"),
                          ("VAC", "ac_amplitude_mV_rms"), ("IAC", "ac_amplitude_A_rms"),
                          ("IDC", "I_dc_A"), ("SAMPLETIME", "sample_period_s"),
                          ("POSFEEDRESISTANCE", "positive_feedback_ohm"), ("PFCOR", "ir_correction_ohm")):
        value = _header_number(header, key, decimal)
        if value is not None:
            meta[meta_key] = value
    step = _header_number(header, "STEPSIZE", decimal)
    if step is not None:
        meta["step_V"] = step * 1e-3  # "St&ep Size (mV)"
    cycles = _header_number(header, "CYCLES", decimal)
    if cycles is not None:
        meta["cycles_programmed"] = int(cycles)
        if kind == "DC" and len(data_tables) < cycles:
            truncated = True
            warnings.append(f"{len(data_tables)} CURVE tables for {int(cycles)} programmed cycles")
    for key, meta_key in (("PSTAT", "potentiostat"), ("FRAMEWORKVERSION", "software_version"),
                          ("PSTATSERIALNO", "instrument_serial")):
        value = _header_text(header, key)
        if value:
            meta[meta_key] = value
    convention = _header_number(header, "CONVENTION", decimal)
    if convention is not None:
        meta["gamry_current_convention"] = int(convention)
        meta["current_sign_convention"] = (
            "anodic positive" if int(convention) == 1 else f"not known (Gamry CONVENTION={int(convention)})"
        )
    if notes and any(notes):
        meta["notes"] = "\n".join(n for n in notes if n)
    if decimal == ",":
        meta["decimal_comma"] = True

    if kind == "EIS" and "freq_Hz" in data_cols:
        truncated |= _eis_incomplete(data_cols["freq_Hz"], meta, warnings)
    if "temperature_C" in data_cols and data_cols["temperature_C"] is not None:
        meta["temperature_C"] = float(np.nanmedian(data_cols["temperature_C"]))

    meta["aborted"] = bool(aborted or truncated)
    meta["truncated"] = bool(truncated)
    if aborted:
        warnings.append("the run was aborted (EXPERIMENTABORTED); the data stop where it stopped")
    if warnings:
        meta["warnings"] = warnings
    meta["gamry_header"] = {k: "\t".join(v) for k, v in header.items()}
    return Measurement(data=canonical_frame(data_cols), meta=meta)


def _eis_incomplete(freq: np.ndarray, meta: dict[str, Any], warnings: list[str]) -> bool:
    """True if the sweep stopped more than one point short of the programmed final frequency."""
    f_final, ppd = meta.get("freq_final_Hz"), meta.get("points_per_decade")
    f = freq[np.isfinite(freq)]
    if not f_final or not ppd or f.size == 0:
        return False
    step = 10 ** (1.5 / ppd)  # one and a half point spacings of slack
    down = f[0] >= f[-1]
    reached = f[-1] <= f_final * step if down else f[-1] >= f_final / step
    if not reached:
        warnings.append(f"sweep ends at {f[-1]:.4g} Hz, programmed to {f_final:.4g} Hz")
    return not reached


def parse_long(source: _long.Source, name: str) -> _long.Long | None:
    """:func:`parse` plus the registry's text checks for a long file whose one data table
    runs to its end (a chronopotentiometry), the table read in C (:mod:`echem.io._long`);
    ``None`` when that cannot be certified (then :func:`parse` runs).

    The header is scanned from the head with :func:`_scan`. The decimal mark :func:`parse`
    guesses from every line is known from the head: the rows after it hold no number with
    the other mark (the C parser refuses one), so they cannot turn the guess.
    """
    ends = _long.ends(source)
    if ends is None:
        return None
    lines = ends.head
    header, tables, notes = _scan(lines)
    data_tables = _data_tables(header, tables)[3]
    if len(data_tables) != 1 or not tables or data_tables[0] is not tables[-1]:
        return None
    table = tables[-1]
    first = table.line + 3  # TABLE, names, units, rows
    width = len(table.names)
    if not width or first + 3 > len(lines) or not all(line.startswith("\t") for line in lines[table.line + 1:]):
        return None  # the table does not run to the end of the head
    last = ends.last
    if last is not None and not last.startswith("\t"):
        return None
    decimal = guess_decimal(lines, "\t")
    commas, points = _decimal_counts(lines)
    if decimal != ("," if commas and points < commas else "."):
        return None
    if last is not None:
        last_commas, last_points = _decimal_counts([last])
        commas, points = commas + last_commas, points + last_points
        # the rest of the rows adds commas only (decimal ",") or points only ("."): the guess
        # with the last line stands if it stands without the rest
        if decimal == "." and commas and points < commas or decimal == "," and not commas > points:
            return None
    rows = lines[first:first + 200]
    cells = len(rows[0].split("\t"))
    used = [k for k, col in enumerate(table.names) if col in _USED_COLUMNS]
    if cells - 1 < width or not used:
        return None
    kinds = _long.column_kinds(rows, cells, [k + 1 for k in used])
    if kinds is None or any(kinds[k + 1] != "float" for k in used):
        return None
    if not _long.head_is_clean(ends, 0, first):
        return None
    if ends.reason is not None and ends.replaced:
        return None  # the file cut short is re-encoded with "?" for those bytes: careful path
    values = _long.table(ends, first, kinds, [k + 1 for k in used], decimal, blank_lines=False)
    if values is None:
        return None

    def build(with_last: bool) -> Measurement:
        def table_values(t: _Table, dec: str):
            floats = {k: values[k + 1] for k in used}
            n = len(values[used[0] + 1])
            if not (with_last and last is not None):
                return _converted(t, floats), False, n
            row = last.split("\t")[1:]
            if len(row) < width:
                return _converted(t, floats), True, n
            floats = {k: np.concatenate([floats[k], column_floats([row[k]], dec)]) for k in used}
            return _converted(t, floats), False, n + 1

        return _measurement(header, tables, notes, decimal, table_values)

    if last is None:
        return _long.Long(full=lambda: build(False))
    return _long.Long(full=lambda: build(True), reason=ends.reason, shorter=lambda: build(False))


def _decimal_counts(lines: list[str]) -> tuple[int, int]:
    """(number cells with a decimal comma, with a decimal point only), as :func:`guess_decimal`
    counts them in tab-separated lines."""
    commas = points = 0
    for line in lines:
        for cell in line.split("\t"):
            cell = cell.strip()
            if ("," in cell or "." in cell) and _NUMBER.match(cell):
                if "," in cell:
                    commas += 1
                else:
                    points += 1
    return commas, points
