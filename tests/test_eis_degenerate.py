"""Degenerate circuit fits lose to the simpler circuit they stand for, and Ru is never a
clamped or invented number (issue: every number right or flagged).

Known answers: spectra simulated from a circuit with 0.5 % proportional noise; the
right answer is the circuit (and its series resistance) they were made from.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from echem import eis
from echem.eis.reduce import degeneracies, reduce
from echem.series_resistance import from_fit, hf_intercept

NOISE = 0.005


def noisy(Z, seed, sigma=NOISE):
    rng = np.random.default_rng(seed)
    return Z * (1 + sigma * (rng.standard_normal(Z.size) + 1j * rng.standard_normal(Z.size)))


def select(f, Z):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return eis.select_circuit(f, Z)


# (R0, R1, Q, n) of catalyst spectra R0-p(R1,CPE1) and the highest frequency measured:
# fast and slow electrodes, small and large Rs, instruments that stop at 1 kHz.
CATALYST = [(R0, R1, Q, n, fmax)
            for (R0, R1, Q, n) in [(5, 50, 1e-4, 0.9), (20, 200, 5e-5, 0.85), (1, 10, 1e-3, 0.8),
                                   (2, 1000, 2e-5, 0.9), (10, 30, 1e-3, 0.7)]
            for fmax in (1e5, 1e4, 1e3)]


@pytest.mark.parametrize("R0,R1,Q,n,fmax", CATALYST)
def test_catalyst_spectrum_keeps_its_series_resistance(R0, R1, Q, n, fmax):
    """The choice never replaces R0 by a CPE with n -> 0 (p(R1,CPE1)-CPE2 with n2 = 0.01
    "fitted" the last of these before), and Ru is R0 within 3 % (or 3 standard errors,
    where R0 is a small part of |Z|)."""
    f = np.logspace(np.log10(fmax), -1, 50)
    fit, scores = select(f, noisy(eis.simulate("R0-p(R1,CPE1)", [R0, R1, Q, n], f), seed=int(R1 + fmax) % 97))
    # the true circuit, or (noise) the true one with a small extra element, never one
    # without its series resistor
    assert fit.circuit.startswith("R0-p(R1,CPE1)"), [(s["circuit"], s.get("BIC"), s.get("reasons")) for s in scores]
    assert not degeneracies(eis.circuit_model(fit.circuit), fit.values)
    rs = fit.series_resistance(f, fit.Z)
    assert rs.status == "fit" and abs(rs.value_ohm - R0) <= max(0.03 * R0, 3 * rs.err_ohm)
    # the degenerate impostor, where it was fitted, is marked and points at R0-p(R1,CPE1)
    impostor = next(s for s in scores if s["circuit"] == "p(R1,CPE1)-CPE2")
    if impostor.get("reduces_to"):
        assert impostor["reduces_to"] == "R0-p(R1,CPE1)" and not impostor["sane"]


def test_ideal_capacitors_are_capacitors():
    """RC spectra: a CPE with n at its bound (1) loses to the circuit with a capacitor,
    which is then found with the true values (1 %)."""
    f = np.logspace(5, -1, 60)
    for circuit, truth in [("R0-p(R1,C1)", [5.0, 50.0, 1e-5]),
                           ("R0-p(R1,C1)-p(R2,C2)", [5.0, 50.0, 1e-6, 200.0, 1e-3])]:
        fit, scores = select(f, noisy(eis.simulate(circuit, truth, f), seed=3))
        assert fit.circuit == circuit, [(s["circuit"], s.get("BIC"), s.get("reasons")) for s in scores]
        np.testing.assert_allclose(fit.values, truth, rtol=0.01)
        reduced = [s for s in scores if s.get("reduced_from")]
        assert any(s["circuit"] == circuit for s in reduced)


def test_resolved_arcs_are_kept_and_split_arcs_merged():
    """Two arcs a factor 2.6 apart in time constant are resolved at 0.5 % noise and kept;
    one arc is never reported as two interchangeable ones."""
    f = np.logspace(5, -1, 60)
    two = [5.0, 50.0, 1e-5, 0.9, 60.0, 2e-5, 0.9]
    fit, _ = select(f, noisy(eis.simulate("R0-p(R1,CPE1)-p(R2,CPE2)", two, f), seed=1))
    assert fit.circuit == "R0-p(R1,CPE1)-p(R2,CPE2)"
    assert fit.value("R1") + fit.value("R2") == pytest.approx(110, rel=0.02)
    one = [5.0, 110.0, 2e-5, 0.9]
    fit, _ = select(f, noisy(eis.simulate("R0-p(R1,CPE1)", one, f), seed=2))
    assert fit.circuit == "R0-p(R1,CPE1)"
    np.testing.assert_allclose(fit.values, one, rtol=0.03)


def test_fit_of_a_named_circuit_flags_its_degenerate_exponent():
    """A circuit the user names is fitted as named; a CPE exponent at a bound is flagged on
    its row (cpe_n_at_bound), not silently reported."""
    f = np.logspace(5, -1, 50)
    Z = noisy(eis.simulate("R0-p(R1,CPE1)", [10, 30, 1e-3, 0.7], f), seed=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = eis.fit_spectrum(f, eis.simulate("R0-p(R1,C1)", [5, 50, 1e-5], f), "R0-p(R1,CPE1)")
    codes = {r["param"]: [fl.code for fl in r["flags"]] for r in fit.rows()}
    assert "cpe_n_at_bound" in codes["CPE1_1"] and codes["R0"] == []
    assert fit.value("CPE1_1") >= 0.99
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clean = eis.fit_spectrum(f, Z, "R0-p(R1,CPE1)")
    assert all(r["flags"] == [] for r in clean.rows())


@pytest.mark.parametrize("circuit,values,expected", [
    ("p(R1,CPE1)-CPE2", [28.9, 9.8e-4, 0.71, 0.0907, 0.0098], ("R0-p(R1,CPE1)", [1 / 0.0907, 28.9, 9.8e-4, 0.71])),
    ("R0-p(R1,CPE1)-p(R2,CPE2)", [5, 50, 1e-6, 1.0, 200, 1e-3, 1.0],
     ("R0-p(R1,C1)-p(R2,C2)", [5, 50, 1e-6, 200, 1e-3])),
    ("R0-p(R1,CPE1)-p(R2,CPE2)", [5, 50, 1e-5, 0.9, 55, 1.1e-5, 0.9], ("R0-p(R1,CPE1)", [5, 105, 1.1e-5, 0.9])),
    ("L0-R0-p(R1,CPE1)-CPE2", [1e-7, 5, 50, 1e-5, 0.9, 0.1, 0.05], ("L0-R0-p(R1,CPE1)", [1e-7, 15, 50, 1e-5, 0.9])),
    ("R0-p(R1-Wo1,CPE1)", [5, 50, 3, 4, 1e-5, 0.9995], ("R0-p(R1-Wo1,C1)", [5, 50, 3, 4, 1e-5])),
])
def test_reduce_names_the_simpler_circuit(circuit, values, expected):
    red = reduce(eis.circuit_model(circuit), values)
    assert red is not None
    assert red[0] == expected[0]
    np.testing.assert_allclose(red[1], expected[1], rtol=1e-9)
    # the reduced circuit with those values is the degenerate one's impedance, nearly
    f = np.logspace(4, -1, 30)
    Z = eis.simulate(circuit, values, f)
    Zr = eis.simulate(red[0], red[1], f)
    assert np.median(np.abs(Zr - Z) / np.abs(Z)) < 0.1


def test_sane_fits_do_not_reduce():
    assert reduce(eis.circuit_model("R0-p(R1,CPE1)"), [5, 50, 1e-5, 0.9]) is None
    assert reduce(eis.circuit_model("R0-p(R1,CPE1)-p(R2,CPE2)"), [5, 50, 1e-6, 0.9, 60, 1e-3, 0.9]) is None


# ----------------------------------------------------------------------- series resistance


@pytest.mark.parametrize("R0,R1,Q,n", [(10, 100, 1e-4, 0.9), (1, 5, 1e-5, 0.95), (50, 500, 1e-3, 0.8)])
def test_hf_intercept_measures_rs_where_the_spectrum_meets_the_axis(R0, R1, Q, n):
    f = np.logspace(6, -1, 71)
    rs = hf_intercept(f, noisy(eis.simulate("R0-p(R1,CPE1)", [R0, R1, Q, n], f), seed=4))
    assert rs.status == "measured" and not rs.flags
    assert rs.value_ohm == pytest.approx(R0, rel=0.02)
    assert abs(rs.value_ohm - R0) <= 3 * rs.err_ohm + 0.005 * R0


def test_hf_intercept_interpolates_an_inductive_crossing():
    f = np.logspace(6, -1, 71)
    rs = hf_intercept(f, eis.simulate("L0-R0-p(R1,C1)", [2e-7, 5.0, 50.0, 1e-4], f))
    assert rs.status == "measured" and rs.value_ohm == pytest.approx(5.0, rel=0.01)


def test_spectrum_still_on_its_arc_gives_only_a_bound():
    """f_max at the apex of the arc: Ru is anywhere between 0 and Z'(f_max); no number."""
    R0, R1, C = 5.0, 100.0, 1e-6  # apex at 1/(2 pi R1 C) = 1.6 kHz
    f = np.logspace(np.log10(3e3), -1, 40)
    Z = noisy(eis.simulate("R0-p(R1,C1)", [R0, R1, C], f), seed=6)
    rs = hf_intercept(f, Z)
    assert rs.value_ohm is None and rs.status == "bound"
    assert [fl.code for fl in rs.flags] == ["ru_bound_only"]
    assert rs.bound_ohm == pytest.approx(Z[np.argmax(f)].real)
    assert rs.bound_ohm >= R0


def test_a_series_resistor_at_its_bound_is_not_ru():
    f = np.logspace(5, -1, 40)
    Z = eis.simulate("R0-p(R1,CPE1)", [5.0, 50, 1e-4, 0.9], f)
    params = [{"param": "R0", "value": 5e-9, "stderr": 1.0}, {"param": "R1", "value": 50, "stderr": 1}]
    rs = from_fit(params, "R0", ["R0"], f, Z)
    assert rs.status == "measured" and rs.value_ohm == pytest.approx(5.0, rel=0.02)
    assert "R0 sits at a bound" in rs.audit["fit_series_resistor_rejected"]
    good = from_fit([{"param": "R0", "value": 5.01, "stderr": 0.02}], "R0", [], f, Z)
    assert good.status == "fit" and good.value_ohm == 5.01 and good.err_ohm == 0.02


def test_gamry_example_spectrum_never_gives_ru_zero(corpus_dir: Path):
    """Issue case 1: impedance.py's Gamry example ends at 200 kHz still on an arc
    (Z' = 826 ohm, -Z'' = 1367 ohm there). The fit has no usable series resistor and the
    extrapolation would go negative: Ru is unknown, bounded by 826 ohm, flagged."""
    from echem import io

    m = io.read(corpus_dir / "ECSHackWeek_impedance.py" / "exampleDataGamry.DTA")
    f = m.data["freq_Hz"].to_numpy(float)
    Z = m.data["Z_re_ohm"].to_numpy(float) + 1j * m.data["Z_im_ohm"].to_numpy(float)
    fit, _ = select(f, Z)
    rs = fit.series_resistance(f, Z)
    assert rs.value_ohm is None and rs.status == "bound"
    assert rs.bound_ohm == pytest.approx(825.8584, rel=1e-6)
    assert "still on an arc" in rs.source
    assert [fl.code for fl in rs.flags] == ["ru_bound_only"]


def _zahner(corpus_dir, name):
    from echem import io

    m = io.read(corpus_dir / "Zahner-elektrik_Zahner-Analysis-Python" / f"{name}.ism")
    return m.data["freq_Hz"].to_numpy(float), m.data["Z_re_ohm"].to_numpy(float) + 1j * m.data["Z_im_ohm"].to_numpy(float)


def test_zahner_near_resistor_flags_its_extrapolated_split(corpus_dir: Path):
    """200_mvdc.ism is 7.4 ohm with the foot of an arc whose apex lies above 500 kHz: the
    split into R0 + R1 is an extrapolation, and Ru = R0 disagrees with the measured
    intercept (7.42 ohm): every one of those numbers carries a flag, and Ru's error
    covers both values."""
    f, Z = _zahner(corpus_dir, "200_mvdc")
    fit, _ = select(f, Z)
    flags = {r["param"]: {fl.code for fl in r["flags"]} for r in fit.rows()}
    assert fit.series_resistance(f, Z).status == "fit"
    assert all("arc_outside_range" in flags[p] for p in ("R0", "R1"))
    rs = fit.series_resistance(f, Z)
    assert [fl.code for fl in rs.flags] == ["ru_ambiguous"]
    assert abs(rs.value_ohm - 7.42) <= 2 * rs.err_ohm
    assert fit.value("R0") + fit.value("R1") == pytest.approx(7.48, rel=0.01)


def test_zahner_spectra_without_a_visible_series_resistance(corpus_dir: Path):
    """000_mvdc and 100_mvdc start at the origin (Z' = 0.14 and 21 ohm at 500 kHz on arcs of
    8.6 and 0.36 kohm): a series resistor would sit at its lower bound, so the choice
    drops it (negligible), the circuit has none, and Ru is only bounded."""
    for name, circuit in (("000_mvdc", "p(R1,C1)"), ("100_mvdc", "p(R1,C1)-W1")):
        f, Z = _zahner(corpus_dir, name)
        fit, scores = select(f, Z)
        assert fit.circuit == circuit, name
        assert all(not r["flags"] for r in fit.rows()), name
        assert fit.series_resistance(f, Z).status == "bound"
        with_r0 = next(s for s in scores if s["circuit"] == "R0-p(R1,CPE1)")
        assert not with_r0["sane"]


def test_a_pure_resistor_is_a_resistor():
    """10 ohm with 0.1 % noise: every candidate's arc is below 0.1 % of |Z| (not in the
    data), so the circuit is R0 alone, with its error; not a CPE fitting the noise."""
    rng = np.random.default_rng(0)
    f = np.logspace(5, -1, 40)
    Z = 10.0 * (1 + 0.001 * rng.normal(size=f.size)) - 1j * np.abs(1e-4 * rng.normal(size=f.size))
    fit, _ = select(f, Z)
    assert fit.circuit == "R0"
    assert fit.value("R0") == pytest.approx(10.0, rel=1e-3) and fit.stderr("R0") < 0.01
    assert fit.series_resistance(f, Z).status == "fit"
