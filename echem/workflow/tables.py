"""Output tables: the column contract of DESIGN.md and atomic CSV/Parquet writing."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

#: Column order of every table in results/tables/ (the contract in DESIGN.md).
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "overpotentials": ("sample", "file", "reaction", "target_mA_cm2", "eta_mV", "eta_err_mV",
                       "E_RHE_V", "ru_ohm", "ir_fraction", "reached", "flags"),
    "tafel": ("sample", "file", "slope_mV_dec", "slope_err_mV_dec", "j0_mA_cm2", "eta_lo_mV",
              "eta_hi_mV", "r2", "n_points", "flags"),
    "ecsa": ("sample", "cdl_mF", "cdl_err_mF", "cs_mF_cm2", "ecsa_cm2", "roughness_factor",
             "sa_eta_mV", "sa_mA_cm2", "sa_err_mA_cm2", "mass_activity_A_g", "flags"),
    "eis": ("sample", "file", "circuit", "param", "value", "stderr", "unit", "chi2", "kk_ok", "flags"),
    "drt_peaks": ("sample", "file", "peak", "tau_s", "f_Hz", "R_ohm", "R_err_ohm", "flags"),
    "conductivity": ("sample", "file", "temperature_C", "R_ohm", "R_err_ohm", "sigma_S_cm", "run",
                     "used", "flags"),
    "arrhenius": ("sample", "law", "Ea_eV", "Ea_err_eV", "ref_T_C", "sigma_ref_S_cm",
                  "n_points", "r2", "run", "flags"),
    "stability": ("sample", "file", "mode", "set_value", "set_unit", "duration_h", "eta_start_mV",
                  "eta_end_mV", "drift_mV_h", "drift_err_mV_h", "max_excursion_mV", "interrupted_fraction",
                  "flags"),
    "stability_lsv_shift": ("sample", "before_file", "after_file", "target_mA_cm2", "eta_before_mV",
                            "eta_after_mV", "delta_eta_mV", "delta_eta_err_mV", "flags"),
    "errors": ("sample", "file", "stage", "error"),
    "warnings": ("sample", "file", "stage", "warning", "flag"),
}


def _umask() -> int:
    """The process's umask (read without changing it where Linux tells, else set and reset)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _atomic_target(path: Path):
    """A temporary file beside ``path`` with the mode a plain ``open`` would give it
    (``mkstemp`` makes it 0600: colleagues on a shared drive could not read the results)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_umask())
    finally:
        os.close(fd)
    return Path(tmp)


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write text so that readers see the old file or the complete new one, never half."""
    path = Path(path)
    tmp = _atomic_target(path)
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    path = Path(path)
    tmp = _atomic_target(path)
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def frame(rows: Iterable[Mapping[str, Any]], table: str):
    """DataFrame of ``rows`` with exactly the contract's columns for ``table``."""
    import pandas as pd

    columns = list(TABLE_COLUMNS[table])
    rows = list(rows)
    if not rows:  # most stages of most samples: a header-only table (building it column by column costs ~20 ms)
        return pd.DataFrame(columns=columns, dtype=object)
    df = pd.DataFrame(rows)
    for col in columns:
        if col not in df.columns:
            df[col] = None
    return df[columns]


def write_csv(df, path: str | Path, rounded: bool = False) -> None:
    """Write a DataFrame as CSV atomically.

    By default with full float precision (the shortest text that reads back the same
    float: per-sample tables are concatenated into the results' Parquet). ``rounded``:
    values to their errors' precision, other numbers to 6 significant digits
    (:func:`echem.report.numbers.csv_frame`; the results CSVs people read).
    """
    if df.empty:
        import csv
        import io

        header = io.StringIO()
        csv.writer(header, lineterminator="\n").writerow(df.columns)
        atomic_write_text(path, header.getvalue())
        return
    if rounded:
        from echem.report.numbers import csv_frame

        df = csv_frame(df)
    text = df.to_csv(index=False)
    if "\r" in text:  # the line terminator is \n: a \r comes from a cell
        text = _without_cr(df).to_csv(index=False)
    atomic_write_text(path, text)


def _without_cr(df):
    """A carriage return in a text cell (macOS writes files named ``Icon\r``) would end the
    row for most CSV readers, because the csv module quotes only the line terminator
    ``\n``: it is written as the two characters ``\r``."""
    from pandas.api.types import is_object_dtype, is_string_dtype

    text_cols = [c for c in df.columns if is_object_dtype(df[c]) or is_string_dtype(df[c])]
    bad = [c for c in text_cols if df[c].astype(str).str.contains("\r", regex=False).any()]
    if not bad:
        return df
    df = df.copy()
    for c in bad:
        df[c] = df[c].map(lambda v: v.replace("\r", "\\r") if isinstance(v, str) else v)
    return df


def write_table(df, csv_path: str | Path, parquet: bool = True) -> None:
    """Write the CSV (rounded, see :func:`write_csv`) and, beside it, the Parquet (full
    precision); both atomically."""
    import io

    write_csv(df, csv_path, rounded=True)
    if parquet:
        buf = io.BytesIO()
        out = df.copy()
        for col in out.columns:
            if out[col].dtype == object:
                out[col] = out[col].map(lambda v: None if v is None else str(v) if not isinstance(v, (int, float, bool)) else v)
        try:
            out.to_parquet(buf, index=False)
        except Exception:  # mixed object columns: store as text rather than lose the table
            out.astype("string").to_parquet(buf, index=False)
        atomic_write_bytes(Path(csv_path).with_suffix(".parquet"), buf.getvalue())


def read_csv(path: str | Path, table: str | None = None):
    """Read a table written by :func:`write_csv`; empty files give an empty frame."""
    import pandas as pd

    path = Path(path)
    try:
        df = pd.read_csv(path)
    except pd.errors.EmptyDataError:
        df = pd.DataFrame()
    if table is not None:
        for col in TABLE_COLUMNS[table]:
            if col not in df.columns:
                df[col] = pd.Series(dtype=object)
        df = df[list(TABLE_COLUMNS[table])]
    return df


def concat_tables(paths: Iterable[str | Path], table: str):
    """Concatenate per-sample tables into one, in the contract's column order.

    The per-sample files are joined as text (they share the header written by
    :func:`write_csv`) and parsed once: with thousands of samples this is ~50× faster
    than parsing each file into a DataFrame and concatenating.
    """
    import io

    import pandas as pd

    columns = list(TABLE_COLUMNS[table])
    header = ",".join(columns)
    body: list[str] = []
    odd: list = []
    header_only = len(header.encode()) + 1
    for path in paths:
        # most per-sample error and warning files hold the header alone: a stat says so
        if os.stat(path).st_size <= header_only:
            continue
        with open(path, encoding="utf-8") as fh:  # not pathlib: its parsing costs more than the read
            text = fh.read()
        first, _, rest = text.partition("\n")
        if first.strip() == header:
            if rest.strip():
                body.append(rest if rest.endswith("\n") else rest + "\n")
        elif text.strip():
            odd.append(read_csv(path, table))  # written by another version: parse on its own
    frames = odd
    if body:
        frames = [pd.read_csv(io.StringIO(header + "\n" + "".join(body)))] + odd
    frames = [f for f in frames if not f.empty]
    if not frames:
        return frame([], table)
    return pd.concat(frames, ignore_index=True)[columns] if len(frames) > 1 else frames[0][columns]
