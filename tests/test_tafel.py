"""Tafel fit against known slopes and exchange current densities.

Curves are generated on an overpotential grid from Butler–Volmer kinetics (forward slope
``b``, reverse 118.3 mV/dec), optionally with a mass-transport limit and a constant
charging current, and multiplicative + additive Gaussian noise on j.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from echem.errors import AnalysisError, MetadataError
from echem.tafel import TafelResult, fit_tafel

#: The straight-window search alone (the kinetic model switched off): the tests of the
#: window's mechanics. The kinetic model and the choice between the two are tested in
#: tests/test_tafel_kinetics.py.
WINDOW = dict(kinetic_model=False)


def curve(b, j0, *, eta_lo=0.0, eta_hi=None, step=1.0, jlim=None, jcap=0.0, noise_rel=0.005,
          noise_abs=0.001, seed=0, sign=1.0):
    rng = np.random.default_rng(seed)
    if eta_hi is None:
        eta_hi = b * (math.log10(100.0 / j0))  # up to ~100 mA/cm2
    eta = np.arange(eta_lo, eta_hi, step)
    jk = j0 * (10 ** (eta / b) - 10 ** (-eta / 118.3))
    j = jk / (1 + np.abs(jk) / jlim) if jlim else jk
    j = j + jcap
    j = j * (1 + noise_rel * rng.normal(size=eta.size)) + noise_abs * rng.normal(size=eta.size)
    return eta, sign * j


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("b, j0", [(40.0, 1e-3), (60.0, 1e-2), (120.0, 0.1), (90.0, 1e-5)])
def test_pure_kinetics_recovers_slope_and_j0(b, j0, seed):
    eta, j = curve(b, j0, seed=seed)
    full = fit_tafel(eta, j)  # the kinetic model describes Butler-Volmer curves exactly
    assert full.audit["criterion"].startswith("kinetic model")
    assert full.slope_mV_dec == pytest.approx(b, abs=1.0) and full.j0_mA_cm2 == pytest.approx(j0, rel=0.05)
    assert not full.flags
    res = fit_tafel(eta, j, **WINDOW)
    assert isinstance(res, TafelResult)
    assert res.slope_mV_dec == pytest.approx(b, abs=2.0)
    # j0 from the intercept: within 5 % (it is an extrapolation over several decades)
    assert res.j0_mA_cm2 == pytest.approx(j0, rel=0.05)
    assert res.slope_err_mV_dec > 0 and res.j0_err_mA_cm2 > 0
    assert res.r2 > 0.999
    assert res.eta_hi_mV - res.eta_lo_mV >= b * 1.0 - 2  # spans >= 1 decade
    assert res.eta_lo_mV >= res.audit["near_equilibrium_cut_mV"] - 1e-9
    assert not res.audit["warnings"]


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("b, j0", [(40.0, 1e-3), (60.0, 1e-3), (120.0, 0.01)])
def test_window_skips_mass_transport_bend_and_charging_floor(b, j0, seed):
    jlim, jcap = 200.0, 0.002
    eta, j = curve(b, j0, eta_hi=b * math.log10(150.0 / j0) + 150, jlim=jlim, jcap=jcap, seed=seed)
    res = fit_tafel(eta, j, min_decades=1.0, **WINDOW)
    assert res.slope_mV_dec == pytest.approx(b, abs=2.0)
    # the window ends before the local slope is 10 % above b (j = jlim/11 for this model)
    j_hi = j0 * 10 ** (res.eta_hi_mV / b)
    assert j_hi < jlim / 11
    # and starts where the charging current is < 10 % of the current
    j_lo = j0 * 10 ** (res.eta_lo_mV / b)
    assert j_lo > 10 * jcap
    alt = res.audit["alternatives"]
    assert alt["n_acceptable"] >= 1
    assert alt["slope_min_mV_dec"] <= res.slope_mV_dec + 1e-6 <= alt["slope_max_mV_dec"] + 2e-6


def test_slope_error_is_honest_over_seeds():
    b, j0 = 60.0, 1e-2
    slopes, errs, logj0, logj0_err = [], [], [], []
    for seed in range(40):
        eta, j = curve(b, j0, eta_hi=b * 3.5, step=2.0, noise_rel=0.05, noise_abs=0.0, seed=seed)
        res = fit_tafel(eta, j, window_mV=(b * 1.5, b * 3.5))  # reverse reaction < 0.5 %
        slopes.append(res.slope_mV_dec)
        errs.append(res.slope_err_mV_dec)
        logj0.append(math.log10(res.j0_mA_cm2))
        logj0_err.append(res.j0_err_mA_cm2 / res.j0_mA_cm2 / math.log(10))
    assert 0.6 < np.mean(errs) / np.std(slopes, ddof=1) < 1.6
    assert 0.6 < np.mean(logj0_err) / np.std(logj0, ddof=1) < 1.6
    assert abs(np.mean(slopes) - b) < 3 * np.std(slopes) / math.sqrt(40) + 0.1


def test_negative_current_same_result():
    eta, j = curve(60.0, 1e-2, seed=1)
    pos = fit_tafel(eta, j)
    neg = fit_tafel(eta, -j)
    assert neg.audit["criterion"] == pos.audit["criterion"]
    assert neg.slope_mV_dec == pytest.approx(pos.slope_mV_dec)
    assert neg.j0_mA_cm2 == pytest.approx(pos.j0_mA_cm2)
    assert neg.audit["reaction_current_sign"] == -1


def test_fixed_window():
    eta, j = curve(60.0, 1e-2, seed=2)
    res = fit_tafel(eta, j, window_mV=(100.0, 200.0))
    assert 100.0 <= res.eta_lo_mV <= 101.0 and 199.0 <= res.eta_hi_mV <= 200.0
    assert res.n_points == int(np.sum((eta >= 100) & (eta <= 200)))
    assert res.audit["criterion"].startswith("fixed window")
    assert res.slope_mV_dec == pytest.approx(60.0, abs=1.0)


def test_fixed_window_narrower_than_min_decades_warns():
    eta, j = curve(60.0, 1e-2, seed=2)
    res = fit_tafel(eta, j, window_mV=(100.0, 130.0))
    assert any("less than min_decades" in w for w in res.audit["warnings"])


def test_fixed_window_outside_data():
    eta, j = curve(60.0, 1e-2, seed=2)
    with pytest.raises(AnalysisError, match="tafel_window_mV"):
        fit_tafel(eta, j, window_mV=(1000.0, 1200.0))
    with pytest.raises(MetadataError):
        fit_tafel(eta, j, window_mV=(200.0, 100.0))


def test_exclude_below():
    eta, j = curve(60.0, 1e-2, seed=3)
    res = fit_tafel(eta, j, exclude_below_mV=150.0, **WINDOW)
    assert res.eta_lo_mV >= 150.0
    assert res.slope_mV_dec == pytest.approx(60.0, abs=2.0)


def test_too_few_decades_is_an_actionable_error():
    # 0.6 decades of current: eta from 60 to 96 mV at b = 60
    eta, j = curve(60.0, 1e-2, eta_lo=60.0, eta_hi=96.0, seed=0)
    with pytest.raises(AnalysisError) as exc:
        fit_tafel(eta, j, min_decades=1.0)
    msg = str(exc.value)
    assert "decades" in msg and "min_decades" in msg and "higher current" in msg
    # the same data fit when the user lowers min_decades
    assert fit_tafel(eta, j, min_decades=0.5).slope_mV_dec == pytest.approx(60.0, abs=3.0)


def test_noise_floor_is_excluded():
    """Below the noise floor |j| is noise: the window must start well above it."""
    b, j0 = 60.0, 1e-4
    eta, j = curve(b, j0, eta_lo=0.0, eta_hi=b * 6, noise_rel=0.002, noise_abs=0.002, seed=4)
    res = fit_tafel(eta, j, **WINDOW)
    assert res.audit["noise_floor_mA_cm2"] == pytest.approx(10 * 0.002, rel=0.3)
    assert j0 * 10 ** (res.eta_lo_mV / b) > res.audit["noise_floor_mA_cm2"]
    assert res.slope_mV_dec == pytest.approx(b, abs=2.0)


def test_no_straight_region_falls_back_with_a_warning():
    # an ohmic (linear) I-V: eta vs log j is curved everywhere
    eta = np.linspace(5, 500, 300)
    j = eta / 5.0 + 0.001 * np.random.default_rng(0).normal(size=eta.size)
    res = fit_tafel(eta, j, r2_min=0.9999, **WINDOW)
    assert res.audit["criterion"].startswith("fallback")
    assert res.audit["warnings"]
    assert "tafel_r2_low" in [f.code for f in res.flags]
    # with the kinetic model too, the number is flagged: no straight window, or a slope
    # that is no Tafel slope
    full = fit_tafel(eta, j, r2_min=0.9999)
    assert {"tafel_r2_low", "tafel_out_of_range"} & {f.code for f in full.flags}


def test_nothing_driven():
    eta = np.linspace(-200, -10, 100)
    with pytest.raises(AnalysisError, match="reaction driven"):
        fit_tafel(eta, np.exp(eta / 30.0))


@pytest.mark.parametrize("kw", [dict(min_decades=0), dict(r2_min=1.5), dict(min_decades="x")])
def test_invalid_settings(kw):
    eta, j = curve(60.0, 1e-2)
    with pytest.raises(MetadataError):
        fit_tafel(eta, j, **kw)


def test_audit_is_json_and_complete():
    eta, j = curve(60.0, 1e-2, seed=5)
    res = fit_tafel(eta, j, **WINDOW)
    json.dumps(res.audit, allow_nan=False)
    json.dumps(fit_tafel(eta, j).audit, allow_nan=False)
    for key in ("criterion", "window_log10_j", "alternatives", "fit", "noise_floor_mA_cm2", "settings"):
        assert key in res.audit
    fit = res.audit["fit"]
    # j0 from the intercept: log10 j0 = -a/b
    assert math.log10(res.j0_mA_cm2) == pytest.approx(-fit["a_mV"] / fit["b_mV_dec"])
    assert set(res.row()) == {"slope_mV_dec", "slope_err_mV_dec", "j0_mA_cm2", "eta_lo_mV", "eta_hi_mV",
                              "r2", "n_points"}


def test_lmfit_errors_match_closed_form():
    eta, j = curve(60.0, 1e-2, noise_rel=0.03, seed=6)
    res = fit_tafel(eta, j, window_mV=(80.0, 200.0))
    sel = (eta >= 80) & (eta <= 200)
    x, y = np.log10(j[sel]), eta[sel]
    (b, a), cov = np.polyfit(x, y, 1, cov=True)
    assert res.slope_mV_dec == pytest.approx(b, rel=1e-6)
    # both scale the covariance by chi2/(n-2)
    assert res.slope_err_mV_dec == pytest.approx(math.sqrt(cov[0, 0]), rel=1e-3)
    assert res.audit["fit"]["a_err_mV"] == pytest.approx(math.sqrt(cov[1, 1]), rel=1e-3)


def test_plot_tafel_highlights_window():
    from matplotlib.figure import Figure

    from echem.plots.lsv import plot_tafel

    eta, j = curve(60.0, 1e-2, seed=1)
    res = fit_tafel(eta, j, **WINDOW)
    ax = Figure().add_subplot()
    assert plot_tafel(ax, eta, j, res, label="x") is ax
    assert ax.get_ylabel() == "η / mV" and "log" in ax.get_xlabel() and "mA cm" in ax.get_xlabel()
    fit_line = ax.get_lines()[-1]
    from echem.report.numbers import fmt_pm  # the slope rounded to its error's digits

    assert fit_line.get_label().startswith(f"x: {fmt_pm(res.slope_mV_dec, res.slope_err_mV_dec)} mV dec")
    # the drawn line spans the window and follows eta = b (log j - log j0)
    x = fit_line.get_xdata()
    assert fit_line.get_ydata()[0] == pytest.approx(res.slope_mV_dec * (x[0] - math.log10(res.j0_mA_cm2)))
    assert len(ax.patches) == 1  # shaded window


def test_tafel_rows_inherit_their_curves_flags(tmp_path):
    """The Tafel stage reads the LSV table's flags per file: the curve's own doubts (no iR
    correction, how Ru was found) are inherited, a target's (η extrapolated) are not; a file
    name that looks like a number stays the name the curves use."""
    from echem.workflow.tafel import lsv_flags

    path = tmp_path / "overpotentials.csv"
    path.write_text("sample,file,target_mA_cm2,eta_mV,flags\n"
                    "S,lsv_1.mpt,10,250.0,no_ir;eta_extrapolated\n"
                    "S,lsv_1.mpt,100,400.0,no_ir\n"
                    "S,0042,10,260.0,\n"
                    "S,lsv_3.mpt,10,270.0,ru_bound_only\n", encoding="utf-8")
    flags = lsv_flags(path)
    assert [f.code for f in flags["lsv_1.mpt"]] == ["no_ir"]
    assert flags["0042"] == []
    assert [f.code for f in flags["lsv_3.mpt"]] == ["ru_bound_only"]
    assert lsv_flags(tmp_path / "missing.csv") == {}
