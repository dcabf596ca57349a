"""The readers' text checks as they were before they were made fast (commit 023acf5): the oracle.

tests/io/test_text_fast.py checks that the fast versions in :mod:`echem.io._text`,
:mod:`echem.io.generic_csv` and :mod:`echem.io.chi_txt` give exactly what these give, line by
line and row by row, on the corpus, the demo files and damaged variants. Kept verbatim (only
the reader functions at the end are lifted out of their parse()); do not optimise it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

import numpy as np

_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$")


def to_float(text: str, decimal: str = ".") -> float:
    """Parse one number, with ``decimal`` as the decimal mark; NaN if not a number."""
    s = text.strip().strip('"').strip()
    if decimal == ",":
        s = s.replace(",", ".")
    try:
        return float(s)
    except ValueError:
        return float("nan")



def guess_decimal(lines: Iterable[str], delimiter: str) -> str:
    """Return ``","`` if numeric cells use decimal commas, else ``"."``.

    Only meaningful when the delimiter is not itself a comma.
    """
    if delimiter == ",":
        return "."
    commas = points = 0
    for line in lines:
        for cell in line.split(delimiter):
            cell = cell.strip()
            if _NUMBER.match(cell):
                if "," in cell:
                    commas += 1
                elif "." in cell:
                    points += 1
    return "," if commas > points else "."



_NUMBER_PARTS = re.compile(r"^[+-]?(\d*)(?:([.,])(\d*))?(?:([eE])[+-]?(\d*))?$")


def _number_shape(cell: str) -> tuple[bool, int, bool, int] | None:
    """(has decimal mark, decimals, has exponent, exponent digits), or None if not a number."""
    m = _NUMBER_PARTS.match(cell.strip().strip('"'))
    if not m or not (m.group(1) or m.group(3)):
        return None
    if m.group(4) is not None and not m.group(5):
        return None  # "1.2e" or "1.2e+": the exponent was cut
    return (m.group(2) is not None, len(m.group(3) or ""), m.group(4) is not None, len(m.group(5) or ""))


def _split_row(line: str, delimiter: str | None) -> list[str]:
    return line.split() if delimiter is None else [c.strip() for c in line.split(delimiter)]


def incomplete_last_line(text: str, window: int = 30) -> str | None:
    """Why the last data row of a text export looks cut off, or ``None``.

    A file cut while copying (or read while the instrument is still writing) ends in
    the middle of a row, and a cut number parses as a different number
    (``-3.183e-05`` cut to ``-3.1``). Only a file that does not end with a line break
    can be cut mid-row. Its last line is compared with the rows before it:

    * fewer cells than those rows (where they hold values), or
    * a last cell that is no longer a complete number (``1.2e+``), or
    * in a column written in one fixed format (``%.7E``, ``%.3f``), a last cell shorter
      than that format (``4.9000000E+000`` cut to ``4.9``), or
    * a last cell two or more characters shorter than any cell above it, or
    * a last cell whose written form lost what a cell above has (exponent, exponent
      digits, decimals, decimal mark, length) *and* whose value is off by more than a
      factor 5 from the row above: a changed magnitude, not a shorter spelling of a
      free-format number (``%g`` drops trailing zeros).

    What a cut may still leave unseen is a free-format number that lost its last digit
    or so. A complete row mistaken for a cut one is only left out (and the file flagged),
    so the rules lean towards finding cuts.

    Files whose end is not a table of numbers are left to their reader.
    """
    body = text.rstrip("\x00\x1a ")
    if not body or body.endswith(("\n", "\r")):
        return None
    lines = [line for line in re.split(r"\r\n|\r|\n", body) if line.strip()]
    if len(lines) < 2:
        return None
    last = lines[-1]
    for delimiter in ("\t", ";", ",", None):
        # the run of rows just above the last one with the same number of cells
        # and the same cells holding numbers (a column-name line ends the run)
        rows: list[list[str]] = []
        shapes: list[list] = []
        for line in reversed(lines[-1 - window:-1]):
            row = _split_row(line, delimiter)
            shape = [_number_shape(c) if c else None for c in row]
            if rows and (len(row) != len(rows[0])
                         or [x is None for x in shape] != [x is None for x in shapes[0]]):
                break
            rows.append(row)
            shapes.append(shape)
        rows.reverse()
        shapes.reverse()
        n = len(rows[-1])
        if n >= 2 and rows:
            break
    else:
        return None
    numeric = [shapes[0][i] is not None for i in range(n)]
    if sum(numeric) < max(2, n // 2):
        return None  # not a table of numbers: the reader decides
    cells = _split_row(last, delimiter)
    if len(cells) > n or not cells:
        return None
    for i, cell in enumerate(cells[:-1]):
        if numeric[i] and _number_shape(cell) is None:
            return None  # an earlier cell is not a number: a footer, not a cut row
    if len(cells) < n and any(r[i] for r in rows for i in range(len(cells), n)):
        return f"it has {len(cells)} of {n} values"
    j = len(cells) - 1
    if not numeric[j]:
        return None
    cell = cells[j]
    shape = _number_shape(cell)
    if shape is None:
        return f"its last value {cell!r} is not a complete number"
    column = [s[j] for s in shapes]
    shortest = min(len(r[j]) for r in rows)
    if all(s == column[0] for s in column) and _shorter(shape, column[0]):
        # a fixed format (EC-Lab "%.7E", PowerSuite "%.3f"): a shorter form was cut
        return f"its last value {cell!r} is shorter than the {rows[-1][j]!r} written above it"
    if len(cell) <= shortest - 2:
        return f"its last value {cell!r} is shorter than any value above it (such as {rows[-1][j]!r})"
    lost = any(_shorter(shape, s) for s in column) or len(cell) < shortest
    if not lost:
        return None
    decimal = "," if column[-1][0] and "," in rows[-1][j] and delimiter != "," else "."
    value, before = abs(to_float(cell, decimal)), abs(to_float(rows[-1][j], decimal))
    if not (np.isfinite(value) and np.isfinite(before)) or before == 0 or value == 0:
        return None if value == before else f"its last value {cell!r} looks cut (the row above has {rows[-1][j]!r})"
    if value / before > 5 or before / value > 5:
        return f"its last value {cell!r} looks cut (the row above has {rows[-1][j]!r})"
    return None


def _shorter(shape: tuple[bool, int, bool, int], ref: tuple[bool, int, bool, int]) -> bool:
    """True if a number written as ``shape`` lacks a part that ``ref`` has (it may be cut)."""
    return ((ref[0] and not shape[0]) or shape[1] < ref[1]
            or (ref[2] and not shape[2]) or shape[3] < ref[3])


def without_last_line(text: str) -> str:
    """``text`` up to and including its last line break (drops an unterminated last line)."""
    body = text.rstrip("\x00\x1a ")
    end = max(body.rfind("\n"), body.rfind("\r"))
    return body[: end + 1]


_NAN_TOKENS = frozenset({"nan", "-nan", "+nan", "inf", "-inf", "+inf", "infinity", "-infinity", "#n/a", "n/a"})


_NUMBER_CELL = r"[ \"]*[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?[ \"]*"
_ALL_NUMBERS = {
    d: re.compile(f"^(?:{_NUMBER_CELL.replace(',', '' if d == ',' else ',')}{re.escape(d)})*"
                  f"{_NUMBER_CELL.replace(',', '' if d == ',' else ',')}$")
    for d in ("\t", ";", ",")
}
_ALL_NUMBERS[None] = re.compile(r"^\s*(?:[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?\s+)*"
                                r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?\s*$")


def _row_pattern(line: str, delimiter: str | None) -> tuple[int, tuple[bool, ...], bool]:
    """(cell count, which cells are numbers, whether every cell is a NaN/inf token)."""
    if _ALL_NUMBERS[delimiter].match(line):  # the common case, without splitting in Python
        n = len(line.split()) if delimiter is None else line.count(delimiter) + 1
        return n, (True,) * n, False
    cells = _split_row(line, delimiter)
    mask = tuple(_number_shape(c) is not None if c else False for c in cells)
    return len(cells), mask, all(c.strip('"').lower() in _NAN_TOKENS for c in cells)


def table_delimiter(lines: list[str], window: int = 50) -> str | None:
    """The delimiter of the numeric table at the end of ``lines`` (tab, ``;``, ``,`` or spaces).

    ``"\x00"`` when the end of the text is not a table of numbers.
    """
    tail = [line for line in lines[-window:] if line.strip()]
    best, best_rows = None, 0
    for delimiter in ("\t", ";", ",", None):
        patterns = [_row_pattern(line, delimiter) for line in tail]
        numeric = [p for p in patterns if p[0] >= 2 and sum(p[1]) >= max(2, p[0] // 2)]
        if len(numeric) > best_rows:
            best, best_rows = delimiter, len(numeric)
    return best if best_rows >= 3 else "\x00"


_DIGITS = str.maketrans("", "", "0123456789")


def damaged_rows(text: str, limit: int = 5) -> list[tuple[int, str]]:
    """Lines inside a numeric table that are not rows of it: ``[(line number, line), ...]``.

    A line sits between two rows of numbers written alike (same number of cells, numbers
    in the same cells) and breaks that pattern: a cell of text or NaN where the rows
    around it have numbers, or a row of NaN. Readers either stop at such a line (and
    lose the rows after it) or turn it into NaN; both hide an edited or damaged file.
    A line without any number that repeats an earlier line is a repeated column-name
    line, not damage.
    """
    lines = re.split(r"\r\n|\r|\n", text)
    delimiter = table_delimiter(lines)
    if delimiter == "\x00":
        return []
    index = [i for i, line in enumerate(lines) if line.strip()]
    # A line written like the one before (the same characters once digits are removed)
    # has the same cells, numbers in the same places: only the others are parsed.
    skeleton = [lines[i].translate(_DIGITS) for i in index]
    cache: dict[int, tuple[int, tuple[bool, ...], bool]] = {}

    def pattern(k: int) -> tuple[int, tuple[bool, ...], bool]:
        first = k
        while first > 0 and skeleton[first - 1] == skeleton[k]:
            first -= 1
            if first in cache:
                break
        if first not in cache:
            cache[first] = _row_pattern(lines[index[first]], delimiter)
        return cache[first]

    def seen_before(k: int) -> bool:
        line = lines[index[k]].strip()
        return any(lines[i].strip() == line for i in index[:k])

    found: list[tuple[int, str]] = []
    for k in range(1, len(index) - 1):
        if skeleton[k] == skeleton[k - 1]:
            continue  # the common case: a row written like the one before
        before = pattern(k - 1)
        if before != pattern(k + 1):
            continue
        here = pattern(k)
        if here == before or before[0] < 2 or sum(before[1]) < max(2, before[0] // 2):
            continue
        numbers_lost = any(b and not h for b, h in zip(before[1], here[1]))
        repeated_header = not any(here[1]) and seen_before(k)
        if here[2] or (numbers_lost and not repeated_header):
            found.append((index[k] + 1, lines[index[k]]))
            if len(found) >= limit:
                break
    return found


# --------------------------------------------------------------------------- readers


def find_table_generic_csv(lines: list[str]):
    """generic_csv._find_table before its lines were classified by shape."""
    from echem.io.generic_csv import _DELIMITERS, _Table, _attach_column_row, _cells, _is_numeric_row

    best = None
    for rank, delimiter in enumerate(_DELIMITERS):
        run_start, run_len, run_width = None, 0, 0
        best_here = None  # (length, start, width)
        for i, line in enumerate(lines):
            if not line.strip() or line.lstrip().startswith("#"):
                if run_len and line.strip():
                    run_start, run_len = None, 0
                continue
            cells = _cells(line, delimiter)
            if _is_numeric_row(cells, delimiter):
                if run_len and len(cells) == run_width:
                    run_len += 1
                else:
                    run_start, run_len, run_width = i, 1, len(cells)
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
    return table


def chi_numbers(lines: list[str], width: int) -> np.ndarray | None:
    """chi_txt's data rows before they were parsed in one go (one row per column, or None)."""
    rows = []
    for line in lines:
        cells = [c.strip() for c in line.split(",")]
        if not line.strip():
            continue
        if len(cells) < width or not all(not math.isnan(to_float(c)) for c in cells[:width]):
            break
        rows.append(cells[:width])
    if not rows:
        return None
    return np.array([[to_float(r[k]) for r in rows] for k in range(width)], dtype=float).reshape(width, len(rows))
