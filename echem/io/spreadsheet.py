"""Spreadsheets laid out like the CSV exports: Excel ``.xlsx``, OpenDocument ``.ods`` and ``.fods``.

People save potentiostat data from Excel or LibreOffice: a column row (``f, Z', Z''``,
``freq, Zre, -Zim``, ``E/V, I/mA``, ...) and rows of numbers, often one measurement per
sheet. Each sheet is read exactly as the generic CSV reader reads a table
(:mod:`echem.io.generic_csv`: column names, units, sign conventions, header lines above
the table), so a sheet and the same table saved as CSV give the same measurement.

* ``.xlsx`` is read with openpyxl, ``.ods`` with odfpy (both through pandas); a flat
  OpenDocument file (``.fods``, one XML document) with the standard library's XML parser.
  Numbers are taken as the spreadsheet stores them (doubles, written back with ``repr``,
  so no digit is lost); text cells as written.
* Every sheet with an impedance table is a spectrum: the sheets are concatenated in their
  order and ``cycle`` numbers them (a sheet holding several sweeps gives several spectra).
* A workbook with one sheet of DC data (a sweep, a hold) is read as that measurement; one
  with several such sheets is refused (each is a measurement of its own: save them as
  separate files), as is one mixing spectra and DC data.
* Sheets without a recognisable table (notes, plots, empty sheets) are listed in
  ``meta["sheets_skipped"]`` with the reason.
"""

from __future__ import annotations

import io
import math
import re
import zipfile
from typing import Any
from xml.etree import ElementTree

import numpy as np
import pandas as pd

from echem.errors import EmptyDataError, ReaderError, UnknownFormatError
from echem.io import generic_csv
from echem.measurement import Measurement, canonical_frame

FORMAT = "spreadsheet"
VENDOR = "generic (spreadsheet)"

#: Not a table of text lines (a zip or an XML document): no text damage checks.
TEXT_CHECKS = False

_ODS_MIME = b"application/vnd.oasis.opendocument.spreadsheet"
_NS = {
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
    "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
    "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
}
_MAX_REPEAT = 10_000  # a repeated row/cell beyond this is the sheet's empty remainder


def _kind(raw: bytes) -> str | None:
    if raw.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(raw)) as zf:
                names = set(zf.namelist())
                if "xl/workbook.xml" in names:
                    return "xlsx"
                if "mimetype" in names and zf.read("mimetype").strip() == _ODS_MIME:
                    return "ods"
        except (zipfile.BadZipFile, OSError, KeyError):
            return None
        return None
    head = raw[:4096]
    if b"<office:document" in head and _ODS_MIME in raw[:20000]:
        return "fods"
    return None


def sniff(raw: bytes, name: str) -> bool:
    return _kind(raw) is not None


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return "" if math.isnan(value) else repr(value)
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return str(int(value))
    if isinstance(value, (np.floating,)):
        return "" if np.isnan(value) else repr(float(value))
    return str(value).replace("\t", " ").replace("\r", " ").replace("\n", " ")


def _sheets_pandas(raw: bytes, engine: str) -> list[tuple[str, list[list[str]]]]:
    try:
        book = pd.read_excel(io.BytesIO(raw), sheet_name=None, header=None, dtype=object, engine=engine)
    except ImportError as exc:
        package = "openpyxl" if engine == "openpyxl" else "odfpy"
        raise ReaderError(f"reading this spreadsheet needs the package {package} (pip install {package}); "
                          "or save the sheet as CSV") from exc
    out = []
    for sheet, frame in book.items():
        rows = [[_cell_text(v) for v in row] for row in frame.itertuples(index=False, name=None)]
        out.append((str(sheet), rows))
    return out


def _sheets_fods(raw: bytes) -> list[tuple[str, list[list[str]]]]:
    """Rows of cell texts per sheet of a flat OpenDocument spreadsheet."""
    try:
        root = ElementTree.fromstring(raw)
    except ElementTree.ParseError as exc:
        raise ReaderError(f"the .fods is not well-formed XML ({exc}); the file is cut or damaged") from exc
    t, o = "{%s}" % _NS["table"], "{%s}" % _NS["office"]
    out = []
    for table in root.iter(f"{t}table"):
        rows: list[list[str]] = []
        for row in table.iter(f"{t}table-row"):
            cells: list[str] = []
            for cell in row:
                if cell.tag not in (f"{t}table-cell", f"{t}covered-table-cell"):
                    continue
                repeat = min(int(cell.get(f"{t}number-columns-repeated", "1")), _MAX_REPEAT)
                kind = cell.get(f"{o}value-type")
                if kind in ("float", "percentage", "currency"):
                    text = repr(float(cell.get(f"{o}value")))
                else:
                    text = " ".join("".join(p.itertext()) for p in cell.iter("{%s}p" % _NS["text"]))
                cells.extend([text] * repeat)
            while cells and not cells[-1]:
                cells.pop()
            repeat = int(row.get(f"{t}number-rows-repeated", "1"))
            if not cells:
                repeat = min(repeat, 1)
            rows.extend([cells] * min(repeat, _MAX_REPEAT))
        while rows and not rows[-1]:
            rows.pop()
        out.append((table.get(f"{t}name") or f"sheet {len(out) + 1}", rows))
    return out


def _sheet_text(rows: list[list[str]]) -> bytes:
    return "\n".join("\t".join(row) for row in rows).encode("utf-8")


def parse(raw: bytes, name: str) -> Measurement:
    kind = _kind(raw)
    if kind == "xlsx":
        sheets = _sheets_pandas(raw, "openpyxl")
    elif kind == "ods":
        sheets = _sheets_pandas(raw, "odf")
    elif kind == "fods":
        sheets = _sheets_fods(raw)
    else:
        raise UnknownFormatError("not an .xlsx, .ods or .fods spreadsheet")

    read: list[tuple[str, Measurement]] = []
    skipped: dict[str, str] = {}
    for sheet, rows in sheets:
        if not any(any(c.strip() for c in row) for row in rows):
            skipped[sheet] = "empty"
            continue
        try:
            read.append((sheet, generic_csv.parse(_sheet_text(rows), f"{name}[{sheet}]")))
        except (UnknownFormatError, EmptyDataError) as exc:
            skipped[sheet] = re.sub(r"^\S+\[[^\]]*\]: ", "", str(exc))
    if not read:
        reasons = "; ".join(f"{s!r}: {r}" for s, r in skipped.items()) or "no sheets"
        raise UnknownFormatError(f"no sheet of this {kind} holds a table of measurement columns ({reasons}); "
                                 "put a column row such as 'E/V, I/A' or 'freq/Hz, Re(Z)/Ohm, -Im(Z)/Ohm' "
                                 "above the numbers")
    impedance = [(s, m) for s, m in read if m.is_impedance]
    other = [(s, m) for s, m in read if not m.is_impedance]
    if impedance and other:
        raise ReaderError(f"this {kind} mixes impedance sheets ({', '.join(s for s, _ in impedance)}) and "
                          f"other data ({', '.join(s for s, _ in other)}); save them as separate files")
    if len(other) > 1:
        raise ReaderError(f"this {kind} holds {len(other)} sheets of measurements "
                          f"({', '.join(repr(s) for s, _ in other)}); each is a measurement of its own: "
                          "save each sheet as its own file (or CSV)")

    meta: dict[str, Any] = {"format": f"spreadsheet-{kind}", "sheets": [s for s, _ in read]}
    if skipped:
        meta["sheets_skipped"] = skipped
    warnings: list[str] = []
    per_sheet = {}
    frames = []
    offset = 0
    for sheet, m in read:
        info = {k: m.meta[k] for k in ("columns_used", "z_im_sign", "z_re_sign", "z_im_sign_assumed",
                                        "units_assumed", "lines_skipped", "decimal") if k in m.meta}
        per_sheet[sheet] = info
        warnings.extend(f"sheet {sheet!r}: {w}" for w in m.meta.get("warnings") or [])
        data = m.data.copy()
        if impedance:
            from echem.io._spectra import number_spectra

            spectra, _, _, _ = number_spectra(data["freq_Hz"].to_numpy(float),
                                           data["cycle"].to_numpy() if "cycle" in data.columns else None)
            _, codes = np.unique(spectra, return_inverse=True)
            data["cycle"] = (codes + 1 + offset).astype("int64")
            offset = int(data["cycle"].max())
        frames.append(data)
        for key in ("area_cm2", "scan_rate_V_s", "reference_electrode", "temperature_C", "start_time",
                    "technique", "technique_label", "current_from_density"):
            if key in m.meta and key not in meta:
                meta[key] = m.meta[key]
    meta["sheet_columns"] = per_sheet
    if len(read) == 1:
        meta.update(per_sheet[read[0][0]])
    if warnings:
        meta["warnings"] = warnings
    columns = sorted(set.intersection(*(set(f.columns) for f in frames)))
    partial = sorted(set.union(*(set(f.columns) for f in frames)) - set(columns))
    if partial:
        meta["columns_left_out"] = f"{', '.join(partial)}: not in every sheet"
    data = pd.concat([f[columns] for f in frames], ignore_index=True)
    return Measurement(data=canonical_frame({c: data[c].to_numpy() for c in data.columns}), meta=meta)
