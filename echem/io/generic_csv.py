"""Any delimited table with recognisable column names, and the project's canonical CSV.

This reader is asked last. It accepts a text table

* delimited by comma, semicolon, tab or runs of whitespace (detected), with a
  decimal comma allowed when the delimiter is not a comma;
* in any encoding :func:`echem.io._text.decode` handles (UTF-8/16, Windows-1252);
* optionally preceded by header lines (``key: value``, ``key = value``,
  ``key,value`` or ``# ...`` comments), which are kept in ``meta["header"]`` and
  mined for area, scan rate, reference electrode, temperature, technique and date;
* whose column row names the quantities, either canonically (``time_s, E_V, I_A,
  cycle, freq_Hz, Z_re_ohm, Z_im_ohm, temperature_C``) or as instruments and people
  write them, with the unit after a slash or in brackets: ``Ewe/V``, ``E (mV)``,
  ``<I>/mA``, ``I/µA``, ``Current (A)``, ``time/s``, ``t (min)``, ``freq/Hz``,
  ``Re(Z)/Ohm``, ``-Im(Z)/Ohm``, ``Z''``, ``|Z|`` with ``Phase``, ``T/°C``, ``T/K`` ...
  Values are converted to SI from the unit in the name (mA, µA/uA, nA, mV, kOhm,
  MOhm, kHz, min, h, K, ...). A name without a unit is taken in the SI unit of its
  quantity (ohm, V, A, s, Hz, degree for phase, °C); ``meta["units_assumed"]`` lists
  every such column.

Rules the reader applies (each recorded in ``meta`` when it acts):

Signs carried by column names
    Canonical names are used as is. A name with a leading minus or "neg." (``-Z'``,
    ``-Im(Z)``, ``-Z''``, ``neg. Phase``, ``-Phase``) is negated, whatever the quantity
    (``meta["z_re_sign"]``, ``meta["z_im_sign"]`` say so); when the values then look
    unphysical (Z' < 0, Z'' > 0 at most points) the registry adds a warning, it does not
    change them. A plain name (``Im(Z)``,
    ``Z''``, ``Zimag``, ``Phase``) is taken with the physical sign (negative for a
    capacitive arc; impedance.py writes it so) **unless more than two thirds of its
    non-zero values are positive**: a spectrum that is mostly inductive is
    physically rare, while writing -Z'' under the name Z'' is common. Such a column
    is negated, ``meta["z_im_sign_assumed"]`` says so and ``meta["warnings"]`` repeats it
    (the name and the data disagree: the user has to know).
Current density
    ``j/mA cm-2`` and friends are converted to current with the electrode area the
    file states in its header (``area_cm2``, ``Area (cm2)``, ...). Without one the
    file is rejected (:class:`ReaderError`) with a message asking for the area line
    or the current column: dividing by an assumed area would silently rescale all
    later results. Area-normalised impedance (``Ohm cm2``) is rejected likewise.
Headerless tables
    A table with no column row is read only if it has three columns and the first
    is positive and log-spaced (a decade or more, uniform steps in log f): that is
    the ``frequency, Z', Z''`` layout impedance.py's ``saveCSV``/``readCSV`` use.
    Anything else raises :class:`UnknownFormatError` asking for column headers.
Files other readers own
    The sniffer refuses files carrying a vendor's marker (EC-Lab, Gamry, ZPlot,
    Autolab, CH Instruments, PalmSens, Nordic EC4, VersaStudio, Novocontrol...), so a
    vendor file whose reader failed to recognise it is reported, not misread.

The canonical CSV written by :func:`echem.io.canonical_csv.write_csv` starts with
``# echem-canonical-csv 1`` and ``# key: value`` lines (values JSON, bare when a
plain string). Reading it back gives the same data and meta; the provenance keys
the registry recomputes for the CSV file itself (``source, file, sha256, rows,
format``) are kept as ``origin_source`` etc.
"""

from __future__ import annotations

import csv
import json
import math
import re
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from echem.errors import EmptyDataError, ReaderError, UnknownFormatError
from echem.io._text import (decode, guess_decimal, head_text, is_binary, line_shapes, technique_from_label,
                            to_float)
from echem.measurement import COLUMNS, Measurement, canonical_frame

FORMAT = "generic-csv"
VENDOR = "generic"

CANONICAL_MARKER = "# echem-canonical-csv 1"
#: Provenance keys the registry sets for the file being read; a canonical CSV keeps
#: the values of the original file under ``origin_<key>``.
PROVENANCE_KEYS = ("source", "file", "sha256", "rows", "format")

_DELIMITERS = ("\t", ";", ",", None)  # None: runs of whitespace
_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$|^[+-]?(nan|inf|infinity)$", re.I)
_HEAD_BYTES = 32768
_DETECT_LINES = 2000

# Lines that mean another reader owns the file (checked on the first lines only).
_VENDOR_MARKERS = (
    ("EC-Lab ASCII FILE", "BioLogic EC-Lab"),
    ("BT-Lab ASCII FILE", "BioLogic BT-Lab"),
    ("ZPLOT2 ASCII", "Scribner ZPlot"),
    ("Z60W Data File", "Autolab/FRA"),
    ("<Segment1>", "VersaStudio"),
    ("<Application>", "VersaStudio"),
    ("Instrument Model:", "CH Instruments"),
    ("EC4 File", "Nordic EC4"),
    ("Fixed value(s)", "Novocontrol"),
    ("Date and time measurement:", "PalmSens"),
    ("Measurement:,", "PalmSens"),
    ("File date:,", "PalmSens"),
    ("WE(1).", "Autolab NOVA"),
    ("primary_data", "Ivium"),
    ("Solarcell=", "Ivium"),
    ("Zre (ohms)", "Parstat"),
)


# ----------------------------------------------------------------------------- units

_PREFIX = {"": 1.0, "p": 1e-12, "n": 1e-9, "µ": 1e-6, "u": 1e-6, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9}


def _norm_unit(unit: str) -> str:
    u = unit.strip().strip("[]()").strip()
    u = u.replace("μ", "µ").replace("Ω", "Ohm").replace("ω", "Ohm").replace("℃", "°C")
    u = u.replace("⁻", "-").replace("−", "-").replace("²", "2")  # mA cm⁻², mA/cm²
    u = re.sub(r"(?i)ohms?", "Ohm", u)
    return u


def _prefixed(unit: str, base: str) -> float | None:
    """Factor to SI for ``unit`` = SI prefix + ``base`` (base compared case-insensitively)."""
    if unit.lower() == base.lower():
        return 1.0
    if len(unit) > len(base) and unit[len(unit) - len(base):].lower() == base.lower():
        return _PREFIX.get(unit[: len(unit) - len(base)])
    return None


def _time_factor(unit: str) -> float | None:
    u = unit.lower()
    table = {"s": 1.0, "sec": 1.0, "secs": 1.0, "seconds": 1.0, "ms": 1e-3, "min": 60.0, "mins": 60.0,
             "minutes": 60.0, "h": 3600.0, "hr": 3600.0, "hrs": 3600.0, "hours": 3600.0, "d": 86400.0}
    return table.get(u)


_AREA_UNIT = re.compile(r"^(?P<cur>[^\s/·*]+)\s*(?:/\s*|\s+|·|\*)(?P<area>cm\^?-?2|cm²|cm-2|cm\^-2|m\^?-?2|m²|m-2|mm\^?-?2|mm²|mm-2)$")
_AREA_CM2 = {"cm": 1.0, "m": 1e4, "mm": 1e-2}


def _density_factor(unit: str) -> float | None:
    """Factor from e.g. ``mA cm-2`` / ``mA/cm²`` / ``A m-2`` to A cm⁻²; None if not a density."""
    m = _AREA_UNIT.match(unit.replace(" ", " ").strip())
    if not m:
        return None
    current = _prefixed(m.group("cur"), "A")
    if current is None:
        return None
    area_unit = re.match(r"^(cm|mm|m)", m.group("area")).group(1)
    return current / _AREA_CM2[area_unit]


def _temperature(unit: str) -> tuple[float, float] | None:
    """(factor, offset) to °C."""
    u = unit.replace(" ", "").lstrip("°").lower()
    if u in ("c", "degc", "celsius", "deg.c"):
        return 1.0, 0.0
    if u in ("k", "kelvin"):
        return 1.0, -273.15
    return None


# ----------------------------------------------------------------------------- column names

# Normalised names (lower case, no spaces) of each quantity; a unit may follow.
_NAMES = {
    "time_s": {"t", "time", "elapsedtime", "timeelapsed", "runtime", "testtime", "totaltime", "time(s)"},
    "E_V": {"e", "ewe", "<ewe>", "<e>", "ewe-ece", "potential", "voltage", "ecell", "u", "wepotential",
            "workingelectrodepotential", "e_we", "vf", "emeas", "e_meas", "measuredpotential", "potentialwe"},
    "E_V_applied": {"eapplied", "potentialapplied", "eset", "esetpoint", "appliedpotential", "control", "vsig"},
    "I_A": {"i", "<i>", "current", "iwe", "i_we", "currentwe", "measuredcurrent"},
    "j": {"j", "<j>", "currentdensity", "i/area"},
    "cycle": {"cycle", "cyclenumber", "cycleno", "cycleno.", "cycle#", "cycleindex", "scan", "scannumber",
              "cycle_number", "cyclenr", "cyclenr."},
    "freq_Hz": {"f", "freq", "frequency", "freq."},
    "Z_re_ohm": {"re(z)", "z'", "z′", "zre", "zreal", "z_re", "real(z)", "z_real", "zr", "rez", "real",
                 "re", "z'(a)", "zs'", "realz", "z_real"},
    "Z_im_ohm": {"im(z)", "z''", 'z"', "z′′", "z″", "zim", "zimag", "z_im", "imag(z)", "z_imag", "zi", "imz",
                 "zimg", "imag", "im", "imaginary", "imagz", "z''(b)", "zs''", "img(z)"},
    "Z_mod": {"|z|", "z", "mod(z)", "zmod", "abs(z)", "modz", "z_mod", "zmag", "magnitude", "impedance", "|z|(ohm)"},
    "phase": {"phase", "phase(z)", "phi", "φ", "theta", "phz", "zphz", "phaseangle", "arg(z)", "phase_z"},
    "temperature_C": {"temperature", "temp", "temp.", "tcell", "t_cell", "celltemperature"},
}
_NEGATION = re.compile(r"^(?:-|−|neg\.?\s*|negative\s+|minus\s+)(?=\S)", re.I)


@dataclass
class _Column:
    index: int
    name: str  # as written
    role: str  # canonical column or helper role (j, Z_mod, phase, E_V_applied)
    factor: float = 1.0
    offset: float = 0.0
    negate: bool = False
    unit: str | None = None
    unit_assumed: str | None = None
    reference: str | None = None
    problem: str | None = None  # recognised but unusable: parse raises this message


def _role_of(name: str, original: str) -> str | None:
    key = re.sub(r"\s+", "", name).lower()
    for role, names in _NAMES.items():
        if key in names:
            if role == "time_s" and key == "t" and original.strip().lstrip("-").startswith("T"):
                return "temperature_or_time"
            return role
    return None


def _split_name_unit(cell: str) -> list[tuple[str, str | None]]:
    """Candidate (name, unit) readings of a header cell, most specific first."""
    cands: list[tuple[str, str | None]] = [(cell, None)]
    m = re.match(r"^(?P<n>.*?\S)\s*[\(\[](?P<u>[^()\[\]]*)[\)\]]\s*$", cell)
    if m:
        cands.append((m.group("n"), m.group("u")))
    m = re.match(r"^(?P<n>.*?[^/\s])\s*/\s*(?P<u>[^/].*)$", cell)
    if m:
        cands.append((m.group("n"), m.group("u")))
    m = re.match(r"^(?P<n>.+?)\s+in\s+(?P<u>\S+)$", cell)
    if m:
        cands.append((m.group("n"), m.group("u")))
    m = re.match(r"^(?P<n>[^_]+)_(?P<u>[A-Za-zµμΩ°]+)$", cell)
    if m:
        cands.append((m.group("n"), m.group("u")))
    return cands


def _unit_factor(role: str, unit: str) -> tuple[float, float, str | None] | None:
    """(factor, offset, reference) converting ``unit`` for ``role`` to SI; None if it does not fit."""
    u = _norm_unit(unit)
    reference = None
    if role in ("E_V", "E_V_applied"):
        m = re.match(r"^(?P<u>[^\s]+)\s+vs\.?\s+(?P<ref>.+)$", u, re.I)
        if m:
            u, reference = m.group("u"), m.group("ref").strip()
            if re.fullmatch(r"ref(erence)?\.?(\s*electrode)?", reference, re.I):
                reference = None  # "V vs. Ref." names no electrode
        f = _prefixed(u, "V")
        return (f, 0.0, reference) if f is not None else None
    if role == "I_A":
        f = _prefixed(u, "A")
        return (f, 0.0, None) if f is not None else None
    if role == "j":
        f = _density_factor(u)
        return (f, 0.0, None) if f is not None else None
    if role == "time_s":
        f = _time_factor(u)
        return (f, 0.0, None) if f is not None else None
    if role == "freq_Hz":
        f = _prefixed(u, "Hz")
        return (f, 0.0, None) if f is not None else None
    if role in ("Z_re_ohm", "Z_im_ohm", "Z_mod"):
        f = _prefixed(u, "Ohm")
        return (f, 0.0, None) if f is not None else None
    if role == "phase":
        low = u.lower().rstrip(".")
        if low in ("°", "deg", "degree", "degrees", "grad"):
            return 1.0, 0.0, None
        if low in ("rad", "radian", "radians"):
            return 180.0 / math.pi, 0.0, None
        return None
    if role == "temperature_C":
        t = _temperature(u)
        return (t[0], t[1], None) if t else None
    if role == "cycle":
        return (1.0, 0.0, None) if u in ("", "#", "no", "no.") else None
    return None


_DEFAULT_UNIT = {"E_V": "V", "E_V_applied": "V", "I_A": "A", "time_s": "s", "freq_Hz": "Hz",
                 "Z_re_ohm": "Ohm", "Z_im_ohm": "Ohm", "Z_mod": "Ohm", "phase": "deg",
                 "temperature_C": "°C", "cycle": None}


def _map_column(index: int, cell: str) -> _Column | None:
    """Recognise one header cell; None if it names nothing we know."""
    cell = cell.strip().strip('"').strip()
    if cell in COLUMNS:
        return _Column(index, cell, cell, unit="canonical")
    negate = False
    m = _NEGATION.match(cell)
    body = cell[m.end():] if m else cell
    if m:
        negate = True
    # First the name as written, then with a "vs <reference>" part taken off the name
    # ("E vs RHE (V)"); a reference inside the unit ("E/V vs RHE") is read by _unit_factor.
    candidates = _split_name_unit(body)
    for strip_vs in (False, True):
        # With a reference in the name, readings that carry a unit come first.
        for name, unit in (candidates[1:] + candidates[:1]) if strip_vs else candidates:
            ref_in_name = None
            if strip_vs:
                vs = re.match(r"^(?P<n>.*?\S)\s+vs\.?\s+(?P<ref>.+)$", name, re.I)
                if not vs:
                    continue
                name, ref_in_name = vs.group("n"), vs.group("ref").strip()
            col = _column_for(index, cell, name, unit, body, negate, ref_in_name)
            if col is not None:
                return col
    return None


def _column_for(index: int, cell: str, name: str, unit: str | None, body: str, negate: bool,
                ref_in_name: str | None) -> _Column | None:
    role = _role_of(name, body)
    if role is None:
        return None
    if role == "temperature_or_time":
        # "T" is temperature with a temperature unit, time with a time unit.
        if unit is not None and _temperature(_norm_unit(unit)) is not None:
            role = "temperature_C"
        elif unit is not None and _time_factor(_norm_unit(unit)) is not None:
            role = "time_s"
        else:
            return None
    if role in ("I_A", "j") and unit is not None and _density_factor(_norm_unit(unit)) is not None:
        role = "j"
    if unit is None:
        if role == "j":
            return None  # a density without unit cannot be converted
        return _Column(index, cell, role, negate=negate, unit_assumed=_DEFAULT_UNIT.get(role), reference=ref_in_name)
    if role in ("Z_re_ohm", "Z_im_ohm", "Z_mod") and re.search(r"cm", unit):
        return _Column(index, cell, role, unit=unit, problem=(
            f"column {cell!r} is an area-normalised impedance; the canonical table holds ohm. "
            "Export the impedance in ohm (not ohm·cm²)"))
    conv = _unit_factor(role, unit)
    if conv is None:
        return None
    factor, offset, ref = conv
    return _Column(index, cell, role, factor, offset, negate, unit=unit, reference=ref or ref_in_name)


def _map_columns(cells: list[str]) -> tuple[dict[str, _Column], list[str]]:
    """Assign header cells to roles; the first column of each role wins."""
    chosen: dict[str, _Column] = {}
    ignored: list[str] = []
    for i, cell in enumerate(cells):
        col = _map_column(i, cell)
        if col is None or col.role in chosen:
            if cell.strip():
                ignored.append(cell.strip())
            continue
        chosen[col.role] = col
    if "E_V" not in chosen and "E_V_applied" in chosen:
        chosen["E_V"] = chosen.pop("E_V_applied")
    elif "E_V_applied" in chosen:
        ignored.append(chosen.pop("E_V_applied").name)
    return chosen, ignored


def _useful(roles: dict[str, _Column]) -> bool:
    r = set(roles)
    return bool(r & {"E_V", "I_A", "j"}) or ("freq_Hz" in r and (
        {"Z_re_ohm", "Z_im_ohm"} <= r or {"Z_mod", "phase"} <= r))


# ----------------------------------------------------------------------------- table detection


def _cells(line: str, delimiter: str | None) -> list[str]:
    if delimiter is None:
        cells = line.split()
    elif '"' in line:
        cells = [c.strip() for c in next(csv.reader([line], delimiter=delimiter), [])]
    else:
        cells = [c.strip() for c in line.split(delimiter)]
    while cells and not cells[-1]:
        cells.pop()  # trailing delimiter (PalmSens, Excel)
    return cells


def _row_regex(delimiter: str | None) -> re.Pattern:
    """One regex for a whole data row: numbers (or empty cells) separated by ``delimiter``."""
    decimal = "." if delimiter == "," else "[.,]"
    number = rf"[+-]?(?:\d+(?:{decimal}\d*)?|{decimal}\d+)(?:[eE][+-]?\d+)?|[+-]?(?:nan|inf|infinity)"
    if delimiter is None:
        return re.compile(rf"^\s*(?:{number})(?:\s+(?:{number}))*\s*$", re.I)
    pad = "[ ]*" if delimiter == "\t" else "[ \t]*"
    cell = rf'{pad}(?:"?(?:{number})"?)?{pad}'
    return re.compile(rf"^{cell}(?:{re.escape(delimiter)}{cell})*\r?$", re.I)


def _is_numeric_row(cells: list[str], delimiter: str | None) -> bool:
    if len(cells) < 2:
        return False
    numbers = 0
    for c in cells:
        if not c:
            continue
        if not _NUMBER.match(c) or (delimiter == "," and "," in c):
            return False
        numbers += 1
    return numbers >= 2


@dataclass
class _Table:
    delimiter: str | None
    column_line: int | None  # index in lines of the column row, None if headerless
    data_start: int
    ncols: int
    columns: list[str] = field(default_factory=list)


def _find_table(lines: list[str]) -> _Table | None:
    """Locate the data block: the longest run of numeric rows of equal width."""
    best: tuple[int, int, _Table] | None = None
    # 0: a line to classify, 1: blank, 2: a comment (ends a run of rows)
    kinds = [1 if not line.strip() else 2 if line.lstrip().startswith("#") else 0 for line in lines]
    # A line's cells and whether they are numbers do not depend on its digits: each line
    # shape (runs of digits written as one 0) is classified once per delimiter.
    shapes = line_shapes(lines)
    for rank, delimiter in enumerate(_DELIMITERS):
        run_start, run_len, run_width = None, 0, 0
        best_here: tuple[int, int, int] | None = None  # (length, start, width)
        classified: dict[bytes, tuple[bool, int]] = {}
        for i, kind in enumerate(kinds):
            if kind:
                if kind == 2 and run_len:
                    run_start, run_len = None, 0
                continue
            found = classified.get(shapes[i])
            if found is None:
                cells = _cells(shapes[i].decode("utf-8", "surrogatepass"), delimiter)
                found = classified[shapes[i]] = (_is_numeric_row(cells, delimiter), len(cells))
            numeric, width = found
            if numeric:
                if run_len and width == run_width:
                    run_len += 1
                else:
                    run_start, run_len, run_width = i, 1, width
                if best_here is None or run_len >= best_here[0]:
                    best_here = (run_len, run_start, run_width)
            else:
                run_start, run_len = None, 0
        if best_here is None:
            continue
        length, start, width = best_here
        score = (length, -rank)
        if best is None or score > (best[0], best[1]):
            best = (length, -rank, _Table(delimiter, None, start, width))
    if best is None:
        return None
    table = best[2]
    _attach_column_row(lines, table)
    _first_copy_of_header(lines, table)
    return table


def _first_copy_of_header(lines: list[str], table: _Table) -> None:
    """Start the table at the first copy of its column row, when the export repeats it.

    Some programs repeat the column names inside the table (a page or a measurement
    loop); the longest run of rows then starts after the last copy, and the rows above
    it would be lost. The copies inside the data are skipped (and counted) by the parser.
    """
    if table.column_line is None:
        return
    header = lines[table.column_line].strip()
    offset = table.data_start - table.column_line
    row_re = _row_regex(table.delimiter)
    for j in range(table.column_line):
        start = j + offset
        if lines[j].strip() == header and start < len(lines) and row_re.match(lines[start]) \
                and len(_cells(lines[start], table.delimiter)) == table.ncols:
            table.column_line, table.data_start = j, start
            return


def _header_cells(line: str, delimiter: str | None) -> list[str]:
    text = line.strip()
    if text.startswith("#"):
        text = text.lstrip("#").strip()
    cells = _cells(text, delimiter)
    return [c.strip().strip('"').strip() for c in cells]


def _attach_column_row(lines: list[str], table: _Table) -> None:
    """Find the column row right above the data (blank lines skipped)."""
    i = table.data_start - 1
    while i >= 0 and not lines[i].strip():
        i -= 1
    if i < 0:
        return
    line = lines[i]
    if line.strip().startswith("#") and re.match(r"^#\s*[^:,;\t]+:\s", line.strip()):
        return  # a "# key: value" line, not a column row
    cells = _header_cells(line, table.delimiter)
    if table.delimiter is None and len(cells) != table.ncols:
        cells = [c for c in re.split(r"\t|\s{2,}", line.strip().lstrip("#").strip()) if c]
    if len(cells) != table.ncols or any(_NUMBER.match(c) for c in cells if c):
        return
    # Two-line headers: names, then units ("Time,Potential" / "s,V").
    if i > 0 and all(_is_unit_only(c) for c in cells if c):
        names = _header_cells(lines[i - 1], table.delimiter)
        if len(names) == len(cells):
            cells = [f"{n}/{u}" if u else n for n, u in zip(names, cells)]
            i -= 1
    table.column_line = i if cells else None
    table.columns = cells


def _is_unit_only(cell: str) -> bool:
    u = _norm_unit(cell)
    if not u:
        return False
    return (
        any(_prefixed(u, base) is not None for base in ("V", "A", "Hz", "Ohm"))
        or _time_factor(u) is not None
        or _temperature(u) is not None
        or _density_factor(u) is not None
        or u.lower() in ("deg", "°", "rad")
    )


def _owner(text: str) -> str | None:
    lines = text.splitlines()
    head = "\n".join(lines[:60])
    start = head.lstrip("\ufeff \r\n\x00")
    if start.startswith("EXPLAIN"):
        return "Gamry"
    first = start.splitlines()[0] if start else ""
    if [c.strip().lower() for c in first.split("\t")][:3] == ["frequency", "zre", "zimg"]:
        return "PowerSuite"
    for marker, vendor in _VENDOR_MARKERS:
        if marker in head:
            return vendor
    return None


def _lines(text: str) -> list[str]:
    return text.lstrip("\ufeff").splitlines()


def sniff(raw: bytes, name: str) -> bool:
    """A delimited table whose column row names quantities we know, or a headerless numeric table.

    Refuses binary files, files carrying another vendor's marker, and tables whose
    columns are all unknown.
    """
    if is_binary(raw):
        return False
    text = head_text(raw, _HEAD_BYTES)
    if text.startswith(CANONICAL_MARKER) or text.lstrip("\ufeff").startswith(CANONICAL_MARKER):
        return True
    if _owner(text) is not None:
        return False
    lines = _lines(text)
    if len(raw) > _HEAD_BYTES and len(lines) > 1:
        lines = lines[:-1]  # possibly cut in the middle
    table = _find_table(lines)
    if table is None:
        return False
    if table.column_line is None:
        return True  # headerless: parse decides (EIS layout or an error asking for headers)
    roles, _ = _map_columns(table.columns)
    return _useful(roles)


# ----------------------------------------------------------------------------- header metadata


def _json_value(text: str):
    try:
        return json.loads(text)
    except (ValueError, TypeError):
        return text


def _canonical_header(lines: list[str]) -> tuple[dict, int]:
    """Meta from ``# key: value`` lines after the marker; returns (meta, index of first other line)."""
    meta: dict = {}
    i = 1
    while i < len(lines) and lines[i].startswith("#"):
        body = lines[i][1:]
        body = body[1:] if body.startswith(" ") else body
        if ":" in body:
            key, _, value = body.partition(":")
            value = value[1:] if value.startswith(" ") else value
            meta[key] = _json_value(value)
        i += 1
    for key in PROVENANCE_KEYS:
        if key in meta:
            value = meta.pop(key)
            meta.setdefault(f"origin_{key}", value)
    meta["canonical_csv"] = 1
    return meta, i


_KV = re.compile(r"^\s*#?\s*(?P<key>[^:=,;\t]*[A-Za-z][^:=,;\t]*?)\s*(?::|=|,|;|\t)\s*(?P<value>.*?)\s*[,;\t]*$")
_NUM = r"[-+]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][-+]?\d+)?"


def _quantity(value: str, key: str) -> tuple[float, str] | None:
    """Number and unit from ``"50 mV/s"`` or from the key's unit (``Scan rate (mV/s)``, ``"50"``)."""
    m = re.match(rf"^\s*(?P<v>{_NUM})\s*(?P<u>.*?)\s*$", value)
    if not m:
        return None
    unit = m.group("u")
    if not unit:
        km = re.search(r"[\(\[](?P<u>[^()\[\]]+)[\)\]]\s*$|/\s*(?P<u2>[^/]+)$|_(?P<u3>[A-Za-z0-9_/]+)$", key)
        if km:
            unit = km.group("u") or km.group("u2") or km.group("u3") or ""
    return to_float(m.group("v"), "," if "," in m.group("v") else "."), unit.strip()


def _header_meta(lines: list[str], meta: dict) -> None:
    header: dict[str, str] = {}
    for line in lines:
        text = line.strip()
        if not text:
            continue
        kv = _KV.match(text)
        if kv and kv.group("value"):
            key = kv.group("key").strip()
            value = kv.group("value").strip().lstrip(",;\t").strip().strip('"')
            header.setdefault(key, value)
            _interpret(key, value, meta)
        else:
            label = technique_from_label(text.lstrip("#").strip())
            if label and "technique" not in meta and len(text) < 80:
                meta["technique"] = label
                meta["technique_label"] = text.lstrip("#").strip()
    if header:
        meta["header"] = header


def _interpret(key: str, value: str, meta: dict) -> None:
    k = key.lower()
    if re.search(r"\barea\b|^area", k) and "area_cm2" not in meta:
        q = _quantity(value, key)
        if q and np.isfinite(q[0]) and q[0] > 0:
            unit = _norm_unit(q[1]).replace("^", "").replace("²", "2")
            factor = {"cm2": 1.0, "": 1.0, "mm2": 1e-2, "m2": 1e4}.get(unit.lower())
            if factor is not None:
                meta["area_cm2"] = q[0] * factor
                if not unit:
                    meta.setdefault("units_assumed", {})[key] = "cm2"
    elif re.search(r"scan\s*_?rate|sweep\s*_?rate|scanrate", k) and "scan_rate_V_s" not in meta:
        q = _quantity(value, key)
        if q and np.isfinite(q[0]):
            unit = _norm_unit(q[1]).replace(" ", "")
            factor = {"V/s": 1.0, "mV/s": 1e-3, "Vs-1": 1.0, "mVs-1": 1e-3, "V_s": 1.0, "mV_s": 1e-3}.get(unit)
            if factor is not None:
                meta["scan_rate_V_s"] = q[0] * factor
    elif re.search(r"^ref(erence)?(\s*electrode)?\.?$|reference_electrode|^re$", k):
        meta.setdefault("reference_electrode", value)
    elif re.search(r"^temp(erature)?\b|temperature", k) and "temperature_C" not in meta:
        q = _quantity(value, key)
        if q and np.isfinite(q[0]):
            t = _temperature(_norm_unit(q[1] or "C"))
            if t:
                meta["temperature_C"] = q[0] * t[0] + t[1]
    elif re.search(r"technique|method|experiment", k) and "technique" not in meta:
        label = technique_from_label(value)
        if label:
            meta["technique"] = label
            meta["technique_label"] = value
    elif re.search(r"start\s*_?time|date|timestamp", k) and "start_time" not in meta:
        parsed = _parse_datetime(value)
        if parsed:
            meta["start_time"] = parsed


def _parse_datetime(value: str) -> str | None:
    text = value.strip()
    try:
        return datetime.fromisoformat(text).isoformat()
    except ValueError:
        pass
    for fmt in ("%Y/%m/%d %H:%M:%S", "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, fmt).isoformat()
        except ValueError:
            continue
    return None


# ----------------------------------------------------------------------------- parsing


def _looks_log_spaced(freq: np.ndarray) -> bool:
    """Positive, strictly monotonic, at least a decade, and uniform steps in log10(f)."""
    f = freq[np.isfinite(freq)]
    if f.size < 5 or f.size != freq.size or np.any(f <= 0):
        return False
    d = np.diff(np.log10(f))
    if not (np.all(d > 0) or np.all(d < 0)):
        return False
    if np.log10(f.max() / f.min()) < 1.0:
        return False
    steps = np.abs(d)
    return float(np.median(np.abs(steps - np.median(steps)))) < 0.25 * float(np.median(steps))


def _sign_rule(values: np.ndarray, col: _Column, label: str, meta: dict) -> np.ndarray:
    """Apply the documented sign rule to Z'' or the phase; records what was done."""
    if col.role in COLUMNS and col.unit == "canonical":
        return values
    if col.negate:
        meta.setdefault("z_im_sign", f"column {col.name!r} negated (it holds -{label})")
        return -values
    nonzero = values[np.isfinite(values) & (values != 0)]
    positive = int(np.sum(nonzero > 0))
    if nonzero.size and positive > 2 * nonzero.size / 3:
        meta["z_im_sign_assumed"] = (
            f"column {col.name!r} is positive at {positive} of {nonzero.size} points: read as -{label} "
            "(capacitive arc written positive) and negated; rename the column with a leading minus, "
            "or to Z_im_ohm, to state the convention"
        )
        meta["warnings"] = list(meta.get("warnings") or []) + [meta["z_im_sign_assumed"]]
        return -values
    meta.setdefault("z_im_sign", f"column {col.name!r} taken with its physical sign (as written)")
    return values


def parse(raw: bytes, name: str) -> Measurement:
    text = decode(raw)
    lines = _lines(text)
    meta: dict = {}
    if lines and lines[0].startswith(CANONICAL_MARKER):
        meta, i = _canonical_header(lines)
        while i < len(lines) and not lines[i].strip():
            i += 1
        if i >= len(lines):
            raise EmptyDataError(f"{name}: canonical CSV has a header but no column row")
        columns = _cells(lines[i], ",")
        table = _Table(",", i, i + 1, len(columns), columns)
    else:
        # The layout is decided on the head; every later line is then read with it.
        table = _find_table(lines[:_DETECT_LINES])
    if table is None:
        raise UnknownFormatError(
            f"{name}: no delimited numeric table found; export the data as CSV with one column row "
            "such as 'E/V,I/A' or 'freq/Hz,Re(Z)/Ohm,-Im(Z)/Ohm'"
        )
    header_end = table.column_line if table.column_line is not None else table.data_start
    if not meta.get("canonical_csv"):
        _header_meta(lines[:header_end], meta)

    numeric: list[list[str]] = []
    skipped: list[str] = []
    row_re = _row_regex(table.delimiter)
    pad = [""] * table.ncols
    for line in lines[table.data_start:]:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if row_re.match(line):
            cells = _cells(line, table.delimiter)
            if len(cells) <= table.ncols:
                if cells:
                    numeric.append(cells + pad[len(cells):])
                continue
        skipped.append(line)
    if skipped:
        # Footers, repeated headers, notes: reported, never silently dropped.
        meta["lines_skipped"] = {"count": len(skipped), "first": skipped[0][:120]}
    if not numeric:
        raise EmptyDataError(f"{name}: table has a column row but no numeric data rows")
    decimal = "."
    if table.delimiter != ",":
        decimal = guess_decimal(["\t".join(r) for r in numeric[:200]], "\t")
    if decimal == ",":
        meta["decimal"] = ","
    ncols = table.ncols
    matrix = _to_matrix(numeric, ncols, decimal)
    canonical = bool(meta.get("canonical_csv"))
    if not canonical:
        meta["delimiter"] = {"\t": "tab", ";": "semicolon", ",": "comma", None: "whitespace"}[table.delimiter]

    if table.column_line is None:
        return _headerless(matrix, name, meta)
    roles, ignored = _map_columns(table.columns)
    if canonical and len(roles) != len(table.columns):
        raise ReaderError(f"{name}: canonical CSV has non-canonical columns {ignored}; it was edited")
    if not canonical and not _useful(roles):
        raise UnknownFormatError(
            f"{name}: the {len(table.columns)} column names of line {table.column_line + 1} name no potential, "
            "current or impedance quantity we know; "
            "name them e.g. 'time/s, E/V, I/A' or 'freq/Hz, Re(Z)/Ohm, -Im(Z)/Ohm' (units after a slash)"
        )
    if ignored:
        meta["columns_ignored"] = ignored
    return _build(matrix, roles, name, meta, annotate=not canonical)


def _to_matrix(rows: list[list[str]], ncols: int, decimal: str) -> np.ndarray:
    """Float matrix of the padded cell rows; empty cells are NaN.

    numpy's string-to-float conversion is correctly rounded, so ``repr`` output reads
    back to the same double; cells numpy refuses fall back to :func:`to_float`.
    """
    flat = [c or "nan" for r in rows for c in r]
    if decimal == ",":
        flat = [c.replace(",", ".") for c in flat]
    try:
        return np.array(flat, dtype=str).astype(np.float64).reshape(len(rows), ncols)
    except ValueError:
        return np.array([to_float(c) for c in flat], dtype=float).reshape(len(rows), ncols)


def _headerless(matrix: np.ndarray, name: str, meta: dict) -> Measurement:
    if matrix.shape[1] != 3 or not _looks_log_spaced(matrix[:, 0]):
        raise UnknownFormatError(
            f"{name}: a table of {matrix.shape[1]} numeric columns without column names; "
            "add a column row such as 'time/s,E/V,I/A' or 'freq/Hz,Re(Z)/Ohm,-Im(Z)/Ohm' "
            "(only a 3-column frequency, Z', Z'' table with log-spaced frequencies is read without one)"
        )
    meta["columns_assumed"] = "no column row: frequency (Hz), Z' (ohm), Z'' (ohm), as impedance.py's saveCSV writes"
    col = _Column(2, "column 3 (Z'')", "Z_im_ohm")
    z_im = _sign_rule(matrix[:, 2], col, "Z''", meta)
    data = canonical_frame({"freq_Hz": matrix[:, 0], "Z_re_ohm": matrix[:, 1], "Z_im_ohm": z_im})
    return Measurement(data=data, meta=meta)


def _build(matrix: np.ndarray, roles: dict[str, _Column], name: str, meta: dict, annotate: bool = True) -> Measurement:
    for col in roles.values():
        if col.problem:
            raise ReaderError(f"{name}: {col.problem}")
    out: dict[str, np.ndarray] = {}
    assumed = {c.name: c.unit_assumed for c in roles.values() if c.unit_assumed}
    if assumed:
        meta["units_assumed"] = {**meta.get("units_assumed", {}), **assumed}
    if annotate:
        meta["columns_used"] = {c.role: c.name for c in roles.values()}

    def values(col: _Column) -> np.ndarray:
        return matrix[:, col.index] * col.factor + col.offset

    for role in ("time_s", "E_V", "I_A", "freq_Hz", "Z_re_ohm", "temperature_C"):
        if role in roles:
            v = values(roles[role])
            out[role] = -v if roles[role].negate else v
            if roles[role].negate and role == "Z_re_ohm":
                meta["z_re_sign"] = f"column {roles[role].name!r} negated (it holds -Z')"
    if "E_V" in roles and roles["E_V"].reference:
        meta.setdefault("reference_electrode", roles["E_V"].reference)
    if "I_A" not in roles and "j" in roles:
        area = meta.get("area_cm2")
        col = roles["j"]
        if not (isinstance(area, (int, float)) and area > 0):
            raise ReaderError(
                f"{name}: column {col.name!r} is a current density, and the file states no electrode area; "
                "add a header line 'area_cm2: <area>' above the table, or export the current (A) instead"
            )
        out["I_A"] = values(col) * area
        meta["current_from_density"] = f"I_A = {col.name} x area_cm2 ({area} cm2 from the file header)"
    if "cycle" in roles:
        c = matrix[:, roles["cycle"].index]
        if np.any(~np.isfinite(c)) or np.any(c != np.round(c)):
            raise ReaderError(f"{name}: cycle column {roles['cycle'].name!r} has empty or non-integer cells")
        out["cycle"] = c.astype(np.int64)
    if "Z_im_ohm" in roles:
        out["Z_im_ohm"] = _sign_rule(values(roles["Z_im_ohm"]), roles["Z_im_ohm"], "Z''", meta)
    elif {"Z_mod", "phase"} <= set(roles) and "freq_Hz" in out:
        modulus = values(roles["Z_mod"])
        phase_deg = _sign_rule(values(roles["phase"]), roles["phase"], "phase", meta)
        phi = np.deg2rad(phase_deg)
        out.setdefault("Z_re_ohm", modulus * np.cos(phi))
        out["Z_im_ohm"] = modulus * np.sin(phi)
        meta["impedance_from"] = f"Re = |Z| cos(phase), Im = |Z| sin(phase) from {roles['Z_mod'].name!r}, {roles['phase'].name!r}"
    impedance = {"freq_Hz", "Z_re_ohm", "Z_im_ohm"}
    if impedance & set(out) and not impedance <= set(out):
        missing = sorted(impedance - set(out))
        raise ReaderError(
            f"{name}: impedance table lacks {missing}; give frequency, Re(Z) and Im(Z) (or |Z| and phase)"
        )
    return Measurement(data=canonical_frame(out), meta=meta)
