"""Zahner Thales impedance spectra (``.ism``, binary).

Layout, big-endian, as read by Zahner's own MIT-licensed code
(``zahner_analysis/file_import/ism_import.py`` and ``thales_file_utils.py`` in
Zahner-elektrik/Zahner-Analysis-Python, commit 6d0fe116; ``ism_export.py`` writes
the same)::

    int48    version (0x0000FFFFFFFE / ...FF)
    int48    n - 1                       n = number of points
    float64  frequency[n]   (Hz)
    float64  |Z|[n]         (Ohm)
    float64  phase[n]       (rad; negative for a capacitive response)
    float64  time[n]        (s since 1980-01-01, the instrument clock)
    int16    significance[n]  (0..1000)
    12 strings, each int16 length + ASCII with upper/lower case swapped:
        date (DDMMYY), system, potential ("0.9995V, Ampl: 10mV"), current ("10.006nA"),
        temperature ("23.8+-0.1C"), time ("09:32:45 - 09:37:42"), comment 1..4,
        area for current density, serial-quantity text
    int16    acquisition flag
    float64  k[32]                        (instrument settings, undocumented)
    if flag > 256 and int(k[27]) & 0x8000: (float64 voltage, float64 current)[n]
    rest: settings blob (undocumented)

Thales first measures from the start frequency up to the highest frequency and
then sweeps down to the lowest (or the reverse); the points before the turn
overlap the main sweep. Zahner's software shows only the main sweep, from the
highest to the lowest frequency; so does this reader, in measurement order, and
``meta["overlap_points_dropped"]`` says how many points it left out.

``Z_re = |Z| cos(phase)``, ``Z_im = |Z| sin(phase)`` (physical sign). The
maintained package ``zahner_analysis`` (PyPI, MIT) reads the same layout but is
a client for Zahner's fitting server; this module needs only numpy.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from echem.errors import ReaderError
from echem.measurement import Measurement, canonical_frame

FORMAT = "zahner-ism"
VENDOR = "Zahner"

_EPOCH = datetime(1980, 1, 1)
_MAX_POINTS = 1_000_000
_STRING_NAMES = (
    "date",
    "system",
    "potential",
    "current",
    "temperature",
    "time",
    "comment_1",
    "comment_2",
    "comment_3",
    "comment_4",
    "area",
    "serial_quantity",
)
_SI_PREFIX = {"": 1.0, "m": 1e-3, "u": 1e-6, "µ": 1e-6, "n": 1e-9, "p": 1e-12, "k": 1e3}


def _n_points(raw: bytes) -> int:
    return int.from_bytes(raw[6:12], "big", signed=True) + 1


def sniff(raw: bytes, name: str) -> bool:
    """Version bytes 00 00 FF FF FF Fx, a sane point count, positive finite frequencies."""
    if len(raw) < 12 or raw[:5] != b"\x00\x00\xff\xff\xff" or raw[5] < 0xF0:
        return False
    n = _n_points(raw)
    if not 1 <= n <= _MAX_POINTS or len(raw) < 20:
        return False
    # Check what is there, so that a truncated file is still recognised (and then
    # reported as truncated by parse) rather than called an unknown format.
    freq = np.frombuffer(raw, dtype=">f8", count=min(n, (len(raw) - 12) // 8), offset=12)
    ok = bool(np.all(np.isfinite(freq)) and np.all(freq > 0))
    if ok and len(raw) >= 12 + 24 * n:
        phase = np.frombuffer(raw, dtype=">f8", count=n, offset=12 + 16 * n)
        ok = bool(np.all(np.abs(phase) <= np.pi + 1e-9))
    return ok


class _Cursor:
    def __init__(self, raw: bytes, offset: int):
        self.raw, self.offset = raw, offset

    def take(self, n_bytes: int, what: str) -> bytes:
        if self.offset + n_bytes > len(self.raw):
            raise ReaderError(
                f"the .ism file ends inside its {what} (byte {self.offset} of {len(self.raw)}); "
                "it is truncated: copy it again or re-export it from Thales"
            )
        chunk = self.raw[self.offset : self.offset + n_bytes]
        self.offset += n_bytes
        return chunk

    def array(self, dtype: str, count: int, what: str) -> np.ndarray:
        size = np.dtype(dtype).itemsize * count
        return np.frombuffer(self.take(size, what), dtype=dtype).astype(float)

    def int16(self, what: str) -> int:
        return int.from_bytes(self.take(2, what), "big", signed=True)

    def string(self, what: str) -> str:
        length = self.int16(what)
        if length < 0:
            raise ReaderError(f"the .ism {what} has a negative length; the file is damaged, re-export it")
        return self.take(length, what).decode("cp1252", errors="replace").swapcase().strip()


def _value_with_unit(text: str, unit: str) -> float | None:
    """``"10.006nA"`` -> 1.0006e-8 for unit "A"; None when the text does not say."""
    m = re.match(rf"^\s*([-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)\s*([munpkµ]?){unit}\b", text)
    if not m:
        return None
    return float(m.group(1)) * _SI_PREFIX[m.group(2)]


def _start_time(times_s: np.ndarray, strings: dict[str, str]) -> str | None:
    t0 = float(np.min(times_s))
    if t0 > 0:
        return (_EPOCH + timedelta(seconds=t0)).isoformat()
    # Simulated or edited spectra carry no clock: use the date and time texts.
    date = strings.get("date", "")
    clock = re.match(r"^\s*(\d{1,2}):(\d{2}):(\d{2})", strings.get("time", ""))
    if re.fullmatch(r"\d{6}", date) and clock:
        day, month, year = int(date[:2]), int(date[2:4]), int(date[4:])
        year += 2000 if year < 70 else 1900  # Thales stores two digits (Zahner's rule)
        try:
            return datetime(year, month, day, *map(int, clock.groups())).isoformat()
        except ValueError:
            return None
    return None


def parse(raw: bytes, name: str) -> Measurement:
    """Parse a Zahner ``.ism`` spectrum into a canonical :class:`Measurement`."""
    n = _n_points(raw)
    if not 1 <= n <= _MAX_POINTS:
        raise ReaderError(f"the .ism header gives {n} points, which is impossible; the file is damaged")
    cur = _Cursor(raw, 12)
    freq = cur.array(">f8", n, "frequency table")
    modulus = cur.array(">f8", n, "impedance table")
    phase = cur.array(">f8", n, "phase table")
    times = cur.array(">f8", n, "time table")
    significance = cur.array(">i2", n, "significance table")
    strings = {key: cur.string(f"{key} text") for key in _STRING_NAMES}
    acq_flag = cur.int16("acquisition flag")
    k_values = cur.array(">f8", 32, "settings table")
    voltage = current = None
    if acq_flag > 256 and (int(k_values[27]) & 0x8000):
        pairs = cur.array(">f8", 2 * n, "DC voltage/current table").reshape(n, 2)
        voltage, current = pairs[:, 0], pairs[:, 1]

    if not (np.all(np.isfinite(freq)) and np.all(freq > 0)):
        raise ReaderError("the .ism frequency table holds non-positive or non-finite values; the file is damaged")
    i_max, i_min = int(np.argmax(freq)), int(np.argmin(freq))
    lo, hi = min(i_max, i_min), max(i_max, i_min)
    keep = slice(lo, hi + 1)

    z = modulus[keep] * np.exp(1j * phase[keep])
    columns: dict[str, Any] = {
        "time_s": times[keep] - float(np.min(times)),
        "freq_Hz": freq[keep],
        "Z_re_ohm": z.real,
        "Z_im_ohm": z.imag,
    }
    if voltage is not None:
        columns["E_V"] = voltage[keep]
        columns["I_A"] = current[keep]

    meta: dict[str, Any] = {"technique": "EIS", "technique_label": "impedance spectrum (.ism)"}
    meta["overlap_points_dropped"] = int(n - (hi - lo + 1))
    meta["min_significance"] = int(np.min(significance[keep]))
    start = _start_time(times, strings)
    if start:
        meta["start_time"] = start
    if strings["system"]:
        meta["system"] = strings["system"]
    potential = strings["potential"]
    if potential:
        meta["potential_text"] = potential
        dc = _value_with_unit(potential, "V")
        if dc is not None:
            meta["dc_potential_V"] = dc
        amp = re.search(r"Ampl:\s*(.+)$", potential)
        if amp:
            ac = _value_with_unit(amp.group(1), "V")
            if ac is not None:
                meta["ac_amplitude_V"] = ac
    if strings["current"]:
        meta["current_text"] = strings["current"]
        dc_current = _value_with_unit(strings["current"], "A")
        if dc_current is not None:
            meta["dc_current_A"] = dc_current
    temperature = strings["temperature"]
    if temperature:
        meta["temperature_text"] = temperature
        m = re.match(r"^\s*([-+]?\d+(?:\.\d*)?)\s*(?:\+-\s*[\d.]+\s*)?°?C\s*$", temperature)
        if m:
            meta["temperature_C"] = float(m.group(1))
    comments = [strings[f"comment_{i}"] for i in range(1, 5) if strings[f"comment_{i}"]]
    if comments:
        meta["comments"] = "\n".join(comments)
    if strings["area"]:
        meta["area_text"] = strings["area"]
        m = re.match(r"^\s*(\d+(?:\.\d*)?)\s*cm(?:2|²)\s*$", strings["area"])
        if m and float(m.group(1)) > 0:
            meta["area_cm2"] = float(m.group(1))
    return Measurement(data=canonical_frame(columns), meta=meta)
