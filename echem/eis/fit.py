"""Fitting one circuit to one spectrum: :func:`fit_spectrum` and its result :class:`EISFit`.

The spectrum is cleaned (:mod:`echem.eis.spectrum`), Lin-KK tested
(:mod:`echem.eis.validation`: its chi2 is the noise floor of the search), and fitted
from data-derived starts (:mod:`echem.eis.guess`) by the multi-start search of
:mod:`echem.eis.search`; the result carries its parameters with standard errors,
residuals, flags and an audit record (module docstring of :mod:`echem.eis`).
"""

from __future__ import annotations

import functools
import math
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from echem.eis.circuit import circuit_model, simulate
from echem.eis.reduce import CPE_N_AT_BOUND, CPE_N_RESISTIVE, arc_time_constants, degeneracies
from echem.eis.search import WEIGHTINGS, Search, param_stderr, search_for
from echem.eis.spectrum import prepare, refuse_all_inductive, trim_inductive_tail
from echem.eis.validation import KK_THRESHOLD_PCT, kk_summary, lin_kk
from echem.errors import AnalysisError
from echem.flags import Flag
from echem.results import Result, Value, axis

#: Default circuit for catalyst electrodes in liquid electrolyte: solution resistance
#: in series with a charge-transfer resistance parallel to a double-layer CPE.
CATALYST_CIRCUIT = "R0-p(R1,CPE1)"
#: Default circuit for solid-electrolyte films between blocking electrodes: bulk
#: resistance parallel to the geometric CPE, in series with the electrode CPE.
FILM_CIRCUIT = "p(R1,CPE1)-CPE2"

#: Fits with a CPE/Zarc/TLMQ exponent below this get a warning in the audit (the lower
#: bound, :data:`echem.eis.elements.EXPONENT_MIN`, is 0 as in impedance.py).
EXPONENT_SUSPICIOUS = 0.5


def note_caveat(notes: list[str], message: str) -> None:
    """A caveat of a fit: kept for its audit and warned about now."""
    notes.append(message)
    warnings.warn(message, stacklevel=3)


@functools.lru_cache(maxsize=1)
def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in ("echem", "impedance", "scipy", "numpy"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "not installed"
    return out


@dataclass(repr=False)
class EISFit(Result):
    """Result of :func:`fit_spectrum`.

    ``params`` is a list of ``{"param", "value", "stderr", "unit"}`` in impedance.py
    order; ``freq_Hz``/``Z`` are the points actually fitted (sorted, trimmed);
    ``Z_fit`` the model there; ``residuals_rel_re/im`` = (Z − Ẑ)/|Z| per component.
    Prints the circuit and its parameters rounded to their errors (not arrays);
    :meth:`report`, :meth:`plot`, :meth:`to_dict` as every result (:mod:`echem.results`);
    ``CustomCircuit(fit.circuit, initial_guess=fit.values)`` is the same model in impedance.py.
    """

    circuit: str
    params: list[dict]
    chi2: float
    kk_ok: bool
    kk: dict
    freq_Hz: np.ndarray
    Z: np.ndarray
    Z_fit: np.ndarray
    residuals_rel_re: np.ndarray
    residuals_rel_im: np.ndarray
    trimmed: list[dict]
    audit: dict
    warnings: list[str] = field(default_factory=list)
    Z_kk: np.ndarray | None = None
    #: doubts about the whole fit (kk_failed, no_sane_circuit), :class:`echem.flags.Flag`
    flags: list = field(default_factory=list)
    #: doubts about single parameters: name -> [Flag] (param_at_bound, cpe_n_at_bound, stderr_large)
    param_flags: dict = field(default_factory=dict)
    #: the spectrum's distribution of relaxation times (:class:`echem.eis.drt.DRTResult`) when
    #: :func:`echem.eis.select_circuit` computed one for its proposals, else None
    drt: Any = None

    title = "equivalent-circuit fit"

    def quantities(self) -> list[Value]:
        from echem.report.numbers import display_unit

        return [Value(p["param"], p["value"], p.get("stderr"), display_unit(p.get("unit", ""))) for p in self.params]

    def __repr__(self) -> str:
        shown = ", ".join(f"{q.name} = {q.text()}" for q in self.quantities())
        codes = self.flag_codes()
        return (f"<EISFit {self.circuit}: {shown}; chi2 = {self.chi2:.3g}, kk_ok = {self.kk_ok}"
                f"{'; flags: ' + ', '.join(codes) if codes else ''}>")

    def method(self) -> str:
        a = self.audit
        sel = a.get("selection")
        how = (f"chosen by {sel['criterion']} among {len(sel['scores'])} candidates" if isinstance(sel, dict)
               else "the circuit given")
        return (f"{self.circuit}, {how}; {a.get('weighting', '')} weighting, {a.get('n_points')} points "
                f"{a.get('freq_range_Hz')} Hz; chi2 = {self.chi2:.3g}, Lin-KK "
                f"{'passed' if self.kk_ok else 'failed'}")

    def flag_codes(self) -> list[str]:
        codes = [f.code for f in self.flags]
        for flags in self.param_flags.values():
            codes += [f.code for f in flags if f.code not in codes]
        return codes

    def report(self) -> str:
        """The circuit's parameters with errors and units, how it was fitted, and every flag
        (the fit's and each parameter's) with its reason."""
        qs = self.quantities()
        width = max((len(q.name) for q in qs), default=0)
        lines = [f"[[{self.title}]] {self.circuit}", *(f"    {q.name:<{width}} = {q.text()}" for q in qs),
                 "[[method]]", f"    {self.method()}", "[[flags]]"]
        flags = [f"    {f.code}: {f.message}" for f in self.flags]
        flags += [f"    {name}: {f.code}: {f.message}" for name, fl in self.param_flags.items() for f in fl]
        return "\n".join(lines + (flags or ["    none"]))

    def to_dict(self) -> dict[str, Any]:
        d = super().to_dict()
        d["circuit"] = self.circuit
        d["chi2"], d["kk_ok"] = self.chi2, self.kk_ok
        d["param_flags"] = {k: [f.to_dict() for f in v] for k, v in self.param_flags.items()}
        return d

    def plot(self, ax=None, label: str | None = None):
        """Nyquist plot of the data with the fit (:func:`echem.plots.eis.plot_nyquist`);
        :func:`echem.plots.eis.eis_figure` draws Nyquist, residuals and Bode together."""
        from echem.plots.eis import plot_nyquist

        return plot_nyquist(axis(ax), self, label)

    def flags_of(self, name: str) -> list:
        """Every flag of one parameter's row in eis.csv: the fit's and the parameter's own."""
        return [*self.flags, *self.param_flags.get(name, [])]

    def value(self, name: str) -> float:
        for p in self.params:
            if p["param"] == name:
                return p["value"]
        raise KeyError(f"{name} is not a parameter of {self.circuit}")

    def stderr(self, name: str) -> float:
        for p in self.params:
            if p["param"] == name:
                return p["stderr"]
        raise KeyError(f"{name} is not a parameter of {self.circuit}")

    @property
    def values(self) -> list[float]:
        return [p["value"] for p in self.params]

    def series_resistance(self, freq_Hz=None, Z=None):
        """Ru for iR correction (:func:`echem.series_resistance.from_fit`): the fitted series
        resistor when the data determine it, else the high-frequency intercept of
        ``freq_Hz``/``Z`` (default: the fitted points), else only a bound."""
        from echem.series_resistance import from_fit

        return from_fit(self.params, circuit_model(self.circuit).series_resistor(),
                        self.audit["result"]["at_bound"],
                        self.freq_Hz if freq_Hz is None else freq_Hz, self.Z if Z is None else Z)

    @property
    def Rs_ohm(self) -> float:
        """Series resistance for iR correction (Ohm); NaN when the spectrum only bounds it
        (see :meth:`series_resistance`)."""
        rs = self.series_resistance()
        return float(rs.value_ohm) if rs.known else math.nan

    @property
    def Rs_source(self) -> str:
        return self.series_resistance().source

    def predict(self, freq_Hz: np.ndarray) -> np.ndarray:
        return simulate(self.circuit, self.values, freq_Hz)

    def rows(self) -> list[dict]:
        """Long-form rows for eis.csv (without sample/file): circuit, param, value, stderr, unit, chi2,
        kk_ok, flags (a list of :class:`echem.flags.Flag`)."""
        return [
            {
                "circuit": self.circuit,
                "param": p["param"],
                "value": p["value"],
                "stderr": p["stderr"],
                "unit": p["unit"],
                "chi2": self.chi2,
                "kk_ok": self.kk_ok,
                "flags": self.flags_of(p["param"]),
            }
            for p in self.params
        ]


def fit_spectrum(
    freq_Hz: np.ndarray,
    Z: np.ndarray,
    circuit: str = CATALYST_CIRCUIT,
    *,
    weighting: str = "modulus",
    kk_threshold_pct: float | None = None,
    trim_inductive: bool = True,
    trim_lf_drift: bool = False,
    n_starts: int = 6,
    bounds: tuple[Sequence[float], Sequence[float]] | None = None,
    initial_guess: Sequence[float] | None = None,
    max_nfev: int = 200,
) -> EISFit:
    """Fit an equivalent circuit to one impedance spectrum.

    Parameters
    ----------
    freq_Hz, Z:
        Frequencies (Hz) and complex impedance (Ohm, physical sign: Z'' < 0 on a
        capacitive arc), any order.
    circuit:
        impedance.py circuit string; defaults: :data:`CATALYST_CIRCUIT`, :data:`FILM_CIRCUIT`.
    weighting:
        ``"modulus"`` (default), ``"proportional"`` or ``"unit"`` (module docstring).
    kk_threshold_pct:
        Lin-KK acceptance threshold, % of |Z|, on the residual averaged over 7
        consecutive frequencies (default :data:`echem.eis.validation.KK_THRESHOLD_PCT`
        = 1 %). Failing it sets ``kk_ok=False`` and warns; the fit is still made.
    trim_inductive:
        Drop the run of Z'' > 0 points at the high-frequency end (cable inductance)
        unless the circuit has an inductor (L, La). Recorded in ``trimmed``.
    trim_lf_drift:
        When the KK check fails, drop the run of lowest-frequency points whose
        systematic Lin-KK residual exceeds the threshold (drift during the slow end
        of the sweep), and test again. Recorded.
    n_starts:
        At most this many starting points from
        :func:`echem.eis.guess.guess_candidates`, lowest starting cost first (a
        user ``initial_guess`` before them). The search stops once chi2 is within 1.5× the Lin-KK noise
        floor (the chi2 of the KK-compliant fit: no circuit can do much better), or
        after :data:`PATIENCE` starts in a row that do not improve it by 0.1 %.
    bounds:
        ``(lower, upper)`` in physical units, impedance.py order; default
        :func:`default_bounds`. Lower bounds of positive parameters are raised to 1e-300.
    initial_guess:
        Starting values (impedance.py order); default: from the data.
    max_nfev:
        Model evaluations per start (least_squares). Fits converge in 10–60; only
        a parameter creeping towards 0 (e.g. R0 of a spectrum without series
        resistance) uses them all, at a chi2 within 1e-5 of its limit.

    Raises
    ------
    AnalysisError
        Fewer points than parameters + 1, an unknown circuit element, or no start
        produced a finite fit.
    """
    t_start = time.perf_counter()
    threshold = KK_THRESHOLD_PCT if kk_threshold_pct is None else float(kk_threshold_pct)
    model = circuit_model(circuit)
    if weighting not in WEIGHTINGS:
        raise AnalysisError(f"weighting {weighting!r} is unknown; use one of {', '.join(WEIGHTINGS)}")
    f, Zd, trimmed = prepare(freq_Hz, Z)
    notes: list[str] = []
    if not model.has_inductor():
        refuse_all_inductive(Zd, f"{model.circuit} cannot describe it")
    if trim_inductive and not model.has_inductor():
        f_t, Z_t, rec = trim_inductive_tail(f, Zd)
        if rec and f_t.size >= model.n_params + 2:
            f, Zd = f_t, Z_t
            trimmed.append(rec)
        elif rec:
            note_caveat(notes,
                  f"{rec['n']} of {f.size} points are inductive (Z'' > 0) from the high-frequency end; "
                  f"too many to trim for {model.circuit}: kept. Use a circuit with an inductor "
                  "(e.g. 'L0-R0-p(R1,CPE1)') or check the cell connections")
    if f.size < model.n_params + 2:
        raise AnalysisError(
            f"only {f.size} usable points for the {model.n_params} parameters of {model.circuit}; "
            "measure more frequencies or use a simpler circuit"
        )
    kk_res = lin_kk(f, Zd)
    kk = kk_summary(kk_res, threshold)
    if trim_lf_drift and not kk["ok"]:
        # drop low-frequency points while their systematic KK residual exceeds the threshold
        sys_pct = kk_res.systematic() * 100
        n = 0
        while n < f.size - model.n_params - 2 and sys_pct[n] > threshold:
            n += 1
        if n:
            trimmed.append(
                {
                    "reason": f"low-frequency drift: systematic Lin-KK residual > {threshold} %",
                    "freq_Hz": f[:n].tolist(),
                    "n": int(n),
                }
            )
            f, Zd = f[n:], Zd[n:]
            kk_res = lin_kk(f, Zd)
            kk = kk_summary(kk_res, threshold)
    kk_ok = kk["ok"]
    if not kk_ok:
        note_caveat(notes,
              f"Lin-KK: systematic residual up to {kk['systematic_max_pct']:.2f} % of |Z| "
              f"(threshold {threshold} %): the spectrum is not Kramers-Kronig consistent "
              "(drift, non-linearity or an instrument artefact); check the low-frequency end "
              "(trim_lf_drift=True) or re-measure")

    return _fit_core(
        model, f, Zd, trimmed, kk_res, kk, notes,
        weighting=weighting, n_starts=n_starts, bounds=bounds, initial_guess=initial_guess,
        max_nfev=max_nfev, t_start=t_start,
    )


def _fit_core(model, f, Zd, trimmed, kk_res, kk, notes, *, weighting, n_starts, bounds, initial_guess, max_nfev, t_start):
    """Multi-start fit of prepared data (sorted, trimmed, KK-tested): the body of fit_spectrum."""
    search = search_for(
        model, f, Zd, kk_res, weighting=weighting, n_starts=n_starts, bounds=bounds,
        initial_guess=initial_guess, max_nfev=max_nfev,
    ).run(n_starts)
    return fit_result(search, trimmed, kk_res, kk, notes, weighting=weighting, n_starts=n_starts, t_start=t_start)


def _fit_flags(model, p, se, at_bound, kk, freq_Hz):
    """Flags of a fit (:mod:`echem.flags`): Lin-KK failure for the whole spectrum; per
    parameter a bound, a degenerate CPE exponent, a standard error above the value, an arc
    whose apex lies outside the fitted frequencies ``freq_Hz``."""
    fit_flags = []
    if not kk["ok"]:
        worst = kk.get("systematic_max_pct", kk.get("max_pct"))
        fit_flags.append(Flag("kk_failed", f"Lin-KK residuals reach {worst:.3g} % of |Z| (limit "
                                           f"{kk.get('threshold_pct')} %): the spectrum is not Kramers-Kronig "
                                           "consistent (drift, noise or a non-stationary cell)"))
    param_flags: dict[str, list] = {}
    for name, value, err, kind, el in zip(model.names, p, se, model.kinds, model.element_of):
        mine = []
        if kind == "exp" and el == "CPE" and (value >= CPE_N_AT_BOUND or value <= CPE_N_RESISTIVE):
            what = "a capacitor" if value >= CPE_N_AT_BOUND else "a resistor"
            mine.append(Flag("cpe_n_at_bound", f"{name} = {value:.3f}: the CPE acts as {what}"))
        elif name in at_bound:
            mine.append(Flag("param_at_bound", f"{name} = {value:.4g} sits at a bound of the fit"))
        if not (np.isfinite(err) and err <= abs(value)):
            mine.append(Flag("stderr_large", f"{name} = {value:.4g} ± {err:.2g}: not determined by the data"))
        if mine:
            param_flags[name] = mine
    f_lo, f_hi = float(np.min(freq_Hz)), float(np.max(freq_Hz))
    for r_name, c_name, tau in arc_time_constants(model, p):
        f_apex = 1.0 / (2 * math.pi * tau) if tau > 0 and math.isfinite(tau) else math.nan
        if math.isfinite(f_apex) and not f_lo <= f_apex <= f_hi:
            flag = Flag("arc_outside_range", f"the arc of {r_name} peaks at {f_apex:.3g} Hz, outside the measured "
                                             f"{f_lo:.3g}-{f_hi:.3g} Hz: {r_name} and {c_name} are an extrapolation")
            names = [r_name] + [n for n in model.names if n == c_name or n.startswith(c_name + "_")]
            series = model.series_resistor()
            if f_apex > f_hi and series is not None:
                names.append(series)  # where an arc lies above f_max, the series resistance is extrapolated too
            for name in names:
                param_flags.setdefault(name, []).append(flag)
    return fit_flags, param_flags


def fit_result(search: Search, trimmed, kk_res, kk, notes, *, weighting, n_starts, t_start) -> EISFit:
    """The EISFit (parameters, errors, residuals, audit) of a search's best start."""
    problem = search.problem
    model, f, Zd = problem.model, problem.f, problem.Z
    lo, hi, bounds_source = problem.bounds
    notes = list(notes)
    trimmed = list(trimmed)
    kk_ok = kk["ok"]
    if search.best is None:
        raise AnalysisError(
            f"the fit of {model.circuit} failed from every starting point ({search.starts}); "
            "check the data, or pass initial_guess/bounds"
        )
    chi2, res, p0, how = search.best
    p = problem.to_p(res.x)
    se = param_stderr(problem, res)
    Zfit = model.impedance(p, f)
    rel = (Zd - Zfit) / np.abs(Zd)
    at_bound = search.at_bound()
    if at_bound:
        notes.append(f"parameters at a bound: {', '.join(at_bound)}; the circuit may not suit the data")
    low_n = [
        f"{n} = {v:.2f}"
        for n, v, k, el in zip(model.names, p, model.kinds, model.element_of)
        if k == "exp" and el != "La" and v < EXPONENT_SUSPICIOUS
    ]
    if low_n:
        notes.append(
            f"exponent below {EXPONENT_SUSPICIOUS}: {', '.join(low_n)}; such a CPE acts more like a "
            "resistor than a capacitor: the circuit probably does not describe the data"
        )
    params = [
        {"param": n, "value": float(v), "stderr": float(s), "unit": u}
        for n, v, s, u in zip(model.names, p, se, model.units)
    ]
    fit_flags, param_flags = _fit_flags(model, p, se, at_bound, kk, f)
    for d in degeneracies(model, p, f):
        notes.append(f"degenerate element: {d.reason}")
    audit = {
        "circuit": model.circuit,
        "n_points": int(f.size),
        "freq_range_Hz": [float(f.min()), float(f.max())],
        "initial_guess": {
            "values": dict(zip(model.names, map(float, p0))),
            "derivation": how,
        },
        "bounds": {"lower": dict(zip(model.names, lo)), "upper": dict(zip(model.names, hi)), "source": bounds_source},
        "weighting": weighting,
        "fit_space": "log(p) for positive parameters, p for exponents; scipy least_squares trf",
        "n_starts": int(n_starts),
        "starts": search.starts,
        "result": {
            "params": params,
            "nfev": int(res.nfev),
            "status": int(res.status),
            "message": str(res.message),
            "at_bound": at_bound,
        },
        "chi2": chi2,
        "chi2_definition": "sum(((Z-Zfit)/|Z|)^2, real and imaginary parts)/(2N - p)",
        "noise_floor_chi2_kk": kk_res.chi2,
        "kk": kk,
        "trimmed": trimmed,
        "Rs": None,
        "residuals": {
            "rms_pct": float(100 * np.sqrt(np.mean(np.concatenate([rel.real, rel.imag]) ** 2))),
            "max_pct": float(100 * np.max(np.abs(np.concatenate([rel.real, rel.imag])))),
        },
        "warnings": notes,
        "versions": dict(_versions()),
        "elapsed_s": None,
    }
    fit = EISFit(
        circuit=model.circuit,
        params=params,
        chi2=chi2,
        kk_ok=bool(kk_ok),
        kk=kk,
        freq_Hz=f,
        Z=Zd,
        Z_fit=Zfit,
        residuals_rel_re=rel.real,
        residuals_rel_im=rel.imag,
        trimmed=trimmed,
        audit=audit,
        warnings=notes,
        Z_kk=kk_res.Z_fit,
        flags=fit_flags,
        param_flags=param_flags,
    )
    audit["flags"] = {"fit": [f.to_dict() for f in fit_flags],
                      "params": {k: [f.to_dict() for f in v] for k, v in param_flags.items()}}
    audit["Rs"] = fit.series_resistance().to_dict()
    audit["elapsed_s"] = round(time.perf_counter() - t_start, 4)
    return fit
