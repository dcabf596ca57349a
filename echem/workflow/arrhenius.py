"""Arrhenius stage glue: conductivity per temperature and activation energy per run."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from echem import audit
from echem.errors import AnalysisError, MetadataError
from echem.workflow.common import as_namespace, draw, prepare_dirs, stage_data
from echem.workflow.ingest import load_ingested
from echem.workflow.run import StageRun
from echem.workflow.tables import frame, write_csv


def arrhenius_sample(sample_dir: str | Path, settings: Mapping[str, Any], formats, outputs, log_path,
                     eis_fits: str | Path | None = None, with_data: bool = True) -> None:
    """The arrhenius stage of one sample (``eis_fits`` defaults to ``<sample_dir>/eis_fits.json``)."""
    outputs = as_namespace(outputs)
    eis_fits = eis_fits or Path(sample_dir) / "eis_fits.json"
    sample_dir = Path(sample_dir)
    prepare_dirs(outputs.audit, outputs.figures)
    ing = load_ingested(sample_dir, with_files=with_data)
    cond_rows: list[dict[str, Any]] = []
    arr_rows: list[dict[str, Any]] = []
    with StageRun("arrhenius", ing.sample, log_path, outputs.errors) as run:
        try:
            if ing.metadata_error:
                return
            all_fits = stage_data(eis_fits, "eis", "eis.csv")["fits"]
            all_fits = [f for f in all_fits if not f.get("rejected")]  # rejected fits have an error row already
            fits = [f for f in all_fits if f.get("temperature_C") is not None]
            geometry = ing.metadata.get("geometry")
            temps = {f["temperature_C"] for f in fits}
            if geometry is None:
                if len(temps) >= 2:
                    raise MetadataError(
                        f"EIS at {len(temps)} temperatures but no geometry: set geometry in sample.yaml "
                        "({kind: in-plane, gap_cm, length_cm, thickness_cm} or "
                        "{kind: through-plane, thickness_cm, area_cm2}) to get conductivities")
                return
            for f in all_fits:
                if f.get("temperature_C") is None:
                    run.error(f["file"], "no temperature for this spectrum: name the file like eis_300C.mpt "
                                         "or set temperature_C: {file name: °C} in sample.yaml")
            if not fits:
                raise AnalysisError("the sample has a geometry but no EIS fit with a known temperature; "
                                    "name files like eis_300C.mpt or set temperature_C in sample.yaml")
            arrhenius_one(run, ing, fits, geometry, settings, formats, outputs, cond_rows, arr_rows)
        finally:
            write_csv(frame(cond_rows, "conductivity"), outputs.conductivity)
            write_csv(frame(arr_rows, "arrhenius"), outputs.arrhenius)


def _acquisition_order(ing, fits):
    """Fits in acquisition order: the file's start time when known, else file order."""
    start = {f.file: (f.meta.get("start_time") or "") for f in ing.files}
    order = {f.file: i for i, f in enumerate(ing.files)}
    return sorted(fits, key=lambda f: (start.get(f["source_file"], ""), order.get(f["source_file"], 0),
                                       f["file"]))


def arrhenius_one(run, ing, fits, geometry, settings, formats, outputs, cond_rows, arr_rows) -> None:
    import numpy as np

    from echem.arrhenius import arc_in_range, conductivity_S_cm, fit_arrhenius, split_runs
    from echem.flags import Flag, codes, split

    param = settings["resistance_param"]
    fits = _acquisition_order(ing, fits)
    labels = split_runs([f["temperature_C"] for f in fits], hints=[f["file"] for f in fits])
    points = []
    for f, run_label in zip(fits, labels):
        with run.guard(f["file"]):
            if param not in f["params"]:
                raise AnalysisError(f"circuit {f['circuit']} has no {param}; set arrhenius.resistance_param "
                                    f"to one of {', '.join(f['params'])}")
            R = f["params"][param]["value"]
            R_err = f["params"][param].get("stderr")
            sigma, sigma_err = conductivity_S_cm(R, R_err, geometry)
            values = {k: v["value"] for k, v in f["params"].items()}
            in_range, reason = arc_in_range(values, np.array([f["freq_min_Hz"], f["freq_max_Hz"]]),
                                            r_param=param, circuit=f["circuit"])
            flags = [Flag(c, f"{param} of the EIS fit carries '{c}' (see eis.csv)")
                     for c in split(f["params"][param].get("flags"))]
            if not in_range:
                flags.append(Flag("arc_outside_range", f"excluded from the Arrhenius fit: {reason}"))
            run.flagged([fl for fl in flags if fl.code == "arc_outside_range"], f["file"])
            cond_rows.append({"sample": ing.sample, "file": f["file"], "temperature_C": f["temperature_C"],
                              "R_ohm": R, "R_err_ohm": R_err, "sigma_S_cm": sigma, "run": run_label,
                              "used": bool(in_range), "flags": codes(flags)})
            points.append({"file": f["file"], "sha256": f.get("sha256"), "T_C": f["temperature_C"],
                           "T_source": f.get("temperature_source"), "sigma": float(sigma),
                           "sigma_err": float(sigma_err), "run": run_label, "used": bool(in_range),
                           "reason": None if in_range else reason})
    results = {}
    for run_label in sorted({p["run"] for p in points}):
        pts = [p for p in points if p["run"] == run_label]
        with run.guard(f"{run_label} run"):
            res = fit_arrhenius(np.array([p["T_C"] for p in pts]), np.array([p["sigma"] for p in pts]),
                                np.array([p["sigma_err"] for p in pts]), law=settings["law"],
                                ref_T_C=settings["ref_C"], exclude=[p["reason"] for p in pts],
                                labels=[p["file"] for p in pts],
                                ea_range_eV=tuple(settings.get("ea_range_eV", (0.05, 2.5))),
                                r2_min=float(settings.get("r2_min", 0.98)))
            results[run_label] = (pts, res)
            arr_rows.append({"sample": ing.sample, **res.row(), "run": run_label,
                             "flags": run.flagged(res.flags, f"{run_label} run")})
            result = res.to_dict()
            method = result.pop("audit")
            audit.write(outputs.audit, audit.audit_name("arrhenius", run_label), audit.record(
                stage="arrhenius", sample=ing.sample, file=[p["file"] for p in pts],
                sha256=[p["sha256"] for p in pts], settings=dict(settings),
                metadata={"geometry": geometry, "resistance_param": param, "run": run_label},
                method={**method, "points": pts}, result=result,
            ))
            run.info(f"{run_label}: Ea = {res.Ea_eV:.4f} ± {res.Ea_err_eV:.4f} eV, "
                     f"sigma({res.ref_T_C:g} C) = {res.sigma_ref_S_cm:.3g} S/cm, {len(res.excluded)} excluded")

    def painter():
        from echem.plots.arrhenius import plot_arrhenius
        from echem.plots.figure import new_figure

        fig, ax = new_figure()
        series = {f"{ing.sample} ({run_label})": (np.array([p["T_C"] for p in pts]),
                                                  np.array([p["sigma"] for p in pts]), res)
                  for run_label, (pts, res) in results.items()}
        plot_arrhenius(ax, series)
        return fig

    if results:
        draw(run, Path(outputs.figures) / "arrhenius", formats, painter)
