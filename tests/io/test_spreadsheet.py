"""Spreadsheets (.xlsx, .ods, .fods) laid out like the CSV exports.

Workbooks are written here with pandas (openpyxl, odfpy) and a flat OpenDocument file by
hand, so every rule is pinned: a sheet reads as the same table saved as CSV (names, units,
signs, exact numbers), sheets of spectra become spectra, one DC sheet is one measurement,
several DC sheets or mixed sheets are refused, sheets without a table are listed.
"""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

import numpy as np
import pandas as pd
import pytest

from echem.errors import ReaderError, UnknownFormatError
from echem.io import read_bytes, spreadsheet

F = np.logspace(4, 0, 9)
ZRE = 100 + 400 / (1 + (F / 50) ** 2)
ZIM = -400 * (F / 50) / (1 + (F / 50) ** 2)


def workbook(sheets: dict[str, pd.DataFrame], engine: str) -> bytes:
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine=engine) as writer:
        for name, frame in sheets.items():
            frame.to_excel(writer, sheet_name=name, index=False)
    return buffer.getvalue()


def spectra_sheets():
    return {
        "plain": pd.DataFrame({"f": F, "Z'": ZRE, "Z''": ZIM}),
        "minus": pd.DataFrame({"freq": F, "Zre": ZRE, "-Zim": -ZIM}),
        "polar": pd.DataFrame({"frequency": F, "|Z|": np.hypot(ZRE, ZIM),
                               "-phase": -np.degrees(np.arctan2(ZIM, ZRE))}),
        "notes": pd.DataFrame({"comment": ["measured by A. B.", "cell 3"]}),
    }


@pytest.mark.parametrize("engine, kind", [("openpyxl", "xlsx"), ("odf", "ods")])
def test_sheets_of_spectra_are_spectra(engine, kind):
    raw = workbook(spectra_sheets(), engine)
    m = read_bytes(raw, f"book.{kind}")
    assert m.meta["format"] == f"spreadsheet-{kind}" and m.meta["technique"] == "EIS"
    assert m.meta["n_spectra"] == 3 and m.data.groupby("cycle").size().tolist() == [9, 9, 9]
    for _, spectrum in m.data.groupby("cycle"):
        np.testing.assert_allclose(spectrum["Z_re_ohm"], ZRE, rtol=1e-12)  # |Z|, phase: rounding
        np.testing.assert_allclose(spectrum["Z_im_ohm"], ZIM, rtol=1e-9, atol=1e-12)
    assert set(m.meta["sheets_skipped"]) == {"notes"}
    # the stored numbers come back as stored (the writers keep 15-16 significant digits)
    np.testing.assert_allclose(m.data.loc[m.data["cycle"] == 1, "Z_re_ohm"], ZRE, rtol=1e-15)


def test_recognised_by_content_without_extension():
    raw = workbook(spectra_sheets(), "openpyxl")
    assert spreadsheet.sniff(raw, "data-xlsx")
    assert read_bytes(raw, "data-xlsx").meta["format"] == "spreadsheet-xlsx"


def test_one_dc_sheet_with_units_from_its_names():
    E = np.linspace(0, -0.5, 20)
    frame = pd.DataFrame({"time (s)": np.arange(20.0), "E (V vs. RHE)": E, "I (mA)": E * 3})
    m = read_bytes(workbook({"LSV": frame}, "openpyxl"), "lsv.xlsx")
    np.testing.assert_allclose(m.data["I_A"], E * 3e-3)
    assert m.meta["reference_electrode"] == "RHE"


def test_several_dc_sheets_are_refused_by_name():
    frame = pd.DataFrame({"E/V": [0.0, 0.1, 0.2], "I/A": [0.0, 1e-3, 2e-3]})
    with pytest.raises(ReaderError, match=r"2 sheets.*'a'.*'b'.*its own file"):
        read_bytes(workbook({"a": frame, "b": frame}, "openpyxl"), "two.xlsx")


def test_mixed_sheets_are_refused():
    dc = pd.DataFrame({"E/V": [0.0, 0.1, 0.2], "I/A": [0.0, 1e-3, 2e-3]})
    with pytest.raises(ReaderError, match="mixes impedance sheets"):
        read_bytes(workbook({"eis": spectra_sheets()["plain"], "dc": dc}, "openpyxl"), "mixed.xlsx")


def test_no_table_anywhere_is_refused_with_the_reasons():
    with pytest.raises(UnknownFormatError, match="'notes'"):
        read_bytes(workbook({"notes": spectra_sheets()["notes"]}, "openpyxl"), "notes.xlsx")


def fods(rows_by_sheet: dict[str, list[list]]) -> bytes:
    tables = []
    for name, rows in rows_by_sheet.items():
        xml_rows = []
        for row in rows:
            cells = []
            for value in row:
                if isinstance(value, float):
                    cells.append(f'<table:table-cell office:value-type="float" office:value="{value!r}">'
                                 f"<text:p>{value:.3g}</text:p></table:table-cell>")
                else:
                    cells.append(f'<table:table-cell office:value-type="string"><text:p>{escape(value)}'
                                 "</text:p></table:table-cell>")
            xml_rows.append(f"<table:table-row>{''.join(cells)}</table:table-row>")
        xml_rows.append('<table:table-row table:number-rows-repeated="1048000"><table:table-cell '
                        'table:number-columns-repeated="1024"/></table:table-row>')
        tables.append(f'<table:table table:name="{name}">{"".join(xml_rows)}</table:table>')
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
        'office:version="1.2" office:mimetype="application/vnd.oasis.opendocument.spreadsheet">'
        f"<office:body><office:spreadsheet>{''.join(tables)}</office:spreadsheet></office:body>"
        "</office:document>"
    ).encode("utf-8")


def test_flat_ods_reads_its_stored_values():
    rows = [["f", "Z'", "Z''"]] + [[float(f), float(r), float(i)] for f, r, i in zip(F, ZRE, ZIM)]
    m = read_bytes(fods({"one": rows, "two": rows}), "book.fods")
    assert m.meta["format"] == "spreadsheet-fods" and m.meta["n_spectra"] == 2
    np.testing.assert_array_equal(m.data.loc[m.data["cycle"] == 2, "Z_im_ohm"], ZIM)
