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

    def __repr__(self) -> str:
        name = self.meta.get("file") or self.meta.get("source") or "?"
        extra = f", {self.meta['n_spectra']} spectra" if self.meta.get("n_spectra", 1) > 1 else ""
        return (f"<Measurement {self.technique or 'unknown technique'} from {self.meta.get('vendor', '?')} "
                f"{name}: {len(self.data)} rows{extra}, columns {', '.join(self.data.columns)}>")

    @property
    def technique(self) -> str | None:
        return self.meta.get("technique")

    def spectra(self):
        """The impedance spectra in the file, one :class:`Spectrum` each (in file order).

        A file holding several frequency sweeps numbers them in the ``cycle`` column (the
        readers do, :mod:`echem.io`); each spectrum's ``freq_Hz`` and complex ``Z`` (Ω,
        physical sign: Z'' < 0 on a capacitive arc, as impedance.py's ``readFile`` gives
        them) come with its cycle and temperature (the file's, else ``temperature_C`` of
        its rows, else None).
        """
        if not self.is_impedance:
            raise ValueError(f"{self.meta.get('file', 'this measurement')} holds no impedance columns "
                             f"({', '.join(self.data.columns)})")
        data = self.data
        groups = [(int(c), g) for c, g in data.groupby("cycle", sort=True)] \
            if "cycle" in data.columns and data["cycle"].nunique() > 1 else [(0, data)]
        for cycle, g in groups:
            f = g["freq_Hz"].to_numpy(float)
            Z = g["Z_re_ohm"].to_numpy(float) + 1j * g["Z_im_ohm"].to_numpy(float)
            ok = np.isfinite(f) & np.isfinite(Z.real) & np.isfinite(Z.imag)
            T = self.meta.get("temperature_C")
            if T is None and "temperature_C" in g.columns and g["temperature_C"].notna().any():
                T = float(g["temperature_C"].median())
            label = self.meta.get("file", "spectrum") + (f"#{cycle}" if len(groups) > 1 else "")
            yield Spectrum(freq_Hz=f[ok], Z=Z[ok], cycle=cycle, temperature_C=T, label=label)

    def to_parquet(self, path) -> None:
        """The canonical table in Parquet, its metadata as JSON in the file's key-value
        metadata (:meth:`from_parquet` reads both back)."""
        import json

        import pyarrow as pa
        import pyarrow.parquet as pq

        from echem.jsonsafe import jsonable

        table = pa.Table.from_pandas(self.data, preserve_index=False)
        meta = dict(table.schema.metadata or {})
        meta[b"echem.meta"] = json.dumps(jsonable(self.meta)).encode()
        pq.write_table(table.replace_schema_metadata(meta), str(path))

    @classmethod
    def from_parquet(cls, path) -> "Measurement":
        import json

        import pyarrow.parquet as pq

        table = pq.read_table(str(path))
        raw = (table.schema.metadata or {}).get(b"echem.meta")
        return cls(data=table.to_pandas(), meta=json.loads(raw) if raw else {})

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


@dataclass
class Spectrum:
    """One impedance spectrum: frequencies (Hz) and complex impedance (Ω, physical sign),
    with its cycle number in the file, temperature (°C or None) and a label."""

    freq_Hz: np.ndarray
    Z: np.ndarray
    cycle: int = 0
    temperature_C: float | None = None
    label: str = ""

    def __repr__(self) -> str:
        T = f", {self.temperature_C:g} °C" if self.temperature_C is not None else ""
        return (f"<Spectrum {self.label}: {self.freq_Hz.size} points, "
                f"{self.freq_Hz.min():.3g}-{self.freq_Hz.max():.3g} Hz{T}>") if self.freq_Hz.size else \
            f"<Spectrum {self.label}: empty>"


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
