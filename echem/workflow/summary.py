"""The run summary printed at the end of every workflow run.

One short block: how many samples were analysed, how many error rows and warnings the
run left, how many reported numbers carry a flag (by table and by code), and where to
look. It reads only the collected tables in ``results/tables/``.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

#: Results tables whose rows carry a ``flags`` column, in the order they are listed.
FLAGGED_TABLES = ("overpotentials", "tafel", "ecsa", "eis", "drt_peaks", "conductivity", "arrhenius",
                  "stability", "stability_lsv_shift")


def _read(path: Path):
    import pandas as pd

    try:
        return pd.read_csv(path, dtype={"flags": "string", "sample": "string"}, keep_default_na=False)
    except (FileNotFoundError, pd.errors.EmptyDataError):
        return None


def summarise(results_dir: str | Path) -> dict:
    """The numbers of the summary: samples, errors, warnings, flagged rows per table and code."""
    from echem.flags import split

    tables = Path(results_dir) / "tables"
    samples: set[str] = set()
    flagged: dict[str, tuple[int, int]] = {}
    codes: Counter = Counter()
    for name in FLAGGED_TABLES:
        df = _read(tables / f"{name}.csv")
        if df is None:
            continue
        samples.update(df["sample"].dropna().astype(str))
        cells = df["flags"] if "flags" in df.columns else []
        n_flagged = 0
        for cell in cells:
            found = split(cell)
            n_flagged += bool(found)
            codes.update(found)
        flagged[name] = (n_flagged, len(df))
    errors = _read(tables / "errors.csv")
    warnings = _read(tables / "warnings.csv")
    error_samples = set(errors["sample"].astype(str)) if errors is not None and len(errors) else set()
    sample_dirs = Path(results_dir) / "samples"
    analysed = sum(1 for d in sample_dirs.iterdir() if d.is_dir()) if sample_dirs.is_dir() else len(samples)
    return {
        "samples_analysed": analysed,
        "samples_with_results": len(samples),
        "samples_with_errors": len(error_samples - {"", "all"}),
        "errors": 0 if errors is None else len(errors),
        "warnings": 0 if warnings is None else len(warnings),
        "flagged": flagged,
        "codes": dict(codes.most_common()),
    }


def format_summary(results_dir: str | Path) -> str:
    """The block :func:`print_summary` prints."""
    s = summarise(results_dir)
    tables = Path(results_dir) / "tables"
    n_flagged = sum(f for f, _ in s["flagged"].values())
    n_rows = sum(n for _, n in s["flagged"].values())
    lines = [
        "echem run summary",
        f"  samples analysed: {s['samples_analysed']} ({s['samples_with_results']} with numbers in the tables"
        + (f", {s['samples_with_errors']} with error rows)" if s["samples_with_errors"] else ")"),
        f"  error rows: {s['errors']}   warnings: {s['warnings']}   "
        f"flagged numbers: {n_flagged} of {n_rows} table rows",
    ]
    per_table = [f"{name} {f}/{n}" for name, (f, n) in s["flagged"].items() if f]
    if per_table:
        lines.append("  flagged by table: " + ", ".join(per_table))
    if s["codes"]:
        lines.append("  flags: " + ", ".join(f"{code} ({n})" for code, n in s["codes"].items()))
    if s["errors"]:
        lines.append(f"  what failed and what to do: {tables / 'errors.csv'}")
    if s["warnings"] or n_flagged:
        lines.append(f"  why a number is flagged: {tables / 'warnings.csv'} (column flag); the codes: README, 'Flags'")
    report = Path(results_dir) / "report" / "index.html"
    if report.is_file():
        lines.append(f"  every sample's numbers, figures and fit records: {report}")
    return "\n".join(lines)


def print_summary(results_dir: str | Path) -> None:
    """Print the run summary (Snakemake's onsuccess/onerror call this)."""
    try:
        text = format_summary(results_dir)
    except Exception as exc:  # noqa: BLE001 - a summary must never turn a run into a failure
        text = f"echem run summary not available ({type(exc).__name__}: {exc})"
    print(text, flush=True)
