"""The output contract: every results table, column, unit and meaning, in one place.

``docs/outputs.md`` is generated from this module (``python -m echem.report.contract >
docs/outputs.md``; a test keeps them equal) and the HTML report shows the same text. The
column order is :data:`echem.workflow.tables.TABLE_COLUMNS`; a test checks every column
there is documented here.
"""

from __future__ import annotations

#: The unit-suffix convention of column names.
SUFFIXES = (
    ("_V", "volt"), ("_mV", "millivolt"), ("_mV_dec", "millivolt per decade of current"),
    ("_mV_h", "millivolt per hour"), ("_mA_cm2", "milliampere per cm² (of geometric area, unless the "
                                                 "column says ECSA)"),
    ("_A_g", "ampere per gram of catalyst"), ("_mF", "millifarad"), ("_mF_cm2", "millifarad per cm²"),
    ("_cm2", "cm²"), ("_ohm", "ohm"), ("_S_cm", "siemens per cm"), ("_eV", "electronvolt"),
    ("_C", "degree Celsius"), ("_h", "hour"), ("_err_<unit>", "the standard error (1σ) of the column "
                                                            "of the same name without _err, same unit"),
)

_FLAGS = "`;`-separated flag codes (see Flags below); empty when nothing about the row is doubtful"

#: table -> (what one row is, {column: (unit, meaning)})
TABLES: dict[str, tuple[str, dict[str, tuple[str, str]]]] = {
    "overpotentials": ("one row per LSV file and target current density", {
        "sample": ("", "sample id (the folder name in raw/)"),
        "file": ("", "the LSV file, relative to the sample folder"),
        "reaction": ("", "HER or OER"),
        "target_mA_cm2": ("mA/cm²", "target |j| (lsv.targets_mA_cm2)"),
        "eta_mV": ("mV", "magnitude of the overpotential at the target (positive for HER and OER); empty "
                         "when not reached"),
        "eta_err_mV": ("mV", "its standard error (noise, Ru's error propagated through the iR correction)"),
        "E_RHE_V": ("V vs RHE", "the iR-corrected potential at the target"),
        "ru_ohm": ("Ω", "Ru used for the iR correction (empty: none)"),
        "ir_fraction": ("", "fraction of Ru·I subtracted after the measurement "
                            "(ir_compensation − instrument_ir_compensation)"),
        "reached": ("", "false where the sweep never reached the target"),
        "flags": ("", _FLAGS),
    }),
    "tafel": ("one row per LSV file", {
        "sample": ("", "sample id"), "file": ("", "the LSV file"),
        "slope_mV_dec": ("mV/dec", "Tafel slope b of η = a + b·log10|j|"),
        "slope_err_mV_dec": ("mV/dec", "its standard error"),
        "j0_mA_cm2": ("mA/cm²", "exchange current density (the fitted line at η = 0)"),
        "eta_lo_mV": ("mV", "low end of the fitted window"),
        "eta_hi_mV": ("mV", "high end of the fitted window"),
        "r2": ("", "R² of the line in the window"),
        "n_points": ("", "points in the window"),
        "flags": ("", _FLAGS),
    }),
    "ecsa": ("one row per sample (its CV scan-rate series)", {
        "sample": ("", "sample id"),
        "cdl_mF": ("mF", "double-layer capacitance: slope of (i_a − i_c)/2 against scan rate"),
        "cdl_err_mF": ("mF", "its standard error"),
        "cs_mF_cm2": ("mF/cm²", "specific capacitance used (sample.yaml, else the electrolyte's literature "
                                "value)"),
        "ecsa_cm2": ("cm²", "electrochemically active surface area, Cdl / Cs"),
        "roughness_factor": ("", "ECSA / geometric area"),
        "sa_eta_mV": ("mV", "overpotential the specific activity is read at (ecsa.sa_eta_mV)"),
        "sa_mA_cm2": ("mA per cm² of ECSA", "specific activity: the faradaic current at sa_eta_mV / ECSA"),
        "sa_err_mA_cm2": ("mA per cm² of ECSA", "its standard error"),
        "mass_activity_A_g": ("A/g", "current at sa_eta_mV per mass of catalyst (needs loading_mg_cm2)"),
        "flags": ("", _FLAGS),
    }),
    "eis": ("long form: one row per fitted parameter of each spectrum", {
        "sample": ("", "sample id"),
        "file": ("", "the spectrum (`file#n` for the n-th spectrum of a file with several)"),
        "circuit": ("", "equivalent circuit, impedance.py syntax (e.g. `R0-p(R1,CPE1)`)"),
        "param": ("", "parameter name as impedance.py gives it: `R0`, `R1`, `CPE1_0` (Q), `CPE1_1` (n); "
                      "`Rs_hf`: the series resistance read at the high-frequency intercept of a circuit "
                      "without series resistor"),
        "value": ("see unit", "fitted value"),
        "stderr": ("see unit", "its standard error (inf: not determined by the data)"),
        "unit": ("", "`Ohm` for resistances; a CPE's Q in `Ohm^-1 sec^a` (impedance.py's spelling of "
                     "S·s^n, n the CPE's exponent `CPE_1`); `F`, `H`; empty for exponents"),
        "chi2": ("", "weighted sum of squared relative residuals of the fit"),
        "kk_ok": ("", "the spectrum passes the Lin-KK test (eis.kk_threshold_pct)"),
        "flags": ("", _FLAGS),
    }),
    "drt_peaks": ("one row per peak of the distribution of relaxation times of each Lin-KK-valid spectrum", {
        "sample": ("", "sample id"),
        "file": ("", "the spectrum (`file#n` for the n-th spectrum of a file with several)"),
        "peak": ("", "peak number, 1 = the fastest (smallest τ)"),
        "tau_s": ("s", "time constant of the peak (its Cole–Cole centre)"),
        "f_Hz": ("Hz", "its frequency, 1/(2π τ): where the process's arc peaks"),
        "R_ohm": ("Ω", "polarisation resistance of the process: the area under the peak"),
        "R_err_ohm": ("Ω", "its standard error: the data's noise and the spread over the regularisation "
                           "parameter (λ ×/÷ √10) combined"),
        "flags": ("", _FLAGS),
    }),
    "conductivity": ("one row per spectrum of a sample with a geometry", {
        "sample": ("", "sample id"), "file": ("", "the spectrum"),
        "temperature_C": ("°C", "measurement temperature (sample.yaml, the file, or the file name)"),
        "R_ohm": ("Ω", "the bulk resistance (arrhenius.resistance_param of the fit)"),
        "R_err_ohm": ("Ω", "its standard error"),
        "sigma_S_cm": ("S/cm", "conductivity L / (R·A) from the geometry"),
        "run": ("", "`heating`, `cooling` or `single`"),
        "used": ("", "false for points left out of the Arrhenius fit (arc outside the measured frequencies)"),
        "flags": ("", _FLAGS),
    }),
    "arrhenius": ("one row per sample and run", {
        "sample": ("", "sample id"),
        "law": ("", "`sigma_T` (σT = A·exp(−Ea/kT)) or `sigma` (σ = A·exp(−Ea/kT)); Ea differs by ~10 % "
                    "between them"),
        "Ea_eV": ("eV", "activation energy"),
        "Ea_err_eV": ("eV", "its standard error"),
        "ref_T_C": ("°C", "reference temperature (arrhenius.ref_C)"),
        "sigma_ref_S_cm": ("S/cm", "conductivity at ref_T_C from the fitted law (slope–intercept covariance "
                                   "propagated; its error is in the audit)"),
        "n_points": ("", "temperatures in the fit"),
        "r2": ("", "R² of ln(σT) (or ln σ) against 1/T"),
        "run": ("", "`heating`, `cooling` or `single`: runs are fitted apart"),
        "flags": ("", _FLAGS),
    }),
    "stability": ("one row per chronopotentiometry (CP) or chronoamperometry (CA) run", {
        "sample": ("", "sample id"), "file": ("", "the run's file(s), joined in time"),
        "mode": ("", "`CP` or `CA`"),
        "set_value": ("see set_unit", "the set current density (CP) or potential (CA)"),
        "set_unit": ("", "unit of set_value, and of the start/end/drift columns for CA (mA/cm2)"),
        "duration_h": ("h", "length of the run"),
        "eta_start_mV": ("mV (CA: mA/cm²)", "mean over the first stability.window_h hours"),
        "eta_end_mV": ("mV (CA: mA/cm²)", "mean over the last stability.window_h hours"),
        "drift_mV_h": ("mV/h (CA: mA/cm² per h)", "robust linear drift"),
        "drift_err_mV_h": ("mV/h", "its standard error (serial correlation accounted for)"),
        "max_excursion_mV": ("mV (CA: mA/cm²)", "largest departure of a binned mean from the start value"),
        "interrupted_fraction": ("", "fraction of the run's time missing (gaps)"),
        "flags": ("", _FLAGS),
    }),
    "stability_lsv_shift": ("one row per before/after LSV pair and target", {
        "sample": ("", "sample id"), "before_file": ("", "LSV before the run"),
        "after_file": ("", "LSV after the run"),
        "target_mA_cm2": ("mA/cm²", "target |j|"),
        "eta_before_mV": ("mV", "η at the target before"), "eta_after_mV": ("mV", "η at the target after"),
        "delta_eta_mV": ("mV", "after − before (positive: the catalyst lost activity)"),
        "delta_eta_err_mV": ("mV", "its standard error"),
        "flags": ("", _FLAGS),
    }),
    "errors": ("one row per input or fit that failed", {
        "sample": ("", "sample id, or the folder's name in raw/ (empty for a file lying directly in raw/)"),
        "file": ("", "the file, if one (`<name>/` for a sub-folder)"),
        "stage": ("", "discover (what raw/ holds: names, links, sub-folders, unreadable folders), ingest, eis, "
                      "lsv, tafel, ecsa, arrhenius, stability"),
        "error": ("", "what is wrong and what to do"),
    }),
    "warnings": ("one row per result that was produced but deserves a look", {
        "sample": ("", "sample id"), "file": ("", "the file (or run) the warning concerns"),
        "stage": ("", "the stage that warned"),
        "warning": ("", "what was found, with the numbers"),
        "flag": ("", "the code the number carries in its table (empty for warnings about no single number)"),
    }),
}

#: Tables beyond the contract's column lists (README "What comes out").
EXTRA_TABLES: dict[str, tuple[str, dict[str, tuple[str, str]]]] = {
    "eis_circuits": ("one row per fitted spectrum", {
        "series": ("", "the sample's series"), "sample": ("", "sample id"), "file": ("", "the spectrum"),
        "circuit": ("", "the circuit fitted"),
        "circuit_source": ("", "where it came from (sample.yaml, config, automatic selection by BIC)"),
        "series_circuit": ("", "the most common circuit of the series"),
        "differs": ("", "true where the spectrum's circuit is not the series' usual one"),
    }),
}


def _flags_table() -> list[str]:
    from echem.flags import FLAGS

    return ["| flag | meaning |", "| --- | --- |"] + [f"| `{c}` | {t} |" for c, t in FLAGS.items()]


def markdown() -> str:
    """The text of ``docs/outputs.md``."""
    from echem.report.numbers import CSV_SIG

    out = [
        "# Outputs: every table, column and unit",
        "",
        "<!-- generated by `python -m echem.report.contract > docs/outputs.md`; edit "
        "echem/report/contract.py, not this file -->",
        "",
        "Everything the workflow writes goes to `results/` (the `results_dir` setting). This page is "
        "the contract: column names and meanings change only with this page and the tests.",
        "",
        "## Where things are",
        "",
        "| path | what |",
        "| --- | --- |",
        "| `tables/<table>.csv`, `.parquet` | the results tables below, over all samples |",
        "| `report/index.html` | the HTML report: every sample's key numbers, one page per sample and "
        "per series (open it in a browser; works offline) |",
        "| `figures/<series>/<group>/<series>_<kind>.png`, `.svg` | comparative figures per series; `<group>`: "
        "`lsv` (polarisation, Tafel, η and slope, specific activity, Cdl), `eis` (Nyquist, Bode, Arrhenius), "
        "`stability` (runs, LSV shift) |",
        "| `samples/<sample>/` | per sample: `manifest.csv` (every file, technique, vendor, sha256, status), "
        "`ingest.json` (metadata used and where each value came from), `tables/`, `figures/<stage>/`, "
        "`audit/<stage>/*.json` (one record per fit), `canonical/*.parquet` (the files as SI tables), "
        "`drt/<file>.drt.csv` (each spectrum's distribution of relaxation times: `tau_s, f_Hz, gamma_ohm, "
        "gamma_err_ohm`, γ in Ω per unit ln τ) |",
        "| `logs/<stage>/` | one log per job |",
        "| `retry/<stage>/<sample>` | a token left by a job that crashed (its outputs were written empty, "
        "with an error row): the next run does that job again |",
        "",
        "## Column names carry their unit",
        "",
        "A column's unit is the end of its name: `eta_mV` is in mV, `target_mA_cm2` in mA per cm², "
        "`sigma_S_cm` in S/cm, `ecsa_cm2` in cm². `_cm2` means per cm² after a current or capacitance "
        "unit (`_mA_cm2`, `_mF_cm2`) and cm² alone (`ecsa_cm2`). Without a suffix a column is a "
        "number without unit (`r2`, `roughness_factor`), a count or text.",
        "",
        "| suffix | unit |",
        "| --- | --- |",
    ]
    out += [f"| `{s}` | {u} |" for s, u in SUFFIXES]
    out += [
        "",
        "## Precision",
        "",
        "The CSVs are for people: a value with an error column is written to the decimal place of its "
        "error's second significant digit (at least two significant digits of its own), the error to two "
        f"significant digits, `r2` to 8 decimals, every other number to {CSV_SIG} significant digits. The "
        "Parquet files beside "
        "them keep full double precision: compute from those. Figures, the report and `echem audit` "
        "round a value to its error's significant digits (two when the error's leading digits are "
        "100–354, else one: the Particle Data Group's rule).",
        "",
        "## Tables",
        "",
        "Every results table ends with a `flags` column. Columns may be added after the ones named here; "
        "named ones keep their names and meaning.",
        "",
    ]
    for name, (row, cols) in {**TABLES, **EXTRA_TABLES}.items():
        out += [f"### `{name}.csv`", "", f"{row[0].upper()}{row[1:]}.", "", "| column | unit | meaning |",
                "| --- | --- | --- |"]
        out += [f"| `{c}` | {u} | {m} |" for c, (u, m) in cols.items()]
        out.append("")
    out += [
        "## Flags",
        "",
        "A number without a flag is one echem has no reason to doubt. Each flagged row has a row in "
        "`warnings.csv` (column `flag`) that says what was found for that sample and file. The "
        "thresholds are settings in `config/config.yaml`.",
        "",
        *_flags_table(),
        "",
    ]
    return "\n".join(out)


if __name__ == "__main__":  # pragma: no cover
    import sys

    sys.stdout.write(markdown())
