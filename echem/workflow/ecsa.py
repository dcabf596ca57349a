"""ECSA stage glue: Cdl from the CV scan-rate series, ECSA, specific and mass activity."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from echem import audit
from echem.errors import AnalysisError
from echem.workflow.common import as_namespace, draw, prepare_dirs
from echem.workflow.ingest import load_ingested
from echem.workflow.run import StageRun
from echem.workflow.tables import frame, write_csv


def ecsa_sample(sample_dir: str | Path, settings: Mapping[str, Any], formats, outputs, log_path,
                curves: str | Path | None = None) -> None:
    """The ecsa stage of one sample (``curves`` defaults to ``<sample_dir>/lsv_curves.parquet``)."""
    outputs = as_namespace(outputs)
    curves = curves or Path(sample_dir) / "lsv_curves.parquet"
    sample_dir = Path(sample_dir)
    prepare_dirs(outputs.audit, outputs.figures)
    ing = load_ingested(sample_dir)
    rows: list[dict[str, Any]] = []
    with StageRun("ecsa", ing.sample, log_path, outputs.errors) as run:
        try:
            if ing.metadata_error:
                run.info("skipped: sample.yaml is invalid (see the ingest error)")
                return
            cvs = ing.by_technique("CV")
            if not cvs:
                run.info("no CV files: no ECSA for this sample")
                return
            with run.guard(", ".join(f.file for f in cvs) if len(cvs) <= 3 else f"{len(cvs)} CV files"):
                row = ecsa_one(run, ing, cvs, curves, settings, formats, outputs)
                rows.append(row)
        finally:
            write_csv(frame(rows, "ecsa"), outputs.table)


def ecsa_one(run, ing, cvs, curves_path, settings, formats, outputs) -> dict[str, Any]:
    import numpy as np
    import pandas as pd

    from echem.ecsa import (charging_currents, default_cs_mF_cm2, ecsa_cm2, fit_cdl, mass_activity_A_g,
                            scan_rate_V_s, specific_activity_mA_cm2)

    points = []
    for rec in cvs:
        with run.guard(rec.file):
            m = rec.measurement()
            E = m.data["E_V"].to_numpy(float)
            I = m.data["I_A"].to_numpy(float)
            t = m.data["time_s"].to_numpy(float) if "time_s" in m.data.columns else None
            cycle = m.data["cycle"].to_numpy() if "cycle" in m.data.columns else None
            v, v_source = scan_rate_V_s(E, time_s=t, meta_scan_rate_V_s=m.meta.get("scan_rate_V_s"),
                                        file_name=rec.file)
            cc = charging_currents(E, I, cycle=cycle, E_mid_V=settings["E_mid_V"],
                                   which_cycle=settings["which_cycle"])
            points.append({"file": rec.file, "sha256": rec.meta.get("sha256"), "scan_rate_V_s": v,
                           "scan_rate_source": v_source, "i_anodic_A": cc.i_anodic_A,
                           "i_cathodic_A": cc.i_cathodic_A, "E_mid_V": cc.E_mid_V, "E": E, "I": I})
    rates = sorted({round(p["scan_rate_V_s"], 9) for p in points})
    if len(rates) < settings["min_scan_rates"]:
        listed = ", ".join(f"{r * 1e3:g} mV/s" for r in rates) or "none"
        raise AnalysisError(f"ECSA needs CVs at >= {settings['min_scan_rates']} scan rates; found "
                            f"{len(rates)} ({listed}); add CVs in a non-faradaic window at more scan rates")
    v = np.array([p["scan_rate_V_s"] for p in points])
    ia = np.array([p["i_anodic_A"] for p in points])
    ic = np.array([p["i_cathodic_A"] for p in points])
    cdl = fit_cdl(v, ia, ic, r2_min=settings["r2_min"], asymmetry_max=settings["asymmetry_max"])
    for w in cdl.warnings:
        run.warning(w)

    meta = ing.metadata
    if meta.get("specific_capacitance_mF_cm2") is not None:
        cs, cs_source = float(meta["specific_capacitance_mF_cm2"]), ing.metadata_sources.get(
            "specific_capacitance_mF_cm2")
    else:
        electrolyte = meta.get("electrolyte")
        pH = meta.get("pH")
        if electrolyte is None and pH is not None:
            # the pH says which literature class applies when the electrolyte is not named
            electrolyte = "alkaline" if pH >= 12 else "acid" if pH <= 2 else None
        cs = default_cs_mF_cm2(electrolyte)
        cs_source = f"literature default for electrolyte {electrolyte!r}" + \
            (f" (from pH {pH:g})" if meta.get("electrolyte") is None else "")
    ecsa, ecsa_err = ecsa_cm2(cdl.cdl_F, cdl.cdl_err_F, cs)
    area = meta.get("area_cm2") or next((c.resolved.get("area_cm2") for c in cvs
                                         if c.resolved.get("area_cm2")), None)
    roughness = ecsa / area if area else None

    sa = sa_err = mass = None
    sa_file = None
    sa_eta = float(settings["sa_eta_mV"])
    curves = pd.read_parquet(curves_path)
    if len(curves):
        from echem.lsv import current_at_overpotential

        for file, curve in curves.groupby("file", sort=True):
            I_sa, I_sa_err = current_at_overpotential(curve, sa_eta)
            if np.isfinite(I_sa):
                sa, sa_err = specific_activity_mA_cm2(I_sa, I_sa_err, ecsa, ecsa_err)
                sa_file = file
                if meta.get("loading_mg_cm2") and area:
                    mass = mass_activity_A_g(I_sa, area, meta["loading_mg_cm2"])
                break
        if sa is None:
            run.warning(f"no LSV of this sample reaches {sa_eta:g} mV overpotential: no specific activity")
    else:
        run.info("no LSV in this sample: no specific activity")

    row = {"sample": ing.sample, "cdl_mF": cdl.cdl_F * 1e3, "cdl_err_mF": cdl.cdl_err_F * 1e3,
           "cs_mF_cm2": cs, "ecsa_cm2": ecsa, "roughness_factor": roughness, "sa_eta_mV": sa_eta,
           "sa_mA_cm2": sa, "sa_err_mA_cm2": sa_err, "mass_activity_A_g": mass}
    audit.write(outputs.audit, audit.audit_name("ecsa", None), audit.record(
        stage="ecsa", sample=ing.sample, file=[p["file"] for p in points],
        sha256=[p["sha256"] for p in points], settings=dict(settings),
        metadata={"cs_mF_cm2": (cs, cs_source), "area_cm2": area, "sa_from_lsv": sa_file,
                  "loading_mg_cm2": meta.get("loading_mg_cm2")},
        method={"points": [{k: p[k] for k in ("file", "scan_rate_V_s", "scan_rate_source", "i_anodic_A",
                                              "i_cathodic_A", "E_mid_V")} for p in points],
                "cdl": cdl.audit},
        result={**row, "ecsa_err_cm2": ecsa_err, "warnings": cdl.warnings},
    ))

    def overlay():
        from echem.plots.ecsa import plot_cv_overlay
        from echem.plots.figure import new_figure

        fig, ax = new_figure()
        plot_cv_overlay(ax, [(p["scan_rate_V_s"], p["E"], p["I"]) for p in points])
        ax.set_title(f"{ing.sample}: CV scan-rate series", fontsize=9)
        return fig

    def cdl_line():
        from echem.plots.ecsa import plot_cdl_fit
        from echem.plots.figure import new_figure

        fig, ax = new_figure()
        plot_cdl_fit(ax, cdl, v, ia, ic)
        ax.set_title(f"{ing.sample}: Cdl = {cdl.cdl_F * 1e3:.3g} mF", fontsize=9)
        return fig

    draw(run, Path(outputs.figures) / "cv_overlay", formats, overlay)
    draw(run, Path(outputs.figures) / "cdl_fit", formats, cdl_line)
    run.info(f"Cdl = {cdl.cdl_F * 1e3:.4g} ± {cdl.cdl_err_F * 1e3:.2g} mF from {len(points)} CVs; "
             f"ECSA = {ecsa:.4g} cm2; SA = {sa}")
    return row
