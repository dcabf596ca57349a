"""ECSA stage against known answers from a simulated double-layer interface.

The cell is an uncompensated resistance Ru in series with the interface: the
double-layer capacitance Cdl in parallel with a faradaic leak (a resistance Rp
and/or an exponential Tafel-like current) and, for the asymmetry test, a
surface-confined redox couple with Butler-Volmer kinetics (Laviron). The applied
potential is a triangle wave; the interface potential is integrated sweep by sweep
with scipy's solve_ivp, so the current relaxes towards Cdl*v with the time constant
Ru*Cdl after each vertex, as on a real electrode.

Analytic steady state with a resistive leak only: on a sweep at ``E``,
``I = Cdl*v/(1 + Ru/Rp)**2 + E/(Rp + Ru)``, so the half-difference of the two sweeps
has the slope ``Cdl/(1 + Ru/Rp)**2`` (the leak cancels) and the full difference
``2*Cdl/(1 + Ru/Rp)**2``.
"""

from __future__ import annotations

import io
import json
import math
import re
from functools import lru_cache

import numpy as np
import pytest

from echem.ecsa import (
    CS_DEFAULTS_MF_CM2,
    charging_currents,
    default_cs_mF_cm2,
    ecsa_cm2,
    fit_cdl,
    mass_activity_A_g,
    roughness_factor,
    scan_rate_from_name,
    scan_rate_V_s,
    specific_activity_mA_cm2,
    split_cycles,
)
from echem.errors import AnalysisError, MetadataError

F_RT = 96485.33212 / (8.314462618 * 298.15)  # 1/V at 25 °C

CDL_F = 2.0e-3  # a rough catalyst: 50 cm2 of ECSA at Cs = 0.040 mF/cm2
RU_OHM = 20.0  # Ru*Cdl = 40 ms
RATES_V_S = (0.010, 0.020, 0.040, 0.060, 0.080, 0.100)
SEEDS = (0, 1, 2, 3, 4)

# leak: Rp = 5 kOhm (25 % of the charging current at 10 mV/s) + a Tafel tail near the top
LEAK = {"rp_ohm": 5e3, "i0_A": 2e-6, "b_V": 0.04, "E_on": 0.1}
# a sluggish surface redox couple near the bottom of the window: oxidation current
# reaches E_mid on the anodic sweep, reduction stays below it on the cathodic sweep
SURFACE = {"E0_V": -0.01, "k0_s": 3.0, "Q_C": 4e-4, "alpha": 0.5}


def _triangle(start: str, k: int) -> bool:
    """True if sweep ``k`` goes up."""
    return (k % 2 == 0) if start == "up" else (k % 2 == 1)


@lru_cache(maxsize=64)
def _noise_free_cv(v, cdl_F, ru_ohm, E_lo, E_hi, n_cycles, rp_ohm, i0_A, b_V, E_on, surface, dE_V, start):
    from scipy.integrate import solve_ivp

    surf = dict(surface) if surface else None
    span = E_hi - E_lo
    half_s = span / v
    dt = dE_V / v
    n_seg = 2 * n_cycles

    def leak(E):
        i = 0.0
        if rp_ohm:
            i = i + E / rp_ohm
        if i0_A:
            i = i + i0_A * math.exp((E - E_on) / b_V)
        return i

    def rhs(t, y, E0, slope, t0):
        E_int, theta = y
        I = (E0 + slope * (t - t0) - E_int) / ru_ohm
        dtheta = 0.0
        if surf:
            eta = E_int - surf["E0_V"]
            a = surf["alpha"]
            dtheta = surf["k0_s"] * (math.exp(a * F_RT * eta) * (1 - theta)
                                     - math.exp(-(1 - a) * F_RT * eta) * theta)
        i_surf = surf["Q_C"] * dtheta if surf else 0.0
        return [(I - leak(E_int) - i_surf) / cdl_F, dtheta]

    E_start = E_lo if start == "up" else E_hi
    theta0 = 1 / (1 + math.exp(-F_RT * (E_start - surf["E0_V"]))) if surf else 0.0
    y = np.array([E_start, theta0])
    ts, Es, Is = [], [], []
    n = int(round(half_s / dt))
    for k in range(n_seg):
        t0, t1 = k * half_s, (k + 1) * half_s
        up = _triangle(start, k)
        E0, slope = (E_lo, v) if up else (E_hi, -v)
        t_eval = np.append(t0 + dt * np.arange(n), t1)
        sol = solve_ivp(rhs, (t0, t1), y, method="LSODA", t_eval=t_eval, args=(E0, slope, t0),
                        rtol=1e-8, atol=[1e-12, 1e-12], max_step=half_s / 20)
        assert sol.success, sol.message
        E_app = E0 + slope * (sol.t - t0)
        I = (E_app - sol.y[0]) / ru_ohm
        y = sol.y[:, -1]
        keep = slice(None) if k == n_seg - 1 else slice(None, -1)  # vertex once
        ts.append(sol.t[keep])
        Es.append(E_app[keep])
        Is.append(I[keep])
    return np.concatenate(ts), np.concatenate(Es), np.concatenate(Is)


def simulate_cv(v, rng=None, *, noise_I_A=0.0, noise_E_V=0.0, cdl_F=CDL_F, ru_ohm=RU_OHM, E_lo=0.0,
                E_hi=0.1, n_cycles=3, rp_ohm=None, i0_A=0.0, b_V=0.05, E_on=0.1, surface=None,
                dE_V=1e-3, start="up"):
    """(time_s, E_V, I_A) of a CV at ``v`` V/s, with Gaussian noise on E and I."""
    surf = tuple(sorted(surface.items())) if surface else None
    t, E, I = _noise_free_cv(v, cdl_F, ru_ohm, E_lo, E_hi, n_cycles, rp_ohm, i0_A, b_V, E_on, surf,
                             dE_V, start)
    if rng is not None:
        E = E + rng.normal(0.0, noise_E_V, E.size)
        I = I + rng.normal(0.0, noise_I_A, I.size)
    return t.copy(), E.copy(), I.copy()


def series(seed=None, rates=RATES_V_S, **kw):
    """Charging currents of a scan-rate series; noise 1 µA (5 % of Cdl*v at 10 mV/s), 0.2 mV."""
    rng = np.random.default_rng(seed) if seed is not None else None
    ia, ic = [], []
    for v in rates:
        t, E, I = simulate_cv(v, rng, noise_I_A=1e-6, noise_E_V=2e-4, **kw)
        cc = charging_currents(E, I)
        ia.append(cc.i_anodic_A)
        ic.append(cc.i_cathodic_A)
    return np.array(rates), np.array(ia), np.array(ic)


def leak_bias(rp_ohm, ru_ohm=RU_OHM):
    return 1.0 / (1.0 + ru_ohm / rp_ohm) ** 2


# --------------------------------------------------------------------------- Cdl


def test_noise_free_rc_with_resistive_leak_matches_analytic_steady_state():
    v, ia, ic = series(None, rp_ohm=2e3)
    res = fit_cdl(v, ia, ic)
    expected = CDL_F * leak_bias(2e3)  # 1.96 mF: the leak through Rp lowers the slope by 2 %
    assert res.cdl_F == pytest.approx(expected, rel=2e-4)
    assert res.anodic_F == pytest.approx(expected, rel=2e-4)
    assert res.cathodic_F == pytest.approx(expected, rel=2e-4)
    # the leak shows as an intercept, not as a slope: E_mid/(Rp + Ru) on both sweeps
    assert res.audit["anodic_fit"]["intercept_A"] == pytest.approx(0.05 / (2e3 + RU_OHM), rel=0.01)
    assert res.warnings == []


@pytest.mark.parametrize("seed", SEEDS)
def test_cdl_recovered_within_3_percent_with_leak_and_noise(seed):
    v, ia, ic = series(seed, **LEAK)
    res = fit_cdl(v, ia, ic)
    assert res.cdl_F == pytest.approx(CDL_F, rel=0.03)
    # the standard error is honest: the deviation from the analytic slope is within 4 sigma
    assert 0 < res.cdl_err_F < 0.01 * CDL_F
    assert abs(res.cdl_F - CDL_F * leak_bias(LEAK["rp_ohm"])) < 4 * res.cdl_err_F
    assert res.r2 > 0.999
    assert res.n_points == 6 and res.n_scan_rates == 6
    assert not any("slopes differ" in w for w in res.warnings), res.warnings
    json.dumps(res.audit)  # the audit record is JSON as is


def test_half_difference_not_full_difference():
    """Exact linear currents: Cdl is the slope of (ia - ic)/2, half that of (ia - ic)."""
    v = np.array(RATES_V_S)
    leak = 7e-6  # same potential on both sweeps -> same leak, cancels in the difference
    ia = CDL_F * v + leak
    ic = -CDL_F * v + leak
    res = fit_cdl(v, ia, ic)
    assert res.cdl_F == pytest.approx(CDL_F, rel=1e-9)
    assert np.polyfit(v, ia - ic, 1)[0] == pytest.approx(2 * res.cdl_F, rel=1e-9)
    assert res.anodic_F == pytest.approx(CDL_F, rel=1e-9)
    assert res.cathodic_F == pytest.approx(CDL_F, rel=1e-9)
    assert res.intercept_A == pytest.approx(0.0, abs=1e-12)
    assert res.cdl_mF == pytest.approx(2.0)


@pytest.mark.parametrize("seed", SEEDS[:3])
def test_asymmetry_warning_from_one_sided_faradaic_current(seed):
    v, ia, ic = series(seed, surface=SURFACE)
    res = fit_cdl(v, ia, ic, asymmetry_max=0.2)
    assert res.asymmetry > 0.3  # anodic ~4.1 mF, cathodic ~2.6 mF
    assert res.anodic_F > res.cathodic_F
    assert any("slopes differ" in w for w in res.warnings), res.warnings
    assert res.audit["warnings"] == res.warnings
    # the same data with a looser threshold passes without that warning
    loose = fit_cdl(v, ia, ic, asymmetry_max=1.0)
    assert not any("slopes differ" in w for w in loose.warnings)


def test_r2_warning_when_charging_current_is_not_linear_in_scan_rate():
    rng = np.random.default_rng(7)
    v = np.array(RATES_V_S)
    scatter = 1 + 0.25 * rng.standard_normal(v.size)
    res = fit_cdl(v, CDL_F * v * scatter, -CDL_F * v * scatter)
    assert res.r2 < 0.99
    assert any("R²" in w for w in res.warnings)
    clean = fit_cdl(v, CDL_F * v, -CDL_F * v)
    assert clean.warnings == []


@pytest.mark.parametrize(
    "rates, found",
    [((0.02,), "found 1 (20 mV/s)"), ((0.02, 0.02, 0.05, 0.05), "found 2 (20, 50 mV/s)")],
)
def test_fewer_than_three_scan_rates_is_an_error(rates, found):
    v = np.array(rates)
    with pytest.raises(AnalysisError, match=r"needs CVs at >= 3 scan rates; " + re.escape(found)):
        fit_cdl(v, CDL_F * v, -CDL_F * v)


def test_repeated_scan_rates_are_all_fitted():
    v = np.array([0.02, 0.02, 0.05, 0.05, 0.1, 0.1])
    res = fit_cdl(v, CDL_F * v, -CDL_F * v)
    assert res.n_points == 6 and res.n_scan_rates == 3
    assert res.cdl_F == pytest.approx(CDL_F, rel=1e-9)


def test_non_positive_cdl_and_bad_inputs_are_errors():
    v = np.array(RATES_V_S)
    with pytest.raises(AnalysisError, match="does not increase with scan rate"):
        fit_cdl(v, -CDL_F * v, CDL_F * v)
    with pytest.raises(AnalysisError, match="non-finite"):
        fit_cdl(v, np.r_[np.nan, CDL_F * v[1:]], -CDL_F * v)
    with pytest.raises(AnalysisError, match="positive"):
        fit_cdl(-v, CDL_F * v, -CDL_F * v)
    with pytest.raises(AnalysisError, match="one of each"):
        fit_cdl(v, CDL_F * v[:-1], -CDL_F * v)


# --------------------------------------------------------------------------- ECSA, activities


@pytest.mark.parametrize("seed", SEEDS)
def test_ecsa_roughness_and_specific_activity_within_5_percent(seed):
    cs = default_cs_mF_cm2("1 M KOH")
    area_cm2 = 0.196  # 5 mm disc
    I_sa_A, I_sa_err_A = 5e-3, 5e-5  # known current at sa_eta from the LSV
    ecsa_true = CDL_F * 1e3 / cs  # 50 cm2
    sa_true = I_sa_A * 1e3 / ecsa_true  # 0.1 mA/cm2

    v, ia, ic = series(seed, **LEAK)
    res = fit_cdl(v, ia, ic)
    ecsa, ecsa_err = ecsa_cm2(res.cdl_F, res.cdl_err_F, cs)
    rf, rf_err = roughness_factor(ecsa, area_cm2, ecsa_err)
    sa, sa_err = specific_activity_mA_cm2(I_sa_A, I_sa_err_A, ecsa, ecsa_err)

    assert ecsa == pytest.approx(ecsa_true, rel=0.05)
    assert rf == pytest.approx(ecsa_true / area_cm2, rel=0.05)
    assert sa == pytest.approx(sa_true, rel=0.05)
    assert ecsa_err == pytest.approx(res.cdl_err_F * 1e3 / cs)
    assert sa_err >= sa * I_sa_err_A / I_sa_A  # at least the current's own relative error


def test_error_propagation_known_numbers():
    assert ecsa_cm2(2e-3, 1e-4, 0.04) == pytest.approx((50.0, 2.5))
    assert roughness_factor(50.0, 0.2, 2.5) == pytest.approx((250.0, 12.5))
    sa, err = specific_activity_mA_cm2(-1e-3, 1e-5, 10.0, 0.5)  # cathodic (HER) current
    assert sa == pytest.approx(0.1)
    assert err == pytest.approx(0.1 * math.hypot(0.01, 0.05))
    assert specific_activity_mA_cm2(1e-3, None, 10.0, 0.0) == pytest.approx((0.1, 0.0))
    assert mass_activity_A_g(-1e-3, 0.2, 0.5) == pytest.approx(10.0)  # 1 mA / 0.1 mg


def test_invalid_metadata_is_a_metadata_error():
    with pytest.raises(MetadataError, match="loading_mg_cm2"):
        mass_activity_A_g(1e-3, 0.2, None)
    with pytest.raises(MetadataError, match="loading_mg_cm2"):
        mass_activity_A_g(1e-3, 0.2, 0.0)
    with pytest.raises(MetadataError, match="area"):
        roughness_factor(50.0, 0.0)
    with pytest.raises(MetadataError, match="specific_capacitance_mF_cm2"):
        ecsa_cm2(2e-3, 1e-4, -0.04)
    with pytest.raises(AnalysisError, match="ECSA"):
        specific_activity_mA_cm2(1e-3, 0.0, 0.0, 0.0)


@pytest.mark.parametrize(
    "electrolyte, cs",
    [("1 M KOH", 0.040), ("0.1 M NaOH", 0.040), ("alkaline", 0.040), ("1M LiOH", 0.040),
     ("1 M H2SO4", 0.035), ("0.5 M H2SO4", 0.035), ("0.1 M HClO4", 0.035), ("acidic", 0.035)],
)
def test_default_cs_by_electrolyte(electrolyte, cs):
    assert default_cs_mF_cm2(electrolyte) == pytest.approx(cs)


@pytest.mark.parametrize("electrolyte", [None, "", "1 M PBS pH 7", "0.5 M Na2SO4", "KOH + H2SO4"])
def test_default_cs_refuses_to_guess(electrolyte):
    with pytest.raises(MetadataError, match="specific_capacitance_mF_cm2"):
        default_cs_mF_cm2(electrolyte)


def test_cs_table_documents_values_ranges_and_sources():
    for entry in CS_DEFAULTS_MF_CM2.values():
        lo, hi = entry["range_mF_cm2"]
        assert lo < entry["cs_mF_cm2"] < hi
        assert "McCrory" in entry["source"] and "16977" in entry["source"]


# --------------------------------------------------------------------------- scan rate


@pytest.mark.parametrize("v", [0.005, 0.037, 0.1])
def test_scan_rate_from_dE_dt_with_noise(v):
    t, E, I = simulate_cv(v, np.random.default_rng(3), noise_I_A=1e-6, noise_E_V=2e-4)
    rate, source = scan_rate_V_s(E, t)
    assert source == "dE/dt"
    assert rate == pytest.approx(v, rel=0.01)


def test_scan_rate_from_staircase_potential():
    """PalmSens/Autolab staircase: E steps of 2.44 mV held for 2.44 mV / v each."""
    v = 0.02
    t = np.arange(0, 3 * 2 * 0.2 / v, 0.01)
    phase = (t * v) % 0.4
    E_smooth = np.where(phase < 0.2, phase, 0.4 - phase) - 0.1
    E = np.floor(E_smooth / 2.44e-3) * 2.44e-3
    rate, source = scan_rate_V_s(E, t)
    assert source == "dE/dt"
    assert rate == pytest.approx(v, rel=0.01)


def test_scan_rate_header_first_then_time_then_name():
    t, E, _ = simulate_cv(0.05)
    assert scan_rate_V_s(E, t, meta_scan_rate_V_s=0.02, file_name="cv_80mVs.txt") == (0.02, "file header")
    rate, source = scan_rate_V_s(E, t, meta_scan_rate_V_s=None, file_name="cv_80mVs.txt")
    assert source == "dE/dt" and rate == pytest.approx(0.05, rel=1e-3)
    assert scan_rate_V_s(E, None, file_name="cv_80mVs.txt") == (pytest.approx(0.08), "file name")
    assert scan_rate_V_s(E, None, meta_scan_rate_V_s=float("nan"), file_name="cv_80mVs.txt")[1] == "file name"


def test_scan_rate_unknown_is_an_actionable_error():
    _, E, _ = simulate_cv(0.05)
    with pytest.raises(AnalysisError, match=r"cv_scan1\.txt: cannot determine the scan rate.*20mVs"):
        scan_rate_V_s(E, None, None, "cv_scan1.txt")


@pytest.mark.parametrize(
    "name, v",
    [
        ("cv_20mVs.txt", 0.020),
        ("01 GC WE Pt RE Pt CE 10 mM ferricyanide in 100 mM KCl 20 mV scan rate.csv", 0.020),
        ("01_GC_WE_Pt_RE_Pt_CE_10_mM_ferricyanide_in_100_mM_KCl_20_mV_scan_rate.csv", 0.020),
        ("ECSA_0005mVs_scan1.csv", 0.005),
        ("NiFe_50mV-s.mpt", 0.050),
        ("cv_0.1Vs.DTA", 0.100),
        ("CV_100mVs-1.txt", 0.100),
        ("cdl_20mV_s.csv", 0.020),
        ("dl 2,5 mVs.txt", 0.0025),
        ("cv_80mVps.txt", 0.080),
        ("cv_10 mV per s.txt", 0.010),
        (r"C:\data\run1\cv_40mVs.txt", 0.040),
        ("/data/run1/CV_60MVS.csv", 0.060),
    ],
)
def test_scan_rate_from_file_name(name, v):
    assert scan_rate_from_name(name) == pytest.approx(v)


@pytest.mark.parametrize(
    "name",
    ["LSV_1.23VvsRHE.txt", "CV_IvsE.csv", "eis_10mV_amplitude.csv", "cv_scan1.txt",
     "Pt_0.5M_H2SO4.txt", "OER_1.5V_vs_RHE.mpt", "cv_20mV.txt"],
)
def test_no_scan_rate_in_file_name(name):
    assert scan_rate_from_name(name) is None


def test_two_scan_rates_in_a_name_is_an_error():
    with pytest.raises(AnalysisError, match="several scan rates"):
        scan_rate_from_name("cv_20mVs_50mVs.txt")


# --------------------------------------------------------------------------- cycles


def test_split_cycles_exact_triangle_both_directions():
    up = np.linspace(0.0, 0.1, 101)
    one = np.concatenate([up, up[::-1][1:]])  # 0 -> 0.1 -> 0, vertex at index 100
    E = np.concatenate([one, one[1:], one[1:]])
    cyc = split_cycles(E)
    assert cyc.tolist() == [1] * 201 + [2] * 200 + [3] * 200
    assert split_cycles(0.1 - E).tolist() == cyc.tolist()  # starting cathodic


def test_split_cycles_noisy_and_passthrough():
    _, E, _ = simulate_cv(0.05, np.random.default_rng(0), noise_E_V=3e-4)  # 3 cycles, 100 pts/sweep
    cyc = split_cycles(E)
    assert set(cyc.tolist()) == {1, 2, 3}
    counts = np.bincount(cyc)[1:]
    assert np.all(np.abs(counts - 200) <= 3)
    given = np.repeat([5, 6, 7], len(E) // 3 + 1)[: len(E)]
    assert split_cycles(E, given).tolist() == given.tolist()
    E_nan = E.copy()
    E_nan[[0, 150]] = np.nan
    c = split_cycles(E_nan)
    assert c[0] == 1 and c[150] == c[149]


def test_charging_currents_reads_the_last_complete_cycle_at_mid_window():
    v = 0.05
    t, E, I = simulate_cv(v, rp_ohm=1e12)  # ideal RC: i = ±Cdl*v at mid-window
    cc = charging_currents(E, I)
    assert cc.cycle == 3 and cc.complete_cycles == (1, 2, 3)
    assert cc.E_mid_V == pytest.approx(0.05, abs=1e-9)
    assert cc.i_anodic_A == pytest.approx(CDL_F * v, rel=1e-4)
    assert cc.i_cathodic_A == pytest.approx(-CDL_F * v, rel=1e-4)
    assert cc.charging_A == pytest.approx(CDL_F * v, rel=1e-4)

    # measurement stopped half-way through the 3rd cycle: the last complete one is cycle 2
    stop = int(2.5 * 200)
    cc = charging_currents(E[:stop], I[:stop])
    assert cc.cycle == 2 and cc.complete_cycles == (1, 2)
    assert charging_currents(E, I, which_cycle="first").cycle == 1
    assert charging_currents(E, I, which_cycle=2).cycle == 2
    with pytest.raises(AnalysisError, match=r"cycle 3 is incomplete.*\[1, 2\]"):
        charging_currents(E[:stop], I[:stop], which_cycle=3)
    with pytest.raises(AnalysisError, match="cycle 9 does not exist"):
        charging_currents(E, I, which_cycle=9)


def test_charging_currents_starting_cathodic_with_cycle_column_and_E_mid():
    v = 0.02
    t, E, I = simulate_cv(v, rp_ohm=1e12, start="down")
    cc = charging_currents(E, I, E_mid_V=0.07)
    assert cc.E_mid_V == 0.07
    assert cc.i_anodic_A == pytest.approx(CDL_F * v, rel=1e-4)
    assert cc.i_cathodic_A == pytest.approx(-CDL_F * v, rel=1e-4)
    # a vendor cycle column that starts counting at 0
    cyc = split_cycles(E) - 1
    cc = charging_currents(E, I, cycle=cyc)
    assert cc.cycle == 2 and cc.complete_cycles == (0, 1, 2)
    with pytest.raises(AnalysisError, match="outside the CV window"):
        charging_currents(E, I, E_mid_V=0.5)


def test_charging_currents_with_vendor_cycles_starting_mid_window():
    """EC-Lab style: the run starts at Ei = 0.05 V (mid-window) and a cycle runs Ei -> 0.1 ->
    0 -> Ei, so the default E_mid sits on the cycle boundary and every up-sweep is split
    between two cycles."""
    v = 0.05
    _, E, I = simulate_cv(v, np.random.default_rng(5), noise_I_A=1e-7, noise_E_V=5e-5, n_cycles=4)
    E, I = E[50:651], I[50:651]  # 3 cycles of 200 points from 0.05 V back to 0.05 V
    cycle = np.repeat([1, 2, 3], 200)
    cycle = np.append(cycle, 3)
    cc = charging_currents(E, I, cycle=cycle)
    assert cc.E_mid_V == pytest.approx(0.05, abs=5e-4)
    assert cc.cycle == cc.complete_cycles[-1] and len(cc.complete_cycles) >= 2
    assert cc.i_anodic_A == pytest.approx(CDL_F * v, rel=0.01)
    assert cc.i_cathodic_A == pytest.approx(-CDL_F * v, rel=0.01)


def test_charging_currents_not_a_cv():
    E = np.linspace(0, 0.1, 200)  # a single sweep
    with pytest.raises(AnalysisError, match="no complete cycle"):
        charging_currents(E, CDL_F * 0.05 + 0 * E)
    with pytest.raises(AnalysisError, match="differ in length"):
        charging_currents(E, E[:-1])


# --------------------------------------------------------------------------- plots


def test_plots_draw_with_units():
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from echem.plots.ecsa import plot_cdl_fit, plot_cv_overlay

    v, ia, ic = series(0, **LEAK)
    res = fit_cdl(v, ia, ic)
    fig = Figure(figsize=(8, 3))
    FigureCanvasAgg(fig)
    ax1, ax2 = fig.subplots(1, 2)
    cvs = [(r, *simulate_cv(r)[1:]) for r in RATES_V_S]
    plot_cv_overlay(ax1, cvs, E_mid_V=0.05)
    plot_cdl_fit(ax2, res, v, ia, ic)
    assert len(ax1.get_lines()) == len(RATES_V_S) + 2  # CVs + E_mid + zero line
    assert ax1.get_xlabel().startswith("E / V") and ax1.get_ylabel() == "I / µA"
    assert "mV s" in ax2.get_xlabel() and ax2.get_ylabel() == "charging current / µA"
    legend = [t.get_text() for t in ax2.get_legend().get_texts()]
    assert any(f"{res.cdl_F * 1e3:.3g}" in s and "mF" in s for s in legend)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    assert buf.getvalue()[:4] == b"\x89PNG"
