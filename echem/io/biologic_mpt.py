"""BioLogic EC-Lab / BT-Lab ASCII export (``.mpt``).

Layout (as EC-Lab writes it)::

    EC-Lab ASCII FILE
    Nb header lines : 66            <- N: the column line is line N (1-based)
                                    <- blank
    Linear Sweep Voltammetry        <- technique label
                                    <- blank
    Key : value lines               <- run settings (area, reference, start time, ...)
    dE/dt               20.000      <- technique parameters, 20-character columns,
    dE/dt unit          mV/s           one column per sequence (Ns)
    ...
    mode<TAB>ox/red<TAB>...<TAB>     <- column line (line N), tab separated
    2<TAB>0<TAB>...                 <- data, one row per line

EC-Lab can also export without the header: then the file starts directly with
the column line. The file is Windows-1252 text with CRLF line ends; on a PC whose
locale uses a decimal comma every number, in the header and the data, uses it
(``0,001 cm²``, ``3,2896E+000``). The header words stay English: files written by
German and Danish installations (public examples: m0l0t0ph/thesis ``.mpl`` logs,
ixdat ``Pt_poly_cv_CUT.mpt``) keep ``Electrode surface area``, ``Reference
electrode`` etc. and only change numbers and, for some, the date separators.

Canonical columns (see :mod:`echem.measurement`):

=============================  ======================  =======================
EC-Lab column                  canonical               conversion
=============================  ======================  =======================
``time/s``                     ``time_s``
``Ewe/V`` (else ``<Ewe>/V``)   ``E_V``                 mV columns / 1000
``<I>/mA`` (else ``I/mA``)     ``I_A``                 I_A = I_mA / 1000
``cycle number``               ``cycle``               int; EIS: spectrum index
``freq/Hz``                    ``freq_Hz``
``Re(Z)/Ohm``                  ``Z_re_ohm``
``-Im(Z)/Ohm``                 ``Z_im_ohm``            Z_im = -(-Im(Z))
``Temperature/°C``             ``temperature_C``
=============================  ======================  =======================

``Ewe`` is the potential at the time of the point and ``<I>`` the current averaged
over the point, the pair EC-Lab plots by default; ``meta["columns_used"]`` names
the vendor columns actually taken.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import numpy as np

from echem.errors import EmptyDataError, ReaderError
from echem.io import _long
from echem.io._spectra import spectrum_starts  # noqa: F401 - kept importable from here
from echem.io._text import (column_floats, decode, guess_decimal, head_text, split_lines, table_columns,
                            technique_from_label)
from echem.measurement import Measurement, canonical_frame

FORMAT = "biologic-mpt"
VENDOR = "BioLogic"

MAGIC_LINES = ("EC-Lab ASCII FILE", "BT-Lab ASCII FILE")

# Column names only EC-Lab writes; one of them (plus a tab) marks a headerless export.
_ECLAB_ONLY_COLUMNS = frozenset(
    {
        "Ewe/V",
        "<Ewe>/V",
        "<I>/mA",
        "ox/red",
        "control changes",
        "Ns changes",
        "counter inc.",
        "control/V",
        "control/mA",
        "control/V/mA",
        "(Q-Qo)/C",
        "(Q-Qo)/mA.h",
        "I Range",
        "Ewe-Ece/V",
        "|Ewe|/V",
    }
)

# (vendor name, scale to SI) in order of preference, per canonical column.
_COLUMN_CANDIDATES: dict[str, tuple[tuple[str, float], ...]] = {
    "time_s": (("time/s", 1.0),),
    "E_V": (
        ("Ewe/V", 1.0),
        ("<Ewe>/V", 1.0),
        ("<Ewe/V>", 1.0),
        ("Ewe/mV", 1e-3),
        ("<Ewe>/mV", 1e-3),
        ("Ecell/V", 1.0),
        ("<Ecell>/V", 1.0),
    ),
    "I_A": (
        ("<I>/mA", 1e-3),
        ("I/mA", 1e-3),
        ("<I>/A", 1.0),
        ("I/A", 1.0),
        ("<I>/µA", 1e-6),
        ("I/µA", 1e-6),
        ("<I>/uA", 1e-6),
        ("I/uA", 1e-6),
    ),
    "freq_Hz": (("freq/Hz", 1.0),),
    "Z_re_ohm": (("Re(Z)/Ohm", 1.0),),
    # EC-Lab writes -Im(Z); the canonical column carries the physical sign.
    "Z_im_ohm": (("-Im(Z)/Ohm", -1.0), ("Im(Z)/Ohm", 1.0)),
    "temperature_C": (("Temperature/°C", 1.0), ("Temperature/C", 1.0)),
}

_CYCLE_COLUMN = "cycle number"

#: Vendor columns read besides the canonical candidates: the cycle counter, the charge per
#: point (current of GCPL .mpr), |Z| and phase (Modulo Bat .mpr) and the counter-electrode
#: potentials (a check of Ewe).
_AUX_COLUMNS = frozenset({_CYCLE_COLUMN, "dq/mA.h", "|Z|/Ohm", "Phase(Z)/deg", "Ewe-Ece/V", "<Ewe-Ece>/V",
                          "<Ece>/V", "Ece/V"})

#: EC-Lab techniques by the label the .mpt header writes (the .mpr names them by ID, see
#: :data:`echem.io.biologic_mpr.TECHNIQUE_IDS`): (EC-Lab's short name, technique the
#: workflow analyses). ``None``: the technique is named in ``meta["technique_label"]`` and
#: not analysed (battery cycling, waits). A Modulo Bat run with impedance points is read
#: as EIS (its spectra are analysed), without them it is not analysed; so .mpr and .mpt
#: of one run always get the same technique.
ECLAB_TECHNIQUES: dict[str, tuple[str, str | None]] = {
    "Linear Sweep Voltammetry": ("LSV", "LSV"),
    "Cyclic Voltammetry": ("CV", "CV"),
    "Cyclic Voltammetry Advanced": ("CVA", "CV"),
    "Chronoamperometry / Chronocoulometry": ("CA", "CA"),
    "Chronopotentiometry": ("CP", "CP"),
    "Open Circuit Voltage": ("OCV", "OCV"),
    "Potentio Electrochemical Impedance Spectroscopy": ("PEIS", "EIS"),
    "Galvano Electrochemical Impedance Spectroscopy": ("GEIS", "EIS"),
    "IR compensation (PEIS)": ("ZIR", "EIS"),
    "Galvanostatic Cycling with Potential Limitation": ("GCPL", None),
    "Battery Capacity Determination": ("BCD", None),
    "Modulo Bat": ("MB", None),
    "Constant Current": ("coC", None),
    "Constant Voltage": ("coV", None),
    "Modular Potentio": ("MP", None),
    "Wait": ("WAIT", None),
}

#: Columns only battery-cycling techniques write (GCPL, BCD, MB, ...): a headerless export
#: with them and no impedance is not a sweep or a hold, whatever its data look like.
_BATTERY_COLUMNS = frozenset({"half cycle", "Q charge/discharge/mA.h", "Capacity/mA.h", "Efficiency/%",
                              "Energy charge/W.h", "Energy discharge/W.h", "Q discharge/mA.h",
                              "Q charge/mA.h", "z cycle"})


def technique_meta(label: str) -> dict[str, Any]:
    """``technique_label`` and, for a technique the workflow analyses, ``technique``."""
    meta: dict[str, Any] = {"technique_label": label}
    if label in ECLAB_TECHNIQUES:
        code, technique = ECLAB_TECHNIQUES[label]
        meta["technique_code"] = code
    else:
        technique = technique_from_label(label)
    if technique:
        meta["technique"] = technique
    return meta


# --------------------------------------------------------------------------- sniff


def _looks_like_column_line(line: str) -> bool:
    if "\t" not in line:
        return False
    names = {c.strip() for c in line.split("\t")}
    return bool(names & _ECLAB_ONLY_COLUMNS)


def sniff(raw: bytes, name: str) -> bool:
    """EC-Lab magic first line, or (headerless export) a tab-separated EC-Lab column line."""
    head = head_text(raw, 4096).lstrip("\ufeff")
    lines = [line for line in re.split(r"\r\n|\r|\n", head)[:3]]
    if not lines:
        return False
    if lines[0].strip() in MAGIC_LINES:
        return True
    first = next((line for line in lines if line.strip()), "")
    return _looks_like_column_line(first)


# --------------------------------------------------------------------------- helpers shared with .mpr


def split_reference(text: str, decimal: str = ".") -> dict[str, Any]:
    """Split EC-Lab's reference electrode text into name and potential.

    ``"SCE Saturated Calomel Electrode (0.241 V)"`` gives ``reference_electrode``
    ``"SCE"``, ``reference_E_V`` 0.241 (EC-Lab states the potential vs SHE) and
    ``reference_electrode_label`` with the full text. The short name is the first
    word only when it is the initials of the words after it (``SCE`` = Saturated
    Calomel Electrode); otherwise the name is kept whole (``Ag/AgCl 3M``,
    ``Li+/Li``). ``(unspecified)`` and empty text give an empty dict.
    """
    text = text.strip()
    if not text or text.lower() in ("(unspecified)", "unspecified", "none", "<none>"):
        return {}
    out: dict[str, Any] = {"reference_electrode_label": text}
    name = text
    m = re.match(r"^(.*?)\s*\(\s*([-+]?\d+(?:[.,]\d*)?)\s*V\s*\)\s*$", text)
    if m:
        name = m.group(1).strip()
        out["reference_E_V"] = float(m.group(2).replace(",", "."))
    words = name.split()
    if len(words) >= 3 and words[0].upper() == "".join(w[0] for w in words[1:]).upper():
        name = words[0]
    if name:
        out["reference_electrode"] = name
    return out


def select_columns(columns: Mapping[str, np.ndarray]) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Pick and convert vendor columns to canonical SI columns.

    Returns the canonical arrays and, for each, the vendor column it came from.
    ``cycle`` is not handled here (see :func:`build_measurement`).
    """
    out: dict[str, np.ndarray] = {}
    used: dict[str, str] = {}
    for canonical, candidates in _COLUMN_CANDIDATES.items():
        for vendor, scale in candidates:
            if vendor in columns:
                values = np.asarray(columns[vendor], dtype=float)
                out[canonical] = values * scale if scale != 1.0 else values  # (no copy of a long column)
                used[canonical] = vendor
                break
    return out, used


def cycle_ints(values: np.ndarray, what: str) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    # a counter is a whole number of modest size; anything else is a damaged cell
    good = np.isfinite(values) & (np.abs(values) < 2**31)
    if not np.all(good):
        bad = int(np.flatnonzero(~good)[0])
        raise ReaderError(
            f"the '{what}' column has an unreadable value at data row {bad + 1}; "
            "the file may be damaged, re-export it from EC-Lab"
        )
    return np.rint(values).astype(np.int64)


def _warn(meta: dict[str, Any], text: str) -> None:
    meta["warnings"] = list(meta.get("warnings") or []) + [text]


def _current_from_charge(columns: Mapping[str, np.ndarray], canonical: dict, used: dict) -> None:
    """``I = dq/Δt`` for files that store the charge per point but no current (GCPL .mpr).

    EC-Lab's .mpt export of such a run has ``<I>/mA``, and it is exactly this: ``dq/mA.h``
    × 3600 over the time step (checked to 1e-15 on the corpus GCPL pairs; the first point,
    with dq = 0, is 0 there too).
    """
    if "I_A" in canonical or "dq/mA.h" not in columns or "time/s" not in columns:
        return
    dq = np.asarray(columns["dq/mA.h"], dtype=float) * 3.6  # mA.h -> C
    t = np.asarray(columns["time/s"], dtype=float)
    if dq.size == 0:
        return
    dt = np.empty_like(t)
    dt[1:] = np.diff(t)
    dt[0] = dt[1] if t.size > 1 else np.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        current = np.where(dq == 0, 0.0, dq / dt)
    if not np.all(np.isfinite(current)):
        return  # repeated time stamps: no current rather than an invented one
    canonical["I_A"] = current
    used["I_A"] = "dq/mA.h / time step (as EC-Lab's <I>/mA export)"


def _impedance_from_polar(columns: Mapping[str, np.ndarray], canonical: dict, used: dict) -> None:
    """Z' and Z'' from ``|Z|/Ohm`` and ``Phase(Z)/deg`` (Modulo Bat .mpr stores only these).

    EC-Lab's ``Phase(Z)`` has the physical sign (negative on a capacitive arc, the sign of
    ``-(-Im(Z))``), so ``Z' = |Z| cos φ`` and ``Z'' = |Z| sin φ``; the .mpt export of the same
    run has Re(Z) and -Im(Z) equal to these within float32 precision.
    """
    if "freq_Hz" not in canonical or "Z_re_ohm" in canonical or "Z_im_ohm" in canonical:
        return
    if "|Z|/Ohm" not in columns or "Phase(Z)/deg" not in columns:
        return
    modulus = np.asarray(columns["|Z|/Ohm"], dtype=float)
    phase = np.deg2rad(np.asarray(columns["Phase(Z)/deg"], dtype=float))
    canonical["Z_re_ohm"] = modulus * np.cos(phase)
    canonical["Z_im_ohm"] = modulus * np.sin(phase)
    used["Z_re_ohm"] = "|Z|/Ohm * cos(Phase(Z)/deg)"
    used["Z_im_ohm"] = "|Z|/Ohm * sin(Phase(Z)/deg)"


#: (potential column, Ewe-Ece column, Ece column) that hold Ewe = (Ewe-Ece) + Ece.
_POTENTIAL_PARTS = (("<Ewe>/V", "<Ewe-Ece>/V", "<Ece>/V"), ("<Ewe>/V", "Ewe-Ece/V", "<Ece>/V"),
                    ("Ewe/V", "Ewe-Ece/V", "Ece/V"), ("<Ewe>/V", "Ewe-Ece/V", "Ece/V"),
                    ("Ewe/V", "Ewe-Ece/V", "<Ece>/V"))


def _potential_check(columns: Mapping[str, np.ndarray], canonical: dict, used: dict, meta: dict) -> None:
    """Rows where EC-Lab wrote Ewe as exactly 0 although Ewe-Ece and Ece say otherwise.

    Some EC-Lab exports hold ``<Ewe>/V`` = 0.0 on most rows of a run whose cell was at
    several volts (yadg's ``test_extract/cp.mpt``: 117 of 121 rows, while ``P/W``,
    ``Ewe-Ece/V`` and ``<Ece>/V`` in the same rows imply -3.4 V, and the export of the same
    run in ``cp.mpt`` has the real values). When the file also records ``Ewe-Ece`` and
    ``Ece``, and on the rows with a non-zero Ewe the three agree (Ewe = (Ewe-Ece) + Ece
    within 1 mV), the zero rows are rebuilt from the other two and a warning says so.
    Otherwise the values are kept and the warning says that E is 0 on those rows.
    """
    source = used.get("E_V")
    if source is None or "E_V" not in canonical:
        return
    E = canonical["E_V"]
    zero = E == 0
    if not zero.any() or zero.all() and E.size < 2:
        return
    for name, diff_name, ece_name in _POTENTIAL_PARTS:
        if name != source or diff_name not in columns or ece_name not in columns:
            continue
        rebuilt = np.asarray(columns[diff_name], dtype=float) + np.asarray(columns[ece_name], dtype=float)
        suspicious = zero & (np.abs(rebuilt) > 1e-3)
        if not suspicious.any():
            return
        good = ~zero & np.isfinite(E) & np.isfinite(rebuilt)
        if good.sum() >= 2 and np.max(np.abs(E[good] - rebuilt[good])) < 1e-3:
            E = E.copy()
            E[suspicious] = rebuilt[suspicious]
            canonical["E_V"] = E
            used["E_V"] = f"{source} ({diff_name} + {ece_name} on {int(suspicious.sum())} rows where {source} is 0)"
            _warn(meta, f"{source} is exactly 0 on {int(suspicious.sum())} of {E.size} rows although "
                        f"{diff_name} + {ece_name} give up to {np.max(np.abs(rebuilt[suspicious])):.3g} V there "
                        f"(and agree with {source} on the other rows): E_V on those rows is {diff_name} + "
                        f"{ece_name}. The export is faulty; export the run again from EC-Lab")
        else:
            _warn(meta, f"{source} is exactly 0 on {int(suspicious.sum())} of {E.size} rows although "
                        f"{diff_name} + {ece_name} are not; the values are kept as written. Check the export")
        return


def build_measurement(columns: Mapping[str, np.ndarray], meta: dict[str, Any]) -> Measurement:
    """Canonical :class:`Measurement` from vendor-named columns (shared by .mpt and .mpr).

    ``cycle`` is EC-Lab's ``cycle number`` as written; for impedance data the registry
    (:func:`echem.io._finish`) turns it into the spectrum number.
    """
    canonical, used = select_columns(columns)
    _current_from_charge(columns, canonical, used)
    _impedance_from_polar(columns, canonical, used)
    _potential_check(columns, canonical, used, meta)
    if used.get("E_V", "").startswith(("Ecell", "<Ecell>")):
        _warn(meta, f"E_V is the cell voltage {used['E_V']} (Ewe - Ece): the file records no working "
                    "electrode potential against a reference")
    if _CYCLE_COLUMN in columns:
        canonical["cycle"] = cycle_ints(columns[_CYCLE_COLUMN], _CYCLE_COLUMN)
        used["cycle"] = _CYCLE_COLUMN
    if "temperature_C" in canonical:
        t = canonical["temperature_C"][np.isfinite(canonical["temperature_C"])]
        if t.size:
            meta["temperature_C"] = float(np.mean(t))
    meta["columns_used"] = used
    return Measurement(data=canonical_frame(canonical), meta=meta)


# --------------------------------------------------------------------------- header


_UNIT_SCALE_V_S = {"V/s": 1.0, "mV/s": 1e-3, "µV/s": 1e-6, "uV/s": 1e-6, "mV/min": 1e-3 / 60, "V/min": 1 / 60}


def _number(text: str, decimal: str) -> float:
    m = re.match(r"^\s*([-+]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][-+]?\d+)?)", text)
    if not m:
        return float("nan")
    s = m.group(1)
    if decimal == ",":
        s = s.replace(",", ".")
    try:
        return float(s)
    except ValueError:
        return float("nan")


def parse_eclab_datetime(text: str) -> str | None:
    """ISO 8601 from EC-Lab's ``Acquisition started on`` value, or None if ambiguous.

    EC-Lab writes ``MM/DD/YYYY HH:MM:SS[.fff]`` with slashes, whatever the decimal
    mark (yadg and galvani parse it the same way; the corpus files' own names
    confirm the order). A first field above 12 can only be a day. Dates with dots or
    dashes follow the PC's locale, so they are read only when unambiguous.
    """
    m = re.match(
        r"^\s*(\d{1,2})([/.\-])(\d{1,2})\2(\d{4})\s+(\d{1,2}):(\d{2}):(\d{2})(?:[.,](\d+))?\s*$", text
    )
    if not m:
        return None
    a, sep, b, year = int(m.group(1)), m.group(2), int(m.group(3)), int(m.group(4))
    hh, mm, ss = int(m.group(5)), int(m.group(6)), int(m.group(7))
    micro = int((m.group(8) or "0")[:6].ljust(6, "0"))
    if a > 12 and b <= 12:
        day, month = a, b
    elif b > 12 and a <= 12:
        month, day = a, b
    elif sep == "/":
        month, day = a, b
    else:
        return None
    try:
        return datetime(year, month, day, hh, mm, ss, micro).isoformat()
    except ValueError:
        return None


def _is_parameter_line(line: str) -> bool:
    # 20-character key column then values: "dE/dt               20.000      "
    return (
        len(line) > 20
        and not line[0].isspace()
        and line[19] == " "
        and " : " not in line
        and not line.startswith(("Loop ", "for DX"))
    )


def _parameters(header: Sequence[str]) -> dict[str, list[str]]:
    params: dict[str, list[str]] = {}
    previous = ""
    for line in header:
        if not _is_parameter_line(line):
            continue
        key = line[:20].strip()
        values = [line[i : i + 20].strip() for i in range(20, len(line), 20)]
        values = [v for v in values if v] or [""]
        if key == "vs." and previous:
            key = f"{previous} vs."
        else:
            previous = key
        params.setdefault(key, values)
    return params


def _key_values(header: Sequence[str]) -> dict[str, str]:
    kv: dict[str, str] = {}
    for line in header:
        stripped = line.strip()
        if " : " in stripped or stripped.endswith(" :"):
            key, _, value = stripped.partition(" :")
            key = key.strip()
            value = value.strip()
            if key and key not in kv:
                kv[key] = value
    return kv


def _one_value(values: list[str], scale: float, decimal: str) -> float | list[float] | None:
    numbers = [_number(v, decimal) * scale for v in values]
    numbers = [n for n in numbers if np.isfinite(n)]
    if not numbers:
        return None
    if all(np.isclose(n, numbers[0], rtol=1e-9, atol=0) for n in numbers):
        return numbers[0]
    return numbers


def parse_header(header: Sequence[str], decimal: str) -> dict[str, Any]:
    """Metadata from the EC-Lab header lines (everything between line 2 and the column line)."""
    meta: dict[str, Any] = {}
    # The technique label is the first non-empty line after "Nb header lines".
    label = next((line.strip() for line in header if line.strip()), "")
    if label and " : " not in label:
        meta.update(technique_meta(label))
    kv = _key_values(header)
    params = _parameters(header)

    started = kv.get("Acquisition started on")
    if started:
        meta["start_time_text"] = started
        iso = parse_eclab_datetime(started)
        if iso:
            meta["start_time"] = iso
    area = kv.get("Electrode surface area")
    if area:
        value = _number(area, decimal)
        unit = area.split()[-1] if len(area.split()) > 1 else ""
        scale = {"cm²": 1.0, "cm2": 1.0, "mm²": 0.01, "mm2": 0.01, "m²": 1e4, "m2": 1e4}.get(unit)
        # EC-Lab shows 0.000 when no area was entered: that is not an area.
        if scale is not None and np.isfinite(value) and value > 0:
            meta["area_cm2"] = value * scale
    if "Reference electrode" in kv:
        meta.update(split_reference(kv["Reference electrode"], decimal))
    mass = kv.get("Characteristic mass")
    if mass:
        value = _number(mass, decimal)
        unit = mass.split()[-1] if len(mass.split()) > 1 else ""
        scale = {"g": 1.0, "mg": 1e-3, "µg": 1e-6}.get(unit)
        if scale is not None and np.isfinite(value):
            meta["characteristic_mass_g"] = value * scale
    for key, meta_key in (
        ("Device", "instrument"),
        ("Run on channel", "channel"),
        ("Electrode material", "electrode_material"),
        ("Electrolyte", "electrolyte"),
        ("Comments", "comments"),
        ("File", "original_file"),
    ):
        if kv.get(key):
            meta[meta_key] = kv[key]
    for line in header:
        m = re.match(r"^\s*((?:EC|BT)-Lab for windows v\S+)", line, re.IGNORECASE)
        if m:
            meta["software"] = m.group(1)
            break
    if "Number of loops" in kv:
        n = _number(kv["Number of loops"], decimal)
        if np.isfinite(n):
            meta["n_loops"] = int(n)

    if "dE/dt" in params:
        unit = (params.get("dE/dt unit") or ["mV/s"])[0]
        scale = _UNIT_SCALE_V_S.get(unit)
        if scale is not None:
            rate = _one_value(params["dE/dt"], scale, decimal)
            if isinstance(rate, list):
                meta["scan_rates_V_s"] = rate
            elif rate is not None:
                meta["scan_rate_V_s"] = rate
        else:
            meta["scan_rate_text"] = f"{params['dE/dt'][0]} {unit}"
    if "Va (mV)" in params:
        amplitude = _one_value(params["Va (mV)"], 1e-3, decimal)
        if amplitude is not None:
            meta["ac_amplitude_V"] = amplitude

    # iR compensation: ZIR / "Manual IR compensation" set the level used by the
    # techniques run *after* them, so there it is a setting, not a property of this data.
    if "comp. level (%)" in params:
        level = _one_value(params["comp. level (%)"], 0.01, decimal)
        mode = (params.get("comp. mode") or [""])[0]
        sets_later = label.lower().startswith(("ir compensation", "manual ir"))
        if level is not None:
            if sets_later:
                meta["ir_compensation_setting"] = level
            else:
                meta["instrument_ir_compensation"] = level
        if mode:
            meta["ir_compensation_mode"] = mode
    if "Ru" in params:
        unit = (params.get("unit Ru") or ["Ohm"])[0]
        scale = {"Ohm": 1.0, "mOhm": 1e-3, "kOhm": 1e3}.get(unit)
        if scale is not None:
            ru = _one_value(params["Ru"], scale, decimal)
            if ru is not None:
                meta["ir_compensation_ru_ohm"] = ru
    return meta


# --------------------------------------------------------------------------- parse


def _split_lines(text: str) -> list[str]:
    lines = split_lines(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _locate(lines: list[str]) -> tuple[int, list[str]]:
    """Index of the column line and the header lines before it."""
    first = lines[0].strip().lstrip("\ufeff") if lines else ""
    if first not in MAGIC_LINES:
        start = next((i for i, line in enumerate(lines) if line.strip()), None)
        if start is None or not _looks_like_column_line(lines[start]):
            raise ReaderError(
                "not an EC-Lab .mpt: it neither starts with 'EC-Lab ASCII FILE' nor with "
                "an EC-Lab column line; re-export it from EC-Lab as text"
            )
        return start, []
    if len(lines) < 2:
        raise ReaderError(
            "the file ends after its first line; it is truncated, re-export it from EC-Lab"
        )
    m = re.match(r"^\s*Nb header lines\s*:\s*(\d+)\s*$", lines[1])
    if not m:
        raise ReaderError(
            f"line 2 should read 'Nb header lines : N' but reads {lines[1].strip()[:60]!r}; "
            "the header was edited, re-export the file from EC-Lab"
        )
    n_header = int(m.group(1))
    if n_header < 3:
        raise ReaderError(
            f"'Nb header lines : {n_header}' is impossible (at least 3: magic, count, "
            "column line); the header was edited, re-export the file from EC-Lab"
        )
    if len(lines) < n_header:
        found = next((i for i, line in enumerate(lines) if i > 1 and _looks_like_column_line(line)), None)
        hint = (
            f" The column names are on line {found + 1}: if the file was edited, set "
            f"'Nb header lines : {found + 1}'; otherwise re-export it from EC-Lab."
            if found is not None
            else " The file is truncated inside its header; re-export it from EC-Lab."
        )
        raise ReaderError(
            f"the header claims {n_header} lines but the file has only {len(lines)} lines.{hint}"
        )
    column_line = lines[n_header - 1]
    if not _plausible_column_line(column_line):
        found = next((i for i, line in enumerate(lines) if i > 1 and _looks_like_column_line(line)), None)
        where = f"they are on line {found + 1}" if found is not None else "no column line was found"
        raise ReaderError(
            f"'Nb header lines : {n_header}' puts the column names on line {n_header}, but "
            f"that line is {column_line.strip()[:60]!r} ({where}); the header was edited: "
            "correct the count or re-export the file from EC-Lab"
        )
    return n_header - 1, lines[2 : n_header - 1]


def _plausible_column_line(line: str) -> bool:
    """The line the header count points at holds column names: tab-separated names, not numbers.

    Any names are accepted there (an OCV export may have ``mode, error, time/s, <Ewe/V>``
    only, none of them EC-Lab-only); only a headerless file must show an EC-Lab column.
    """
    if "\t" not in line:
        return False
    names = [c.strip() for c in line.split("\t") if c.strip()]
    return len(names) >= 2 and not any(re.fullmatch(r"[-+]?[\d.,]+(?:[eE][-+]?\d+)?", c) for c in names)


def table_start(text: str) -> int:
    """Index of the column line (the data table starts there; the header is above it)."""
    head = text[:20000]
    lines = split_lines(head)
    if lines and lines[0].strip().lstrip("\ufeff") in MAGIC_LINES and len(lines) > 1:
        m = re.match(r"^\s*Nb header lines\s*:\s*(\d+)\s*$", lines[1])
        if m:
            return max(0, int(m.group(1)) - 1)
    return 0


def _header_decimal(header: Sequence[str]) -> str:
    values = []
    for line in header:
        if _is_parameter_line(line):
            values.extend(v.strip() for v in re.split(r"\s{2,}", line[20:]) if v.strip())
        elif " : " in line:
            values.append(line.partition(" : ")[2].split(" ")[0])
    return guess_decimal(["\t".join(values)], "\t")


def _floats(cells: list[str], decimal: str) -> np.ndarray:
    if decimal == ",":
        cells = [c.replace(",", ".") for c in cells]
    try:
        return np.array(cells, dtype=float)
    except ValueError:
        return column_floats(cells, ".")


def _column_names(line: str) -> list[str]:
    names = [c.strip() for c in line.split("\t")]
    while names and not names[-1]:
        names.pop()
    return names


def _table_meta(header: list[str], decimal: str, has_data: bool) -> dict[str, Any]:
    """The header's metadata; a ZIR or Wait export without rows is no measurement."""
    meta = parse_header(header, decimal) if header else {}
    if not header:
        meta["header"] = "none (exported without header)"
    if decimal == ",":
        meta["decimal"] = ","

    if not has_data and str(meta.get("technique_label", "")).lower().startswith("ir compensation"):
        level = meta.get("ir_compensation_setting")
        applied = (
            f" (this one set {level:.0%} compensation, mode {meta.get('ir_compensation_mode', '?')})"
            if isinstance(level, float)
            else ""
        )
        raise EmptyDataError(
            "EC-Lab ZIR (IR compensation) export with no data rows: ZIR only measures Ru to "
            f"compensate the techniques run after it{applied}. Set instrument_ir_compensation "
            "(and ru_ohm if known) in sample.yaml for those files, and move this file out of raw/"
        )
    if not has_data and meta.get("technique_code") == "WAIT":
        raise EmptyDataError("an EC-Lab 'Wait' step exported with no data rows (a Wait records none); "
                             "move the file out of raw/")
    return meta


def _names_with_values(names: list[str], width: int, meta: dict[str, Any]) -> list[str]:
    """Every row has ``width`` < ``len(names)`` values: EC-Lab wrote names for columns it wrote
    no values for (PEIS with Ewe-Ece recorded: an empty name and "Ewe-Ece/V" after the last
    value). A cut file has one short row at its end, never all of them."""
    extra = names[width:]
    _warn(meta, f"the column row names {len(names)} columns but every data row has {width} values: "
                f"{', '.join(repr(n) for n in extra)} have no values in this export and are left out")
    return names[:width]


def _short_row(line_no: int, n: int, n_cols: int) -> ReaderError:
    return ReaderError(
        f"data line {line_no} has {n} of {n_cols} values; the file is "
        "truncated or was edited, re-export it from EC-Lab"
    )


#: Vendor columns a reader converts: the canonical candidates and the auxiliary columns.
_WANTED = frozenset({vendor for cands in _COLUMN_CANDIDATES.values() for vendor, _ in cands} | _AUX_COLUMNS)


def _read_columns(names: Sequence[str]) -> list[tuple[int, str]]:
    """(index, name) of the columns converted: the first of duplicated names (e.g. <I>/mA twice)."""
    out: list[tuple[int, str]] = []
    for j, col in enumerate(names):
        if col in _WANTED and all(col != c for _, c in out):
            out.append((j, col))
    return out


def _measurement(names: list[str], columns: dict[str, np.ndarray], meta: dict[str, Any],
                 header: list[str]) -> Measurement:
    if not ({"E_V", "I_A", "freq_Hz"} & set(select_columns(columns)[0])):
        raise ReaderError(
            f"no potential, current or frequency column among {names[:12]}; "
            "export Ewe/V, <I>/mA (or freq/Hz, Re(Z)/Ohm, -Im(Z)/Ohm) from EC-Lab"
        )
    if not header and "freq/Hz" not in columns and _BATTERY_COLUMNS & set(names):
        meta["technique"] = None
        meta["technique_source"] = (
            "headerless EC-Lab export with battery-cycling columns ("
            + ", ".join(sorted(_BATTERY_COLUMNS & set(names))[:3])
            + "): GCPL/BCD/Modulo Bat, not analysed by echem")
    return build_measurement(columns, meta)


def parse(raw: bytes, name: str) -> Measurement:
    """Parse an EC-Lab ``.mpt`` export into a canonical :class:`Measurement`."""
    lines = _split_lines(decode(raw))
    col_index, header = _locate(lines)
    names = _column_names(lines[col_index])
    data_lines = [line for line in lines[col_index + 1 :] if line.strip()]
    decimal = (
        guess_decimal(data_lines[:200], "\t") if data_lines else _header_decimal(header)
    )
    meta = _table_meta(header, decimal, bool(data_lines))
    n_cols = len(names)
    cells = table_columns(data_lines, "\t")  # the common case: every row as wide
    if cells is not None and len(cells) < n_cols and len(data_lines) >= 2:
        names = _names_with_values(names, len(cells), meta)
        n_cols = len(names)
    if cells is None or len(cells) < n_cols:
        rows = [line.split("\t") for line in data_lines]
        for i, row in enumerate(rows):
            if len(row) < n_cols:
                line_no = col_index + 2 + lines[col_index + 1 :].index(data_lines[i])
                raise _short_row(line_no, len(row), n_cols)
        cells = [list(column) for column in zip(*rows)]  # at least n_cols columns
    columns = {col: _floats(cells[j] if data_lines else [], decimal) for j, col in _read_columns(names)}
    return _measurement(names, columns, meta, header)


def parse_long(source: _long.Source, name: str) -> _long.Long | None:
    """:func:`parse` plus the registry's text checks for a long file, its table read in C
    (:mod:`echem.io._long`); ``None`` when that cannot be certified (then :func:`parse` runs).

    Laid out from the head with :func:`parse`'s own steps; the rows, but the last line when
    the file does not end with a line break, by :func:`echem.io._long.table`; that last line
    as :func:`parse` reads it (a row as wide as the others, or one too short to be read).
    """
    ends = _long.ends(source)
    if ends is None:
        return None
    lines = ends.head
    col_index, header = _locate(lines)
    names = _column_names(lines[col_index])
    rows_at = [i for i in range(col_index + 1, len(lines)) if lines[i].strip()]
    last = ends.last
    if len(rows_at) < 3 or (not ends.whole and len(rows_at) < 200) or (last is not None and not last.strip()):
        return None
    rows = [lines[i] for i in rows_at[:200]]
    decimal = guess_decimal(rows, "\t")
    if last is not None and guess_decimal((rows + [last])[:200], "\t") != decimal:
        return None
    width = len(rows[0].split("\t"))
    n_cols = len(names)
    names_rows = names[:width] if width < n_cols else names  # as every row is
    read = _read_columns(names_rows)
    kinds = _long.column_kinds(rows, width, [j for j, _ in read])
    if kinds is None or any(kinds[j] != "float" for j, _ in read):
        return None
    try:
        start = max(0, int(table_start("\n".join(lines))))
    except Exception:  # noqa: BLE001 - as the registry's _table_start
        start = 0
    if not _long.head_is_clean(ends, start, rows_at[0]):
        return None
    if ends.reason is not None and ends.replaced:
        return None  # the file cut short is re-encoded with "?" for those bytes: careful path
    values = _long.table(ends, rows_at[0], kinds, [j for j, _ in read], decimal, blank_lines=True)
    if values is None:
        return None

    def build(with_last: bool) -> Measurement:
        meta = _table_meta(header, decimal, True)
        used = names
        if width < n_cols:
            used = _names_with_values(names, width, meta)
        columns = {col: values[j] for j, col in read}
        if with_last and last is not None:
            cells = last.split("\t")
            if len(cells) != width:  # the rows are no longer all as wide: parse() splits row by row
                if width < len(names):
                    raise _short_row(rows_at[0] + 1, width, len(names))
                if len(cells) < len(names):
                    raise _short_row(source.count_breaks(ends.body_end) + 1, len(cells), len(names))
                used = names
            columns = {col: np.concatenate([values[j], _floats([cells[j]], decimal)])
                       for j, col in _read_columns(used)}
        return _measurement(used, columns, meta, header)

    if last is None:
        return _long.Long(full=lambda: build(False))
    return _long.Long(full=lambda: build(True), reason=ends.reason, shorter=lambda: build(False))
