"""Ivium IviumSoft data files (``.idf``; ``.ids`` holds several in one file).

The file is text in sections, each introduced by a 4-byte little-endian length
(which is why ``file`` calls it data): ``key=value`` lines with CRLF ends
(``Method=Impedance``, ``Technique=Constant E``, ``Title=...``,
``Frequencies.amp[1]=0.01``, ...), then the data objects::

    primary_data
    3                      <- number of columns
    29                     <- number of rows
    1.09009E+02  -2.65557E+01	1.00000E+04     <- one row per line
    ...
    osc_data               <- raw oscillograms, not used here

For ``Method=Impedance`` the three columns are Z' (Ohm), Z'' (Ohm) and the
frequency (Hz), in that order; Z'' carries the physical sign (negative for a
capacitive arc). This is the layout pyimpspec reads
(``src/pyimpspec/data/formats/ids.py``), and the corpus file's values agree with
the same spectrum exported by pyimpspec's tests as .mpt and CSV. Numbers may use
a decimal comma. Other methods (voltammetry, transients) have other columns,
whose order this reader does not know: it refuses them rather than guess.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import numpy as np

from echem.errors import ReaderError
from echem.measurement import Measurement, canonical_frame

FORMAT = "ivium-idf"
VENDOR = "Ivium"

_HEAD_MARKERS = (b"Peaks=", b"Corrosion=", b"Levels=", b"ECN=", b"Solarcell=")
_EXPORT_HINT = "export the data from IviumSoft as ASCII (.csv/.txt) instead"


def sniff(raw: bytes, name: str) -> bool:
    """IviumSoft's first section (Peaks=/Corrosion=/Levels=/ECN=/Solarcell=) or Method= with primary_data."""
    head = raw[:1024]
    if sum(marker in head for marker in _HEAD_MARKERS) >= 3:
        return True
    return b"\nMethod=" in raw[:65536] and b"\nprimary_data" in raw


def _lines(raw: bytes) -> list[str]:
    text = raw.decode("cp1252", errors="replace")
    # "Report.Process data" separates its fields with FS RS; section length prefixes
    # are control characters inside otherwise plain lines.
    text = text.replace("\x1c\x1e", " | ")
    text = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", "", text)
    return [line.strip() for line in re.split(r"\r\n|\r|\n", text)]


def _key_values(lines: list[str]) -> dict[str, str]:
    kv: dict[str, str] = {}
    for line in lines:
        key, sep, value = line.partition("=")
        if sep and key and not key[0].isdigit() and key not in kv:
            kv[key.strip()] = value.strip()
    return kv


def _float(text: str) -> float:
    s = text.strip()
    if "," in s and "." not in s:
        s = s.replace(",", ".")
    return float(s)


def _int_line(lines: list[str], i: int, what: str) -> int:
    if i >= len(lines) or not re.fullmatch(r"\d+", lines[i]):
        got = lines[i][:40] if i < len(lines) else "end of file"
        raise ReaderError(f"expected the {what} after 'primary_data', found {got!r}; the file is damaged")
    return int(lines[i])


def _blocks(lines: list[str]) -> list[np.ndarray]:
    blocks = []
    for i, line in enumerate(lines):
        if line != "primary_data":
            continue
        n_cols = _int_line(lines, i + 1, "column count")
        n_rows = _int_line(lines, i + 2, "row count")
        rows = lines[i + 3 : i + 3 + n_rows]
        if len(rows) < n_rows:
            raise ReaderError(
                f"primary_data announces {n_rows} rows but the file ends after {len(rows)}; "
                f"it is truncated, {_EXPORT_HINT} or copy it again"
            )
        values = np.empty((n_rows, n_cols))
        for r, row in enumerate(rows):
            cells = row.split()
            try:
                if len(cells) != n_cols:
                    raise ValueError(f"{len(cells)} values")
                values[r] = [_float(c) for c in cells]
            except ValueError as exc:
                raise ReaderError(
                    f"primary_data row {r + 1} ({row[:60]!r}) is not {n_cols} numbers ({exc}); "
                    "the file is damaged"
                ) from exc
        blocks.append(values)
    return blocks


def _iso(text: str) -> str | None:
    """ISO 8601 from an unambiguous date-time text, else None (no locale guessing)."""
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y/%m/%d %H:%M:%S"):
        try:
            return datetime.strptime(text.strip(), fmt).isoformat()
        except ValueError:
            pass
    m = re.match(r"^(\d{1,2})[./-](\d{1,2})[./-](\d{4})\s+(\d{1,2}):(\d{2}):(\d{2})$", text.strip())
    if m:
        a, b = int(m.group(1)), int(m.group(2))
        if (a > 12) != (b > 12):
            day, month = (a, b) if a > 12 else (b, a)
            try:
                return datetime(int(m.group(3)), month, day, *map(int, m.group(4, 5, 6))).isoformat()
            except ValueError:
                return None
    return None


def parse(raw: bytes, name: str) -> Measurement:
    """Parse an Ivium ``.idf``/``.ids`` impedance file into a canonical :class:`Measurement`."""
    lines = _lines(raw)
    kv = _key_values(lines)
    method = kv.get("Method", "")
    if "impedance" not in method.lower():
        raise ReaderError(
            f"Ivium file with Method={method or '(none)'}: only impedance files can be read "
            f"from .idf (the column order of other methods is not documented); {_EXPORT_HINT}"
        )
    blocks = _blocks(lines)
    if not blocks:
        raise ReaderError(f"no 'primary_data' block found; the file is truncated, {_EXPORT_HINT}")
    for block in blocks:
        if block.shape[1] != 3:
            raise ReaderError(
                f"impedance primary_data should have 3 columns (Z', Z'', f), found {block.shape[1]}; "
                f"{_EXPORT_HINT}"
            )
    data = np.vstack(blocks)
    cycle = np.concatenate([np.full(len(b), k + 1, dtype=np.int64) for k, b in enumerate(blocks)])
    frame = canonical_frame(
        {"cycle": cycle, "freq_Hz": data[:, 2], "Z_re_ohm": data[:, 0], "Z_im_ohm": data[:, 1]}
    )

    meta: dict[str, Any] = {"technique": "EIS", "technique_label": f"{method} / {kv.get('Technique', '')}".strip(" /")}
    meta["n_spectra"] = len(blocks)
    for key, meta_key in (("Title", "title"), ("Technique", "control_mode"), ("Current Range", "current_range")):
        if kv.get(key):
            meta[meta_key] = kv[key]
    if kv.get("Technique", "").lower() == "constant e" and kv.get("E start"):
        try:
            meta["dc_potential_V"] = _float(kv["E start"])
        except ValueError:
            pass
    amplitudes = [v for k, v in kv.items() if re.fullmatch(r"Frequencies\.amp\[\d+\]", k)]
    try:
        amps = {_float(a) for a in amplitudes}
    except ValueError:
        amps = set()
    if len(amps) == 1 and kv.get("Technique", "").lower() == "constant e":
        meta["ac_amplitude_V"] = amps.pop()
    if kv.get("Data Options.Area"):
        # IviumSoft's area setting for current densities; the file does not state its unit.
        meta["ivium_area_setting"] = kv["Data Options.Area"]
    start = kv.get("starttime", "")
    if start:
        meta["start_time_text"] = start
        iso = _iso(start)
        if iso:
            meta["start_time"] = iso
    process = dict(
        (k.strip(), v.strip())
        for k, _, v in (f.partition(":") for f in kv.get("Report.Process data", "").split(" | "))
        if v.strip()
    )
    for field, meta_key in (("instrument", "instrument"), ("software vs", "software"), ("hw config", "hardware")):
        if process.get(field):
            meta[meta_key] = process[field]
    if "start_time" not in meta and process.get("start time"):
        meta["start_time_text"] = process["start time"]
        iso = _iso(process["start time"])
        if iso:
            meta["start_time"] = iso
    return Measurement(data=frame, meta=meta)
