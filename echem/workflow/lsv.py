"""LSV stage glue: RHE scale, iR correction, overpotentials at the target current densities."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from echem import audit
from echem.errors import MetadataError
from echem.lsv import infer_reaction  # noqa: F401 - the stability stage takes it from here
from echem.workflow.common import as_namespace, draw, prepare_dirs, safe_stem, stage_data
from echem.workflow.ingest import load_ingested
from echem.workflow.run import StageRun
from echem.workflow.tables import atomic_write_bytes, frame, write_csv

CURVE_COLUMNS = ("file", "reaction", "E_V", "E_RHE_V", "E_RHE_corr_V", "I_A", "j_mA_cm2", "eta_mV")


def choose_ru(resolved: Mapping[str, Any], eis_fits: list[dict[str, Any]]):
    """Ru, its error, where it came from, its flags and an audit note.

    ``ru_ohm`` from sample.yaml wins. Else the median over the sample's spectra whose Ru
    is known (:mod:`echem.series_resistance`: the fitted series resistor, else the
    high-frequency intercept), its error the fits' median error and the spectra's
    spread in quadrature. Spectra that only bound Ru are not used; when no spectrum
    gives a value the result is None with the tightest bound, flagged ``ru_bound_only``.
    """
    import numpy as np

    from echem.flags import Flag

    err = resolved.get("ru_err_ohm")
    if resolved.get("ru_ohm") is not None:
        return float(resolved["ru_ohm"]), float(err or 0.0), "sample.yaml ru_ohm", [], {}
    usable = [f for f in eis_fits if f.get("rs_ohm") is not None and np.isfinite(f["rs_ohm"])]
    bounds = [f for f in eis_fits if f.get("rs_bound_ohm") is not None]
    if not usable:
        if bounds:
            tight = min(bounds, key=lambda f: f["rs_bound_ohm"])
            why = tight["rs_source"].removeprefix("none: ")
            return None, 0.0, f"none ({why})", [Flag("ru_bound_only", (
                f"Ru unknown: {why}; only 0 <= Ru <= {tight['rs_bound_ohm']:.4g} Ohm "
                f"({tight['file']}); set ru_ohm in sample.yaml or measure EIS to higher frequency"))], \
                {"ru_bound_ohm": tight["rs_bound_ohm"], "ru_bound_from": tight["file"]}
        return None, 0.0, "none (no ru_ohm in sample.yaml and no EIS in the sample)", [], {}
    values = np.array([f["rs_ohm"] for f in usable], float)
    ru = float(np.median(values))
    stderrs = [f.get("rs_err_ohm") for f in usable if f.get("rs_err_ohm") is not None]
    spread = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
    fit_err = float(np.median(stderrs)) if stderrs else 0.0
    source = usable[0]["rs_source"] + (f" (median of {len(usable)} spectra)" if len(usable) > 1 else "")
    flags = [Flag(**fl) for f in usable for fl in f.get("rs_flags", [])]
    note = {"ru_from": [f["file"] for f in usable]}
    if bounds:
        note["ru_not_from"] = {f["file"]: f["rs_source"] for f in bounds}
    return ru, float(err) if err is not None else float(np.hypot(fit_err, spread)), source, flags, note


def lsv_sample(sample_dir: str | Path, settings: Mapping[str, Any], formats, outputs, log_path,
               eis_fits: str | Path | None = None, with_data: bool = True) -> None:
    """The lsv stage of one sample (``eis_fits`` defaults to ``<sample_dir>/eis_fits.json``)."""
    outputs = as_namespace(outputs)
    eis_fits = eis_fits or Path(sample_dir) / "eis_fits.json"
    import pandas as pd

    sample_dir = Path(sample_dir)
    prepare_dirs(outputs.audit, outputs.figures)
    ing = load_ingested(sample_dir, with_files=with_data)
    rows: list[dict[str, Any]] = []
    curves: list[Any] = []
    with StageRun("lsv", ing.sample, log_path, outputs.errors) as run:
        try:
            if ing.metadata_error:
                run.info("skipped: sample.yaml is invalid (see the ingest error)")
                return
            fits = stage_data(eis_fits, "eis", "eis.csv")["fits"]
            for rec in ing.by_technique("LSV"):
                with run.guard(rec.file):
                    curve = lsv_one(run, ing.sample, rec, fits, settings, formats, outputs, rows)
                    if curve is not None:
                        curves.append(curve)
        finally:
            write_csv(frame(rows, "overpotentials"), outputs.table)
            table = pd.concat(curves, ignore_index=True) if curves else \
                pd.DataFrame({c: pd.Series(dtype="float64") for c in CURVE_COLUMNS}).astype(
                    {"file": "object", "reaction": "object"})
            import io

            buf = io.BytesIO()
            table.to_parquet(buf, index=False)
            atomic_write_bytes(outputs.curves, buf.getvalue())


def lsv_one(run, sample, rec, fits, settings, formats, outputs, rows):
    import numpy as np

    from echem.flags import codes
    from echem.lsv import overpotentials

    r = rec.resolved
    m = rec.measurement()
    if r.get("area_cm2") is None:
        raise MetadataError("no electrode area: the file gives none; set area_cm2 in sample.yaml")
    if r.get("reference_electrode") is None:
        raise MetadataError("no reference electrode: the file gives none; set reference_electrode "
                            "(e.g. Hg/HgO, Ag/AgCl, RHE) and pH in sample.yaml")
    reaction = r.get("reaction") or "auto"
    if reaction == "none":
        run.info(f"{rec.file}: reaction is 'none'; skipped")
        return None
    ru, ru_err, ru_source, ru_flags, ru_note = choose_ru(r, fits)
    temperature = r.get("file_temperature_C") or 25.0
    result = overpotentials(
        m, area_cm2=float(r["area_cm2"]), reference_electrode=r["reference_electrode"], pH=r.get("pH"),
        reaction=reaction, ru_ohm=ru, ru_err_ohm=ru_err, ir_compensation=r.get("ir_compensation") or 0.0,
        instrument_ir_compensation=r.get("instrument_ir_compensation") or 0.0,
        targets_mA_cm2=tuple(settings["targets_mA_cm2"]), sweep=settings["sweep"], temperature_C=temperature,
        ru_flags=ru_flags, eta_max_mV=float(settings.get("eta_max_mV", 1000.0)),
    )
    reaction = result.audit["reaction"]
    reaction_source = (rec.sources.get("reaction", "") if result.audit["reaction_source"] == "given"
                       else result.audit["reaction_source"])
    fraction = result.audit["ir_fraction"]
    conversion = result.audit["rhe_conversion"]
    offset = conversion["offset_V"]
    for warning in result.audit.get("warnings", []):
        run.warning(f"{rec.file}: {warning}", file=rec.file)
    for row in result.rows:
        rows.append({"sample": sample, "file": rec.file, **row, "flags": run.flagged(row["flags"], rec.file)})
    curve = result.curve.copy()
    curve.insert(0, "reaction", reaction)
    curve.insert(0, "file", rec.file)
    used = {
        "area_cm2": (r["area_cm2"], rec.sources.get("area_cm2")),
        "reference_electrode": (r["reference_electrode"], rec.sources.get("reference_electrode")),
        "reference_resolved": result.audit["reference_resolved"],
        "rhe_conversion": conversion,
        "pH": (r.get("pH"), rec.sources.get("pH")),
        "offset_to_rhe_V": offset,
        "temperature_C": temperature,
        "reaction": (reaction, reaction_source),
        "ru_ohm": (ru, ru_source), "ru_err_ohm": ru_err, **ru_note,
        "ir_compensation": (r.get("ir_compensation"), rec.sources.get("ir_compensation")),
        "instrument_ir_compensation": (r.get("instrument_ir_compensation"),
                                       rec.sources.get("instrument_ir_compensation")),
        "ir_fraction_applied": fraction,
    }
    audit.write(outputs.audit, audit.audit_name("lsv", rec.file), audit.record(
        stage="lsv", sample=sample, file=rec.file, sha256=rec.meta.get("sha256"),
        settings=dict(settings), metadata=used, method=result.audit,
        result={"rows": [{**row, "flags": codes(row["flags"])} for row in result.rows]},
    ))

    def painter():
        from echem.plots.figure import new_figure
        from echem.plots.lsv import plot_polarisation

        fig, ax = new_figure()
        plot_polarisation(ax, {rec.file: result.curve}, settings["targets_mA_cm2"])
        ax.set_title(f"{sample}: {rec.file}", fontsize=9)
        return fig

    draw(run, Path(outputs.figures) / safe_stem(rec.file), formats, painter)
    run.info(f"{rec.file}: {reaction}, Ru={ru} ({ru_source}), f={fraction:.3f}, "
             + ", ".join(f"eta@{row['target_mA_cm2']}={row['eta_mV']}" for row in result.rows))
    return curve
