"""Impedance spectra: equivalent-circuit fits with a Kramers-Kronig check, and the
circuit chosen from the data.

Circuits are written in impedance.py's syntax (``R0-p(R1,CPE1)``: ``-`` in series,
``p(a,b)`` in parallel) and parameters carry impedance.py's names and units
(``R0`` Ohm, ``CPE1_0`` Ohm^-1 sec^a, ``CPE1_1`` dimensionless). Results therefore
read like impedance.py's, and ``impedance.models.circuits.CustomCircuit`` with the
same circuit and parameters predicts the same impedance (tested).

What is different from a plain ``CustomCircuit.fit``, and why:

* The circuit is compiled once into vectorised numpy code with an analytic
  Jacobian (impedance.py ``eval``s a generated string at every call), and
  impedance.py itself is not imported on this path (it pulls in matplotlib and
  altair, seconds per process). Elements are the ones of impedance.py 1.7.1;
  any other element registered with impedance.py is evaluated through impedance.py
  with a finite-difference Jacobian.
* The fit runs in log-parameter space (every parameter except exponents is
  positive and spans decades), with scipy's trust-region least squares.
* The starting point comes from the data (:mod:`echem.eis.guess`), not from the
  user, and several starts are tried when the first does not reach the noise floor
  that the Lin-KK test reveals (a fit much worse than a KK-compliant fit is a local
  minimum or the wrong circuit).

Weighting (residual r_i for data Z_i, model Ẑ_i, both components stacked):

* ``"modulus"`` (default): r = (Ẑ − Z)/|Z| — every point counts as a relative error,
  the usual choice when the instrument's error is proportional to |Z|.
* ``"proportional"``: r' = (Ẑ' − Z')/|Z'|, r'' = (Ẑ'' − Z'')/|Z''|, each divisor floored
  at 1e-3 |Z| so that points where a component crosses zero do not dominate.
* ``"unit"``: r = Ẑ − Z in Ohm (large impedances dominate).

Goodness of fit, the same for every weighting so that fits can be compared:

    chi2 = Σ_i [((Z'_i − Ẑ'_i)/|Z_i|)² + ((Z''_i − Ẑ''_i)/|Z_i|)²] / (2N − p)

with N points and p free parameters; for 0.5 % proportional noise chi2 ≈ 2.5e-5.
Standard errors are sqrt(diag(s² (JᵀJ)⁻¹)) with s² = Σr²/(2N − p) of the weighted
residuals, J the Jacobian in fit space, mapped to physical units by the delta
method (σ_p = p σ_log p).

The package, one module per job (each imports only the ones above it):

* :mod:`~echem.eis.elements`: element impedances and derivatives, :class:`Omega`;
* :mod:`~echem.eis.circuit`: circuit strings parsed and compiled (:class:`CircuitModel`);
* :mod:`~echem.eis.spectrum`: cleaning, the inductive tail, the high-frequency intercept;
* :mod:`~echem.eis.validation`: Lin-KK; :mod:`~echem.eis.guess`: starting values;
  :mod:`~echem.eis.reduce`: degenerate fits and the circuits they reduce to;
* :mod:`~echem.eis.search`: the fit problem and its multi-start search;
* :mod:`~echem.eis.fit`: :func:`fit_spectrum` and :class:`EISFit`;
* :mod:`~echem.eis.drt`: the distribution of relaxation times (:func:`fit_drt`) and its peaks;
* :mod:`~echem.eis.propose`: circuits the DRT suggests (:func:`propose_circuits`);
* :mod:`~echem.eis.select`: :func:`select_circuit` (BIC among candidates and the DRT's proposals);
* :mod:`~echem.eis.decide`: the decisions the workflow takes for a spectrum (which
  circuit, when a fit is rejected, which Ru), so that the library and the workflow
  give the same answer.
"""

from __future__ import annotations

from echem.eis.circuit import CircuitModel, circuit_model, element_kind, param_names, parse_circuit, simulate
from echem.eis.decide import (
    MAX_MEDIAN_RESIDUAL_PCT,
    choose_and_fit,
    choose_for_series,
    default_circuit,
    fit_problem,
    median_residual_pct,
    resolution_score,
    series_resistance,
)
from echem.eis.drt import DRTPeak, DRTResult, fit_drt
from echem.eis.elements import ELEMENTS, EXPONENT_MIN, Omega
from echem.eis.fit import CATALYST_CIRCUIT, EXPONENT_SUSPICIOUS, FILM_CIRCUIT, EISFit, fit_spectrum
from echem.eis.propose import Proposal, propose_circuits
from echem.eis.search import PATIENCE, WEIGHTINGS, chi2_modulus, default_bounds
from echem.eis.select import (
    DEFAULT_CANDIDATES,
    HF_INTERCEPT_MIN_FRACTION,
    MAX_REDUCTIONS,
    POLISH_MARGIN,
    SELECTION_BUDGET_NFEV,
    SELECTION_CRITERIA,
    SELECTION_STALL,
    select_circuit,
)
from echem.eis.spectrum import hf_intercept_ohm, hf_intercept_reached
from echem.errors import AnalysisError

__all__ = [
    "AnalysisError", "CATALYST_CIRCUIT", "CircuitModel", "DEFAULT_CANDIDATES", "DRTPeak", "DRTResult", "EISFit",
    "ELEMENTS", "Proposal", "fit_drt", "propose_circuits",
    "EXPONENT_MIN", "EXPONENT_SUSPICIOUS", "FILM_CIRCUIT", "HF_INTERCEPT_MIN_FRACTION", "MAX_MEDIAN_RESIDUAL_PCT",
    "MAX_REDUCTIONS",
    "Omega", "PATIENCE", "POLISH_MARGIN", "SELECTION_BUDGET_NFEV", "SELECTION_CRITERIA", "SELECTION_STALL",
    "WEIGHTINGS", "chi2_modulus", "choose_and_fit", "choose_for_series", "circuit_model", "default_bounds",
    "default_circuit", "element_kind", "fit_problem", "fit_spectrum", "hf_intercept_ohm", "hf_intercept_reached",
    "median_residual_pct", "param_names", "parse_circuit", "resolution_score", "select_circuit", "series_resistance",
    "simulate",
]
