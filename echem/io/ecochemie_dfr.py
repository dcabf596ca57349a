"""Autolab FRA data files (``.dfr``), as Eco Chemie's FRA software writes them.

One number per line (Latin-1 text)::

    VERSION8.0          <- format version
     29                 <- number of points N
     1                  <- (a count the data do not depend on)
     10000.0            <- point 1: frequency (Hz)
     109.00918219439028 <-          Z' (ohm)
     26.55567987651522  <-          -Z'' (ohm): minus the imaginary part
     0.0 ... 0.0        <-          six more values (DC potential, DC current, time, ...)
     7196.856730011521  <- point 2 ...

so 3 + 9·N lines of numbers, then a trailer of settings (counts, two dates; kept as text
in ``meta["dfr_trailer"]``, not interpreted). The third value of a point is -Z'' (pyimpspec reads the
format the same way) and is negated here to the physical sign. The six values after it
are not read: their meaning is not documented, and in the files seen they are zero.
A file with fewer values than its point count needs is cut and refused; blank lines are
ignored.
"""

from __future__ import annotations

import re

import numpy as np

from echem.errors import EmptyDataError, ReaderError
from echem.io._text import decode, head_text, split_lines
from echem.measurement import Measurement, canonical_frame

FORMAT = "ecochemie-dfr"
VENDOR = "Metrohm Autolab (Eco Chemie)"

_VALUES_PER_POINT = 9
_VERSION = re.compile(r"^\s*VERSION\s*(\d+(?:\.\d+)?)\s*$", re.I)


def sniff(raw: bytes, name: str) -> bool:
    lines = [line for line in head_text(raw, 256).lstrip("\ufeff").splitlines() if line.strip()]
    return len(lines) >= 3 and bool(_VERSION.match(lines[0])) and lines[1].strip().isdigit()


def table_start(text: str) -> int:
    return 0


def parse(raw: bytes, name: str) -> Measurement:
    lines = [line.strip() for line in split_lines(decode(raw)) if line.strip()]
    version = _VERSION.match(lines[0]).group(1)
    n = int(lines[1])
    if n <= 0:
        raise EmptyDataError("the .dfr says it holds 0 points")
    values = lines[3:]
    needed = _VALUES_PER_POINT * n
    if len(values) < needed:
        raise ReaderError(f"the .dfr announces {n} points ({needed} values) but holds {len(values)} values: "
                          "the file is cut; export it again from the FRA software")
    trailer = values[needed:]
    try:
        block = np.array([float(v.replace(",", ".")) for v in values[:needed]],
                         dtype=float).reshape(n, _VALUES_PER_POINT)
    except ValueError as exc:
        raise ReaderError(f"the .dfr holds a line that is not a number ({exc}); the file is damaged") from exc
    meta = {
        "dfr_version": version,
        "columns_used": {"freq_Hz": "value 1 of each point", "Z_re_ohm": "value 2 (Z')",
                         "Z_im_ohm": "value 3 (-Z''), negated"},
        "z_im_sign": "the file holds -Z''; negated to the physical sign",
        "technique": "EIS",
        "technique_label": "Autolab FRA impedance",
    }
    if trailer:
        meta["dfr_trailer"] = trailer[:40]
    data = canonical_frame({"freq_Hz": block[:, 0], "Z_re_ohm": block[:, 1], "Z_im_ohm": -block[:, 2]})
    return Measurement(data=data, meta=meta)
