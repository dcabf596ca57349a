"""Shared helpers for text exports: decoding, numbers with decimal commas, techniques.

Instrument software writes whatever the PC's locale says: UTF-16 with a BOM
(PalmSens), Windows-1252/Latin-1 (EC-Lab, Gamry), decimal commas (German and
French Windows). Readers decode through :func:`decode` and parse numbers through
:func:`to_float` / :func:`column_floats` so that all of them behave the same.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

import numpy as np

_BOMS = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)


def decode(raw: bytes) -> str:
    """Decode instrument text: BOM-marked UTF-8/16, else UTF-8, else Windows-1252.

    UTF-16 without a BOM is recognised by its NUL bytes. Windows-1252 is a superset
    of Latin-1 for printable characters and never fails, so a file always decodes;
    whether it *parses* is the reader's business.
    """
    return decode_as(raw)[0]


def decode_as(raw: bytes) -> tuple[str, str]:
    """Like :func:`decode`, also returning the encoding used (for writing text back).

    The last file decoded is remembered: the reader, the damage check and the check for
    a cut last row all decode the same bytes.
    """
    global _last_decoded
    last = _last_decoded
    if last is not None and last[0] is raw:
        return last[1]
    decoded = _decode_as(raw)
    if type(raw) is bytes:  # immutable: the same object always holds the same text
        _last_decoded = (raw, decoded)
    return decoded


_last_decoded: tuple[bytes, tuple[str, str]] | None = None


def forget_decoded() -> None:
    """Drop the remembered text (:func:`decode_as`): a long file's bytes and text are not kept
    after it is read."""
    global _last_decoded
    _last_decoded = None


def _decode_as(raw: bytes) -> tuple[str, str]:
    for bom, encoding in _BOMS:
        if raw.startswith(bom):
            return raw.decode(encoding, errors="replace"), encoding
    sample = raw[:4096]
    if sample and sample.count(b"\x00") > len(sample) // 4:
        # UTF-16 without BOM: every other byte of ASCII text is NUL.
        even_nuls = sample[0::2].count(b"\x00")
        odd_nuls = sample[1::2].count(b"\x00")
        encoding = "utf-16-le" if odd_nuls > even_nuls else "utf-16-be"
        return raw.decode(encoding, errors="replace"), encoding
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace"), "cp1252"


def head_text(raw: bytes, n_bytes: int = 4096) -> str:
    """Decoded start of a file, for sniffing (tolerates a cut multi-byte character)."""
    return decode(raw[:n_bytes])


def is_binary(raw: bytes) -> bool:
    """True if the bytes do not look like text in any encoding we decode."""
    sample = raw[:4096]
    if not sample:
        return False
    if any(sample.startswith(b) for b, _ in _BOMS):
        return False
    if sample.count(b"\x00") > len(sample) // 4:
        return False  # UTF-16 without BOM
    control = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    return control > len(sample) * 0.05


#: Bytes that are neither printable nor whitespace (below 9, 14..31).
_CONTROL_BYTES = bytes(b for b in range(32) if b < 9 or 13 < b)


def split_lines(text: str) -> list[str]:
    """Lines of ``text`` at CRLF, CR or LF, as ``re.split(r"\r\n|\r|\n", text)`` (in C).

    A text ending with a line break gives a last empty string.
    """
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.split("\n")


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


def column_floats(values: Iterable[str], decimal: str = ".") -> np.ndarray:
    """Parse a column of strings to float64; unparseable cells become NaN (as :func:`to_float`)."""
    values = values if isinstance(values, (list, tuple)) else list(values)
    try:
        # the common case: every cell a number; float() strips whitespace as to_float does
        if decimal == ",":
            return np.array([float(v.replace(",", ".")) for v in values], dtype=float)
        return np.array(list(map(float, values)), dtype=float)
    except (ValueError, TypeError, AttributeError):
        return np.array([to_float(v, decimal) for v in values], dtype=float)


def guess_decimal(lines: Iterable[str], delimiter: str) -> str:
    """Return ``","`` if numeric cells use decimal commas, else ``"."``.

    Decimal commas win when more number cells hold a comma than a point. Only
    meaningful when the delimiter is not itself a comma.
    """
    if delimiter == ",":
        return "."
    lines = lines if isinstance(lines, list) else list(lines)
    # cells with a comma are few in a file with decimal points: count them first, then
    # count cells with a point only until they are as many
    commas = 0
    for line in lines:
        if "," in line:
            for cell in line.split(delimiter):
                if "," in cell and _NUMBER.match(cell.strip()):
                    commas += 1
    if not commas:
        return "."
    points = 0
    for line in lines:
        if "." in line:
            for cell in line.split(delimiter):
                if "." in cell and "," not in cell and _NUMBER.match(cell.strip()):
                    points += 1
            if points >= commas:
                return "."
    return ","


_TECHNIQUE_PATTERNS = (
    # (regex on a vendor technique label, canonical technique); first match wins
    (r"impedance|\bpeis\b|\bgeis\b|\beis\b|\bzir\b|a\.?c\.? impedance|zcurve|\bimp\b", "EIS"),
    # battery cycling and waits: named (technique_label), never analysed as a sweep or a hold
    (r"galvanostatic cycling|potential limitation|\bgcpl\d*\b|battery capacity|\bbcd\b|modulo ?bat"
     r"|constant current|constant voltage|\bcoc\b|\bcov\b|intermittent titration|\bgitt\b|\bpitt\b"
     r"|modular (?:potentio|galvano)|^wait$", None),
    (r"linear sweep|\blsv\b|\blsw\b|polari[sz]ation curve|tafel", "LSV"),
    (r"cyclic voltam|\bcv\b|\bcva\b", "CV"),
    (r"chrono ?amperometry|\bca\b|potentiostatic hold|\bcstv\b", "CA"),
    (r"chrono ?potentiometry|\bcp\b|galvanostatic|\bcstc\b", "CP"),
    (r"open circuit|\bocv\b|\bocp\b|corrosion potential", "OCV"),
)


def technique_from_label(label: str | None) -> str | None:
    """Map a vendor's technique label (e.g. "Linear Sweep Voltammetry") to LSV/CV/EIS/...

    ``None`` for a label that names nothing echem knows, and for battery-cycling techniques
    and waits (GCPL, BCD, Modulo Bat, constant current/voltage steps, GITT/PITT, Wait), which
    a caller keeps in ``meta["technique_label"]`` as not analysed.
    """
    if not label:
        return None
    text = label.lower().strip()
    for pattern, technique in _TECHNIQUE_PATTERNS:
        if re.search(pattern, text):
            return technique
    return None


_OHM = re.compile(r"ohms?|\u2126|Ω|ω|Î©|î©", re.I)
_OHM_PREFIX = {"": "ohm", "k": "kohm", "K": "kohm", "M": "megaohm", "m": "milliohm", "G": "gigaohm",
               "µ": "microohm", "u": "microohm"}


def normalise_unit(unit: str) -> str:
    """A unit in one spelling: lower case, ``ohm`` for Ω/Ohms/ohm (also Ω read as
    ``Î©`` from UTF-8 bytes), ``µ`` for the Greek and the micro sign, ``deg c`` for °C.

    Instrument software writes the same unit many ways, depending on its version and on
    the PC's code page; a reader looks the normalised unit up in its table. The case of
    an ohm prefix is kept apart before lowering: ``MΩ``/``MOhm`` give ``megaohm``, ``mΩ``/
    ``mohm`` give ``milliohm`` (lower-casing alone would make them one unit).
    """
    u = unit.strip().strip('"').strip().replace("μ", "µ").replace("Âµ", "µ")
    u = _OHM.sub("ohm", u)
    m = re.fullmatch(r"([kKMmGµu]?)\s*ohm", u)
    if m:
        return _OHM_PREFIX[m.group(1)]
    u = u.lower().replace("Â°", "°").replace("â°", "°")
    u = re.sub(r"^(?:°\s*c|º\s*c|degc|deg\.? c|℃)$", "deg c", u)
    return u


def technique_from_name(name: str) -> str | None:
    """Technique from a file name (``lsv_1.mpt``, ``PEIS_300C.txt``, ``cv-20mVs.csv``)."""
    stem = re.sub(r"\.[A-Za-z0-9]+$", "", name)
    label = re.sub(r"[_\-.\s]+", " ", stem)
    return technique_from_label(label)


def table_columns(lines: list[str], delimiter: str) -> list[list[str]] | None:
    """The cells of ``lines`` split at ``delimiter`` (one ASCII character), column by column.

    ``None`` unless every line has the same number of cells: then the caller splits line by
    line. The lines are split in one go (joined, split once, every n-th cell taken); the
    cells are as ``line.split(delimiter)`` gives them.
    """
    if not lines:
        return None
    joined = "\n".join(lines)
    raw = np.frombuffer(joined.encode("utf-8", "surrogatepass"), dtype=np.uint8)
    breaks = np.flatnonzero(raw == 10)
    if breaks.size != len(lines) - 1:
        return None  # a line holding a line break itself
    marks = np.flatnonzero(raw == ord(delimiter))
    per_line = np.diff(np.searchsorted(marks, np.concatenate(([0], breaks, [raw.size]))))
    if np.any(per_line != per_line[0]):
        return None
    width = int(per_line[0]) + 1
    cells = joined.replace("\n", delimiter).split(delimiter)
    return [cells[j::width] for j in range(width)]


def split_line(line: str, delimiter: str | None) -> list[str]:
    """Split a data line; ``None`` splits on runs of whitespace."""
    if delimiter is None:
        return line.split()
    return [c.strip().strip('"') for c in line.rstrip("\r\n").split(delimiter)]


# --------------------------------------------------------------------------- truncation

#: A number cell, split into its parts: sign, integer digits, decimal mark and
#: decimals, exponent marker, exponent sign and digits.
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
    lines = _last_lines(body, window + 1)
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


def _last_lines(text: str, n: int) -> list[str]:
    """The last ``n`` non-blank lines of ``text`` (all, if it has fewer), read from its end."""
    size = 8192
    while size < len(text):
        lines = [line for line in split_lines(text[-size:])[1:] if line.strip()]  # [0] may be cut
        if len(lines) >= n:
            return lines[-n:]
        size *= 8
    return [line for line in split_lines(text) if line.strip()][-n:]


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
    mask = tuple(_is_number(c) if c else False for c in cells)
    return len(cells), mask, all(c.strip('"').lower() in _NAN_TOKENS for c in cells)


@functools.lru_cache(maxsize=4096)
def _is_number(cell: str) -> bool:
    """``_number_shape(cell) is not None``, remembered: tables repeat a few cell shapes."""
    return _number_shape(cell) is not None


def _shapes(text: str) -> bytes:
    """``text`` (UTF-8) with every run of digits written as one ``0``: the shape of its numbers.

    Lines of the same shape have the same :func:`_row_pattern` for any delimiter (it looks
    at which characters are digits, never at how many or which), so the pattern of a line
    can be taken from its shape, and computed once per shape. (In bytes, with numpy: str
    methods are slow on text with any non-ASCII character such as ``°C``.)
    """
    raw = np.frombuffer(text.encode("utf-8", "surrogatepass"), dtype=np.uint8)
    digit = (raw >= 48) & (raw <= 57)
    keep = np.ones(raw.size, dtype=bool)
    keep[1:] = ~(digit[1:] & digit[:-1])  # the first digit of each run
    return np.where(digit, np.uint8(48), raw)[keep].tobytes()


def _split_bytes(raw: bytes) -> list[bytes]:
    """:func:`split_lines` for UTF-8 bytes (line ends are single bytes in UTF-8)."""
    if b"\r" in raw:
        raw = raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    return raw.split(b"\n")


def line_shapes(lines: list[str]) -> list[bytes]:
    """The shape of each line (:func:`_shapes`, in UTF-8): each run of digits written as ``0``.

    What a line holds (how many cells, which are numbers) does not depend on its digits,
    so a reader can classify each distinct shape once instead of each line.
    """
    shapes = _split_bytes(_shapes("\n".join(lines))) if lines else []
    if len(shapes) != len(lines):  # lines holding line breaks themselves
        shapes = [_shapes(line) for line in lines]
    return shapes


class _Patterns(dict):
    """``_row_pattern`` per (line shape in UTF-8, delimiter), each computed once."""

    def __missing__(self, key: tuple[bytes, str | None]) -> tuple[int, tuple[bool, ...], bool]:
        value = self[key] = _row_pattern(key[0].decode("utf-8", "surrogatepass"), key[1])
        return value


def table_delimiter(lines: list[str], window: int = 50) -> str | None:
    """The delimiter of the numeric table at the end of ``lines`` (tab, ``;``, ``,`` or spaces).

    ``"\x00"`` when the end of the text is not a table of numbers.
    """
    tail = [line for line in lines[-window:] if line.strip()]
    return _table_delimiter(line_shapes(tail), _Patterns())


def _table_delimiter(tail: list[bytes], patterns: _Patterns) -> str | None:
    """:func:`table_delimiter` of the non-blank last lines, given as shapes (:func:`_shapes`)."""
    best, best_rows = None, 0
    for delimiter in ("\t", ";", ",", None):
        rows = 0
        for line in tail:
            if delimiter is not None and delimiter.encode() not in line:
                continue  # one cell: not a row of this table
            n, mask, _ = patterns[line, delimiter]
            if n >= 2 and sum(mask) >= max(2, n // 2):
                rows += 1
        if rows > best_rows:
            best, best_rows = delimiter, rows
    return best if best_rows >= 3 else "\x00"


def damaged_rows(text: str, limit: int = 5) -> list[tuple[int, str]]:
    """Lines inside a numeric table that are not rows of it: ``[(line number, line), ...]``.

    A line sits between two rows of numbers written alike (same number of cells, numbers
    in the same cells) and breaks that pattern: a cell of text or NaN where the rows
    around it have numbers, or a row of NaN. Readers either stop at such a line (and
    lose the rows after it) or turn it into NaN; both hide an edited or damaged file.
    A line without any number that repeats an earlier line is a repeated column-name
    line, not damage.

    Lines are compared by their *skeleton* (the line without its digits): a run of lines
    with one skeleton is taken to share the pattern of its first line, so only a line whose
    skeleton differs from both neighbours can break the pattern. The pattern of a line is
    computed once per shape (:func:`_shapes`); the result is that of analysing every row
    (tests/io/test_text_fast.py checks it against that analysis).
    """
    return damage_scan(text, limit)[0]


def end_delimiter(text: str) -> str | None:
    """The delimiter :func:`damaged_rows` uses for ``text``: that of the table its last 50
    lines hold (:func:`_table_delimiter`), ``"\x00"`` when they hold none.

    It depends on the last 50 lines only: the end of a long file gives the delimiter that
    the whole file gives (:mod:`echem.io._long` reads only the end of a long file).
    """
    return table_delimiter(split_lines(text))


def damage_scan(text: str, limit: int = 5, delimiter: str | None = None) -> tuple[list[tuple[int, str]], int]:
    """:func:`damaged_rows` of ``text``, and the index of the line the last pattern run starts at.

    ``delimiter`` (as :func:`end_delimiter` gives it) replaces the delimiter of the last 50
    lines: the scan of the start of a long table then decides its lines as the scan of the
    whole table does. The run start says where the comparison stands after the last line
    examined (the line before the last one): every later line is compared with the line
    the run starts at (or a later one), so when it is a row of the table, a file whose
    further lines are all rows written like it has no damaged line further on. ``-1`` when
    the text has no table (nothing is damaged then).
    """
    lines = split_lines(text)
    shape_text = _shapes(text)
    shapes = _split_bytes(shape_text)
    skeletons = _split_bytes(shape_text.replace(b"0", b""))  # each line without its digits
    index = [i for i, line in enumerate(lines) if line.strip()]
    patterns = _Patterns()
    if delimiter is None:
        delimiter = _table_delimiter([shapes[i] for i in index[-50:] if i >= len(lines) - 50], patterns)
    if delimiter == "\x00":
        return [], -1
    skeleton = [skeletons[i] for i in index]

    def seen_before(k: int) -> bool:
        line = lines[index[k]].strip()
        return any(lines[i].strip() == line for i in index[:k])

    found: list[tuple[int, str]] = []
    run_start = 0  # first line of the run of equal skeletons that line k - 1 belongs to
    for k in range(1, len(index) - 1):
        here_skeleton = skeleton[k]
        if here_skeleton == skeleton[k - 1]:
            continue  # the common case: a row written like the one before
        previous_start, run_start = run_start, k
        if here_skeleton == skeleton[k + 1]:
            continue  # the line after shares this line's pattern: no break here
        before_shape = shapes[index[previous_start]]
        if before_shape.count(b"0") < 2:
            continue  # fewer than two numbers (digit runs): not a row of a table
        before = patterns[before_shape, delimiter]
        if before[0] < 2 or sum(before[1]) < max(2, before[0] // 2):
            continue
        after_shape = shapes[index[k + 1]]
        if after_shape != before_shape and patterns[after_shape, delimiter] != before:
            continue
        here = patterns[shapes[index[k]], delimiter]
        if here == before:
            continue
        numbers_lost = any(b and not h for b, h in zip(before[1], here[1]))
        repeated_header = not any(here[1]) and seen_before(k)
        if here[2] or (numbers_lost and not repeated_header):
            found.append((index[k] + 1, lines[index[k]]))
            if len(found) >= limit:
                break
    return found, (index[run_start] if index else -1)


def is_number_cell(cell: str) -> bool:
    """Whether the damage check counts this cell (as ``line.split(delimiter)`` gives it) as a number."""
    cell = cell.strip()
    return bool(cell) and _is_number(cell)
