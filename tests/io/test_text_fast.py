"""The fast text checks give exactly what the row-by-row versions gave (reference_text_slow.py).

The damage check (:func:`~echem.io._text.damaged_rows`), the table delimiter, the cut-row
check, the decimal-mark guess, generic CSV table detection and the CHI table were made fast
by classifying each *shape* of line once (runs of digits written as one ``0``), splitting
whole tables in one go, and parsing numbers with ``float`` in C. Every one of them must find
what the slow version finds: on the corpus and demo files, on the damaged variants
``tests/damage.py`` builds (a text cell, a NaN row, a cut row, decimal commas, UTF-16) and on
random tables (hypothesis).
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import damage
import numpy as np
import pandas as pd
import pytest
import reference_text_slow as slow
from conftest import corpus_manifest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from echem.io import _text, _without_empty_rows, chi_txt, generic_csv

ROOT = Path(__file__).resolve().parents[2]
BINARY = (".mpr", ".ism")
DEMO = [p for d in ("PtMG_as-cast", "LLZO_650C", "PtC_ref") for p in sorted((ROOT / "raw" / d).glob("*"))
        if p.suffix not in (".yaml", ".md")]
CORPUS_TEXT = [r["file"] for r in corpus_manifest() if not r["file"].lower().endswith(BINARY)]


def variants(raw: bytes) -> dict[str, bytes]:
    """The file and the damage real files suffer (those tests/damage.py can make of it)."""
    out = {"as written": raw}
    makers = {
        "text cell n/a": lambda r: damage.text_cell(r, 0.5, "n/a"),
        "text cell NaN": lambda r: damage.text_cell(r, 0.3, "NaN"),
        "text cell overload": lambda r: damage.text_cell(r, 0.9, "overload"),
        "text cell 1.2.3": lambda r: damage.text_cell(r, 0.7, "1.2.3"),
        "NaN row": lambda r: damage.nan_row(r, 0.4),
        "NaN row near the end": lambda r: damage.nan_row(r, 0.97),
        "cut mid row": lambda r: damage.cut_mid_row(r, 0.3),
        "cut in the last cell": lambda r: damage.cut_mid_row(r, 0.77),
        "cut in the second cell": lambda r: damage.cut_mid_row(r, 0.6, cell=1),
        "cut in header": lambda r: damage.cut_in_header(r, 8),
        "decimal commas": damage.decimal_comma_latin1,
        "utf-16": lambda r: damage.reencode(r, "utf-16"),
    }
    for what, make in makers.items():
        try:
            out[what] = make(raw)
        except (IndexError, ValueError, AssertionError, UnicodeError):
            continue  # no data rows to damage that way
    return out


def assert_same_checks(text: str, what: str) -> None:
    """Every fast check gives what the row-by-row version gives on ``text``."""
    lines = _text.split_lines(text)
    assert lines == re.split(r"\r\n|\r|\n", text), what
    assert _text.damaged_rows(text) == slow.damaged_rows(text), what
    assert _text.damaged_rows(text, limit=10_000) == slow.damaged_rows(text, limit=10_000), what
    assert _text.table_delimiter(lines) == slow.table_delimiter(lines), what
    assert _text.incomplete_last_line(text) == slow.incomplete_last_line(text), what
    for delimiter in ("\t", ";", None):
        assert _text.guess_decimal(lines, delimiter) == slow.guess_decimal(lines, delimiter), what
    head = text.lstrip("\ufeff").splitlines()[: generic_csv._DETECT_LINES]
    assert generic_csv._find_table(head) == slow.find_table_generic_csv(head), what


def check_file(raw: bytes, name: str) -> int:
    """Compare the checks on a file and its damaged variants; the number of variants found damaged."""
    damaged = 0
    for what, data in variants(raw).items():
        text = _text.decode(data)
        assert_same_checks(text, f"{name}, {what}")
        damaged += bool(slow.damaged_rows(text))
    return damaged


@pytest.mark.corpus
@pytest.mark.parametrize("rel", CORPUS_TEXT)
def test_fast_checks_agree_on_corpus_files_and_their_damage(corpus_dir, rel):
    check_file((corpus_dir / rel).read_bytes(), rel)


@pytest.mark.parametrize("path", DEMO, ids=[f"{p.parent.name}/{p.name}" for p in DEMO])
def test_fast_checks_agree_on_demo_files_and_their_damage(path):
    damaged = check_file(path.read_bytes(), path.name)
    assert damaged >= 3  # a text cell, a NaN row... are found (the comparison is not vacuous)


def test_damage_is_still_found():
    """The cases the check exists for, on a demo Gamry CV and EC-Lab LSV: found at the right line."""
    for path in (ROOT / "raw/PtMG_as-cast/cv_020mVs.DTA", ROOT / "raw/PtMG_as-cast/lsv_5mVs.mpt"):
        raw = path.read_bytes()
        assert _text.damaged_rows(_text.decode(raw)) == []
        for bad in (damage.text_cell(raw, 0.45, "n/a"), damage.nan_row(raw, 0.4), damage.text_cell(raw, 0.2, "NaN")):
            found = _text.damaged_rows(_text.decode(bad))
            assert len(found) == 1
            line_no, line = found[0]
            assert ("n/a" in line or "NaN" in line) and _text.split_lines(_text.decode(bad))[line_no - 1] == line


@pytest.mark.corpus
def test_chi_table_in_one_go_agrees(corpus_dir, data_dir):
    paths = [data_dir / "exampleDataCHInstruments.txt"] + [
        corpus_dir / r["file"] for r in corpus_manifest() if r["format"] == "chi-txt"]
    for path in paths:
        for what, raw in variants(path.read_bytes()).items():
            lines = _text.decode(raw).lstrip("\ufeff").splitlines()
            column = next((i for i, ln in enumerate(lines) if i > 1 and chi_txt._is_column_line(ln.strip())), None)
            if column is None:
                continue
            width = len([c for c in lines[column].split(",") if c.strip()])
            fast, ref = chi_txt._numbers(lines[column + 1:], width), slow.chi_numbers(lines[column + 1:], width)
            assert (fast is None) == (ref is None), what
            if ref is not None:
                np.testing.assert_array_equal(fast, ref, err_msg=f"{path.name}, {what}")


# ----------------------------------------------------------------------------- random tables

TABLE_TEXT = st.text(alphabet=st.sampled_from(list("0123456789.,;\t -+eE\nabcNn/()'\"#\r")), max_size=800)
SETTINGS = settings(max_examples=300, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])


@st.composite
def numeric_tables(draw) -> str:
    """A header, a table of numbers in one layout, and a few lines typed over."""
    delimiter = draw(st.sampled_from(["\t", ";", ",", " ", "  "]))
    ncols = draw(st.integers(1, 5))
    nrows = draw(st.integers(0, 40))
    number = st.one_of(
        st.floats(-1e6, 1e6, allow_nan=False).map(lambda v: f"{v:.6E}"),
        st.floats(-1e3, 1e3, allow_nan=False).map(lambda v: f"{v:g}"),
        st.integers(-999, 99999).map(str),
        st.sampled_from(["", "NaN", "nan", "n/a", "inf", "abc", "1.2.3", "1e", "-", ".", '"1.5"', "1,5"]),
    )
    weights = st.integers(0, 19)
    rows = []
    for _ in range(nrows):
        cells = [draw(number) if draw(weights) == 0 else f"{draw(st.floats(-1e3, 1e3, allow_nan=False)):.4E}"
                 for _ in range(ncols)]
        rows.append(delimiter.join(cells))
    header = draw(st.lists(st.text(alphabet=st.sampled_from(list("abcE/V0123 :=\t;,")), max_size=30), max_size=4))
    end = draw(st.sampled_from(["\n", "\r\n", ""]))
    return "\r\n".join(header + rows) + end


@SETTINGS
@given(text=TABLE_TEXT)
def test_fast_checks_agree_on_random_text(text):
    assert_same_checks(text, "random text")


@SETTINGS
@given(text=numeric_tables())
def test_fast_checks_agree_on_random_tables(text):
    assert_same_checks(text, "random table")


CELL_TEXT = st.text(alphabet=st.sampled_from(list("0123456789.,;\t -+eE\"nNaAiIfF#/ \u00a0\u0663")), max_size=40)


@SETTINGS
@given(line=CELL_TEXT, digits=st.lists(st.integers(1, 12), min_size=1, max_size=30))
def test_row_pattern_does_not_depend_on_digits(line, digits):
    """The ground of the speed-up: a line's pattern is that of its shape (digit runs as one 0)."""
    runs = iter(digits * 40)
    other = re.sub(r"[0-9]+", lambda m: "7" * next(runs), line)
    shape = _text._shapes(line).decode()
    assert shape == re.sub(r"[0-9]+", "0", line)
    for delimiter in ("\t", ";", ",", None):
        expected = slow._row_pattern(line, delimiter)
        assert slow._row_pattern(other, delimiter) == expected
        assert _text._row_pattern(shape, delimiter) == expected
        for text in (line, other, shape):
            cells = generic_csv._cells(text, delimiter)
            assert (len(cells), generic_csv._is_numeric_row(cells, delimiter)) == (
                len(generic_csv._cells(line, delimiter)),
                generic_csv._is_numeric_row(generic_csv._cells(line, delimiter), delimiter))


@SETTINGS
@given(cells=st.lists(CELL_TEXT | st.floats(allow_nan=True).map(repr), max_size=20),
       decimal=st.sampled_from([".", ","]))
def test_column_floats_is_to_float_per_cell(cells, decimal):
    fast = _text.column_floats(cells, decimal)
    ref = np.array([slow.to_float(c, decimal) for c in cells], dtype=float)
    np.testing.assert_array_equal(fast, ref)
    np.testing.assert_array_equal(_text.column_floats(tuple(cells), decimal), ref)


@SETTINGS
@given(lines=st.lists(st.text(alphabet=st.sampled_from(list("0123456789.\t ;,aé")), max_size=30), min_size=1,
                      max_size=30),
       delimiter=st.sampled_from(["\t", ",", ";"]))
def test_table_columns_is_split_per_line(lines, delimiter):
    columns = _text.table_columns(lines, delimiter)
    rows = [line.split(delimiter) for line in lines]
    if len({len(r) for r in rows}) > 1:
        assert columns is None
    else:
        assert columns == [list(c) for c in zip(*rows)]


def test_table_columns_refuses_lines_with_line_breaks():
    assert _text.table_columns(["1\t2", "3\n4\t5"], "\t") is None


@SETTINGS
@given(raw=st.binary(max_size=600))
def test_is_binary_counts_control_bytes_as_before(raw):
    sample = raw[:4096]
    control = sum(1 for b in sample if b < 9 or 13 < b < 32)
    expected = bool(sample) and not any(sample.startswith(b) for b, _ in _text._BOMS) \
        and not sample.count(b"\x00") > len(sample) // 4 and control > len(sample) * 0.05
    assert _text.is_binary(raw) == expected


# ----------------------------------------------------------------------------- decode once


def test_decode_remembers_only_the_same_bytes_object():
    a = "E/V\tI/A\r\n0,5\t1e-3\r\n".encode("cp1252")
    b = "µA".encode("utf-8")
    assert _text.decode_as(a) == _text.decode_as(a) == ("E/V\tI/A\r\n0,5\t1e-3\r\n", "utf-8")
    assert _text.decode_as(b) == ("µA", "utf-8")
    assert _text.decode_as("µA".encode("cp1252")) == ("µA", "cp1252")  # equal length, other bytes
    buf = bytearray(b"1\t2\n")
    assert _text.decode(buf) == "1\t2\n"
    buf[0:1] = b"9"  # a mutable buffer is never remembered
    assert _text.decode(buf) == "9\t2\n"


# ----------------------------------------------------------------------------- empty rows


@pytest.mark.parametrize("frame", [
    pd.DataFrame({"E_V": [0.1, np.nan, 0.3], "I_A": [1.0, np.nan, np.nan]}),
    pd.DataFrame({"E_V": [0.1, 0.2], "I_A": [1.0, 2.0]}),
    pd.DataFrame({"E_V": [np.nan, np.nan], "cycle": np.array([1, 2], dtype=np.int64)}),
    pd.DataFrame({"E_V": [np.nan, 0.2]}, index=[5, 6]),
    pd.DataFrame({"E_V": [np.nan, 0.2]}).rename_axis("row"),
    pd.DataFrame({"E_V": pd.array([None, 0.2], dtype="Float64")}),
    pd.DataFrame({"E_V": [None, "x"]}, dtype=object),
    pd.DataFrame({"E_V": [], "I_A": []}, dtype=float),
    pd.DataFrame(index=range(3)),
], ids=["nan rows", "none empty", "int column", "other index", "named index", "nullable", "object",
        "no rows", "no columns"])
def test_without_empty_rows_is_dropna(frame):
    expected = frame.dropna(how="all").reset_index(drop=True)
    pd.testing.assert_frame_equal(_without_empty_rows(frame), expected)
