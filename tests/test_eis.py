"""EIS stage: circuit evaluation, automatic guesses, fits and the Lin-KK check.

Known answers come from spectra simulated with the circuits themselves, 1 MHz to
0.1 Hz at 10 points per decade, with 0.5 % proportional complex noise:
Z_noisy = Z (1 + 0.005 (ε1 + j ε2)), ε standard normal, seeded. The modulus-weighted
relative residual per component then has variance 0.005², so chi2 ≈ 2.5e-5.
"""

from __future__ import annotations

import json
import time
import warnings

import numpy as np
import pytest

from echem import eis
from echem.eis.guess import initial_guess
from echem.eis.validation import lin_kk
from echem.errors import AnalysisError

FREQ = np.logspace(6, -1, 71)
NOISE = 0.005


def noisy(Z: np.ndarray, seed: int, sigma: float = NOISE) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return Z * (1 + sigma * (rng.standard_normal(Z.size) + 1j * rng.standard_normal(Z.size)))


# circuit, true parameters (impedance.py order)
CASES = [
    ("R0-p(R1,CPE1)", [1.0, 5.0, 1e-5, 0.95]),
    ("R0-p(R1,CPE1)", [10.0, 100.0, 1e-4, 0.9]),
    ("R0-p(R1,CPE1)", [50.0, 500.0, 1e-3, 0.8]),
    ("R0-p(R1,CPE1)", [2.0, 500.0, 1e-5, 0.85]),
    ("R0-p(R1,CPE1)", [50.0, 20.0, 1e-4, 0.9]),
    ("p(R1,CPE1)-CPE2", [1e3, 1e-9, 0.9, 1e-6, 0.8]),
    ("p(R1,CPE1)-CPE2", [1e6, 1e-10, 0.85, 1e-7, 0.7]),
    ("p(R1,CPE1)-CPE2", [1e9, 1e-11, 0.95, 1e-9, 0.8]),
    ("p(R1,CPE1)-CPE2", [1e8, 1e-11, 0.8, 3e-9, 0.9]),
    ("R0-p(R1,CPE1)-W1", [10.0, 100.0, 1e-4, 0.9, 50.0]),
    ("R0-p(R1,CPE1)-W1", [5.0, 30.0, 1e-5, 0.85, 20.0]),
    ("R0-p(R1,CPE1)-Wo1", [10.0, 100.0, 1e-4, 0.9, 200.0, 1.0]),
    ("R0-p(R1,CPE1)-p(R2,CPE2)", [10.0, 100.0, 1e-6, 0.9, 300.0, 1e-3, 0.85]),
]
SEEDS = [0, 1, 2, 3]


def _check_params(fit: eis.EISFit, truth: list[float]) -> None:
    for p, true in zip(fit.params, truth):
        name, unit, value = p["param"], p["unit"], p["value"]
        if unit == "":  # exponents: absolute tolerance
            assert abs(value - true) <= 0.02, f"{fit.circuit} {name}: {value:.4f} vs {true}"
        elif unit == "Ohm":  # resistances: 3 %
            assert abs(value / true - 1) <= 0.03, f"{fit.circuit} {name}: {value:.5g} vs {true}"
        else:  # Q, C, W, tau: 10 % (they trade off with the exponents)
            assert abs(value / true - 1) <= 0.10, f"{fit.circuit} {name}: {value:.5g} vs {true}"


# ----------------------------------------------------------------------------- circuits


IMPEDANCE_PY_CIRCUITS = [
    ("R0-p(R1,CPE1)", [10, 100, 1e-4, 0.9]),
    ("p(R1,CPE1)-CPE2", [1e6, 1e-10, 0.85, 1e-7, 0.7]),
    ("R0-p(R1,C1)-L1", [3, 40, 1e-6, 1e-7]),
    ("R0-p(R1-Wo1,CPE1)", [10, 100, 50, 2.0, 1e-4, 0.9]),
    ("R0-p(R1,CPE1)-Ws1-W2", [10, 100, 1e-4, 0.9, 30, 0.5, 5]),
    ("R0-La1-p(R1,CPE1)-p(R2,C2)", [1, 1e-6, 0.8, 20, 1e-5, 0.9, 50, 1e-2]),
    ("R0-G1-K1-Zarc1", [1, 20, 1e-3, 30, 1e-4, 10, 1e-2, 0.8]),
    ("R0-Gs1-TLMQ1", [1, 20, 1e-3, 2.0, 50, 1e-4, 0.9]),
]


@pytest.mark.parametrize("circuit,params", IMPEDANCE_PY_CIRCUITS)
def test_simulate_matches_impedance_py(circuit, params):
    from impedance.models.circuits import CustomCircuit

    cc = CustomCircuit(circuit, initial_guess=[float(p) for p in params])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = cc.predict(FREQ, use_initial=True)
    np.testing.assert_allclose(eis.simulate(circuit, params, FREQ), expected, rtol=1e-10)
    names, units = eis.param_names(circuit)
    assert (names, units) == tuple(map(list, cc.get_param_names()))


@pytest.mark.parametrize("circuit,params", IMPEDANCE_PY_CIRCUITS)
def test_analytic_jacobian_matches_finite_differences(circuit, params):
    model = eis.circuit_model(circuit)
    w = 2 * np.pi * FREQ
    p = np.array(params, float)
    _, J = model.impedance_jac(p, w)
    for i in range(p.size):
        h = 1e-6 * p[i]
        up, down = p.copy(), p.copy()
        up[i] += h
        down[i] -= h
        fd = (model.impedance(up, FREQ) - model.impedance(down, FREQ)) / (2 * h)
        scale = np.max(np.abs(fd)) + 1e-300
        assert np.max(np.abs(J[i] - fd)) <= 1e-5 * scale, model.names[i]


def test_bad_circuits_raise_analysis_error():
    for bad in ("R0-p(R1,CPE1", "R0-X1", "R0--R1", "", "R0-p(R1,R0)"):
        with pytest.raises(AnalysisError):
            eis.circuit_model(bad)


# ---------------------------------------------------------------------------- fitting


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("circuit,truth", CASES, ids=[f"{c}:{p[0]:g}" for c, p in CASES])
def test_fit_recovers_parameters_from_automatic_guess(circuit, truth, seed):
    Z = noisy(eis.simulate(circuit, truth, FREQ), seed)
    fit = eis.fit_spectrum(FREQ, Z, circuit)
    _check_params(fit, truth)
    assert fit.kk_ok
    # chi2 at the noise floor: the modulus-relative residual variance is NOISE**2
    assert 0.6 * NOISE**2 < fit.chi2 < 1.5 * NOISE**2
    assert fit.audit["initial_guess"]["derivation"]["method"] == "data-derived (echem.eis.guess)"


def test_standard_errors_cover_the_truth():
    """Over 20 seeds, |fit − truth| ≤ 3 σ for ~all parameters (σ from the Jacobian)."""
    circuit, truth = "R0-p(R1,CPE1)", [10.0, 100.0, 1e-4, 0.9]
    z_scores = []
    for seed in range(20):
        fit = eis.fit_spectrum(FREQ, noisy(eis.simulate(circuit, truth, FREQ), 100 + seed), circuit)
        for p, t in zip(fit.params, truth):
            assert 0 < p["stderr"] < abs(p["value"])
            z_scores.append((p["value"] - t) / p["stderr"])
    z = np.abs(z_scores)
    assert np.mean(z <= 3) >= 0.95
    # and the errors are not grossly overestimated either
    assert 0.5 < np.std(z_scores) < 1.6


@pytest.mark.parametrize("weighting", ["modulus", "proportional", "unit"])
def test_weightings_recover_parameters(weighting):
    """Each weighting with the noise model it is right for."""
    circuit, truth = "R0-p(R1,CPE1)", [10.0, 100.0, 1e-4, 0.9]
    Z = eis.simulate(circuit, truth, FREQ)
    rng = np.random.default_rng(7)
    e1, e2 = rng.standard_normal((2, Z.size))
    if weighting == "modulus":
        Z = Z + NOISE * np.abs(Z) * (e1 + 1j * e2)
    elif weighting == "proportional":
        Z = Z.real * (1 + NOISE * e1) + 1j * Z.imag * (1 + NOISE * e2)
    else:
        Z = Z + 0.2 * (e1 + 1j * e2)  # 0.2 Ohm, constant
    fit = eis.fit_spectrum(FREQ, Z, circuit, weighting=weighting)
    _check_params(fit, truth)
    assert fit.audit["weighting"] == weighting


def test_initial_guess_explains_itself_and_is_close():
    circuit, truth = "R0-p(R1,CPE1)", [10.0, 100.0, 1e-4, 0.9]
    Z = noisy(eis.simulate(circuit, truth, FREQ), 3)
    values, how = initial_guess(FREQ, Z, circuit)
    assert len(values) == 4
    assert abs(values[0] / 10 - 1) < 0.1 and abs(values[1] / 100 - 1) < 0.2
    assert abs(values[3] - 0.9) < 0.1
    assert set(how["per_element"]) == {"R0", "R1", "CPE1"}
    json.dumps(how)


def test_user_guess_and_bounds_are_used_and_recorded():
    circuit, truth = "R0-p(R1,CPE1)", [10.0, 100.0, 1e-4, 0.9]
    Z = noisy(eis.simulate(circuit, truth, FREQ), 5)
    fit = eis.fit_spectrum(
        FREQ, Z, circuit, initial_guess=[1, 1, 1e-3, 0.8], bounds=([0, 0, 0, 0.5], [1e3, 1e4, 1, 1])
    )
    _check_params(fit, truth)
    assert fit.audit["bounds"]["source"] == "user"
    assert fit.audit["starts"][0]["initial"] == [1, 1, 1e-3, 0.8]
    with pytest.raises(AnalysisError, match="needs 4"):
        eis.fit_spectrum(FREQ, Z, circuit, initial_guess=[1, 2])
    with pytest.raises(AnalysisError, match="weighting"):
        eis.fit_spectrum(FREQ, Z, circuit, weighting="sigma")
    with pytest.raises(AnalysisError, match="usable points"):
        eis.fit_spectrum(FREQ[-4:], Z[-4:], circuit)


def test_audit_is_json_and_complete():
    circuit, truth = eis.FILM_CIRCUIT, [1e6, 1e-10, 0.85, 1e-7, 0.7]
    fit = eis.fit_spectrum(FREQ, noisy(eis.simulate(circuit, truth, FREQ), 0), circuit)
    audit = json.loads(json.dumps(fit.audit))
    for key in ("circuit", "initial_guess", "bounds", "weighting", "n_starts", "result", "chi2", "kk", "trimmed", "versions"):
        assert key in audit
    assert set(audit["versions"]) >= {"impedance", "scipy", "numpy"}
    rows = fit.rows()
    assert [r["param"] for r in rows] == ["R1", "CPE1_0", "CPE1_1", "CPE2_0", "CPE2_1"]
    assert [r["unit"] for r in rows] == ["Ohm", "Ohm^-1 sec^a", "", "Ohm^-1 sec^a", ""]
    assert fit.residuals_rel_re.shape == fit.freq_Hz.shape == fit.Z_fit.shape


def test_rs_is_r0_for_catalyst_and_hf_intercept_for_film():
    truth = [12.0, 80.0, 1e-4, 0.9]
    fit = eis.fit_spectrum(FREQ, noisy(eis.simulate(eis.CATALYST_CIRCUIT, truth, FREQ), 1), eis.CATALYST_CIRCUIT)
    assert fit.Rs_ohm == fit.value("R0")
    assert abs(fit.Rs_ohm / 12 - 1) < 0.01
    film = eis.fit_spectrum(
        FREQ, noisy(eis.simulate(eis.FILM_CIRCUIT, [1e6, 1e-10, 0.9, 1e-7, 0.8], FREQ), 1), eis.FILM_CIRCUIT
    )
    rs = film.series_resistance()
    # no series resistor in the film circuit and the arc starts at the origin: the
    # extrapolation gives 0 within its error, so only a bound, tighter than Z'(f_max)
    assert rs.status == "bound" and rs.value_ohm is None and np.isnan(film.Rs_ohm)
    assert [f.code for f in rs.flags] == ["ru_bound_only"]
    assert 0 < rs.bound_ohm < min(rs.audit["Z_re_at_f_max_ohm"], 0.001 * 1e6)


def test_hf_intercept_extrapolates_and_interpolates():
    # capacitive up to f_max: extrapolation along the arc
    for r0, r1, q, n in [(10, 100, 1e-4, 0.9), (1, 5, 1e-5, 0.95), (50, 500, 1e-3, 0.8)]:
        Z = eis.simulate("R0-p(R1,CPE1)", [r0, r1, q, n], FREQ)
        assert abs(eis.hf_intercept_ohm(FREQ, Z) / r0 - 1) < 0.02
    # inductive above ~100 kHz: interpolation at the zero crossing
    Z = eis.simulate("L0-R0-p(R1,C1)", [2e-7, 5.0, 50.0, 1e-4], FREQ)
    assert np.any(Z.imag > 0)
    assert abs(eis.hf_intercept_ohm(FREQ, Z) / 5.0 - 1) < 0.01
    # order does not matter
    assert eis.hf_intercept_ohm(FREQ[::-1], Z[::-1]) == eis.hf_intercept_ohm(FREQ, Z)


def test_inductive_tail_is_trimmed_and_recorded():
    truth = [5.0, 50.0, 1e-4, 0.9]
    Z = noisy(eis.simulate("L0-R0-p(R1,CPE1)", [1e-7] + truth, FREQ), 2)
    # contiguous run of Z'' > 0 from f_max down (noise may flip a point near the crossing)
    n_inductive = int(np.argmax(Z.imag <= 0))
    assert n_inductive >= 5
    fit = eis.fit_spectrum(FREQ, Z, eis.CATALYST_CIRCUIT)
    rec = [t for t in fit.trimmed if "inductive" in t["reason"]]
    assert rec and rec[0]["n"] == n_inductive
    assert fit.freq_Hz.size == FREQ.size - n_inductive
    assert abs(fit.value("R1") / 50 - 1) < 0.03
    # a circuit with an inductor keeps the points and fits L
    fit_l = eis.fit_spectrum(FREQ, Z, "L0-R0-p(R1,CPE1)")
    assert not fit_l.trimmed and fit_l.freq_Hz.size == FREQ.size
    assert abs(fit_l.value("L0") / 1e-7 - 1) < 0.05
    _check_params(fit_l, [1e-7] + truth)
    # trimming can be switched off: then the inductive points are kept
    kept = eis.fit_spectrum(FREQ, Z, eis.CATALYST_CIRCUIT, trim_inductive=False)
    assert kept.freq_Hz.size == FREQ.size


def test_duplicates_and_bad_points_are_dropped_and_recorded():
    truth = [10.0, 100.0, 1e-4, 0.9]
    Z = noisy(eis.simulate(eis.CATALYST_CIRCUIT, truth, FREQ), 4)
    f = np.concatenate([FREQ, FREQ[10:12], [np.nan]])
    z = np.concatenate([Z, Z[10:12] * 1.5, [1 + 1j]])
    fit = eis.fit_spectrum(f, z, eis.CATALYST_CIRCUIT)
    reasons = {t["reason"]: t["n"] for t in fit.trimmed}
    assert reasons["duplicate frequency (first measurement kept)"] == 2
    assert reasons["non-finite value, Z = 0 or frequency <= 0"] == 1
    assert fit.freq_Hz.size == FREQ.size
    assert np.all(np.diff(fit.freq_Hz) > 0)
    _check_params(fit, truth)


# ----------------------------------------------------------------------- Kramers-Kronig


def _drifting(truth, drift, f=FREQ):
    """R1 grows by ``drift`` (fraction) over the sweep; sweep from high to low frequency."""
    t = np.cumsum(3 / f + 0.5)  # 3 periods + 0.5 s settling per point
    return np.array(
        [eis.simulate(eis.CATALYST_CIRCUIT, [truth[0], truth[1] * (1 + drift * ti / t[-1])] + truth[2:], [fi])[0] for fi, ti in zip(f, t)]
    )


KK_TRUTHS = [[10.0, 100.0, 1e-4, 0.9], [50.0, 500.0, 1e-3, 0.8], [1.0, 5.0, 1e-5, 0.95]]


@pytest.mark.parametrize("truth", KK_TRUTHS)
def test_kk_passes_clean_spectra(truth):
    for seed in range(10):
        r = lin_kk(FREQ, noisy(eis.simulate(eis.CATALYST_CIRCUIT, truth, FREQ), seed))
        assert r.systematic_max_pct < 0.8
        assert 0.3 < r.rms_pct < 0.6  # the residual is the noise


@pytest.mark.parametrize("truth", KK_TRUTHS)
def test_kk_flags_drift_and_non_causal_distortion(truth):
    tau = (truth[1] * truth[2]) ** (1 / truth[3])
    f_apex = 1 / (2 * np.pi * tau)
    clean = eis.simulate(eis.CATALYST_CIRCUIT, truth, FREQ)
    # a 5 % bump in Z' alone, one decade wide at the arc apex: no Z'' counterpart
    bump = clean + 0.05 * np.abs(clean) * np.exp(-0.5 * (np.log10(FREQ / f_apex) / 0.3) ** 2)
    drift = _drifting(truth, 0.5)
    for seed in range(3):
        for distorted in (bump, drift):
            Z = noisy(distorted, seed)
            with pytest.warns(UserWarning, match="Kramers-Kronig"):
                fit = eis.fit_spectrum(FREQ, Z, eis.CATALYST_CIRCUIT)
            assert not fit.kk_ok
            assert fit.kk["systematic_max_pct"] > 1.0


def test_trim_lf_drift_removes_the_drifting_end():
    truth = [10.0, 100.0, 1e-4, 0.9]
    Z = noisy(_drifting(truth, 1.0), 0)
    with pytest.warns(UserWarning):
        plain = eis.fit_spectrum(FREQ, Z, eis.CATALYST_CIRCUIT)
    trimmed = eis.fit_spectrum(FREQ, Z, eis.CATALYST_CIRCUIT, trim_lf_drift=True)
    rec = [t for t in trimmed.trimmed if "drift" in t["reason"]]
    assert rec and rec[0]["n"] >= 3
    assert min(rec[0]["freq_Hz"]) == FREQ.min()
    assert trimmed.freq_Hz.min() > FREQ.min()
    assert trimmed.kk["systematic_max_pct"] < plain.kk["systematic_max_pct"]


def test_lin_kk_coefficients_match_impedance_py():
    from impedance.validation import fit_linKK, get_tc_distribution

    Z = noisy(eis.simulate(eis.FILM_CIRCUIT, [1e6, 1e-10, 0.85, 1e-7, 0.7], FREQ), 0)
    for M in (5, 12, 20):
        ours = lin_kk(FREQ, Z, M=M, add_cap=True)
        ts = get_tc_distribution(FREQ, M)
        np.testing.assert_allclose(ours.tau_s, ts, rtol=1e-12)
        theirs, mu = fit_linKK(FREQ, ts, M, Z, fit_type="complex", add_cap=True)
        # same fitted spectrum (coefficients of near-collinear columns may differ slightly)
        w = 2 * np.pi * FREQ
        Zt = theirs[0] + (theirs[1 : M + 1][None, :] / (1 + 1j * w[:, None] * ts[None, :])).sum(1)
        Zt = Zt + 1j * w * theirs[-1] - 1j * theirs[-2] / w
        np.testing.assert_allclose(ours.Z_fit, Zt, rtol=1e-6, atol=1e-9 * np.abs(Z).max())


# ------------------------------------------------------------------------------- speed


def test_fit_is_fast():
    """CPU time per spectrum (71 points, default circuits) well under 0.1 s."""
    times = []
    for circuit, truth in CASES[:9]:
        Z = noisy(eis.simulate(circuit, truth, FREQ), 11)
        eis.fit_spectrum(FREQ, Z, circuit)  # warm caches
        t = time.process_time()
        eis.fit_spectrum(FREQ, Z, circuit)
        times.append(time.process_time() - t)
    assert np.median(times) < 0.1, times


# ------------------------------------------------------------------------------- plots


def test_plots_draw_data_fit_and_residuals():
    from echem.plots.eis import eis_figure, plot_bode, plot_nyquist, plot_residuals

    truth = [10.0, 100.0, 1e-4, 0.9]
    Z = noisy(eis.simulate(eis.CATALYST_CIRCUIT, truth, FREQ), 0)
    fit = eis.fit_spectrum(FREQ, Z, eis.CATALYST_CIRCUIT)
    fig = eis_figure(fit, "sample A")
    ax_nyq, ax_res, ax_mag, ax_ph = fig.axes[:4]
    x, y = ax_nyq.lines[0].get_data()
    np.testing.assert_allclose(x, fit.Z.real)
    np.testing.assert_allclose(y, -fit.Z.imag)
    fx, fy = ax_nyq.lines[1].get_data()  # fitted curve spans the arc
    assert fx.min() < 10.5 and fx.max() > 105
    assert ax_nyq.get_xlabel() == "Z' / Ω" and ax_mag.get_yscale() == "log"
    np.testing.assert_allclose(ax_res.lines[0].get_ydata(), 100 * fit.residuals_rel_re)
    # a bare spectrum (no fit) draws only the points
    from matplotlib.figure import Figure

    f2 = Figure()
    ax = f2.add_subplot()
    plot_nyquist(ax, (FREQ, Z), "raw")
    assert len(ax.lines) == len(ax_nyq.lines) - 1  # points and the zero line, no fit curve
    ax_m, ax_p = f2.add_subplot(2, 1, 1), f2.add_subplot(2, 1, 2)
    plot_bode(ax_m, ax_p, (FREQ, Z))
    np.testing.assert_allclose(ax_p.lines[0].get_ydata(), -np.degrees(np.angle(Z)))
    plot_residuals(f2.add_subplot(), fit, show_kk=False)


def test_fit_and_plot_import_neither_pyplot_nor_impedance_py():
    """Fitting and plotting must not load pyplot (thread safety) nor impedance.py (slow import)."""
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import sys, numpy as np\n"
        "from echem import eis\n"
        "from echem.plots.eis import eis_figure\n"
        "f = np.logspace(5, -1, 40)\n"
        "fit = eis.fit_spectrum(f, eis.simulate('R0-p(R1,CPE1)', [1, 10, 1e-4, 0.9], f))\n"
        "eis_figure(fit)\n"
        "bad = [m for m in ('matplotlib.pyplot', 'impedance') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
