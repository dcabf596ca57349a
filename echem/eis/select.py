"""Choosing the circuit: every candidate fitted from automatic guesses, the lowest BIC
among the sane fits wins (:func:`select_circuit`).

Degenerate fits (:mod:`echem.eis.reduce`) lose to the simpler circuit they reduce to,
which is fitted too. A stall rule and an evaluation budget keep the whole set fast
(README, Speed).
"""

from __future__ import annotations

import math
import time
from typing import Any, Sequence

import numpy as np

from echem.eis.circuit import circuit_model
from echem.eis.fit import EISFit, fit_result, note_caveat
from echem.eis.guess import spectrum_features
from echem.eis.reduce import reduce
from echem.eis.search import WEIGHTINGS, Problem, Search, param_stderr, search_for
from echem.eis.spectrum import prepare, refuse_all_inductive
from echem.eis.validation import KK_THRESHOLD_PCT, kk_summary, lin_kk
from echem.errors import AnalysisError

#: Candidates of :func:`select_circuit`: one arc; two arcs; one arc with semi-infinite
#: (W) or finite-space (Wo) diffusion in series; a Randles circuit with finite
#: diffusion in the charge-transfer branch; a solid-electrolyte film between
#: blocking electrodes, without and with a series resistance. When the
#: high-frequency end is inductive, every candidate gets an ``L0-`` prefix instead.
DEFAULT_CANDIDATES = (
    "R0-p(R1,CPE1)",
    "R0-p(R1,CPE1)-p(R2,CPE2)",
    "R0-p(R1,CPE1)-W1",
    "R0-p(R1,CPE1)-Wo1",
    "R0-p(R1-Wo1,CPE1)",
    "p(R1,CPE1)-CPE2",
    "R0-p(R1,CPE1)-CPE2",
)

SELECTION_CRITERIA = ("BIC", "AIC")

#: A candidate's start stops once chi2 fell by < 1 % over 20 iterations (:class:`Stall`):
#: over those iterations AIC/BIC (n ln RSS) moved by < 0.01 n. The reported fit is then
#: run to convergence (:meth:`Search.polish`).
SELECTION_STALL = (20, 1e-2)
#: Stalled candidates whose score is within this of the best are run to convergence
#: before the pick (a BIC difference above 10 is "very strong" evidence, Kass & Raftery 1995).
POLISH_MARGIN = 10.0
#: Model evaluations per spectrum for starts after each candidate's first. The
#: corpus and demo spectra need at most 690 in all (one needs more: a near-pure
#: resistor that every candidate over-describes, 3,372 evaluations and 1.3 s without
#: the budget and the stall rule, 851 and 0.35 s with them, same pick). Evaluations,
#: not seconds, so that the pick does not depend on the machine's load.
SELECTION_BUDGET_NFEV = 800

def _sanity_reasons(at_bound: list[str], names: list[str], values, stderrs) -> list[str]:
    reasons = []
    if at_bound:
        reasons.append(f"at a bound: {', '.join(at_bound)}")
    loose = [n for n, v, s in zip(names, values, stderrs) if not (np.isfinite(s) and s <= abs(v))]
    if loose:
        reasons.append(f"stderr larger than the value: {', '.join(loose)}")
    return reasons


def _sanity(fit: EISFit) -> list[str]:
    """Reasons a fit's parameters are not trustworthy (empty list: sane)."""
    return _sanity_reasons(
        fit.audit["result"]["at_bound"],
        [p["param"] for p in fit.params],
        [p["value"] for p in fit.params],
        [p["stderr"] for p in fit.params],
    )


#: A measured high-frequency intercept above this fraction of max|Z| is a series resistance
#: that every candidate must have.
HF_INTERCEPT_MIN_FRACTION = 0.02


def _measured_intercept(problem: Problem) -> float | None:
    """The spectrum's high-frequency intercept when it is measured (at the axis, not
    extrapolated) and clearly above 0 (:data:`HF_INTERCEPT_MIN_FRACTION` of max|Z|); once
    per problem."""
    if not hasattr(problem, "_hf"):
        from echem.series_resistance import hf_intercept

        rs = hf_intercept(problem.f, problem.Z)
        big = rs.known and rs.status == "measured" and \
            rs.value_ohm > HF_INTERCEPT_MIN_FRACTION * float(np.max(np.abs(problem.Z)))
        problem._hf = rs.value_ohm if big else None
    return problem._hf


def _score(entry: dict, search: Search, n: int) -> None:
    """Fill a selection score entry from a search's best fit (module docstring of select_circuit)."""
    problem, model = search.problem, search.problem.model
    entry.update(starts=len(search.starts), nfev=search.nfev)
    if search.polished:
        entry["polished"] = True
    if search.best is None:
        entry.update(
            error=f"the fit of {model.circuit} failed from every starting point ({search.starts})",
            sane=False,
            cpu_s=round(search.cpu_s, 4),
        )
        return
    entry.pop("error", None)  # a later start succeeded
    chi2, res = search.best[0], search.best[1]
    k = model.n_params
    rss = max(chi2 * max(n - k, 1), 1e-300)
    values = problem.to_p(res.x)
    reasons = _sanity_reasons(search.at_bound(), model.names, values, param_stderr(problem, res))
    if model.series_resistor() is None and (hf := _measured_intercept(problem)) is not None:
        reasons.append(f"the spectrum meets the real axis at Z' = {hf:.4g} Ohm at high frequency, but a circuit "
                       "without a series resistor goes to 0 there")
    search.reduction = reduce(model, values, problem.f)
    entry.pop("reduces_to", None)
    if search.reduction is not None:
        reduced, _, found = search.reduction
        entry["reduces_to"] = reduced
        if any(d.disqualifies for d in found):
            reasons.append(f"degenerate ({'; '.join(d.reason for d in found if d.disqualifies)}): "
                           f"reduces to {reduced}")
    entry.update(
        chi2=chi2,
        AIC=float(n * math.log(rss / n) + 2 * k),
        BIC=float(n * math.log(rss / n) + k * math.log(n)),
        sane=not reasons,
        reasons=reasons,
        cpu_s=round(search.cpu_s, 4),
    )


def _more_starts(scores: list[dict], searches: dict[str, Search], n_starts: int, criterion: str, n: int) -> None:
    """Starts after each candidate's first: best-scoring candidate first, while the
    spectrum has used fewer than :data:`SELECTION_BUDGET_NFEV` evaluations."""
    spent = sum(s.nfev for s in searches.values())
    for entry in sorted((e for e in scores if e["circuit"] in searches), key=lambda e: e.get(criterion, math.inf)):
        search = searches[entry["circuit"]]
        while not search.complete(n_starts):
            if spent >= SELECTION_BUDGET_NFEV:
                entry["budget_stopped"] = True
                break
            before = search.nfev
            search.run(search.next + 1)
            spent += search.nfev - before
        _score(entry, search, n)


#: At most this many reduced circuits are added to one spectrum's candidates.
MAX_REDUCTIONS = 4


def _add_reductions(scores, searches, f, Zd, kk_res, features, *, weighting, n_starts, criterion, n) -> None:
    """Fit the simpler circuit each degenerate candidate reduces to (:mod:`echem.eis.reduce`),
    when it is not a candidate already: from the degenerate fit's values (the reduced
    circuit describes the data at least as well there) and the usual data-derived starts.
    A reduced circuit that is degenerate in turn is reduced again."""
    added = 0
    queue = sorted((e for e in scores if e.get("reduces_to")), key=lambda e: e.get(criterion, math.inf))
    while queue and added < MAX_REDUCTIONS:
        entry = queue.pop(0)
        search = searches.get(entry["circuit"])
        if search is None or search.reduction is None:
            continue
        circuit, start, _ = search.reduction
        if circuit in searches or any(e["circuit"] == circuit for e in scores):
            continue
        t0 = time.process_time()
        model = circuit_model(circuit)
        new = {"circuit": circuit, "k": model.n_params, "reduced_from": entry["circuit"]}
        scores.append(new)
        added += 1
        if f.size < model.n_params + 2:
            new.update(error="too few points for this circuit", sane=False)
            continue
        try:
            red = search_for(model, f, Zd, kk_res, weighting=weighting, n_starts=n_starts, bounds=None,
                              initial_guess=start, max_nfev=200, features=features, stall=SELECTION_STALL)
        except AnalysisError as exc:
            new.update(error=str(exc), sane=False)
            continue
        red.candidates[0] = (red.candidates[0][0], {"method": f"reduced from the fit of {entry['circuit']}"})
        red.cpu_s += time.process_time() - t0
        # all its starts, outside the budget: the simpler circuit must not lose for want of a start
        searches[circuit] = red.run(n_starts)
        _score(new, red, n)
        if new.get("reduces_to"):
            queue.append(new)


def select_circuit(
    freq_Hz: np.ndarray,
    Z: np.ndarray,
    candidates: Sequence[str] = DEFAULT_CANDIDATES,
    *,
    criterion: str = "BIC",
    weighting: str = "modulus",
    kk_threshold_pct: float | None = None,
    n_starts: int = 3,
    proposals: bool = True,
    drt=None,
) -> tuple[EISFit, list[dict]]:
    """Fit every candidate circuit from automatic guesses and pick the best.

    With n = 2N residuals (real and imaginary), k parameters and RSS the weighted
    residual sum of squares:

        AIC = n ln(RSS/n) + 2k,    BIC = n ln(RSS/n) + k ln(n)

    (Gaussian likelihood with the variance estimated from the fit). The pick is the
    lowest ``criterion`` (BIC by default: it penalises parameters that the data do
    not need more than AIC) among the *sane* fits: no parameter at a bound and no
    standard error larger than its value. If no fit is sane the lowest score wins
    and the audit says so. Every candidate's score is in ``scores`` and in the
    chosen fit's ``audit["selection"]``.

    When the high-frequency end is inductive (Z'' > 0 at the three highest
    frequencies), each candidate without an inductor is used with an ``L0-``
    prefix, on all points.

    The spectrum is cleaned, Lin-KK tested (its chi2 is the noise floor of every
    candidate's multi-start search) and its features for the guesses
    (:func:`echem.eis.guess.spectrum_features`) are found once. Each candidate's
    search uses the starts and stopping rules of ``fit_spectrum(..., n_starts=n_starts)``
    on these points, with three differences that keep the whole set fast:

    * every candidate first gets its best start; the other starts follow, the
      best-scoring candidate first, while the spectrum has used fewer than
      :data:`SELECTION_BUDGET_NFEV` model evaluations (no corpus spectrum but a
      near-pure resistor reaches it);
    * a start stops once chi2 falls by less than 1 % over 20 iterations
      (:data:`SELECTION_STALL`: the fit crawls along a flat valley);
    * stalled fits scoring within :data:`POLISH_MARGIN` of the best are continued
      to convergence before the pick, and the reported fit always is.

    With ``proposals`` (default), a spectrum that passes Lin-KK also gets the circuits its
    distribution of relaxation times suggests (:func:`echem.eis.propose.propose_circuits`:
    one R‖CPE per DRT peak, a Warburg or blocking CPE for a low-frequency tail, an inductor
    for an inductive end), each started from the DRT's numbers; a proposal that is already a
    candidate gives that candidate one more start. ``drt``: the spectrum's
    :class:`~echem.eis.drt.DRTResult` when already computed (else computed here). The
    returned fit carries it as ``fit.drt`` (None without one), its score entries say
    ``from_drt`` (a DRT-only candidate) or ``drt_start``, and ``audit["selection"]["drt"]``
    records the peaks, λ and the proposals.

    Returns ``(fit, scores)``; ``scores`` is one dict per candidate: circuit, k,
    chi2, AIC, BIC, sane, reasons, starts (tried), nfev (model evaluations),
    cpu_s (CPU seconds of its guesses and fits), or error; ``polished`` and
    ``budget_stopped`` when those happened.
    """
    if criterion not in SELECTION_CRITERIA:
        raise AnalysisError(f"criterion {criterion!r} is unknown; use one of {', '.join(SELECTION_CRITERIA)}")
    if weighting not in WEIGHTINGS:
        raise AnalysisError(f"weighting {weighting!r} is unknown; use one of {', '.join(WEIGHTINGS)}")
    if not candidates:
        raise AnalysisError("no candidate circuits given; pass e.g. echem.eis.DEFAULT_CANDIDATES")
    t_start = time.perf_counter()
    cpu_start = time.process_time()
    threshold = KK_THRESHOLD_PCT if kk_threshold_pct is None else float(kk_threshold_pct)
    f, Zd, trimmed = prepare(freq_Hz, Z)
    refuse_all_inductive(Zd, "no candidate circuit describes it")
    # inductive: the three highest frequencies have Z'' > 0 (one point may be noise)
    inductive = Zd.size >= 3 and bool(np.all(Zd.imag[-3:] > 0))
    circuits = []
    for c in candidates:
        c = c.replace(" ", "")
        if inductive and not circuit_model(c).has_inductor():
            c = "L0-" + c
        if c not in circuits:
            circuits.append(c)
    fixed = set(circuits)
    if f.size < 6:
        raise AnalysisError(f"only {f.size} usable points; circuit selection needs more frequencies")
    kk_res = lin_kk(f, Zd)
    kk = kk_summary(kk_res, threshold)
    notes: list[str] = []
    if not kk["ok"]:
        note_caveat(notes,
              f"Lin-KK: systematic residual up to {kk['systematic_max_pct']:.2f} % of |Z| "
              f"(threshold {threshold} %): the spectrum is not Kramers-Kronig consistent; "
              "the circuit choice may follow an artefact")
    features = spectrum_features(f, Zd)
    drt_audit, drt_starts = _drt_proposals(f, Zd, kk, kk_res, inductive, proposals, drt)
    drt = drt_audit.pop("result", None)
    for c in drt_starts:
        if c not in circuits:
            circuits.append(c)
    cpu_shared = time.process_time() - cpu_start

    n = 2 * f.size
    scores: list[dict] = []
    searches: dict[str, Search] = {}
    for c in circuits:
        t0 = time.process_time()
        model = circuit_model(c)
        entry: dict[str, Any] = {"circuit": c, "k": model.n_params}
        only_drt = c in drt_starts and c not in fixed
        if only_drt:
            entry["from_drt"] = True
        scores.append(entry)
        if f.size < model.n_params + 2:
            entry.update(error="too few points for this circuit", sane=False)
            continue
        try:
            search = search_for(
                model, f, Zd, kk_res, weighting=weighting, n_starts=n_starts, bounds=None,
                initial_guess=drt_starts[c][0] if only_drt else None, max_nfev=200, features=features,
                stall=SELECTION_STALL,
            )
        except AnalysisError as exc:
            entry.update(error=str(exc), sane=False)
            continue
        if c in drt_starts:
            _drt_start(search, drt_starts[c], only_drt, entry)
        search.cpu_s += time.process_time() - t0
        searches[c] = search.run(1)
        _score(entry, search, n)
    _more_starts(scores, searches, n_starts, criterion, n)
    _add_reductions(scores, searches, f, Zd, kk_res, features, weighting=weighting, n_starts=n_starts,
                    criterion=criterion, n=n)
    scored = [s for s in scores if criterion in s]
    if not scored:
        raise AnalysisError(f"no candidate circuit could be fitted ({scores}); check the data")
    # a stalled fit scores a little worse than it would converged: polish the contenders
    top = min(s[criterion] for s in scored)
    for s in scored:
        if s[criterion] <= top + POLISH_MARGIN and searches[s["circuit"]].stalled:
            _score(s, searches[s["circuit"]].polish(), n)
    while True:  # the pick, its search run to convergence (which can only improve its score)
        sane = [s for s in scored if s["sane"]]
        chosen = min(sane or scored, key=lambda s: s[criterion])
        if not searches[chosen["circuit"]].stalled:
            break
        _score(chosen, searches[chosen["circuit"]].polish(), n)

    best = fit_result(
        searches[chosen["circuit"]], trimmed, kk_res, kk, notes, weighting=weighting, n_starts=n_starts,
        t_start=t_start,
    )
    if not sane:
        from echem.flags import Flag

        message = ("no candidate circuit gave sane parameters (each has a parameter at a bound, a "
                   "degenerate element or a stderr > value); the lowest score was taken: consider "
                   "another circuit")
        best.warnings.append(message)
        best.flags.append(Flag("no_sane_circuit", message))
    best.audit["selection"] = {
        "criterion": criterion,
        "definition": "AIC = n ln(RSS/n) + 2k, BIC = n ln(RSS/n) + k ln(n); n = 2N weighted residuals",
        "sanity": "no parameter at a bound, no stderr larger than its value, no degenerate element "
                  "(echem.eis.reduce: a CPE with n >= 0.999 or <= 0.2, two arcs with time constants "
                  "within a factor 1.5); the circuit a degenerate fit (or a CPE with n >= 0.99) "
                  "reduces to is fitted too",
        "chosen": chosen["circuit"],
        "chosen_from": "sane fits" if sane else "all fits (none sane)",
        "inductive_hf_end": bool(inductive),
        "drt": drt_audit,
        "scores": scores,
        "search": {
            "stall": f"a candidate's start stops once chi2 falls < {SELECTION_STALL[1]:.0%} over "
                     f"{SELECTION_STALL[0]} iterations; stalled fits within {POLISH_MARGIN:g} of the best "
                     f"{criterion} are run to convergence ('polished') before the pick",
            "budget_nfev": SELECTION_BUDGET_NFEV,
            "nfev": int(sum(s.nfev for s in searches.values())),
            "budget_stopped": [s["circuit"] for s in scores if s.get("budget_stopped")],
        },
        "cpu_s_shared": round(cpu_shared, 4),
        "cpu_s": round(time.process_time() - cpu_start, 4),
        "elapsed_s": round(time.perf_counter() - t_start, 4),
    }
    best.audit["warnings"] = best.warnings
    best.drt = drt
    return best, scores


def _drt_proposals(f, Zd, kk, kk_res, inductive: bool, proposals: bool, drt):
    """(audit, {circuit: (start, why)}) of the DRT's proposals for this spectrum (none when
    switched off, or when the spectrum fails Lin-KK: its DRT would describe an artefact).
    The audit holds the DRT itself under ``"result"`` (taken out by the caller)."""
    if not proposals:
        return {"used": False, "why": "proposals switched off"}, {}
    if not kk["ok"]:
        return {"used": False, "why": "the spectrum fails Lin-KK: no DRT"}, {}
    from echem.eis.drt import fit_drt
    from echem.eis.propose import propose_circuits

    try:
        if drt is None:
            drt = fit_drt(f, Zd, noise_chi2=kk_res.chi2)
        props = propose_circuits(drt)
    except (AnalysisError, ValueError, np.linalg.LinAlgError) as exc:
        return {"used": False, "why": f"DRT failed: {exc}"}, {}
    starts: dict[str, tuple[list[float], str]] = {}
    listed = []
    for prop in props:
        c, start = prop.circuit, list(prop.start)
        if inductive and not circuit_model(c).has_inductor():
            c = "L0-" + c
            top = np.argmax(f)
            start = [max(float(Zd.imag[top]) / (2 * np.pi * float(f[top])), 1e-300)] + start
        if c not in starts:
            starts[c] = (start, prop.why)
            listed.append({"circuit": c, "why": prop.why, "start": start})
    audit = {"used": True, "lambda": drt.lam, "peaks": [p.to_dict() for p in drt.peaks],
             "lf_tail": drt.audit.get("lf_tail"), "proposals": listed, "cpu_s": drt.audit.get("elapsed_s"),
             "result": drt}
    return audit, starts


def _drt_start(search: Search, start_why, only_drt: bool, entry: dict) -> None:
    """Give a search the DRT's start: first for a DRT-only candidate (it came as the user
    guess), else among the others in the order of starting cost."""
    values, why = start_why
    how = {"method": "DRT peaks (echem.eis.propose)", "label": "DRT peaks", "why": why}
    if only_drt:
        search.candidates[0] = (search.candidates[0][0], how)
        return
    cost = search.problem.cost(values)
    if not np.isfinite(cost):
        return
    pos = sum(1 for v, _ in search.candidates if search.problem.cost(v) <= cost)
    search.candidates.insert(pos, (list(map(float, values)), how))
    entry["drt_start"] = pos + 1
