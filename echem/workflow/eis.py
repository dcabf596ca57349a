"""EIS stage glue: fit every spectrum of a sample, write eis.csv, fits, audit, figures."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from echem import audit
from echem.workflow.common import as_namespace, draw, prepare_dirs, safe_stem
from echem.workflow.ingest import load_ingested
from echem.workflow.run import StageRun, dump_json
from echem.workflow.tables import atomic_write_text, frame, write_csv


def choose_circuit(resolved: Mapping[str, Any], settings: Mapping[str, Any]) -> tuple[str | None, str]:
    """The circuit for a file and why: sample.yaml, else film/catalyst default, else auto."""
    if resolved.get("circuit"):
        return resolved["circuit"], "sample.yaml circuit"
    if settings.get("auto_circuit"):
        return None, "automatic selection (eis.auto_circuit)"
    if resolved.get("geometry"):
        return settings["film_circuit"], "eis.film_circuit (sample has a geometry)"
    return settings["catalyst_circuit"], "eis.catalyst_circuit"


def split_spectra(data) -> list[tuple[int, Any]]:
    """One frame per spectrum: by ``cycle`` when the file holds several sweeps."""
    if "cycle" in data.columns and data["cycle"].nunique() > 1:
        return [(int(c), g.reset_index(drop=True)) for c, g in data.groupby("cycle", sort=True)]
    return [(0, data)]


def series_resistance(fit, freq_Hz, Z) -> tuple[float | None, float | None, str]:
    """Rs for iR correction: the fitted series R0, else the high-frequency intercept."""
    from echem.eis import hf_intercept_ohm

    for p in fit.params:
        if p["param"] == "R0":
            return p["value"], p.get("stderr"), "EIS fit R0"
    try:
        return float(hf_intercept_ohm(freq_Hz, Z)), None, "EIS high-frequency intercept"
    except Exception:  # noqa: BLE001
        return None, None, "none"


def eis_sample(sample_dir: str | Path, settings: Mapping[str, Any], formats, outputs, log_path) -> None:
    outputs = as_namespace(outputs)
    import numpy as np

    sample_dir = Path(sample_dir)
    prepare_dirs(outputs.audit, outputs.figures)
    ing = load_ingested(sample_dir)
    rows: list[dict[str, Any]] = []
    fits: list[dict[str, Any]] = []
    with StageRun("eis", ing.sample, log_path, outputs.errors) as run:
        try:
            if ing.metadata_error:
                run.info("skipped: sample.yaml is invalid (see the ingest error)")
                return
            records = ing.by_technique("EIS")
            run.info(f"{len(records)} impedance file(s)")
            for rec in records:
                with run.guard(rec.file):
                    m = rec.measurement()
                    spectra = split_spectra(m.data)
                    for index, spec in spectra:
                        label = rec.file if len(spectra) == 1 else f"{rec.file}#{index}"
                        with run.guard(label):
                            fit_one(run, ing.sample, rec, label, spec, settings, formats, outputs, rows, fits)
        finally:
            write_csv(frame(rows, "eis"), outputs.table)
            atomic_write_text(outputs.fits, dump_json({"sample": ing.sample, "fits": fits}))


def fit_one(run, sample, rec, label, spec, settings, formats, outputs, rows, fits) -> None:
    import numpy as np

    from echem.eis import fit_spectrum

    freq = spec["freq_Hz"].to_numpy(float)
    Z = spec["Z_re_ohm"].to_numpy(float) + 1j * spec["Z_im_ohm"].to_numpy(float)
    ok = np.isfinite(freq) & np.isfinite(Z.real) & np.isfinite(Z.imag)
    freq, Z = freq[ok], Z[ok]
    circuit, circuit_source = choose_circuit(rec.resolved, settings)
    kwargs = dict(weighting=settings["weighting"], kk_threshold_pct=settings["kk_threshold_pct"],
                  trim_inductive=settings["trim_inductive"], trim_lf_drift=settings["trim_lf_drift"])
    if circuit is None:
        from echem.eis import select_circuit

        fit, scores = select_circuit(freq, Z, **kwargs)
        circuit, circuit_source = fit.circuit, f"automatic selection among {len(scores)} candidates"
    else:
        fit = fit_spectrum(freq, Z, circuit, **kwargs)
    if not fit.kk_ok:
        run.warning(f"{label}: Lin-KK residuals exceed {settings['kk_threshold_pct']} % "
                    f"({fit.kk}); the spectrum may be non-stationary (kk_ok = false)")
    rs, rs_err, rs_source = series_resistance(fit, freq, Z)
    for p in fit.params:
        rows.append({"sample": sample, "file": label, "circuit": fit.circuit, "param": p["param"],
                     "value": p["value"], "stderr": p.get("stderr"), "unit": p.get("unit", ""),
                     "chi2": fit.chi2, "kk_ok": bool(fit.kk_ok)})
    fits.append({
        "file": label, "source_file": rec.file, "sha256": rec.meta.get("sha256"),
        "circuit": fit.circuit, "circuit_source": circuit_source,
        "params": {p["param"]: {"value": p["value"], "stderr": p.get("stderr"), "unit": p.get("unit")}
                   for p in fit.params},
        "chi2": fit.chi2, "kk_ok": bool(fit.kk_ok),
        "rs_ohm": rs, "rs_err_ohm": rs_err, "rs_source": rs_source,
        "temperature_C": rec.resolved.get("file_temperature_C"),
        "temperature_source": rec.sources.get("file_temperature_C"),
        "freq_min_Hz": float(freq.min()), "freq_max_Hz": float(freq.max()),
        "geometry": rec.resolved.get("geometry"),
    })
    audit.write(outputs.audit, audit.audit_name("eis", label), audit.record(
        stage="eis", sample=sample, file=label, sha256=rec.meta.get("sha256"),
        settings=dict(settings), metadata={"circuit_source": circuit_source,
                                           "temperature_C": rec.resolved.get("file_temperature_C")},
        method=fit.audit, result={"params": fit.params, "chi2": fit.chi2, "kk_ok": fit.kk_ok,
                                  "rs_ohm": rs, "rs_err_ohm": rs_err, "rs_source": rs_source},
    ))
    run.info(f"{label}: {fit.circuit} chi2={fit.chi2:.3g} kk_ok={fit.kk_ok} Rs={rs}")

    def painter():
        from echem.plots.eis import eis_figure

        return eis_figure(fit, f"{sample}: {label}")

    draw(run, Path(outputs.figures) / safe_stem(label), formats, painter)
