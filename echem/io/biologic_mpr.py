"""BioLogic EC-Lab binary files (``.mpr``), read through galvani.

galvani (GPL-3.0, optional extra ``echem[mpr]``) decodes the data module: each
column is stored under a numeric column ID whose meaning and byte width galvani
keeps in ``galvani.BioLogic.VMPdata_colID_dtype_map``. Newer EC-Lab versions add
IDs that galvani does not know yet; galvani then raises ``NotImplementedError``.
This reader copes in two ways:

1. :data:`EXTRA_COLUMN_IDS` adds IDs worked out from files written by those
   versions (registered with ``setdefault``, so a galvani release that learns an
   ID wins). ID 185 (EC-Lab 11.50, ``dgbowl_yadg/lsv.issue_195.mpr``) holds
   ``<Ece>/V`` as float32: the column sits where the ``.mpt`` export of the same
   run has ``<Ece>/V``, and its values equal that column to float32 precision.
   yadg's own column table gives 185 the same meaning.
2. A single still-unknown ID whose byte width follows from the record size
   (record bytes = data bytes / points, minus the known columns) is read as an
   opaque column and skipped. Two or more unknown IDs cannot be told apart: the
   reader then raises :class:`ReaderError` asking for a ``.mpt`` export.

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
from datetime import datetime
from typing import Any

import numpy as np

from echem.errors import EmptyDataError, ReaderError
from echem.io._text import technique_from_label
from echem.io.biologic_mpt import build_measurement, split_reference
from echem.measurement import Measurement

FORMAT = "biologic-mpr"
VENDOR = "BioLogic"

MAGIC = b"BIO-LOGIC MODULAR FILE"

#: Column IDs galvani 0.5 lacks, with the evidence in the module docstring.
EXTRA_COLUMN_IDS: dict[int, tuple[str, str]] = {
    185: ("<Ece>/V", "<f4"),
}

#: Settings-module technique byte -> EC-Lab's technique label (as the .mpt header
#: writes it). IDs from yadg ``extractors/eclab/techniques.py``; labels from
#: EC-Lab's .mpt/.mps files.
TECHNIQUE_IDS: dict[int, str] = {
    0x04: "Galvanostatic Cycling with Potential Limitation",
    0x06: "Cyclic Voltammetry",
    0x0B: "Open Circuit Voltage",
    0x18: "Chronoamperometry / Chronocoulometry",
    0x19: "Chronopotentiometry",
    0x1C: "Wait",
    0x1D: "Potentio Electrochemical Impedance Spectroscopy",
    0x1E: "Galvano Electrochemical Impedance Spectroscopy",
    0x32: "IR compensation (PEIS)",
    0x33: "Cyclic Voltammetry Advanced",
    0x6C: "Linear Sweep Voltammetry",
    0x77: "Galvanostatic Cycling with Potential Limitation",
    0x7F: "Modulo Bat",
}

_INSTALL_HINT = (
    'reading EC-Lab .mpr files needs the optional package galvani: pip install "echem[mpr]"; '
    "or export the data from EC-Lab as text (.mpt) and use that"
)
_EXPORT_HINT = "export the data from EC-Lab as text (.mpt: File > Export as Text) and use that"


def sniff(raw: bytes, name: str) -> bool:
    return raw.startswith(MAGIC)


def _galvani():
    try:
        from galvani import BioLogic
    except ImportError as exc:
        raise ReaderError(_INSTALL_HINT) from exc
    for col_id, spec in EXTRA_COLUMN_IDS.items():
        BioLogic.VMPdata_colID_dtype_map.setdefault(col_id, spec)
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


def _opaque_columns(BioLogic, ids: list[int], n_points: int, n_bytes: int) -> dict[int, tuple[str, str]]:
    """dtype entries for IDs galvani does not know, when their width can be deduced."""
    unknown = [
        i for i in ids if i not in BioLogic.VMPdata_colID_dtype_map and i not in BioLogic.VMPdata_colID_flag_map
    ]
    if not unknown:
        return {}
    if len(set(unknown)) > 1 or len(unknown) > 1 or n_points == 0 or n_bytes % n_points:
        raise ReaderError(
            f"this .mpr holds column IDs {sorted(set(unknown))} that galvani does not know "
            f"(EC-Lab newer than galvani's tables) and their widths cannot be worked out; {_EXPORT_HINT}"
        )
    known = 1 if any(i in BioLogic.VMPdata_colID_flag_map for i in ids) else 0
    dtypes = BioLogic.VMPdata_colID_dtype_map
    known += sum(np.dtype(dtypes[i][1]).itemsize for i in ids if i in dtypes)
    width = n_bytes // n_points - known
    dtype = {1: "u1", 2: "<u2", 4: "<f4", 8: "<f8"}.get(width)
    if dtype is None:
        raise ReaderError(
            f"column ID {unknown[0]} of this .mpr is unknown to galvani and its width "
            f"({width} bytes) does not fit a number; {_EXPORT_HINT}"
        )
    return {unknown[0]: (f"unknown column {unknown[0]}", dtype)}


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
        meta["technique_label"] = label
        technique = technique_from_label(label)
        if technique:
            meta["technique"] = technique
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


def parse(raw: bytes, name: str) -> Measurement:
    """Parse an EC-Lab ``.mpr`` file into a canonical :class:`Measurement`."""
    BioLogic = _galvani()
    modules = _modules(BioLogic, raw)
    data_module = _module(modules, b"VMP data")
    settings_module = _module(modules, b"VMP Set")
    if data_module is None or settings_module is None:
        raise ReaderError(f"the .mpr has no data or settings module (truncated?); {_EXPORT_HINT}")
    ids, n_points, n_bytes = _column_ids(data_module)
    if n_points == 0:
        raise EmptyDataError(
            "the .mpr holds settings and a log but 0 data points (the run stopped before "
            "its first point, or EC-Lab wrote the data to another file of the experiment); "
            "use the file that holds the data, or move this one out of raw/"
        )
    opaque = _opaque_columns(BioLogic, ids, n_points, n_bytes)
    for col_id, spec in opaque.items():
        BioLogic.VMPdata_colID_dtype_map[col_id] = spec
    log_note = None
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
        for col_id in opaque:
            BioLogic.VMPdata_colID_dtype_map.pop(col_id, None)

    meta = _settings_meta(bytes(settings_module["data"]))
    meta["mpr_column_ids"] = ids
    if opaque:
        meta["mpr_skipped_columns"] = [spec[0] for spec in opaque.values()]
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
    if not ({"Ewe/V", "<Ewe>/V", "I/mA", "<I>/mA", "freq/Hz"} & set(columns)):
        raise ReaderError(
            f"no potential, current or frequency column among {list(columns)[:12]}; {_EXPORT_HINT}"
        )
    return build_measurement(columns, meta)
