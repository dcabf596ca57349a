"""Known answers for the Tafel slope and η10 over the range of curves labs record.

Each curve is a cathodic (HER) sweep simulated from

    j = j_c + j_k (1 − θ x/(1 + x)) / (1 + j_k/j_lim)·…   (see ``simulate``)

with Butler–Volmer kinetics (forward slope b, reverse slope b_r), a mass-transport limit
j_lim, partial blocking by gas bubbles (θ, j_b), bubble spikes (the current drops 2–10 %
on 5 % of the points above 10 mA/cm²), the double-layer charging current j_c of the
sweep, 0.5 % + 0.2 µA/cm² of noise, written as E vs an SCE with an uncompensated
resistance Ru that the analysis corrects for. The stated tolerances: the reported
Tafel slope within 2 mV/dec of b, η at 10 mA/cm² within 1 mV of the noise-free curve's.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import brentq

from echem.lsv import analyse_lsv
from echem.tafel import fit_tafel

AREA_CM2 = 0.196
RU_OHM = 4.0
SCE_VS_RHE_V = 0.241 + 0.0591 * 14  # E_RHE = E_SCE + offset, 1 M KOH


def faradaic(eta_mV, b, j0, b_r=None, j_lim=None, theta=0.0, j_b=None):
    b_r = b if b_r is None else b_r
    jk = j0 * (10 ** (eta_mV / b) - 10 ** (-eta_mV / b_r))
    j = jk * (1 - theta * jk / (jk + j_b)) if theta else jk
    return j / (1 + j / j_lim) if j_lim else j


def simulate(b, j0, *, b_r=None, j_lim=None, theta=0.0, j_b=None, jc=0.0, spikes=False, seed=0, j_stop=500.0):
    """(E_V vs SCE, I_A, eta_true) of a cathodic LSV from 50 mV above 0 V vs RHE."""
    rng = np.random.default_rng(seed)
    eta = np.arange(-50.0, 1200.0, 1.0)  # 1 mV steps of the iR-free overpotential
    jf = faradaic(eta, b, j0, b_r, j_lim, theta, j_b)
    stop = min(j_stop, 0.7 * j_lim) if j_lim else j_stop
    keep = np.cumsum(jf > stop) == 0
    eta, jf = eta[keep], jf[keep]
    j = jf + jc
    if spikes:
        hit = (rng.random(j.size) < 0.05) & (j > 10)
        j = np.where(hit, j * (1 - rng.uniform(0.02, 0.1, j.size)), j)
    j = j + rng.normal(size=j.size) * (0.005 * np.abs(j) + 2e-4)
    I_A = -j * AREA_CM2 * 1e-3  # cathodic
    E_RHE = -eta * 1e-3 + I_A * RU_OHM  # the measured potential includes the ohmic drop
    return E_RHE - SCE_VS_RHE_V, I_A


def eta10_true(b, j0, *, b_r=None, j_lim=None, theta=0.0, j_b=None, jc=0.0, **_):
    return brentq(lambda e: faradaic(e, b, j0, b_r, j_lim, theta, j_b) + jc - 10.0, -50, 1500)


KINETICS = [(30, 1.0), (40, 0.3), (60, 0.05), (80, 0.01), (100, 0.003), (120, 0.001), (120, 0.1)]
CONDITIONS = {
    "transport 0.3 A/cm2": dict(j_lim=300.0),
    "transport 3 A/cm2": dict(j_lim=3000.0),
    "transport 1 A/cm2 + charging": dict(j_lim=1000.0, jc=0.05),
    "transport 0.3 A/cm2 + strong charging": dict(j_lim=300.0, jc=0.5),
    "reverse 118 mV/dec + charging": dict(j_lim=1000.0, b_r=118.0, jc=0.2),
    "no reverse branch": dict(j_lim=1000.0, b_r=1e4),
    "bubble blocking": dict(theta=0.5, j_b=100.0),
    "bubble spikes": dict(j_lim=1000.0, spikes=True),
}


@pytest.mark.parametrize("condition", list(CONDITIONS))
@pytest.mark.parametrize("b,j0", KINETICS)
def test_tafel_slope_and_eta10_known_answers(b, j0, condition):
    kw = CONDITIONS[condition]
    E, I = simulate(b, j0, seed=b + int(10 * j0), **kw)
    lsv = analyse_lsv(E, I, area_cm2=AREA_CM2, reaction="HER", offset_to_rhe_V=SCE_VS_RHE_V,
                      targets_mA_cm2=(10,), ru_ohm=RU_OHM, ru_err_ohm=0.0, ir_fraction=1.0)
    assert lsv.rows[0]["eta_mV"] == pytest.approx(eta10_true(b, j0, **kw), abs=1.0)
    res = fit_tafel(lsv.curve["eta_mV"], lsv.curve["j_mA_cm2"])
    assert res.slope_mV_dec == pytest.approx(b, abs=2.0), res.audit["criterion"]
    assert not res.flags
    # the error bar is honest: the slope is within 4 standard errors (or 0.5 mV/dec)
    assert abs(res.slope_mV_dec - b) <= max(4 * res.slope_err_mV_dec, 0.5)


def test_kinetic_model_is_reported_where_no_straight_decade_exists():
    """b = 30 mV/dec, j0 = 1 mA/cm2, j_lim = 0.3 A/cm2: the reverse branch (below ~45 mV)
    and mass transport (above ~3 mA/cm2) leave no straight decade; the straight window
    comes out 8 mV/dec high, the kinetic model recovers b and says what it corrected."""
    E, I = simulate(30, 1.0, j_lim=300.0)
    lsv = analyse_lsv(E, I, area_cm2=AREA_CM2, reaction="HER", offset_to_rhe_V=SCE_VS_RHE_V,
                      ru_ohm=RU_OHM, ir_fraction=1.0)
    eta, j = lsv.curve["eta_mV"], lsv.curve["j_mA_cm2"]
    window = fit_tafel(eta, j, kinetic_model=False)
    assert window.slope_mV_dec > 34
    res = fit_tafel(eta, j)
    assert res.slope_mV_dec == pytest.approx(30.0, abs=1.0)
    assert res.audit["criterion"].startswith("kinetic model")
    assert "mass transport" in res.audit["criterion"] and "reverse reaction" in res.audit["criterion"]
    assert res.audit["window_fit"]["slope_mV_dec"] == pytest.approx(window.slope_mV_dec)
    assert res.j0_mA_cm2 == pytest.approx(1.0, rel=0.1)


def test_blocking_on_top_of_mass_transport_is_a_stated_limit():
    """Two bends at once (bubbles blocking 30 % of the surface from 30 mA/cm2, and mass
    transport at 1 A/cm2) are outside the model's family. With slow kinetics the fit
    below the bends still gives b within 2 mV/dec; with fast kinetics (b = 30 mV/dec,
    j0 = 1 mA/cm2: no clean decade below 30 mA/cm2) the slope is 3 mV/dec high. This
    pins that limit so that a change that worsens it is seen."""
    for (b, j0), tolerance in [((80, 0.01), 2.0), ((120, 0.001), 2.0), ((30, 1.0), 3.5)]:
        E, I = simulate(b, j0, theta=0.3, j_b=30.0, j_lim=1000.0)
        lsv = analyse_lsv(E, I, area_cm2=AREA_CM2, reaction="HER", offset_to_rhe_V=SCE_VS_RHE_V,
                          ru_ohm=RU_OHM, ir_fraction=1.0)
        res = fit_tafel(lsv.curve["eta_mV"], lsv.curve["j_mA_cm2"])
        assert abs(res.slope_mV_dec - b) <= tolerance, (b, res.slope_mV_dec, res.audit["criterion"])


@pytest.mark.parametrize("slope", [1316.0, 12.0])
def test_absurd_slope_is_flagged(slope):
    """A 'Tafel slope' of 1316 mV/dec (issue case 5) or 12 mV/dec is flagged, not reported
    like a real one."""
    eta = np.linspace(1, 2.5 * slope, 300)  # 2.5 decades
    j = 10 ** (eta / slope) * 0.5
    res = fit_tafel(eta, j)
    assert res.slope_mV_dec == pytest.approx(slope, rel=0.02)
    assert "tafel_out_of_range" in [f.code for f in res.flags]
    assert fit_tafel(eta, j, slope_range_mV_dec=(5, 2000)).flags == []


@pytest.mark.parametrize("pv", [
    dict(log_j0=-1.3, b=55.0, log_br=1.9, log_inv_jb=-2.5, theta=0.7, jc=0.02),
    dict(log_j0=-4.0, b=120.0, log_br=2.4, log_inv_jb=-12.0, theta=0.0, jc=0.0),
    dict(log_j0=0.5, b=30.0, log_br=1.2, log_inv_jb=0.0, theta=1.0, jc=-0.1),
])
def test_kinetic_model_jacobian_matches_finite_differences(pv):
    """The fit's analytic ∂j/∂p agrees with central differences (step 1e-4, truncation
    error ~1e-8 relative) to 1e-5 relative, beyond their round-off (1e-12·|j|/step)."""
    from echem.tafel import _kinetic_dj, _kinetic_j

    eta = np.linspace(1.0, 400.0, 80)
    analytic = _kinetic_dj(pv, eta)
    assert set(analytic) == set(pv)
    j = _kinetic_j(pv, eta)
    for name in pv:
        h = 1e-4 * max(1.0, abs(pv[name]))
        up, down = dict(pv), dict(pv)
        up[name] += h
        down[name] -= h
        numeric = (_kinetic_j(up, eta) - _kinetic_j(down, eta)) / (2 * h)
        roundoff = 1e-12 * np.abs(j) / h
        assert np.all(np.abs(analytic[name] - numeric) <= 1e-5 * np.abs(numeric) + roundoff), name


def test_kinetic_slope_standard_error_is_calibrated():
    """Over 80 noisy Butler-Volmer curves (b = 48 mV/dec, 0.5 % + 1 µA/cm² noise, a charging
    current), the reported standard error of the slope covers the true slope as a standard
    error should: 60-95 % of the fits within 1 σ, at least 93 % within 2 σ (an error that is
    too small would show as too few, one that is far too large as nearly all within 1 σ)."""
    from echem.tafel import fit_kinetic_model

    rng = np.random.default_rng(7)
    b, j0 = 48.0, 0.35
    eta = np.linspace(1.0, 160.0, 320)
    z = []
    for _ in range(80):
        j = j0 * (10 ** (eta / b) - 10 ** (-eta / 77.0)) + 0.02
        j = j * (1 + 0.005 * rng.standard_normal(eta.size)) + 0.001 * rng.standard_normal(eta.size)
        fit, _ = fit_kinetic_model(eta, j, b_start_mV_dec=b * 1.1, j0_start_mA_cm2=j0 * 2, floor_mA_cm2=0.01)
        assert fit is not None and 0 < fit.slope_err_mV_dec < 1.0
        z.append(abs(fit.slope_mV_dec - b) / fit.slope_err_mV_dec)
    z = np.array(z)
    assert 0.60 <= np.mean(z < 1) <= 0.95 and np.mean(z < 2) >= 0.93, (np.mean(z < 1), np.mean(z < 2))


@pytest.mark.parametrize("b,j0", [(40, 0.3), (120, 0.001)])
def test_a_curve_without_bend_is_fitted_from_one_start(b, j0):
    """Pure Butler–Volmer kinetics (no bend in the data): the first start describes the curve
    to its noise with the bend outside the data, so blocking is not tried (half the fit's
    time); b within 2 mV/dec. A curve bent by blocking (θ = 0.5) still gets the blocking
    start, and the fit finds the blocking."""
    from echem.tafel import fit_kinetic_model

    rng = np.random.default_rng(11)
    eta = np.linspace(1.0, 8.0 * b, 400)
    for theta, j_b in ((0.0, None), (0.5, 30.0)):
        j = faradaic(eta, b, j0, theta=theta, j_b=j_b)
        j = j * (1 + 0.005 * rng.standard_normal(eta.size)) + 2e-4 * rng.standard_normal(eta.size)
        keep = j < 500.0
        fit, record = fit_kinetic_model(eta[keep], j[keep], b_start_mV_dec=b * 1.1, j0_start_mA_cm2=j0 * 2,
                                        floor_mA_cm2=0.01)
        assert fit is not None and fit.slope_mV_dec == pytest.approx(b, abs=2.0), record
        starts = [a["theta0"] for a in record["attempts"] if a["cut_above_mA_cm2"] is None]
        if theta:
            assert 0.5 in starts and fit.theta == pytest.approx(theta, abs=0.1), record
        else:
            assert starts == [1.0], record
