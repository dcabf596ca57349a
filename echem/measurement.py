"""The canonical measurement every reader returns.

Columns are SI and carry their unit in the name. ``E_V`` is against the reference
electrode used during the run; ``Z_im_ohm`` carries the physical sign (negative for
a capacitive arc) whatever convention the vendor file used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

#: Canonical column names, in output order.
COLUMNS = (
    "time_s",
    "E_V",
    "I_A",
    "cycle",
    "freq_Hz",
    "Z_re_ohm",
    "Z_im_ohm",
    "temperature_C",
)

#: Techniques the workflow distinguishes.
TECHNIQUES = ("LSV", "CV", "EIS", "CA", "CP", "OCV")

#: Keys every ``Measurement.meta`` has (values may be ``None``).
REQUIRED_META = ("technique", "vendor", "source", "sha256")


@dataclass
class Measurement:
    """One measurement read from one file.

    Attributes
    ----------
    data:
        Table with a subset of :data:`COLUMNS`, in file order.
    meta:
        At least ``technique``, ``vendor``, ``source`` (file path), ``sha256``;
        plus what the file says of ``scan_rate_V_s``, ``area_cm2``,
        ``reference_electrode`` (name as written), ``reference_E_V`` (its potential
        vs SHE if the file gives one), ``temperature_C``, ``start_time`` (ISO 8601).
    """

    data: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def technique(self) -> str | None:
        return self.meta.get("technique")

    @property
    def is_impedance(self) -> bool:
        return {"freq_Hz", "Z_re_ohm", "Z_im_ohm"} <= set(self.data.columns)

    def summary(self) -> dict[str, Any]:
        """A JSON-friendly summary: metadata, columns, row count, column ranges."""
        ranges = {}
        for col in self.data.columns:
            values = pd.to_numeric(self.data[col], errors="coerce").to_numpy(float)
            finite = values[np.isfinite(values)]
            if finite.size:
                ranges[col] = [float(finite.min()), float(finite.max())]
        return {
            "meta": {k: v for k, v in self.meta.items()},
            "columns": list(self.data.columns),
            "rows": int(len(self.data)),
            "ranges": ranges,
        }


def canonical_frame(columns: dict[str, Any]) -> pd.DataFrame:
    """Build a DataFrame with canonical columns in canonical order.

    ``columns`` maps canonical names to array-likes; ``None`` values are dropped.
    Unknown names raise ``KeyError`` so that a reader cannot leak vendor columns.
    """
    unknown = set(columns) - set(COLUMNS)
    if unknown:
        raise KeyError(f"not canonical columns: {sorted(unknown)}")
    ordered = {c: np.asarray(columns[c]) for c in COLUMNS if columns.get(c) is not None}
    frame = pd.DataFrame(ordered)
    for col in frame.columns:
        if col == "cycle":
            frame[col] = frame[col].astype("int64")
        else:
            frame[col] = frame[col].astype("float64")
    return frame
