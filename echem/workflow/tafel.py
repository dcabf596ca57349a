"""Tafel stage glue: fit each iR-corrected LSV of a sample with an automatic window."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from echem import audit
from echem.workflow.common import as_namespace, draw, prepare_dirs, safe_stem, stage_data
from echem.workflow.ingest import load_ingested
from echem.workflow.run import StageRun
from echem.workflow.tables import frame, write_csv


def lsv_flags(lsv_table: str | Path) -> dict[str, list]:
    """Per LSV file, the flags of its curve that every number computed from it inherits:
    :data:`echem.flags.CURVE_FLAGS` (``no_ir``, how Ru was found, an over-correction)."""
    import csv

    from echem.flags import CURVE_FLAGS, Flag, split

    inherited = set(CURVE_FLAGS)
    out: dict[str, list] = {}
    path = Path(lsv_table)
    if not path.exists():
        return out
    # two text columns of a small table: the csv module, not pandas (~5 ms a job, every Tafel job)
    with open(path, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            file = row.get("file") or ""
            codes = [c for c in split(row.get("flags") or "") if c in inherited]
            out.setdefault(file, [])
            for c in codes:
                if c not in [f.code for f in out[file]]:
                    out[file].append(Flag(c, f"the LSV {file} carries '{c}' (see its overpotentials row)"))
    return out


def tafel_sample(sample_dir: str | Path, settings: Mapping[str, Any], formats, outputs, log_path,
                 curves: str | Path | None = None, lsv_table: str | Path | None = None,
                 with_data: bool = True) -> None:
    """The tafel stage of one sample (``curves`` defaults to ``<sample_dir>/lsv_curves.parquet``,
    ``lsv_table`` to ``<sample_dir>/tables/overpotentials.csv``)."""
    outputs = as_namespace(outputs)
    curves = curves or Path(sample_dir) / "lsv_curves.parquet"
    lsv_table = lsv_table or Path(sample_dir) / "tables" / "overpotentials.csv"
    import pandas as pd

    from echem.flags import codes
    from echem.tafel import fit_tafel

    sample_dir = Path(sample_dir)
    prepare_dirs(outputs.audit, outputs.figures)
    ing = load_ingested(sample_dir, with_files=with_data)
    sha = {f.file: f.meta.get("sha256") for f in ing.files}
    rows: list[dict[str, Any]] = []
    inherited = lsv_flags(lsv_table)
    with StageRun("tafel", ing.sample, log_path, outputs.errors) as run:
        try:
            table = stage_data(curves, "lsv", "overpotentials.csv", pd.read_parquet)
            window = ing.metadata.get("tafel_window_mV")
            for file, curve in table.groupby("file", sort=False):
                with run.guard(file):
                    eta = curve["eta_mV"].to_numpy(float)
                    j = curve["j_mA_cm2"].to_numpy(float)
                    res = fit_tafel(eta, j, min_decades=settings["min_decades"], r2_min=settings["r2_min"],
                                    window_mV=tuple(window) if window else None,
                                    kinetic_model=settings.get("kinetic_model", True),
                                    slope_range_mV_dec=tuple(settings.get("slope_range_mV_dec", (20, 300))))
                    run.flagged(res.flags, file)  # the LSV stage has warned about the inherited ones
                    rows.append({"sample": ing.sample, "file": file, "slope_mV_dec": res.slope_mV_dec,
                                 "slope_err_mV_dec": res.slope_err_mV_dec, "j0_mA_cm2": res.j0_mA_cm2,
                                 "eta_lo_mV": res.eta_lo_mV, "eta_hi_mV": res.eta_hi_mV, "r2": res.r2,
                                 "n_points": res.n_points, "flags": codes([*inherited.get(file, []), *res.flags])})
                    audit.write(outputs.audit, audit.audit_name("tafel", file), audit.record(
                        stage="tafel", sample=ing.sample, file=file, sha256=sha.get(file),
                        settings=dict(settings),
                        metadata={"window_mV": (window, "sample.yaml tafel_window_mV") if window
                                  else (None, "automatic")},
                        method=res.audit,
                        result={**{k: getattr(res, k) for k in (
                            "slope_mV_dec", "slope_err_mV_dec", "intercept_mV", "j0_mA_cm2",
                            "j0_err_mA_cm2", "eta_lo_mV", "eta_hi_mV", "r2", "n_points")},
                            "flags": rows[-1]["flags"]},
                    ))
                    flagged = {f.message for f in res.flags}
                    for warning in res.audit.get("warnings", []):
                        if warning not in flagged:
                            run.warning(f"{file}: {warning}", file=file)
                    run.info(f"{file}: {res.slope_mV_dec:.2f} ± {res.slope_err_mV_dec:.2f} mV/dec "
                             f"in {res.eta_lo_mV:.1f}..{res.eta_hi_mV:.1f} mV")

                    def painter(eta=eta, j=j, res=res, file=file):
                        from echem.plots.figure import new_figure
                        from echem.plots.lsv import plot_tafel

                        fig, ax = new_figure()
                        plot_tafel(ax, eta, j, res, file)
                        ax.set_title(f"{ing.sample}: {file}", fontsize=9)
                        return fig

                    draw(run, Path(outputs.figures) / safe_stem(file), formats, painter)
        finally:
            write_csv(frame(rows, "tafel"), outputs.table)
