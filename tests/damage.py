"""Damage that real instrument files suffer, made from real files (test helper).

Pure functions ``bytes -> bytes`` (or builders of small files) shared by the bad-input
unit tests and the workflow robustness tests: a copy cut short, a file re-saved in
another encoding or locale, a header edited by hand, a cell typed over in a
spreadsheet, bytes of something else under a data file's name.
"""

from __future__ import annotations

import re

import numpy as np

from echem.io._text import decode_as


def lines_of(raw: bytes) -> tuple[list[str], str]:
    """Lines (with their line ends) and the encoding of a text export."""
    text, encoding = decode_as(raw)
    return text.splitlines(keepends=True), encoding


def delimiter_of(line: str) -> str:
    return "\t" if "\t" in line else (";" if ";" in line else ",")


def _is_data_line(line: str) -> bool:
    cells = [c.strip() for c in line.strip("\r\n").split(delimiter_of(line))]
    filled = [c for c in cells if c]
    numeric = [c for c in filled if re.fullmatch(r"[-+]?\d+([.,]\d+)?([eE][-+]?\d+)?", c)]
    return len(numeric) >= 2 and 2 * len(numeric) >= len(filled)


def data_line_indices(raw: bytes) -> list[int]:
    lines, _ = lines_of(raw)
    return [i for i, line in enumerate(lines) if _is_data_line(line)]


def cut_mid_row(raw: bytes, fraction: float = 0.6, cell: int = -1) -> bytes:
    """The file as a copy interrupted in the middle of a data row.

    The cut falls two characters into cell ``cell`` of the row (default the last: every
    cell is there, the last number is cut short; an earlier cell: cells are missing).
    """
    lines, encoding = lines_of(raw)
    rows = data_line_indices(raw)
    k = rows[int(fraction * (len(rows) - 1))]
    line = lines[k].rstrip("\r\n")
    starts = [0] + [m.end() for m in re.finditer(re.escape(delimiter_of(line)), line)]
    cut_at = starts[cell] + 2
    return ("".join(lines[:k]) + line[:cut_at]).encode(encoding)


def cut_in_header(raw: bytes, n_lines: int = 8) -> bytes:
    """The file cut after its first ``n_lines`` lines, inside the header."""
    lines, encoding = lines_of(raw)
    return "".join(lines[:n_lines]).encode(encoding)


def garbage(n: int = 4096, seed: int = 0) -> bytes:
    """Random bytes (a failed download, a file from another program)."""
    return np.random.default_rng(seed).integers(0, 256, n, dtype=np.uint8).tobytes()


def reencode(raw: bytes, encoding: str) -> bytes:
    """The same text saved in another encoding (``utf-16`` adds a BOM; ``utf-16-le`` none)."""
    text, _ = decode_as(raw)
    return text.encode(encoding)


def decimal_comma_latin1(raw: bytes) -> bytes:
    """An EC-Lab export as a German/French Windows writes it: decimal commas, Windows-1252."""
    text, _ = decode_as(raw)
    text = re.sub(r"(?<=\d)\.(?=\d)", ",", text)
    return text.encode("cp1252")


def claim_header_lines(raw: bytes, n: int) -> bytes:
    """An EC-Lab .mpt whose 'Nb header lines' was edited to ``n``."""
    text, encoding = decode_as(raw)
    text, count = re.subn(r"Nb header lines\s*:\s*\d+", f"Nb header lines : {n}", text, count=1)
    assert count == 1, "not an EC-Lab .mpt with a header"
    return text.encode(encoding)


def text_cell(raw: bytes, fraction: float = 0.5, text: str = "n/a") -> bytes:
    """A number in a data row typed over with text (an edit in a spreadsheet)."""
    lines, encoding = lines_of(raw)
    rows = data_line_indices(raw)
    k = rows[int(fraction * (len(rows) - 1))]
    lines[k] = re.sub(r"[-+]?\d+[.,]\d+([eE][-+]?\d+)?", text, lines[k], count=1)
    return "".join(lines).encode(encoding)


def nan_row(raw: bytes, fraction: float = 0.5) -> bytes:
    """A row of NaN inside the data (an instrument glitch, a spreadsheet export)."""
    lines, encoding = lines_of(raw)
    rows = data_line_indices(raw)
    k = rows[int(fraction * (len(rows) - 1))]
    line = lines[k]
    body = line.rstrip("\r\n")
    delimiter = delimiter_of(body)
    n = len(body.split(delimiter))
    lines.insert(k, delimiter.join(["NaN"] * n) + line[len(body):])
    return "".join(lines).encode(encoding)


def eis_csv(freq_Hz, Z, *, order=None, duplicate: int = 0, flip_sign: bool = False) -> bytes:
    """An impedance spectrum as a CSV with canonical column names.

    ``order`` reorders the rows, ``duplicate`` appends a second measurement (values 2 %
    off) of that many frequencies, ``flip_sign`` writes Im(Z) where -Im(Z) belongs
    (every point then looks inductive).
    """
    f = np.asarray(freq_Hz, float)
    Z = np.asarray(Z, complex)
    if duplicate:
        idx = np.linspace(0, f.size - 1, duplicate).astype(int)
        f = np.concatenate([f, f[idx]])
        Z = np.concatenate([Z, Z[idx] * 1.02])
    if order is not None:
        f, Z = f[order], Z[order]
    minus_im = Z.imag if flip_sign else -Z.imag
    rows = "".join(f"{a:.6e},{b:.6e},{c:.6e}\n" for a, b, c in zip(f, Z.real, minus_im))
    return ("freq/Hz,Re(Z)/Ohm,-Im(Z)/Ohm\n" + rows).encode()
