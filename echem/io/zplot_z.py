"""Scribner ZPlot / ZView ``.z`` files ("ZPLOT2 ASCII").

Layout::

    ZPLOT2 ASCII
      Measured Data, ZPlot:       3.2c
      Experiment Type:            Sweep Frequency, Control Voltage
      Date:                       10-12-2018
      Time:                       11:04:34
      ...                         (instrument settings, cell information)
      Data Points:                56
      Freq(Hz)  Ampl  Bias  Time(Sec)  Z'(a)  Z''(b)  GD  Err  Range
    End Comments
    3.000000E+05  1.0000E-02  0.0000E+00  2.670000E+00  1.4777E+02  -1.1335E+01 ...

Data rows are tab- or comma-separated. ``Z''(b)`` is written with its physical
sign (negative for a capacitive arc), so it is used as is. Columns are taken from
the ``Freq(Hz)`` header row when present, else the ZPlot2 default order
(frequency, amplitude, bias, time, Z', Z''), the order impedance.py's ``readZPlot``
assumes.

Older files start with ``ZPLOT ASCII`` or with no magic line at all (comment lines,
then the ``Freq(Hz) ...`` column row); a ``.z`` file with a ``Freq(Hz)`` row in its first
80 lines is read the same way (``meta["header_variant"]`` says so), with rows separated
by tabs, commas, semicolons or spaces.

Two flavours: files written by ZPlot itself carry the full experiment block
(``Measured Data, ZPlot``, ``Begin Experiment``) and are reported as
``format: zplot-z``; minimal files with only the magic line, a software line and
the column row (ZView and third-party exports) as ``format: zview-z``.
"""

from __future__ import annotations

import re
from datetime import datetime

import numpy as np

from echem.errors import EmptyDataError, ReaderError
from echem.io._text import decode, head_text, technique_from_label, to_float
from echem.measurement import Measurement, canonical_frame

FORMAT = "zplot-z"
VENDOR = "Scribner ZPlot/ZView"

_MAGIC = "ZPLOT2 ASCII"
_END_HEADER = re.compile(r"^\s*End (Comments|Header)\s*:?", re.IGNORECASE)
_KEY_VALUE = re.compile(r"^\s*(?P<key>[^:]+?)\s*:\s*(?P<value>.*?)\s*$")
# ZPlot2 default column order (impedance.py readZPlot uses indices 0, 4, 5).
_DEFAULT_COLUMNS = ["Freq(Hz)", "Ampl", "Bias", "Time(Sec)", "Z'(a)", "Z''(b)", "GD", "Err", "Range"]


_OLD_MAGIC = re.compile(r"^\s*ZPLOT\d?\s+ASCII", re.I)
_COLUMN_ROW = re.compile(r"^\s*freq\s*\(hz\)", re.I)


def sniff(raw: bytes, name: str) -> bool:
    """``ZPLOT2 ASCII`` (or an older ``ZPLOT ASCII``) on the first line; or, for a ``.z``
    file, a ``Freq(Hz)`` column row in its head (older headers without the magic line)."""
    head = head_text(raw, 4096).lstrip("\ufeff \t\r\n")
    if head.upper().startswith(_MAGIC) or _OLD_MAGIC.match(head.split("\n", 1)[0]):
        return True
    return name.lower().endswith(".z") and any(_COLUMN_ROW.match(line) for line in head.splitlines()[:80])


def _split(line: str) -> list[str]:
    """Cells of a row: tab, comma or semicolon separated, else runs of spaces (older files)."""
    stripped = line.strip()
    if re.search(r"[\t,;]", stripped):
        return [c.strip() for c in re.split(r"\t|,|;", stripped)]
    return stripped.split()


def _column_index(columns: list[str]) -> dict[str, int]:
    """Map canonical roles to column positions from the ``Freq(Hz) ...`` header row."""
    roles: dict[str, int] = {}
    for i, col in enumerate(columns):
        c = col.replace(" ", "").lower()
        if c.startswith("freq") and "freq" not in roles:
            roles["freq"] = i
        elif c.startswith("time") and "time" not in roles:
            roles["time"] = i
        elif c.startswith("z''") or c.startswith('z"'):
            roles.setdefault("zim", i)
        elif c.startswith("z'"):
            roles.setdefault("zre", i)
        elif c == "ampl":
            roles.setdefault("ampl", i)
        elif c == "bias":
            roles.setdefault("bias", i)
    return roles


def _start_time(date: str | None, time: str | None, meta: dict) -> None:
    """ISO start time from ZPlot's ``Date: MM-DD-YYYY`` and ``Time: HH:MM:SS``.

    ZPlot writes US month-day order; a first field above 12 can only be a day,
    in which case day-month order is used. The order used is recorded.
    """
    if not date:
        return
    m = re.match(r"^\s*(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})\s*$", date)
    if not m:
        meta["date_as_written"] = date
        return
    a, b, year = (int(g) for g in m.groups())
    month, day, order = (b, a, "DD-MM-YYYY") if a > 12 else (a, b, "MM-DD-YYYY")
    hh = mm = ss = 0
    if time:
        t = re.match(r"^\s*(\d{1,2}):(\d{2})(?::(\d{2}))?", time)
        if t:
            hh, mm, ss = int(t.group(1)), int(t.group(2)), int(t.group(3) or 0)
    try:
        meta["start_time"] = datetime(year, month, day, hh, mm, ss).isoformat()
        meta["date_order"] = order
    except ValueError:
        meta["date_as_written"] = date


def _header_meta(header: dict[str, str], meta: dict) -> None:
    experiment = header.get("experiment type")
    if experiment:
        meta["experiment_type"] = experiment
        if "sweep frequency" in experiment.lower():
            meta["technique"] = "EIS"
        elif (label := technique_from_label(experiment)) is not None:
            meta["technique"] = label
    for key in ("measured data, zplot", "measured data, zview", "measured data, software"):
        if key in header:
            meta["software_version"] = header[key]
            break
    _start_time(header.get("date"), header.get("time"), meta)
    ocp = to_float(header.get("open circuit potential (v)", ""))
    if np.isfinite(ocp):
        meta["ocp_V"] = ocp
    area = to_float(header.get("surface area", ""))
    if np.isfinite(area) and area > 0:
        meta["area_cm2"] = area
    for key, value in header.items():
        m = re.match(r"^temp(erature)?\b\s*(\((?P<unit>[^)]*)\))?", key)
        if m:
            T = to_float(value)
            unit = (m.group("unit") or "c").strip().lower().lstrip("°")
            if np.isfinite(T):
                meta["temperature_C"] = T - 273.15 if unit == "k" else T
            break
    points = header.get("data points")
    if points and points.strip().isdigit():
        meta["data_points_declared"] = int(points)


def parse(raw: bytes, name: str) -> Measurement:
    lines = decode(raw).splitlines()
    if not lines:
        raise EmptyDataError(f"{name}: the file is empty")
    first = lines[0].lstrip("\ufeff ")
    magic = first.upper().startswith(_MAGIC) or bool(_OLD_MAGIC.match(first))
    if not magic and not any(_COLUMN_ROW.match(line) for line in lines[:80]):
        raise ReaderError(f"{name}: does not start with '{_MAGIC}' and has no 'Freq(Hz)' column row")

    header: dict[str, str] = {}
    columns: list[str] | None = None
    data_start = None
    for i, line in enumerate(lines[1:] if magic else lines, start=1 if magic else 0):
        if _END_HEADER.match(line):
            data_start = i + 1
            break
        stripped = line.strip()
        if re.match(r"^freq\s*\(hz\)", stripped, re.IGNORECASE):
            columns = _split(stripped)
            continue
        kv = _KEY_VALUE.match(line)
        if kv:
            header.setdefault(kv.group("key").strip().lower(), kv.group("value"))
    if data_start is None:
        # No "End Comments": data start after the column row (impedance.py does the same).
        if columns is None:
            raise ReaderError(
                f"{name}: ZPlot file has neither an 'End Comments' line nor a 'Freq(Hz)' column row; "
                "re-export it from ZPlot/ZView"
            )
        data_start = next(i for i, l in enumerate(lines) if re.match(r"^\s*freq\s*\(hz\)", l, re.I)) + 1

    meta: dict = {}
    full = "measured data, zplot" in header or "begin experiment" in header
    meta["format"] = "zplot-z" if full else "zview-z"
    if not first.upper().startswith(_MAGIC):
        meta["header_variant"] = ("older header: " + (first.strip()[:40] if magic else "no ZPLOT2 ASCII line")
                                  + "; data after the Freq(Hz) column row")
    if columns is None:
        columns = list(_DEFAULT_COLUMNS)
        meta["columns_assumed"] = "no column row; ZPlot2 default order " + ", ".join(_DEFAULT_COLUMNS)
    roles = _column_index(columns)
    missing = [r for r in ("freq", "zre", "zim") if r not in roles]
    if missing:
        raise ReaderError(
            f"{name}: ZPlot column row {columns!r} lacks frequency, Z' or Z''; "
            "re-export the file with the impedance columns"
        )
    _header_meta(header, meta)

    rows = [_split(l) for l in lines[data_start:] if l.strip()]
    if not rows:
        raise EmptyDataError(f"{name}: ZPlot file has a header but no data rows")
    width = max(roles.values()) + 1
    bad = [k for k, r in enumerate(rows) if len(r) < width]
    if bad:
        raise ReaderError(
            f"{name}: data row {bad[0] + 1} has {len(rows[bad[0]])} fields, expected at least {width}; "
            "the file may be truncated or edited"
        )
    table = np.array([[to_float(c) for c in r[:width]] for r in rows], dtype=float)
    declared = meta.get("data_points_declared")
    if declared is not None and declared != len(rows):
        meta.setdefault("warnings", []).append(
            f"header declares {declared} data points, the file holds {len(rows)} "
            "(the sweep was aborted or the file trimmed)"
        )

    bias_unit = "A" if "control current" in meta.get("experiment_type", "").lower() else "V"
    for role, key in (("ampl", f"ac_amplitude_{bias_unit}"), ("bias", f"dc_bias_{bias_unit}")):
        if role in roles:
            values = table[:, roles[role]]
            # A zero AC amplitude is a placeholder of third-party writers, not a setting.
            if np.all(values == values[0]) and not (role == "ampl" and values[0] == 0):
                meta[key] = float(values[0])
    time = table[:, roles["time"]] if "time" in roles else None
    if time is not None and np.all(time == 0):
        time = None  # placeholder column of zeros (ZView-style exports)
        meta["time_column"] = "all zeros in the file; not used"
    data = canonical_frame(
        {
            "time_s": time,
            "freq_Hz": table[:, roles["freq"]],
            "Z_re_ohm": table[:, roles["zre"]],
            "Z_im_ohm": table[:, roles["zim"]],
        }
    )
    meta["z_im_sign"] = "as written (ZPlot writes Z'' with its physical sign)"
    return Measurement(data=data, meta=meta)
