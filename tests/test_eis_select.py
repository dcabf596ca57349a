"""Automatic circuit selection: each candidate's own spectra are assigned to it.

Spectra are simulated from every default candidate (1 MHz..0.1 Hz, 10 points per
decade, 0.5 % proportional complex noise, 10 seeds) with parameters chosen so that
the circuit's features are inside the frequency window (a Warburg or blocking spur
that starts below 0.1 Hz cannot be told from data, by any method). The right circuit
must be chosen in at least 9 of 10 seeds.
"""

from __future__ import annotations

import json
import warnings
from types import SimpleNamespace

import numpy as np
import pytest

from echem import eis
from echem.errors import AnalysisError

FREQ = np.logspace(6, -1, 71)


def noisy(Z: np.ndarray, seed: int, sigma: float = 0.005) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return Z * (1 + sigma * (rng.standard_normal(Z.size) + 1j * rng.standard_normal(Z.size)))


SELECT_CASES = [
    ("R0-p(R1,CPE1)", [10.0, 100.0, 1e-4, 0.9]),
    ("R0-p(R1,CPE1)-p(R2,CPE2)", [10.0, 100.0, 1e-6, 0.9, 300.0, 1e-3, 0.85]),
    ("R0-p(R1,CPE1)-W1", [10.0, 100.0, 1e-4, 0.9, 50.0]),
    ("R0-p(R1,CPE1)-Wo1", [10.0, 100.0, 1e-5, 0.9, 200.0, 0.1]),
    ("R0-p(R1-Wo1,CPE1)", [10.0, 100.0, 200.0, 0.01, 1e-5, 0.9]),
    ("p(R1,CPE1)-CPE2", [1e6, 1e-10, 0.85, 1e-7, 0.7]),
    ("R0-p(R1,CPE1)-CPE2", [100.0, 1e5, 1e-9, 0.9, 1e-6, 0.8]),
    ("L0-R0-p(R1,CPE1)", [1e-7, 5.0, 50.0, 1e-4, 0.9]),
]


def test_default_candidates_cover_the_cases():
    plain = {c.removeprefix("L0-") for c, _ in SELECT_CASES}
    assert plain == set(eis.DEFAULT_CANDIDATES)


@pytest.mark.parametrize("circuit,truth", SELECT_CASES, ids=[c for c, _ in SELECT_CASES])
def test_select_circuit_assigns_own_circuit(circuit, truth):
    hits, chosen = 0, []
    for seed in range(10):
        Z = noisy(eis.simulate(circuit, truth, FREQ), 1000 + seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit, scores = eis.select_circuit(FREQ, Z)
        chosen.append(fit.circuit)
        hits += fit.circuit == circuit
    assert hits >= 9, chosen


def test_selection_audit_lists_every_candidate():
    circuit, truth = SELECT_CASES[2]
    fit, scores = eis.select_circuit(FREQ, noisy(eis.simulate(circuit, truth, FREQ), 1))
    sel = json.loads(json.dumps(fit.audit))["selection"]
    circuits = [s["circuit"] for s in sel["scores"]]
    assert circuits[: len(eis.DEFAULT_CANDIDATES)] == list(eis.DEFAULT_CANDIDATES)
    # then the circuits that degenerate candidates reduce to, each once
    extra = sel["scores"][len(eis.DEFAULT_CANDIDATES):]
    assert all(s["reduced_from"] in circuits for s in extra) and len(set(circuits)) == len(circuits)
    assert sel["chosen"] == fit.circuit == circuit
    for s in scores:
        assert {"circuit", "k", "chi2", "AIC", "BIC", "sane", "reasons"} <= set(s)
    best = min((s for s in scores if s["sane"]), key=lambda s: s["BIC"])
    assert best["circuit"] == circuit
    # the simple circuit misses the Warburg tail: much worse chi2
    simple = next(s for s in scores if s["circuit"] == "R0-p(R1,CPE1)")
    assert simple["chi2"] > 10 * best["chi2"]


def test_nested_circuit_is_rejected_by_sanity_or_penalty():
    """Data from the one-arc circuit: bigger candidates fit as well but their extra
    parameters run to a bound or carry stderr > value, or lose on BIC."""
    circuit, truth = SELECT_CASES[0]
    fit, scores = eis.select_circuit(FREQ, noisy(eis.simulate(circuit, truth, FREQ), 2))
    assert fit.circuit == circuit
    by = {s["circuit"]: s for s in scores}
    w = by["R0-p(R1,CPE1)-W1"]
    assert (not w["sane"]) or w["BIC"] > by[circuit]["BIC"]


def test_aic_criterion_and_errors():
    circuit, truth = SELECT_CASES[1]
    Z = noisy(eis.simulate(circuit, truth, FREQ), 3)
    fit, _ = eis.select_circuit(FREQ, Z, criterion="AIC")
    assert fit.circuit == circuit and fit.audit["selection"]["criterion"] == "AIC"
    with pytest.raises(AnalysisError, match="criterion"):
        eis.select_circuit(FREQ, Z, criterion="R2")
    with pytest.raises(AnalysisError, match="candidate"):
        eis.select_circuit(FREQ, Z, candidates=[])


def test_stall_rule_stops_a_crawl_not_a_descent():
    """_Stall: StopIteration once the cost fell < rel over `window` iterations, not before."""
    crawl = eis.search.Stall(window=20, rel=1e-2)
    costs = 1.0 * (1 - 1e-4) ** np.arange(100)  # 0.2 % per 20 iterations
    stopped_at = None
    for i, c in enumerate(costs):
        try:
            crawl(SimpleNamespace(cost=c))
        except StopIteration:
            stopped_at = i
            break
    assert stopped_at == 20  # the first iteration with a full window behind it
    descent = eis.search.Stall(window=20, rel=1e-2)
    for c in 1.0 * 0.99 ** np.arange(200):  # 18 % per 20 iterations: still converging
        descent(SimpleNamespace(cost=c))


def test_budget_gives_every_candidate_its_first_start(monkeypatch):
    """With no evaluations left for extra starts each candidate is fitted from its best
    start only, the audit says which searches were cut, and a clear spectrum still gets
    its own circuit with the true parameters (1 %)."""
    monkeypatch.setattr(eis.select, "SELECTION_BUDGET_NFEV", 0)
    circuit, truth = SELECT_CASES[2]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit, scores = eis.select_circuit(FREQ, noisy(eis.simulate(circuit, truth, FREQ), 7, sigma=0.002))
    # every candidate from its best start only; a reduced circuit gets all its starts
    # (outside the budget: the simpler circuit must not lose for want of a start)
    assert all(s["starts"] == 1 for s in scores if "starts" in s and "reduced_from" not in s)
    search = fit.audit["selection"]["search"]
    assert search["budget_nfev"] == 0 and search["budget_stopped"]
    assert set(search["budget_stopped"]) == {s["circuit"] for s in scores if s.get("budget_stopped")}
    # circuits that degenerate fits reduce to are candidates too, from the fit they reduce
    assert all(s["circuit"] == next(e["reduces_to"] for e in scores if e["circuit"] == s["reduced_from"])
               for s in scores if "reduced_from" in s)
    assert fit.circuit == circuit
    np.testing.assert_allclose(fit.values, truth, rtol=0.01)


def test_budget_does_not_bind_on_ordinary_spectra():
    """The simulated spectra of every candidate need fewer evaluations than the budget,
    so their searches are exactly the unbudgeted ones."""
    for circuit, truth in SELECT_CASES:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit, _ = eis.select_circuit(FREQ, noisy(eis.simulate(circuit, truth, FREQ), 5))
        search = fit.audit["selection"]["search"]
        assert search["budget_stopped"] == [] and search["nfev"] < eis.SELECTION_BUDGET_NFEV, (circuit, search)
