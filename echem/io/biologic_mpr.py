"""BioLogic EC-Lab binary files (``.mpr``), read through galvani.

galvani (GPL-3.0, optional extra ``echem[mpr]``) decodes the data module: each
column is stored under a numeric column ID whose meaning and byte width galvani
keeps in ``galvani.BioLogic.VMPdata_colID_dtype_map``. Newer EC-Lab versions add
IDs that galvani does not know yet; galvani then raises ``NotImplementedError``.
This reader copes in two ways:

1. :data:`EXTRA_COLUMN_IDS` adds IDs galvani 0.5 lacks, with the name, unit and width
   yadg's column table (``extractors/eclab/mpr_columns.py``) gives them; every file that
   uses one is checked against its ``.mpt`` twin or yadg's reading of it (tests/test_peers.py).
   ID 185 (EC-Lab 11.50, ``dgbowl_yadg/lsv.issue_195.mpr``) holds ``<Ece>/V`` as float32:
   the column sits where the ``.mpt`` export of the same run has ``<Ece>/V``, and its
   values equal that column to float32 precision.
2. Some IDs mean different things in different files (:func:`_context_columns`): 174 is
   ``<Ewe>/V`` to galvani but ``Phase(Zwe-ce)/deg`` when the file also has Ewe (6) or
   <Ewe> (77); 498..503 are ``|Ece h2..h7|/V`` (float32) in files that record the
   harmonics of Ewe and I (486..497), where galvani's meanings (charges, float64) would
   not fit the record; ID 6 holds ``Ecell/V`` in Battery Capacity Determination runs
   (the .mpt export names it so).
3. A single still-unknown ID whose byte width follows from the record size
   (record bytes = data bytes / points, minus the known columns) is read as an
   opaque column and skipped. Two or more unknown IDs cannot be told apart: the
   reader then raises :class:`ReaderError` asking for a ``.mpt`` export. The widths
   of all columns must add up to the record size, else the file is refused rather
   than misread.

The IDs are given to galvani for the time of one read, under a lock (its table is one
dictionary for the whole process).

Columns echem derives (:func:`echem.io.biologic_mpt.build_measurement`): GCPL files
store the charge per point (``dq/mA.h``) but no current; the current is ``dq/Δt``, which
is what EC-Lab's .mpt export prints as ``<I>/mA``. Modulo Bat files store ``|Z|`` and
``Phase(Z)`` but no Re/Im; Z' and Z'' are ``|Z| cos φ`` and ``|Z| sin φ``.

Metadata galvani does not expose is read from the settings module at the offsets
documented by yadg (``extractors/eclab/mpr.py``): technique ID at 0x0000, comments
at 0x0007, electrode material 0x011E, electrolyte 0x01C0 (Pascal strings),
electrode area (float32, cm²) at 0x0211, reference electrode name at 0x0215. The
reference electrode's potential vs SHE is the float32 at 0x0248: in the corpus
files that name SCE it is 0.2412, which the ``.mpt`` exports print as "(0.241 V)".
The scan rate is among the technique parameters, whose offset varies between
EC-Lab versions; it is not read (export ``.mpt`` if it is needed from the file).
"""

from __future__ import annotations

import io
import threading
from datetime import datetime
from typing import Any

import numpy as np

from echem.errors import EmptyDataError, ReaderError
from echem.io.biologic_mpt import build_measurement, split_reference, technique_meta
from echem.measurement import Measurement

FORMAT = "biologic-mpr"
VENDOR = "BioLogic"

MAGIC = b"BIO-LOGIC MODULAR FILE"

#: Column IDs galvani 0.5 lacks: (name as the .mpt writes it, numpy dtype). Names, units
#: and widths as in yadg's column table; see the module docstring for the evidence.
EXTRA_COLUMN_IDS: dict[int, tuple[str, str]] = {
    115: ("Energy ce charge/W.h", "<f8"),
    116: ("Energy ce discharge/W.h", "<f8"),
    175: ("|Zwe-ce|/Ohm", "<f4"),
    176: ("Re(Zwe-ce)/Ohm", "<f4"),
    177: ("-Im(Zwe-ce)/Ohm", "<f4"),
    182: ("step time/s", "<f8"),
    185: ("<Ece>/V", "<f4"),
    215: ("<Ece>/V", "<f4"),
    475: ("THD Ece/%", "<f4"),
    478: ("NSD Ece/%", "<f4"),
    481: ("NSR Ece/%", "<f4"),
}

#: IDs 498..503 in a file that records the harmonics of Ewe and I (486..497).
_ECE_HARMONICS = {498 + k: (f"|Ece h{k + 2}|/V", "<f4") for k in range(6)}

#: Settings-module technique byte -> EC-Lab's technique label (as the .mpt header
#: writes it; :data:`echem.io.biologic_mpt.ECLAB_TECHNIQUES` says what echem does with
#: it). IDs from yadg ``extractors/eclab/techniques.py`` and the corpus files (BCD 0x88:
#: ``bcd.issue_241``, whose .mpt says "Battery Capacity Determination").
TECHNIQUE_IDS: dict[int, str] = {
    0x04: "Galvanostatic Cycling with Potential Limitation",
    0x06: "Cyclic Voltammetry",
    0x0B: "Open Circuit Voltage",
    0x16: "Modular Potentio",
    0x18: "Chronoamperometry / Chronocoulometry",
    0x19: "Chronopotentiometry",
    0x1C: "Wait",
    0x1D: "Potentio Electrochemical Impedance Spectroscopy",
    0x1E: "Galvano Electrochemical Impedance Spectroscopy",
    0x30: "Cyclic Voltammetry",
    0x32: "IR compensation (PEIS)",
    0x33: "Cyclic Voltammetry Advanced",
    0x6C: "Linear Sweep Voltammetry",
    0x75: "Constant Voltage",
    0x76: "Constant Current",
    0x77: "Galvanostatic Cycling with Potential Limitation",
    0x7F: "Modulo Bat",
    0x88: "Battery Capacity Determination",
}

_INSTALL_HINT = (
    'reading EC-Lab .mpr files needs the optional package galvani: pip install "echem[mpr]"; '
    "or export the data from EC-Lab as text (.mpt) and use that"
)
_EXPORT_HINT = "export the data from EC-Lab as text (.mpt: File > Export as Text) and use that"


def sniff(raw: bytes, name: str) -> bool:
    return raw.startswith(MAGIC)


_GALVANI_TABLE = threading.Lock()


def _galvani():
    try:
        from galvani import BioLogic
    except ImportError as exc:
        raise ReaderError(_INSTALL_HINT) from exc
    return BioLogic


def _modules(BioLogic, raw: bytes) -> list[dict[str, Any]]:
    fh = io.BytesIO(raw)
    if fh.read(len(BioLogic.MPR_MAGIC)) != BioLogic.MPR_MAGIC:
        raise ReaderError(f"the .mpr magic header is damaged; {_EXPORT_HINT}")
    try:
        return list(BioLogic.read_VMP_modules(fh))
    except (OSError, ValueError) as exc:
        raise ReaderError(f"the .mpr file is truncated or damaged ({exc}); {_EXPORT_HINT}") from exc


def _without_log(BioLogic, raw: bytes, modules: list[dict[str, Any]]) -> bytes:
    """The file with its LOG module left out (modules are stored back to back)."""
    parts, start = [raw[: len(BioLogic.MPR_MAGIC)]], len(BioLogic.MPR_MAGIC)
    for m in modules:
        end = int(m["offset"]) + int(m["length"])
        if not bytes(m["shortname"]).startswith(b"VMP LOG"):
            parts.append(raw[start:end])
        start = end
    return b"".join(parts)


def _module(modules: list[dict[str, Any]], short: bytes) -> dict[str, Any] | None:
    found = [m for m in modules if bytes(m["shortname"]).startswith(short)]
    return found[0] if found else None


def _column_ids(data_module: dict[str, Any]) -> tuple[list[int], int, int]:
    """Column IDs as galvani looks them up, number of points, bytes of point data.

    Mirrors ``galvani.BioLogic.MPRfile``: in version-0 modules written by EC-Lab
    >= 11.50 the IDs are big-endian 16-bit and galvani keys its table on their low
    byte (0x0127 -> 39 "I Range", as the .mpt export of such files confirms).
    """
    data = data_module["data"]
    n_points = int(np.frombuffer(data[:4], dtype="<u4")[0])
    n_columns = int(data[4])
    version = int(data_module["version"])
    if version == 0:
        if data[5]:
            ids = np.frombuffer(data[5:], dtype="u1", count=n_columns)
            start = 100
        else:
            ids = np.frombuffer(data[5:], dtype="u1", count=2 * n_columns)[1::2]
            start = 1007
    elif version in (2, 3):
        ids = np.frombuffer(data[5:], dtype="<u2", count=n_columns)
        start = 405 if version == 2 else 406
    else:
        raise ReaderError(f"unknown .mpr data module version {version}; {_EXPORT_HINT}")
    return [int(i) for i in ids], n_points, len(data) - start


def _context_columns(ids: list[int], technique_id: int | None) -> dict[int, tuple[str, str]]:
    """Meanings of IDs that depend on the other columns or the technique (module docstring, 2)."""
    out: dict[int, tuple[str, str]] = {}
    if 174 in ids and (6 in ids or 77 in ids):
        out[174] = ("Phase(Zwe-ce)/deg", "<f4")
    if set(range(486, 498)) <= set(ids):
        out.update({i: spec for i, spec in _ECE_HARMONICS.items() if i in ids})
    if technique_id == 0x88 and 6 in ids:
        out[6] = ("Ecell/V", "<f4")
    return out


def _column_specs(BioLogic, ids: list[int], n_points: int, n_bytes: int,
                  technique_id: int | None) -> tuple[dict[int, tuple[str, str]], list[str]]:
    """The dtype entries to give galvani for this file, and the names of opaque columns.

    Every ID gets a meaning (galvani's, :data:`EXTRA_COLUMN_IDS`, a context rule, or one
    opaque column of the width left over), and the widths must add up to the record.
    """
    flags, dtypes = BioLogic.VMPdata_colID_flag_map, BioLogic.VMPdata_colID_dtype_map
    specs = _context_columns(ids, technique_id)
    for i in ids:
        if i not in specs and i not in flags and i not in dtypes and i in EXTRA_COLUMN_IDS:
            specs[i] = EXTRA_COLUMN_IDS[i]
    unknown = [i for i in ids if i not in flags and i not in dtypes and i not in specs]

    def width(i: int) -> int:
        return np.dtype((specs.get(i) or dtypes[i])[1]).itemsize

    known = (1 if any(i in flags for i in ids) else 0) + sum(width(i) for i in ids if i not in flags and i not in unknown)
    record = n_bytes // n_points if n_points else 0
    if len(set(unknown)) > 1 or len(unknown) > 1:
        raise ReaderError(
            f"this .mpr holds column IDs {sorted(set(unknown))} that galvani does not know "
            f"(EC-Lab newer than galvani's tables) and their widths cannot be worked out; {_EXPORT_HINT}"
        )
    opaque: list[str] = []
    if unknown:
        left = record - known
        dtype = {1: "u1", 2: "<u2", 4: "<f4", 8: "<f8"}.get(left) if n_bytes % n_points == 0 else None
        if dtype is None:
            raise ReaderError(
                f"column ID {unknown[0]} of this .mpr is unknown to galvani and its width "
                f"({left} bytes) does not fit a number; {_EXPORT_HINT}"
            )
        specs[unknown[0]] = (f"unknown column {unknown[0]}", dtype)
        opaque.append(specs[unknown[0]][0])
    elif n_points and n_bytes != known * n_points:
        raise ReaderError(
            f"the columns of this .mpr (IDs {ids}) take {known} bytes per point but its records have "
            f"{n_bytes / n_points:g}: an EC-Lab version whose column meanings echem does not know; "
            f"{_EXPORT_HINT}"
        )
    return specs, opaque


def _pascal(data: bytes, offset: int) -> str:
    if offset >= len(data):
        return ""
    n = data[offset]
    return bytes(data[offset + 1 : offset + 1 + n]).decode("cp1252", errors="replace").strip()


def _float32(data: bytes, offset: int) -> float | None:
    if offset + 4 > len(data):
        return None
    value = float(np.frombuffer(data, dtype="<f4", count=1, offset=offset)[0])
    # float32 holds ~7 digits; EC-Lab shows 3-4. Keep 6 so 0.001 stays 0.001.
    return float(f"{value:.6g}") if np.isfinite(value) else None


def _settings_meta(settings: bytes) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    technique_id = settings[0]
    meta["technique_id"] = int(technique_id)
    label = TECHNIQUE_IDS.get(technique_id)
    if label:
        meta.update(technique_meta(label))
    else:
        # not guessed from the file name or the data: the .mpt of the same run names it
        meta["technique"] = None
        meta["technique_source"] = f"EC-Lab technique ID 0x{technique_id:02X}, unknown to echem: not analysed"
        meta["warnings"] = [f"the .mpr's technique (EC-Lab ID 0x{technique_id:02X}) is unknown to echem, so "
                            "the file is not analysed; export the run as .mpt (its header names the technique)"]
    area = _float32(settings, 0x0211)
    if area is not None and area > 0:  # 0 means "not entered"
        meta["area_cm2"] = area
    reference = _pascal(settings, 0x0215)
    if reference:
        ref_meta = split_reference(reference)
        if ref_meta:
            ref_meta.pop("reference_electrode_label", None)
            ref_meta["reference_electrode_label"] = reference
            potential = _float32(settings, 0x0248)
            if potential is not None and potential != 0:
                ref_meta["reference_E_V"] = potential
            meta.update(ref_meta)
    for offset, key in ((0x0007, "comments"), (0x011E, "electrode_material"), (0x01C0, "electrolyte")):
        text = _pascal(settings, offset)
        if text:
            meta[key] = text
    return meta


def read_columns(raw: bytes) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The .mpr's columns by EC-Lab name (as the .mpt export names them) and its metadata."""
    BioLogic = _galvani()
    modules = _modules(BioLogic, raw)
    data_module = _module(modules, b"VMP data")
    settings_module = _module(modules, b"VMP Set")
    if data_module is None or settings_module is None:
        raise ReaderError(f"the .mpr has no data or settings module (truncated?); {_EXPORT_HINT}")
    ids, n_points, n_bytes = _column_ids(data_module)
    settings = bytes(settings_module["data"])
    if n_points == 0:
        if settings and settings[0] == 0x1C:
            raise EmptyDataError("an EC-Lab 'Wait' step: the .mpr holds no data points (a Wait records "
                                 "none); move the file out of raw/")
        raise EmptyDataError(
            "the .mpr holds settings and a log but 0 data points (the run stopped before "
            "its first point, or EC-Lab wrote the data to another file of the experiment); "
            "use the file that holds the data, or move this one out of raw/"
        )
    specs, opaque = _column_specs(BioLogic, ids, n_points, n_bytes, settings[0] if settings else None)
    log_note = None
    with _GALVANI_TABLE:
        table = BioLogic.VMPdata_colID_dtype_map
        saved = {i: table[i] for i in specs if i in table}
        table.update(specs)
        try:
            try:
                mpr = BioLogic.MPRfile(io.BytesIO(raw))
            except ValueError as exc:
                # galvani looks for the start timestamp at a few fixed offsets of the LOG
                # module and gives up on the whole file when they moved; the data do not
                # depend on the log, so read them without it and say what was lost.
                if "LOG" not in str(exc) and "Date mismatch" not in str(exc):
                    raise
                mpr = BioLogic.MPRfile(io.BytesIO(_without_log(BioLogic, raw, modules)))
                log_note = f"LOG module not readable by galvani ({str(exc).splitlines()[0]}); start time unknown"
        except Exception as exc:  # galvani signals damage with assert/ValueError/NotImplementedError
            raise ReaderError(
                f"galvani could not read this .mpr ({type(exc).__name__}: {exc}); {_EXPORT_HINT}"
            ) from exc
        finally:
            for i in specs:
                table.pop(i, None)
            table.update(saved)

    meta = _settings_meta(settings)
    meta["mpr_column_ids"] = ids
    if opaque:
        meta["mpr_skipped_columns"] = opaque
    timestamp = getattr(mpr, "timestamp", None)
    if isinstance(timestamp, datetime):
        meta["start_time"] = timestamp.isoformat()
    elif getattr(mpr, "startdate", None) is not None:
        meta["start_date"] = mpr.startdate.isoformat()
    if log_note:
        meta["mpr_log"] = log_note
    loops = getattr(mpr, "loop_index", None)
    if loops is not None and len(loops):
        # galvani lists the start row of each loop plus, last, the number of rows.
        meta["n_loops"] = int(len(loops) - 1 if int(loops[-1]) == len(mpr.data) else len(loops))

    data = mpr.data
    columns = {field: np.asarray(data[field], dtype=float) for field in data.dtype.names if field != "flags"}
    return columns, meta


def parse(raw: bytes, name: str) -> Measurement:
    """Parse an EC-Lab ``.mpr`` file into a canonical :class:`Measurement`."""
    columns, meta = read_columns(raw)
    if not ({"Ewe/V", "<Ewe>/V", "Ecell/V", "I/mA", "<I>/mA", "freq/Hz"} & set(columns)):
        raise ReaderError(
            f"no potential, current or frequency column among {list(columns)[:12]}; {_EXPORT_HINT}"
        )
    return build_measurement(columns, meta)
