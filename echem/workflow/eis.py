"""EIS stage glue: fit every spectrum of a sample, write eis.csv, fits, audit, figures.

The decisions are the library's (:mod:`echem.eis.decide`): which circuit (the sample's
``circuit`` always wins; otherwise, with ``eis.auto_circuit``, chosen by BIC per spectrum,
or once per temperature series on its best-resolved spectrum; else the config's film or
catalyst circuit), when a fit is rejected (eis.max_median_residual_pct), which Ru. This
module reads the spectra, calls them with the config's settings, and writes the results.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from echem import audit
from echem.eis.decide import median_residual_pct, series_resistance  # noqa: F401 (median_residual_pct: re-exported)
from echem.workflow.common import as_namespace, draw, prepare_dirs, safe_stem
from echem.workflow.ingest import load_ingested
from echem.workflow.run import StageRun, dump_json
from echem.workflow.tables import atomic_write_text, frame, write_csv


@dataclass
class Spectrum:
    record: Any          # the ingested file (FileRecord)
    label: str           # file name, with "#k" for the k-th spectrum of a multi-spectrum file
    freq_Hz: Any
    Z: Any

    @property
    def temperature_C(self):
        return self.record.resolved.get("file_temperature_C")


def default_circuit(resolved: Mapping[str, Any], settings: Mapping[str, Any]) -> tuple[str | None, str]:
    """The circuit for a file and why (:func:`echem.eis.default_circuit`)."""
    from echem.eis import default_circuit as decide

    return decide(resolved.get("circuit"), bool(resolved.get("geometry")),
                  auto_circuit=bool(settings.get("auto_circuit")), film_circuit=settings["film_circuit"],
                  catalyst_circuit=settings["catalyst_circuit"])


def circuit_model_has_no_rs(circuit: str) -> bool:
    from echem.eis import circuit_model

    return circuit_model(circuit).series_resistor() is None


def load_spectra(run, ing) -> list[Spectrum]:
    """Every spectrum of the sample's EIS files (:meth:`echem.measurement.Measurement.spectra`),
    labelled ``file`` or ``file#k`` for the k-th sweep of a file holding several."""
    spectra = []
    for rec in ing.by_technique("EIS"):
        with run.guard(rec.file):
            parts = list(rec.measurement().spectra())
            for part in parts:
                label = rec.file if len(parts) == 1 else f"{rec.file}#{part.cycle}"
                spectra.append(Spectrum(rec, label, part.freq_Hz, part.Z))
    return spectra


def drt_paths(outputs, sample_dir: Path) -> tuple[Path, Path]:
    """(drt_peaks.csv, folder of DRT curves) of a sample: ``outputs.drt_peaks`` and
    ``outputs.drt`` when the rule names them, else beside the EIS table
    (``tables/drt_peaks.csv``) and ``<sample>/drt/``."""
    peaks = getattr(outputs, "drt_peaks", None) or Path(outputs.table).with_name("drt_peaks.csv")
    curves = getattr(outputs, "drt", None) or Path(sample_dir) / "drt"
    return Path(peaks), Path(curves)


def eis_sample(sample_dir: str | Path, settings: Mapping[str, Any], formats, outputs, log_path,
               with_data: bool = True) -> None:
    outputs = as_namespace(outputs)
    sample_dir = Path(sample_dir)
    drt_table, drt_dir = drt_paths(outputs, sample_dir)
    prepare_dirs(outputs.audit, outputs.figures, drt_dir)
    ing = load_ingested(sample_dir, with_files=with_data)
    rows: list[dict[str, Any]] = []
    fits: list[dict[str, Any]] = []
    drt_rows: list[dict[str, Any]] = []
    drts: list[tuple[Spectrum, Any]] = []
    with StageRun("eis", ing.sample, log_path, outputs.errors) as run:
        try:
            if ing.metadata_error:
                run.info("skipped: sample.yaml is invalid (see the ingest error)")
                return
            spectra = load_spectra(run, ing)
            run.info(f"{len(spectra)} impedance spectra")
            if not spectra:
                return
            kwargs = dict(weighting=settings["weighting"], kk_threshold_pct=settings["kk_threshold_pct"])
            series_choice = choose_for_series(run, spectra, settings, kwargs)
            for spec in spectra:
                with run.guard(spec.label):
                    drt = fit_one(run, ing.sample, spec, settings, kwargs, series_choice, formats, outputs, rows, fits)
                    if drt is not None:
                        drt_one(run, ing.sample, spec, drt, formats, outputs, drt_dir, drt_rows)
                        drts.append((spec, drt))
            drt_series_figure(run, ing.sample, drts, formats, outputs)
        finally:
            write_csv(frame(rows, "eis"), outputs.table)
            write_csv(frame(drt_rows, "drt_peaks"), drt_table)
            atomic_write_text(outputs.fits, dump_json({"sample": ing.sample, "fits": fits}))


def choose_for_series(run, spectra: list[Spectrum], settings, kwargs) -> dict[str, Any] | None:
    """For a temperature series fitted automatically: one circuit, chosen on the best-resolved
    spectrum (:func:`echem.eis.choose_for_series`)."""
    if default_circuit(spectra[0].record.resolved, settings)[0] is not None:
        return None
    from echem.eis import choose_for_series as decide

    choice = decide(spectra, proposals=drt_settings(settings)["propose_circuits"], **kwargs)
    if choice is not None:
        run.info(f"temperature series of {len(spectra)} spectra: circuit {choice['circuit']} chosen on the "
                 f"best-resolved spectrum {choice['label']} ({choice['temperature_C']:g} °C) and used for all")
    return choice


def choose_and_fit(spec: Spectrum, settings: Mapping[str, Any], kwargs: Mapping[str, Any],
                   series_choice: Mapping[str, Any] | None = None):
    """Fit one spectrum with its circuit (:func:`echem.eis.choose_and_fit`): the user's, the
    series' choice, selected, or the default. Returns ``(fit, circuit_source, selection)``."""
    from echem.eis import choose_and_fit as decide

    circuit, circuit_source = default_circuit(spec.record.resolved, settings)
    return decide(spec.freq_Hz, spec.Z, spec.label, circuit, circuit_source, series_choice,
                  trim_inductive=settings["trim_inductive"], trim_lf_drift=settings["trim_lf_drift"],
                  proposals=drt_settings(settings)["propose_circuits"], **kwargs)


def fit_problem(fit, settings: Mapping[str, Any]) -> str | None:
    """Why a fit must not be reported (:func:`echem.eis.fit_problem` with
    eis.max_median_residual_pct), or None."""
    from echem.eis import MAX_MEDIAN_RESIDUAL_PCT
    from echem.eis import fit_problem as decide

    return decide(fit, settings.get("max_median_residual_pct", MAX_MEDIAN_RESIDUAL_PCT))


def drt_settings(settings: Mapping[str, Any]) -> dict[str, bool]:
    """eis.drt with its defaults (enabled, propose_circuits)."""
    return {"enabled": True, "propose_circuits": True, **(settings.get("drt") or {})}


def spectrum_drt(fit, spec: Spectrum, settings: Mapping[str, Any]):
    """The spectrum's DRT (:func:`echem.eis.drt.fit_drt`) when it passes Lin-KK and
    eis.drt.enabled: the one the circuit choice computed, else computed now; None otherwise."""
    if not drt_settings(settings)["enabled"] or not fit.kk_ok:
        return None
    if fit.drt is not None:
        return fit.drt
    from echem.eis.drt import fit_drt

    return fit_drt(spec.freq_Hz, spec.Z)


def fit_one(run, sample, spec: Spectrum, settings, kwargs, series_choice, formats, outputs, rows, fits):
    """Fit one spectrum, write its rows, record and figure; return its DRT (or None)."""
    from echem.flags import codes

    rec, label, freq, Z = spec.record, spec.label, spec.freq_Hz, spec.Z
    fit, circuit_source, selection = choose_and_fit(spec, settings, kwargs, series_choice)
    drt = None
    try:
        drt = spectrum_drt(fit, spec, settings)
    except Exception as exc:  # noqa: BLE001 - the DRT must never cost the fit
        run.warning(f"{label}: no DRT: {type(exc).__name__}: {exc}", file=label)
    drt_record = None if drt is None else {**drt.audit, "curve": f"drt/{safe_stem(label)}.drt.csv"}
    problem = fit_problem(fit, settings)
    rs = series_resistance(None if problem else fit, freq, Z)
    entry = {
        "file": label, "source_file": rec.file, "sha256": rec.meta.get("sha256"),
        "circuit": fit.circuit, "circuit_source": circuit_source, "params": {},
        "chi2": fit.chi2, "kk_ok": bool(fit.kk_ok),
        "rs_ohm": rs.value_ohm, "rs_err_ohm": rs.err_ohm, "rs_source": rs.source, "rs_status": rs.status,
        "rs_bound_ohm": rs.bound_ohm, "rs_flags": [f.to_dict() for f in rs.flags],
        "temperature_C": spec.temperature_C,
        "temperature_source": rec.sources.get("file_temperature_C"),
        "freq_min_Hz": float(freq.min()), "freq_max_Hz": float(freq.max()),
        "geometry": rec.resolved.get("geometry"),
        "drt": None if drt is None else {"lambda": drt.lam, "peaks": [p.to_dict() for p in drt.peaks],
                                         "curve": drt_record["curve"]},
    }
    record = dict(stage="eis", sample=sample, file=label, sha256=rec.meta.get("sha256"),
                  settings=dict(settings), metadata={"circuit_source": circuit_source,
                                                     "temperature_C": spec.temperature_C},
                  method={**fit.audit, "selection": selection} if selection else fit.audit)
    if problem:
        run.error(label, f"{label}: {problem}")
        fits.append({**entry, "rejected": problem})
        audit.write(outputs.audit, audit.audit_name("eis", label), audit.record(
            **record, result={"rejected": problem, "params_not_reported": fit.params, "chi2": fit.chi2,
                              "kk_ok": fit.kk_ok, "series_resistance": rs.to_dict(), "drt": drt_record}))
        return drt
    # doubts about the whole spectrum: one warning each; about a parameter: one each
    whole = run.flagged(fit.flags, label)
    for p in fit.params:
        own = fit.param_flags.get(p["param"], [])
        run.flagged(own, label)
        rows.append({"sample": sample, "file": label, "circuit": fit.circuit, "param": p["param"],
                     "value": p["value"], "stderr": p.get("stderr"), "unit": p.get("unit", ""),
                     "chi2": fit.chi2, "kk_ok": bool(fit.kk_ok), "flags": codes([*fit.flags, *own])})
    if circuit_model_has_no_rs(fit.circuit) and rs.known:
        # the circuit has no series resistor but the spectrum meets the real axis: say where
        rows.append({"sample": sample, "file": label, "circuit": fit.circuit, "param": "Rs_hf",
                     "value": rs.value_ohm, "stderr": rs.err_ohm, "unit": "Ohm", "chi2": fit.chi2,
                     "kk_ok": bool(fit.kk_ok), "flags": codes([*fit.flags, *rs.flags])})
        run.flagged(rs.flags, label)  # (Ru's own doubts reach an LSV through the lsv stage)
    entry["params"] = {p["param"]: {"value": p["value"], "stderr": p.get("stderr"), "unit": p.get("unit"),
                                    "flags": codes([*fit.flags, *fit.param_flags.get(p["param"], [])])}
                       for p in fit.params}
    entry["flags"] = whole
    fits.append(entry)
    audit.write(outputs.audit, audit.audit_name("eis", label), audit.record(
        **record, result={"params": fit.params, "chi2": fit.chi2, "kk_ok": fit.kk_ok,
                          "series_resistance": rs.to_dict(),
                          "flags": {p["param"]: entry["params"][p["param"]]["flags"] for p in fit.params},
                          "drt": drt_record},
    ))
    run.info(f"{label}: {fit.circuit} ({circuit_source}) chi2={fit.chi2:.3g} kk_ok={fit.kk_ok} "
             f"Rs={rs.value_ohm if rs.known else f'unknown (<= {rs.bound_ohm})'} ({rs.source})")

    def painter():
        from echem.plots.eis import eis_figure

        return eis_figure(fit, f"{sample}: {label}")

    draw(run, Path(outputs.figures) / safe_stem(label), formats, painter)
    return drt


def drt_one(run, sample, spec: Spectrum, drt, formats, outputs, drt_dir: Path, drt_rows) -> None:
    """A spectrum's DRT: its peaks into drt_peaks.csv (flags as warnings), its curve as
    ``drt/<file>.drt.csv``, its figure."""
    label = spec.label
    for row in drt.rows():
        drt_rows.append({"sample": sample, "file": label, **row, "flags": run.flagged(row["flags"], label)})
    write_csv(drt.curve(), drt_dir / f"{safe_stem(label)}.drt.csv")
    run.info(f"{label}: DRT lambda={drt.lam:.3g}, {len(drt.resolved)} peak(s) within the measured frequencies"
             + "".join(f"; tau={p.tau_s:.3g} s R={p.R_ohm:.4g}±{p.R_err_ohm:.2g} Ohm" for p in drt.peaks))

    def painter():
        from echem.plots.drt import drt_figure

        return drt_figure(drt, f"{sample}: {label}")

    draw(run, Path(outputs.figures) / f"drt_{safe_stem(label)}", formats, painter)


def drt_series_figure(run, sample, drts, formats, outputs) -> None:
    """The DRTs of a temperature series in one figure, coloured by temperature."""
    with_t = [(spec, d) for spec, d in drts if spec.temperature_C is not None]
    if len({spec.temperature_C for spec, _ in with_t}) < 2:
        return

    def painter():
        from echem.plots.drt import drt_temperature_figure

        return drt_temperature_figure([(spec.label, spec.temperature_C, d) for spec, d in with_t], sample)

    draw(run, Path(outputs.figures) / "drt_temperatures", formats, painter)
