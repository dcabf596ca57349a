"""ECSA stage glue: Cdl from the CV scan-rate series, ECSA, specific and mass activity."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from echem import audit
from echem.errors import AnalysisError
from echem.flags import CURVE_FLAGS as INHERITED  # a specific activity inherits its curve's flags
from echem.workflow.common import as_namespace, draw, prepare_dirs, stage_data
from echem.workflow.ingest import load_ingested
from echem.workflow.run import StageRun
from echem.workflow.tables import frame, write_csv


def cdl_flags(cdl) -> list:
    """Flags of a Cdl fit (:attr:`echem.ecsa.CdlResult.flags`)."""
    return list(cdl.flags)


def sa_eta_for(settings: Mapping[str, Any], reaction: str) -> float:
    """The overpotential (mV) at which the specific activity of ``reaction`` is read."""
    value = settings["sa_eta_mV"]
    return float(value[reaction] if isinstance(value, Mapping) else value)


def specific_activity(ing, curves, cdl, ecsa, ecsa_err, area, settings, inherited):
    """Specific and mass activity from the sample's first LSV that reaches the overpotential.

    The current read at ``sa_eta_mV`` (for the LSV's reaction) includes the double-layer
    charging current of the sweep, ``I_c = Cdl·v`` (v the LSV's scan rate). The faradaic
    current is ``I_F = |I| − I_c``; SA = I_F/ECSA and the mass activity I_F/(loading·area)
    are reported only where ``I_F ≥ ecsa.sa_min_faradaic_ratio · I_c`` and ``I_F`` is
    three standard errors above the LSV's noise; else they stay empty, flagged
    ``capacitive_dominated``. Returns (sa, sa_err, mass, sa_eta_mV, record, flags).
    """
    import math

    import numpy as np

    from echem.ecsa import mass_activity_A_g, scan_rate_V_s, specific_activity_mA_cm2
    from echem.flags import Flag
    from echem.lsv import current_at_overpotential

    ratio_min = float(settings.get("sa_min_faradaic_ratio", 3.0))
    by_file = {rec.file: rec for rec in ing.by_technique("LSV")}
    etas = []
    for file, curve in curves.groupby("file", sort=True):
        reaction = str(curve["reaction"].iloc[0])
        sa_eta = sa_eta_for(settings, reaction)
        etas.append(sa_eta)
        curve = curve.copy()
        curve.attrs["reaction"] = reaction
        I_sa, I_err = current_at_overpotential(curve, sa_eta)
        if not np.isfinite(I_sa):
            continue
        record = {"file": file, "reaction": reaction, "sa_eta_mV": sa_eta, "I_A": I_sa, "I_err_A": I_err}
        flags = list(inherited.get(file, []))
        rec = by_file.get(file)
        v = None
        if rec is not None:
            m = rec.measurement()
            try:
                v, v_source = scan_rate_V_s(m.data["E_V"].to_numpy(float),
                                            m.data["time_s"].to_numpy(float) if "time_s" in m.data else None,
                                            m.meta.get("scan_rate_V_s"), file)
                record["scan_rate_V_s"], record["scan_rate_source"] = v, v_source
            except Exception as exc:  # noqa: BLE001 - no rate: the check cannot be made, and says so
                record["scan_rate_error"] = str(exc)
        if v is None:
            flags.append(Flag("capacitive_dominated", (
                f"{file}: the LSV's scan rate is unknown (no time column, header or name), so its charging "
                "current Cdl·v cannot be told from the faradaic current: no specific activity")))
            return None, None, None, sa_eta, record, flags
        I_c = cdl.cdl_F * v
        I_c_err = (cdl.cdl_err_F if math.isfinite(cdl.cdl_err_F) else 0.0) * v
        I_F = I_sa - I_c
        I_F_err = math.hypot(I_err if math.isfinite(I_err) else 0.0, I_c_err)
        record.update({"charging_A": I_c, "faradaic_A": I_F, "faradaic_err_A": I_F_err,
                       "equation": "I_F = |I(sa_eta)| - Cdl*v; SA = I_F / ECSA",
                       "rule": f"reported when I_F >= {ratio_min:g} * Cdl*v and I_F >= 3 * its error"})
        if not (I_F >= ratio_min * I_c and I_F >= 3.0 * I_F_err):
            flags.append(Flag("capacitive_dominated", (
                f"{file}: at {sa_eta:g} mV the current {I_sa * 1e6:.3g} µA is not clearly above the charging "
                f"current Cdl·v = {I_c * 1e6:.3g} µA (faradaic {I_F * 1e6:.3g} ± {I_F_err * 1e6:.2g} µA, needs "
                f">= {ratio_min:g}x): no specific or mass activity; choose a higher ecsa.sa_eta_mV for "
                f"{reaction}")))
            return None, None, None, sa_eta, record, flags
        sa, sa_err = specific_activity_mA_cm2(I_F, I_F_err, ecsa, ecsa_err)
        meta = ing.metadata
        mass = None
        if meta.get("loading_mg_cm2") and area:
            mass = mass_activity_A_g(I_F, area, meta["loading_mg_cm2"])
            record["mass_from"] = "sample.yaml loading_mg_cm2 x area"
        elif rec is not None and (mass_g := rec.meta.get("characteristic_mass_g")):
            mass = I_F / float(mass_g)  # A/g: the file header states the catalyst mass itself
            record["mass_from"] = f"file header characteristic mass {float(mass_g) * 1e3:.4g} mg"
        return sa, sa_err, mass, sa_eta, record, flags
    sa_eta = etas[0] if len(set(etas)) == 1 else None
    shown = ", ".join(f"{e:g}" for e in sorted(set(etas)))
    return None, None, None, sa_eta, {"not_reached_at_mV": sorted(set(etas))}, [Flag(
        "sa_not_reached", f"no LSV of this sample reaches {shown} mV overpotential: no specific activity")]


def ecsa_sample(sample_dir: str | Path, settings: Mapping[str, Any], formats, outputs, log_path,
                curves: str | Path | None = None, lsv_table: str | Path | None = None,
                with_data: bool = True) -> None:
    """The ecsa stage of one sample (``curves`` defaults to ``<sample_dir>/lsv_curves.parquet``,
    ``lsv_table`` to ``<sample_dir>/tables/overpotentials.csv``)."""
    outputs = as_namespace(outputs)
    curves = curves or Path(sample_dir) / "lsv_curves.parquet"
    lsv_table = lsv_table or Path(sample_dir) / "tables" / "overpotentials.csv"
    sample_dir = Path(sample_dir)
    prepare_dirs(outputs.audit, outputs.figures)
    ing = load_ingested(sample_dir, with_files=with_data)
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
                row = ecsa_one(run, ing, cvs, curves, lsv_table, settings, formats, outputs)
                rows.append(row)
        finally:
            write_csv(frame(rows, "ecsa"), outputs.table)


def ecsa_one(run, ing, cvs, curves_path, lsv_table, settings, formats, outputs) -> dict[str, Any]:
    import numpy as np
    import pandas as pd

    from echem.ecsa import cdl_from_points, cv_point, default_cs_mF_cm2, ecsa_cm2
    from echem.flags import codes
    from echem.workflow.tafel import lsv_flags

    points = []
    for rec in cvs:
        with run.guard(rec.file):
            point = cv_point(rec.measurement(), E_mid_V=settings["E_mid_V"], which_cycle=settings["which_cycle"])
            points.append({**point, "file": rec.file, "sha256": rec.meta.get("sha256")})
    cdl = cdl_from_points(points, r2_min=settings["r2_min"], asymmetry_max=settings["asymmetry_max"],
                          min_scan_rates=settings["min_scan_rates"])
    v = np.array([p["scan_rate_V_s"] for p in points])
    ia = np.array([p["i_anodic_A"] for p in points])
    ic = np.array([p["i_cathodic_A"] for p in points])

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

    flags = cdl_flags(cdl)
    sa_eta = None
    sa = sa_err = mass = None
    sa_record: dict[str, Any] = {}
    curves = stage_data(curves_path, "lsv", "overpotentials.csv", pd.read_parquet)
    if len(curves):
        sa, sa_err, mass, sa_eta, sa_record, sa_flags = specific_activity(
            ing, curves, cdl, ecsa, ecsa_err, area, settings, lsv_flags(lsv_table))
        flags += sa_flags
    else:
        run.info("no LSV in this sample: no specific activity")

    row = {"sample": ing.sample, "cdl_mF": cdl.cdl_F * 1e3, "cdl_err_mF": cdl.cdl_err_F * 1e3,
           "cs_mF_cm2": cs, "ecsa_cm2": ecsa, "roughness_factor": roughness, "sa_eta_mV": sa_eta,
           "sa_mA_cm2": sa, "sa_err_mA_cm2": sa_err, "mass_activity_A_g": mass, "flags": codes(flags)}
    run.flagged([f for f in flags if f.code not in INHERITED])  # the LSV stage warned about the others
    audit.write(outputs.audit, audit.audit_name("ecsa", None), audit.record(
        stage="ecsa", sample=ing.sample, file=[p["file"] for p in points],
        sha256=[p["sha256"] for p in points], settings=dict(settings),
        metadata={"cs_mF_cm2": (cs, cs_source), "area_cm2": area, "specific_activity": sa_record,
                  "loading_mg_cm2": meta.get("loading_mg_cm2")},
        method={"points": [{k: p[k] for k in ("file", "scan_rate_V_s", "scan_rate_source", "i_anodic_A",
                                              "i_cathodic_A", "E_mid_V")} for p in points],
                "cdl": cdl.audit},
        result={**row, "ecsa_err_cm2": ecsa_err, "warnings": cdl.warnings,
                "flag_messages": [f.to_dict() for f in flags]},
    ))

    def overlay():
        from echem.plots.ecsa import plot_cv_overlay
        from echem.plots.figure import new_figure

        fig, ax = new_figure()
        reference = ing.metadata.get("reference_electrode") or next(
            (c.resolved.get("reference_electrode") for c in cvs if c.resolved.get("reference_electrode")), None)
        plot_cv_overlay(ax, [(p["scan_rate_V_s"], p["E"], p["I"]) for p in points],
                        E_mid_V=points[0]["E_mid_V"] if points else None, reference=reference)
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
             f"ECSA = {ecsa:.4g} cm2; SA = {sa} at {sa_eta} mV")
    return row
