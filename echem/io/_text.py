"""Shared helpers for text exports: decoding, numbers with decimal commas, techniques.

Instrument software writes whatever the PC's locale says: UTF-16 with a BOM
(PalmSens), Windows-1252/Latin-1 (EC-Lab, Gamry), decimal commas (German and
French Windows). Readers decode through :func:`decode` and parse numbers through
:func:`to_float` / :func:`column_floats` so that all of them behave the same.
"""

from __future__ import annotations

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
    for bom, encoding in _BOMS:
        if raw.startswith(bom):
            return raw.decode(encoding, errors="replace")
    sample = raw[:4096]
    if sample and sample.count(b"\x00") > len(sample) // 4:
        # UTF-16 without BOM: every other byte of ASCII text is NUL.
        even_nuls = sample[0::2].count(b"\x00")
        odd_nuls = sample[1::2].count(b"\x00")
        return raw.decode("utf-16-le" if odd_nuls > even_nuls else "utf-16-be", errors="replace")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


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
    control = sum(1 for b in sample if b < 9 or 13 < b < 32)
    return control > len(sample) * 0.05


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
    """Parse a column of strings to float64; unparseable cells become NaN."""
    return np.array([to_float(v, decimal) for v in values], dtype=float)


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


_TECHNIQUE_PATTERNS = (
    # (regex on a vendor technique label, canonical technique); first match wins
    (r"impedance|\bpeis\b|\bgeis\b|\beis\b|\bzir\b|a\.?c\.? impedance|zcurve|\bimp\b", "EIS"),
    (r"linear sweep|\blsv\b|\blsw\b|polari[sz]ation curve|tafel", "LSV"),
    (r"cyclic voltam|\bcv\b|\bcva\b", "CV"),
    (r"chrono ?amperometry|\bca\b|potentiostatic hold|\bcstv\b", "CA"),
    (r"chrono ?potentiometry|\bcp\b|galvanostatic|\bcstc\b", "CP"),
    (r"open circuit|\bocv\b|\bocp\b|corrosion potential", "OCV"),
)


def technique_from_label(label: str | None) -> str | None:
    """Map a vendor's technique label (e.g. "Linear Sweep Voltammetry") to LSV/CV/EIS/..."""
    if not label:
        return None
    text = label.lower()
    for pattern, technique in _TECHNIQUE_PATTERNS:
        if re.search(pattern, text):
            return technique
    return None


def technique_from_name(name: str) -> str | None:
    """Technique from a file name (``lsv_1.mpt``, ``PEIS_300C.txt``, ``cv-20mVs.csv``)."""
    stem = re.sub(r"\.[A-Za-z0-9]+$", "", name)
    label = re.sub(r"[_\-.\s]+", " ", stem)
    return technique_from_label(label)


def split_line(line: str, delimiter: str | None) -> list[str]:
    """Split a data line; ``None`` splits on runs of whitespace."""
    if delimiter is None:
        return line.split()
    return [c.strip().strip('"') for c in line.rstrip("\r\n").split(delimiter)]
