"""The decisions taken for every spectrum: which circuit, when a fit is rejected, which Ru.

One decision, one place: the workflow's EIS stage (:mod:`echem.workflow.eis`) calls these
functions and nothing else decides, so that a script using the library gets the answer
the workflow writes.

* **Which circuit** (:func:`default_circuit`, :func:`choose_and_fit`): the circuit the
  sample names always wins; otherwise, with automatic choice, the circuit is chosen by
  BIC (:func:`echem.eis.select_circuit`) per spectrum, except for a temperature series,
  where it is chosen once, on the best-resolved spectrum (:func:`choose_for_series`), so
  that ``R1`` means the same thing at every temperature; without automatic choice the
  film circuit (samples with a geometry) or the catalyst circuit.
* **When a fit is rejected** (:func:`fit_problem`): when it misses the data by more than
  ``max_median_residual_pct`` (median |Z − Ẑ|/|Z|); the message says whether the
  spectrum fails Kramers-Kronig (re-measure) or the circuit lacks an element.
* **Which Ru** (:func:`series_resistance`): :func:`echem.series_resistance.from_fit` of
  the fit, or of the measured points alone when the fit was rejected.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from echem.eis.fit import CATALYST_CIRCUIT, FILM_CIRCUIT, EISFit, fit_spectrum
from echem.eis.select import select_circuit

#: A fit whose median |Z − Ẑ|/|Z| exceeds this (%) is not reported (eis.max_median_residual_pct).
MAX_MEDIAN_RESIDUAL_PCT = 5.0


def default_circuit(circuit_named: str | None, has_geometry: bool, *, auto_circuit: bool = True,
                    film_circuit: str = FILM_CIRCUIT,
                    catalyst_circuit: str = CATALYST_CIRCUIT) -> tuple[str | None, str]:
    """The circuit for a spectrum and why: the sample's own (``circuit_named``), else
    automatic (None), else the film circuit (a sample with a geometry) or the catalyst circuit."""
    if circuit_named:
        return circuit_named, "sample.yaml circuit"
    if auto_circuit:
        return None, "automatic selection (eis.auto_circuit)"
    if has_geometry:
        return film_circuit, "eis.film_circuit (sample has a geometry)"
    return catalyst_circuit, "eis.catalyst_circuit"


def resolution_score(freq_Hz, Z) -> float:
    """How well a spectrum resolves its main arc: 0 when the apex of −Z'' sits at the
    log-centre of the measured range, growing towards 1 as it moves to an end."""
    freq_Hz = np.asarray(freq_Hz, float)
    Z = np.asarray(Z, complex)
    logf = np.log10(freq_Hz)
    apex = logf[int(np.argmax(-Z.imag))]
    half_span = max((logf.max() - logf.min()) / 2, 1e-9)
    return float(abs(apex - (logf.max() + logf.min()) / 2) / half_span)


def choose_for_series(spectra: Sequence[Any], **select_kwargs) -> dict[str, Any] | None:
    """One circuit for a temperature series (spectra at two or more temperatures), chosen by
    :func:`select_circuit` on the best-resolved spectrum (:func:`resolution_score`); None
    when the spectra are not a temperature series.

    ``spectra``: objects with ``label``, ``freq_Hz``, ``Z`` and ``temperature_C`` (None when
    unknown). Returns ``{"circuit", "selection", "source", "label", "temperature_C"}``.
    """
    temps = {s.temperature_C for s in spectra if s.temperature_C is not None}
    if len(temps) < 2:
        return None
    best = min(spectra, key=lambda s: resolution_score(s.freq_Hz, s.Z))
    fit, _ = select_circuit(best.freq_Hz, best.Z, **select_kwargs)
    return {"circuit": fit.circuit, "selection": {**fit.audit["selection"], "chosen_on": best.label},
            "source": f"automatic selection on the best-resolved spectrum of the temperature series ({best.label})",
            "label": best.label, "temperature_C": best.temperature_C}


def choose_and_fit(freq_Hz, Z, label: str, circuit: str | None, circuit_source: str,
                   series_choice: dict[str, Any] | None = None, *, trim_inductive: bool = True,
                   trim_lf_drift: bool = False, proposals: bool = True, drt=None,
                   **kwargs) -> tuple[EISFit, str, dict | None]:
    """Fit one spectrum with its circuit: ``circuit`` (from :func:`default_circuit`), else the
    series' choice (:func:`choose_for_series`), else one chosen for this spectrum alone.

    ``kwargs``: ``weighting``, ``kk_threshold_pct`` (for :func:`fit_spectrum` and
    :func:`select_circuit` alike); ``proposals``, ``drt``: the DRT's circuits in the choice
    (:func:`select_circuit`). Returns ``(fit, circuit_source, selection)``;
    ``selection`` holds the candidates' scores when the circuit was chosen automatically.
    """
    selection = None
    if circuit is None and series_choice is not None:
        circuit, circuit_source = series_choice["circuit"], series_choice["source"]
        selection = series_choice["selection"]
    if circuit is None:
        fit, scores = select_circuit(freq_Hz, Z, proposals=proposals, drt=drt, **kwargs)
        from_drt = sum(1 for s in scores if s.get("from_drt"))
        circuit_source = (f"automatic selection among {len(scores)} candidates (BIC"
                          + (f"; {from_drt} proposed by the DRT)" if from_drt else ")"))
        selection = {**fit.audit["selection"], "chosen_on": label}
    else:
        fit = fit_spectrum(freq_Hz, Z, circuit, trim_inductive=trim_inductive, trim_lf_drift=trim_lf_drift,
                           **kwargs)
    return fit, circuit_source, selection


def median_residual_pct(fit) -> float:
    """Median of |Z − Z_fit| / |Z| over the fitted points, in %."""
    return float(np.median(np.abs(fit.Z - fit.Z_fit) / np.abs(fit.Z)) * 100)


def fit_problem(fit, max_median_residual_pct: float = MAX_MEDIAN_RESIDUAL_PCT) -> str | None:
    """Why a fit must not be reported (it does not describe the spectrum), or None."""
    limit = float(max_median_residual_pct)
    med = median_residual_pct(fit)
    if med <= limit:
        return None
    kk = fit.kk.get("systematic_max_pct", fit.kk.get("max_pct"))
    cause = (f"the Kramers-Kronig check fails too (residuals up to {kk:.3g} %), so the spectrum itself is "
             "distorted: drift, noise or a non-stationary cell; re-measure or trim it"
             if not fit.kk_ok else
             "the data pass Kramers-Kronig, so the circuit is missing an element: name a fuller circuit "
             "(a second arc, a Warburg or an inductor) as circuit in sample.yaml")
    return (f"the best fit ({fit.circuit}) misses the data by {med:.3g} % (median |Z - Z_fit|/|Z|, limit "
            f"{limit:g} %): {cause}; its parameters are not reported")


def series_resistance(fit: EISFit | None, freq_Hz, Z):
    """Ru from this spectrum (:mod:`echem.series_resistance`): the fit's series resistor when
    determined, else the high-frequency intercept of the measured points ``freq_Hz``/``Z``,
    else a bound only (``fit`` None: the fit was rejected)."""
    from echem.series_resistance import from_fit

    if fit is None:
        return from_fit(None, None, [], freq_Hz, Z)
    return fit.series_resistance(freq_Hz, Z)
