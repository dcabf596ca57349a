"""Flags: short codes that mark a reported number as doubtful.

Every results table ends with a ``flags`` column: empty when nothing about the row is
doubtful, else ``;``-separated codes from :data:`FLAGS`. Each flagged row also has a
row in ``results/tables/warnings.csv`` (column ``flag``) that says, for that sample and
file, what was found and what to do. A flag never hides a number that is right; it
marks one that a reviewer would question (a fallback, a bound, a poor fit, a value
outside the physically plausible range).

The analyses return :class:`Flag` objects with their results; the workflow glue joins
their codes into the table's ``flags`` cell (:func:`codes`) and writes each message
as a warning. Thresholds live in ``config/config.yaml`` (documented there and in the
README).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

#: Every flag code and what it means (the README's table is generated from this).
FLAGS: dict[str, str] = {
    # overpotentials.csv (and every number computed from an LSV)
    "no_ir": "the LSV is NOT iR-corrected although ir_compensation asks for it: no usable Ru "
             "(no ru_ohm in sample.yaml, no series resistance from the sample's EIS)",
    "ru_bound_only": "the EIS spectrum never reaches the real axis at high frequency: Ru cannot be read "
                     "from it, only bounded (Z' at the highest frequency, in the audit)",
    "ru_extrapolated": "Ru extrapolated from the high-frequency end of the spectrum (not measured "
                       "where it meets the real axis): its error is the extrapolation's spread",
    "ru_ambiguous": "the fitted series resistance and the measured high-frequency intercept disagree: "
                    "Ru's error is widened to cover both",
    "ir_overcorrected": "after the iR correction the overpotential falls while the current rises: the "
                        "corrected Ru is too large (part of it compensated by the potentiostat already?)",
    "ir_dominant": "the iR correction at this current is larger than the overpotential left after it: "
                   "the result rests on Ru",
    "eta_negative": "the target is reached on the far side of the equilibrium potential: check the "
                    "reference electrode, the pH and the reaction",
    "eta_out_of_range": "an overpotential above lsv.eta_max_mV (1000 mV): more likely a wrong reference "
                        "electrode, pH or reaction than a catalyst",
    "multiple_crossings": "the current crosses the target several times (noise, bubbles or a peak); the "
                          "last crossing before the maximum is used",
    "not_reached": "the sweep never reaches this current density (eta_mV empty)",
    # tafel.csv
    "tafel_r2_low": "no straight Tafel window was found; the window with the highest R² is reported",
    "tafel_out_of_range": "the Tafel slope lies outside the physically plausible range "
                          "(tafel.slope_range_mV_dec: transfer coefficients 0.2..3 at 25 °C)",
    "tafel_short_window": "the Tafel window spans fewer decades of current than tafel.min_decades",
    "tafel_near_equilibrium": "the Tafel window reaches into the near-equilibrium region where the "
                              "reverse reaction lowers the slope",
    # ecsa.csv
    "cdl_asymmetric": "anodic and cathodic Cdl slopes disagree (ecsa.asymmetry_max): a faradaic process "
                      "in the CV window",
    "cdl_nonlinear": "the charging current is not proportional to the scan rate (R² below ecsa.r2_min)",
    "cdl_no_error": "Cdl from two scan rates only: no standard error",
    "capacitive_dominated": "at sa_eta_mV the LSV current is not clearly above the double-layer charging "
                            "current Cdl·v (ecsa.sa_min_faradaic_ratio): no specific or mass activity "
                            "is reported",
    "sa_not_reached": "no LSV of the sample reaches sa_eta_mV: no specific activity",
    # eis.csv (per parameter row) and conductivity.csv
    "kk_failed": "the spectrum fails the Lin-KK test: drift, noise or a non-stationary cell",
    "param_at_bound": "this parameter sits at a bound of the fit: the circuit may not suit the data",
    "cpe_n_at_bound": "a CPE exponent at its bound (n -> 1: a capacitor, n -> 0: a resistor): the "
                      "element is another element in disguise",
    "stderr_large": "the standard error is larger than the value (or infinite): the data do not "
                    "determine this parameter",
    "no_sane_circuit": "no candidate circuit gave sane parameters; the lowest-scoring one is reported",
    "arc_outside_range": "the arc of this resistance lies outside the measured frequencies: the value is "
                         "an extrapolation and is left out of the Arrhenius fit",
    # drt_peaks.csv
    "drt_outside_range": "this DRT peak lies outside the measured frequencies (its time constant beyond "
                         "1/(2π f) of the highest or lowest frequency): only its flank was measured, its τ and R "
                         "are extrapolations",
    # arrhenius.csv
    "few_points": "fewer than three temperatures in the fit: no meaningful error",
    "points_excluded": "temperatures were left out of the fit (conductivity.csv used = false)",
    "extrapolated": "the reference temperature lies outside the measured temperatures",
    "ea_out_of_range": "the activation energy lies outside the plausible range (arrhenius.ea_range_eV)",
    "arrhenius_nonlinear": "ln(σT) is not linear in 1/T (R² below arrhenius.r2_min): two regimes or a "
                           "phase change",
    # stability.csv and stability_lsv_shift.csv
    "stopped_early": "the run ended before its planned duration (stability.duration_h in sample.yaml, "
                     "or the _84h of a single file's name), or the file says it was aborted",
    "off_set_value": "the controlled quantity (CP: current, CA: potential) differs from the set value "
                     "(stability.set_tolerance_pct / set_tolerance_mV): the run is not at the set point",
    "control_lost": "the controlled quantity left the set value for more than "
                    "stability.max_off_set_fraction of the points (compliance limit, contact, range)",
    "interrupted": "more than stability.max_interrupted_fraction of the run's time is missing (gaps, "
                   "pauses between loops or joined files)",
    "many_spikes": "more than stability.max_spike_fraction of the points are spikes (bubbles): start, end "
                   "and drift rest on the points between them",
    "windows_overlap": "the run is shorter than the settling time plus two averaging windows "
                       "(stability.window_h): start and end values share points",
    "no_window_data": "no usable point in the start or end window (a gap): that value is empty",
    "order_mismatch": "sample.yaml calls an LSV 'before' or 'after' the run, but its start time says "
                      "otherwise",
}


#: Flags of a polarisation curve that every number computed from it (Tafel slope,
#: specific activity) inherits.
CURVE_FLAGS = ("no_ir", "ru_bound_only", "ru_extrapolated", "ru_ambiguous", "ir_overcorrected")


@dataclass(frozen=True)
class Flag:
    """One doubt about one number: a code of :data:`FLAGS` and the specific message."""

    code: str
    message: str

    def __post_init__(self):
        if self.code not in FLAGS:
            raise ValueError(f"unknown flag code {self.code!r}; add it to echem.flags.FLAGS")

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


def codes(flags: Iterable[Flag | str]) -> str:
    """The ``flags`` cell: unique codes in the order of :data:`FLAGS`, ``;``-separated."""
    found = {f.code if isinstance(f, Flag) else str(f) for f in flags}
    return ";".join(c for c in FLAGS if c in found)


def split(cell) -> list[str]:
    """The codes of a ``flags`` cell (empty, NaN or None: none)."""
    if cell is None or (isinstance(cell, float) and cell != cell):
        return []
    return [c for c in str(cell).split(";") if c]


def readme_table() -> str:
    """Markdown table of every flag code and its meaning (kept in the README; a test compares)."""
    lines = ["| flag | meaning |", "| --- | --- |"]
    lines += [f"| `{code}` | {text} |" for code, text in FLAGS.items()]
    return "\n".join(lines)
