"""LSV stage against known answers from a kinetic model with noise.

The model (reaction direction, mA cm⁻²): Butler–Volmer with forward Tafel slope ``b`` and a
reverse branch of 118.3 mV/dec (α = 0.5), a mass-transport limit
``1/j = 1/j_k + 1/j_lim``, and a double-layer charging current ``Cdl · v`` in the sweep's
direction. The potentiostat measures ``E_meas = E_true + I·Ru·(1 − f_instr)`` against a
non-RHE reference, and the current carries Gaussian noise. The analytic overpotential at
a target is the root of ``j_total(eta) = target`` (what a perfect analysis of the total
current must return).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy.optimize import brentq

from echem.errors import AnalysisError, MetadataError
from echem.lsv import (
    analyse_lsv,
    current_at_overpotential,
    current_density_mA_cm2,
    ir_correct_V,
    select_sweep,
    split_sweeps,
)
from echem.reference import offset_to_rhe_V
from echem.tafel import fit_tafel

B_REVERSE = 118.3  # mV/dec
SLOPE_25C = 0.0591592  # V per pH
# offsets vs RHE written out independently of echem.reference (known answers)
TRUE_OFFSET = {
    ("Hg/HgO (1 M KOH)", 14.0): 0.926,
    ("Ag/AgCl (sat. KCl)", 0.0): 0.197,
    ("Ag/AgCl (3 M KCl)", 1.0): 0.210 + SLOPE_25C,
    ("SCE", 7.0): 0.241 + 7 * SLOPE_25C,
    ("SCE", 13.0): 0.241 + 13 * SLOPE_25C,
    ("RHE", None): 0.0,
}


def j_model(eta_mV, b, j0, jlim, jcap):
    """Total current density in the reaction's direction, mA/cm2."""
    eta = np.asarray(eta_mV, float)
    jk = j0 * (10 ** (eta / b) - 10 ** (-eta / B_REVERSE))
    return jk / (1 + np.abs(jk) / jlim) + jcap


def eta_at(target, b, j0, jlim, jcap):
    return brentq(lambda e: float(j_model(e, b, j0, jlim, jcap)) - target, -300, 3000, xtol=1e-9)


def record(reaction, eta_app_mV, *, b, j0, jlim=1000.0, cdl_mF_cm2=1.0, scan_V_s=0.005, area_cm2=0.196,
           ru_ohm=4.0, f_instr=0.0, offset_V=0.0, noise_rel=0.003, noise_abs_mA_cm2=0.002, seed=0):
    """(E_meas vs the reference in V, I in A) along a programmed potential path.

    The instrument controls ``E_meas``; the path gives it as the uncorrected overpotential
    ``eta_app = s·(E_meas + offset − E_eq)`` in mV, in time order. The true overpotential at
    each point solves ``eta_app = eta + j·area·Ru·(1 − f_instr)`` (reaction-direction j incl.
    charging current). ``j0`` may be an array (activity changing along the record). The
    charging current is +Cdl·v while the path drives the reaction harder, −Cdl·v back.
    """
    rng = np.random.default_rng(seed)
    s = -1 if reaction == "HER" else 1
    E_eq = 0.0 if reaction == "HER" else 1.23
    eta_app = np.asarray(eta_app_mV, float)
    d = np.sign(np.gradient(eta_app))
    d[d == 0] = 1
    j0 = np.broadcast_to(np.asarray(j0, float), eta_app.shape)
    jcap = cdl_mF_cm2 * scan_V_s
    grid = np.arange(-400.0, 3000.0, 0.02)
    eta = np.empty_like(eta_app)
    for j0_value in np.unique(j0):
        for direction in (-1, 1):
            sel = (j0 == j0_value) & (d == direction)
            if sel.any():
                j_grid = j_model(grid, b, j0_value, jlim, direction * jcap)
                app_grid = grid + j_grid * area_cm2 * ru_ohm * (1 - f_instr)  # mA*ohm = mV
                eta[sel] = np.interp(eta_app[sel], app_grid, grid)
    j = j_model(eta, b, j0, jlim, 0.0) + d * jcap
    I_true = s * j * area_cm2 * 1e-3
    E_meas = E_eq + s * eta_app * 1e-3 - offset_V
    sd = noise_rel * np.abs(I_true) + noise_abs_mA_cm2 * area_cm2 * 1e-3
    return E_meas, I_true + rng.normal(0.0, 1.0, eta.size) * sd


def applied_end(j_end, b, j0, *, jlim=1000.0, jcap=0.005, area_cm2=0.196, ru_ohm=4.0, f_instr=0.0):
    """Uncorrected overpotential (mV) at which the model reaches ``j_end`` mA/cm2, plus 10 mV."""
    return eta_at(j_end, b, j0, jlim, jcap) + j_end * area_cm2 * ru_ohm * (1 - f_instr) + 10.0


# --------------------------------------------------------------------------- basics


def test_current_density_and_ir_correction_known_values():
    assert current_density_mA_cm2([0.002, -0.004], 0.2) == pytest.approx([10.0, -20.0])
    # E_corr = E - f*I*Ru: 1.6 V - 0.8 * 0.01 A * 5 ohm = 1.56 V
    assert ir_correct_V([1.6], [0.01], 5.0, 0.8) == pytest.approx([1.56])
    assert ir_correct_V([-0.3], [-0.01], 5.0, 1.0) == pytest.approx([-0.25])
    assert ir_correct_V([0.5], [0.01], None, 1.0) == pytest.approx([0.5])
    with pytest.raises(MetadataError, match="area_cm2"):
        current_density_mA_cm2([1.0], 0.0)
    with pytest.raises(MetadataError):
        ir_correct_V([0.5], [0.01], -1.0, 1.0)
    with pytest.raises(MetadataError):
        ir_correct_V([0.5], [0.01], 1.0, 1.5)


# --------------------------------------------------------------------------- known answers

CASES = [
    # reaction, b (mV/dec), j0 (mA/cm2), reference, pH
    ("HER", 40.0, 0.01, "Ag/AgCl (sat. KCl)", 0.0),
    ("HER", 120.0, 0.05, "Hg/HgO (1 M KOH)", 14.0),
    ("HER", 60.0, 0.01, "SCE", 7.0),
    ("OER", 40.0, 1e-5, "Hg/HgO (1 M KOH)", 14.0),
    ("OER", 60.0, 1e-4, "Ag/AgCl (3 M KCl)", 1.0),
    ("OER", 120.0, 0.05, "SCE", 13.0),
]


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("f_instr", [0.0, 0.85])
@pytest.mark.parametrize("reaction, b, j0, ref, pH", CASES)
def test_pipeline_recovers_eta_and_tafel_slope(reaction, b, j0, ref, pH, f_instr, seed):
    jlim, cdl, v, area, ru = 1000.0, 1.0, 0.005, 0.196, 4.0
    jcap = cdl * v
    eta_max = applied_end(150, b, j0, jlim=jlim, jcap=jcap, area_cm2=area, ru_ohm=ru, f_instr=f_instr)
    path = np.arange(-40.0, eta_max, 1.0)
    E, I = record(reaction, path, b=b, j0=j0, jlim=jlim, cdl_mF_cm2=cdl, scan_V_s=v, area_cm2=area,
                  ru_ohm=ru, f_instr=f_instr, offset_V=TRUE_OFFSET[(ref, pH)], seed=seed)
    res = analyse_lsv(E, I, area_cm2=area, reaction=reaction, offset_to_rhe_V=offset_to_rhe_V(ref, pH),
                      ru_ohm=ru, ru_err_ohm=0.1, ir_fraction=1.0 - f_instr)
    for row, target in zip(res.rows, (10, 100)):
        assert row["reached"] is True
        assert row["reaction"] == reaction and row["target_mA_cm2"] == target
        assert row["eta_mV"] == pytest.approx(eta_at(target, b, j0, jlim, jcap), abs=1.0)
        assert row["eta_err_mV"] > 0
        assert row["ru_ohm"] == ru and row["ir_fraction"] == pytest.approx(1.0 - f_instr)
    tafel = fit_tafel(res.curve["eta_mV"], res.curve["j_mA_cm2"])
    assert tafel.slope_mV_dec == pytest.approx(b, abs=2.0)
    assert not tafel.audit["warnings"]


def test_uncorrected_curve_is_off_by_exactly_I_Ru():
    """Same data with f = 0: eta at 100 mA/cm2 grows by j·area·Ru (sign convention check)."""
    area, ru = 0.196, 4.0
    path = np.arange(-40.0, applied_end(150, 60, 0.01), 1.0)
    for reaction in ("HER", "OER"):
        E, I = record(reaction, path, b=60, j0=0.01, area_cm2=area, ru_ohm=ru, noise_rel=0.0,
                      noise_abs_mA_cm2=0.0)
        corr = analyse_lsv(E, I, area_cm2=area, reaction=reaction, offset_to_rhe_V=0.0, ru_ohm=ru,
                           ir_fraction=1.0, targets_mA_cm2=(100,))
        raw = analyse_lsv(E, I, area_cm2=area, reaction=reaction, offset_to_rhe_V=0.0, ru_ohm=ru,
                          ir_fraction=0.0, targets_mA_cm2=(100,))
        # at the same current, the uncorrected potential is further from equilibrium by I*Ru
        assert raw.rows[0]["eta_mV"] - corr.rows[0]["eta_mV"] == pytest.approx(100 * area * ru, abs=0.3)


def test_target_never_reached():
    b, j0 = 60.0, 0.01
    path = np.arange(-40.0, applied_end(50, b, j0) - 10, 1.0)  # stops at 50 mA/cm2
    E, I = record("HER", path, b=b, j0=j0, seed=3)
    res = analyse_lsv(E, I, area_cm2=0.196, reaction="HER", offset_to_rhe_V=0.0, ru_ohm=4.0, ir_fraction=1.0)
    r10, r100 = res.rows
    assert r10["reached"] is True and math.isfinite(r10["eta_mV"])
    assert r100["reached"] is False
    assert math.isnan(r100["eta_mV"]) and math.isnan(r100["eta_err_mV"]) and math.isnan(r100["E_RHE_V"])
    assert res.audit["targets"][1]["reached"] is False


def test_eta_error_grows_with_ru_uncertainty():
    area, ru, f = 0.196, 4.0, 1.0
    path = np.arange(-40.0, applied_end(150, 60, 0.01), 1.0)
    E, I = record("OER", path, b=60, j0=0.01, area_cm2=area, ru_ohm=ru, seed=5)
    errs = []
    for ru_err in (0.0, 0.2, 0.5, 1.0):
        res = analyse_lsv(E, I, area_cm2=area, reaction="OER", offset_to_rhe_V=0.0, ru_ohm=ru,
                          ru_err_ohm=ru_err, ir_fraction=f)
        errs.append(res.rows[1]["eta_err_mV"])
        noise = res.audit["targets"][1]["noise_err_mV"]
        # quadrature of the noise term and |I_target|*f*dRu (in mV)
        assert res.rows[1]["eta_err_mV"] == pytest.approx(math.hypot(noise, 100 * area * 1e-3 * f * ru_err * 1e3))
    assert errs == sorted(errs) and errs[-1] > errs[0] + 15


def test_eta_error_matches_scatter_over_seeds():
    """The reported noise error is an honest standard error (within a factor 2)."""
    b, j0 = 60.0, 0.01
    path = np.arange(-40.0, applied_end(150, b, j0), 1.0)
    etas, errs = [], []
    for seed in range(40):
        E, I = record("HER", path, b=b, j0=j0, noise_rel=0.03, seed=100 + seed)
        row = analyse_lsv(E, I, area_cm2=0.196, reaction="HER", offset_to_rhe_V=0.0, ru_ohm=4.0,
                          ir_fraction=1.0).rows[0]
        etas.append(row["eta_mV"])
        errs.append(row["eta_err_mV"])
    scatter = float(np.std(etas, ddof=1))
    assert 0.5 < float(np.mean(errs)) / scatter < 2.0
    assert abs(np.mean(etas) - eta_at(10, b, j0, 1000, 0.005)) < 3 * scatter / math.sqrt(len(etas)) + 0.2


def test_no_ru_means_no_correction_and_a_warning():
    path = np.arange(-40.0, applied_end(150, 60, 0.01), 1.0)
    E, I = record("HER", path, b=60, j0=0.01, ru_ohm=0.0, seed=1)
    res = analyse_lsv(E, I, area_cm2=0.196, reaction="HER", offset_to_rhe_V=0.0, ru_ohm=None, ir_fraction=1.0)
    assert all(r["ru_ohm"] is None and r["ir_fraction"] == 0.0 for r in res.rows)
    assert res.rows[0]["eta_mV"] == pytest.approx(eta_at(10, 60, 0.01, 1000, 0.005), abs=1.0)
    for row in res.rows:
        assert [f.code for f in row["flags"]] == ["no_ir"]
        assert "NOT iR-corrected" in row["flags"][0].message
    assert (res.curve["E_RHE_corr_V"] == res.curve["E_RHE_V"]).all()


def test_curve_columns_and_audit_are_contract():
    path = np.arange(-40.0, 400.0, 1.0)
    E, I = record("OER", path, b=60, j0=1e-4, seed=2, offset_V=0.926)
    res = analyse_lsv(E, I, area_cm2=0.196, reaction="oer", offset_to_rhe_V=0.926, ru_ohm=4.0,
                      ru_err_ohm=0.1, ir_fraction=1.0)
    assert list(res.curve.columns) == ["E_V", "E_RHE_V", "E_RHE_corr_V", "I_A", "j_mA_cm2", "eta_mV"]
    assert set(res.rows[0]) == {"reaction", "target_mA_cm2", "eta_mV", "eta_err_mV", "E_RHE_V", "ru_ohm",
                                "ir_fraction", "reached", "flags"}
    json.dumps(res.audit, allow_nan=False)
    assert res.audit["sweep"]["n_sweeps"] == 1 and res.audit["offset_to_rhe_V"] == 0.926
    assert res.audit["targets"][0]["neighbours"]
    # E_RHE_V of the row is the corrected potential at the target: E_eq + eta
    row = res.rows[0]
    assert row["E_RHE_V"] == pytest.approx(1.23 + row["eta_mV"] / 1e3, abs=1e-9)


@pytest.mark.parametrize("bad", [
    dict(reaction="ORR"), dict(area_cm2=-1.0), dict(targets_mA_cm2=(0,)), dict(offset_to_rhe_V=float("nan")),
    dict(ir_fraction=2.0),
])
def test_invalid_settings_raise_metadata_error(bad):
    path = np.arange(-40.0, 300.0, 1.0)
    E, I = record("HER", path, b=60, j0=0.01)
    kw = dict(area_cm2=0.196, reaction="HER", offset_to_rhe_V=0.0, ru_ohm=4.0, ir_fraction=1.0)
    kw.update(bad)
    with pytest.raises(MetadataError):
        analyse_lsv(E, I, **kw)


def test_wrong_direction_raises_analysis_error():
    path = np.arange(-40.0, 300.0, 1.0)
    E, I = record("OER", path, b=60, j0=0.01)  # anodic-only sweep
    with pytest.raises(AnalysisError, match="no cathodic"):
        analyse_lsv(E, I, area_cm2=0.196, reaction="HER", offset_to_rhe_V=0.0)


# --------------------------------------------------------------------------- sweeps


def _cv_path(eta_lo, eta_hi, n_cycles, step=1.0):
    """Cycles start at eta_lo (near equilibrium), drive to eta_hi and come back."""
    up = np.arange(eta_lo, eta_hi, step)
    one = np.concatenate([up, up[::-1][1:-1]])
    return np.concatenate([one] * n_cycles + [up[:1]])


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("reaction", ["HER", "OER"])
def test_multicycle_record_uses_the_last_full_sweep_in_the_reaction_direction(reaction, seed):
    b, jlim, jcap = 60.0, 1000.0, 0.005
    j0s = (0.002, 0.005, 0.02)  # the catalyst activates cycle by cycle
    eta_hi = applied_end(150, b, min(j0s))
    one = _cv_path(-40.0, eta_hi, 1)[:-1]
    path = np.concatenate([one] * 3 + [one[:1]])
    j0 = np.concatenate([np.full(one.size, v) for v in j0s] + [[j0s[-1]]])
    cycle_col = np.concatenate([np.full(one.size, k + 1) for k in range(3)] + [[3]])
    E, I = record(reaction, path, b=b, j0=j0, seed=seed)
    kw = dict(area_cm2=0.196, reaction=reaction, offset_to_rhe_V=0.0, ru_ohm=4.0, ir_fraction=1.0,
              targets_mA_cm2=(10,))
    truth = [eta_at(10, b, v, jlim, jcap) for v in j0s]
    last = analyse_lsv(E, I, **kw)
    assert last.audit["sweep"]["n_reaction_sweeps"] == 3
    assert last.rows[0]["eta_mV"] == pytest.approx(truth[2], abs=1.0)
    assert abs(last.rows[0]["eta_mV"] - truth[0]) > 20
    assert analyse_lsv(E, I, sweep="first", **kw).rows[0]["eta_mV"] == pytest.approx(truth[0], abs=1.0)
    assert analyse_lsv(E, I, sweep=1, **kw).rows[0]["eta_mV"] == pytest.approx(truth[1], abs=1.0)
    assert analyse_lsv(E, I, sweep=-3, **kw).rows[0]["eta_mV"] == pytest.approx(truth[0], abs=1.0)
    assert analyse_lsv(E, I, cycle=2, **kw).rows[0]["eta_mV"] == pytest.approx(truth[1], abs=1.0)
    by_col = analyse_lsv(E, I, cycle=2, cycle_numbers=cycle_col, **kw)
    assert by_col.rows[0]["eta_mV"] == pytest.approx(truth[1], abs=1.0)
    # the mask covers one monotonic sweep in the reaction's direction
    mask = select_sweep(E, I, reaction)
    Es = E[mask]
    direction = -1 if reaction == "HER" else 1
    assert mask.sum() == pytest.approx(one.size / 2, abs=2)
    assert direction * (Es[-1] - Es[0]) > 0.2
    with pytest.raises(AnalysisError, match="3"):
        analyse_lsv(E, I, sweep=5, **kw)
    with pytest.raises(AnalysisError, match="cycles"):
        analyse_lsv(E, I, cycle=7, cycle_numbers=cycle_col, **kw)


def test_aborted_final_sweep_is_skipped_with_a_warning():
    b, j0 = 60.0, 0.01
    eta_hi = applied_end(150, b, j0)
    path = np.concatenate([_cv_path(-40.0, eta_hi, 2), np.arange(-40.0, 60.0, 1.0)])  # 3rd sweep aborted
    E, I = record("HER", path, b=b, j0=j0, seed=4)
    res = analyse_lsv(E, I, area_cm2=0.196, reaction="HER", offset_to_rhe_V=0.0, ru_ohm=4.0, ir_fraction=1.0)
    assert res.audit["sweep"]["n_reaction_sweeps"] == 3
    assert res.audit["sweep"]["chosen_index"] == 1
    assert any("partial" in w for w in res.audit["warnings"])
    assert res.rows[1]["reached"] is True


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_staircase_noisy_potential_and_start_glitch(seed):
    """Staircase instrument (4 samples per 2 mV step), noisy E, a 180 mV glitch at the start."""
    rng = np.random.default_rng(seed)
    b, j0 = 60.0, 0.01
    steps = np.arange(-40.0, applied_end(150, b, j0), 2.0)
    path = np.repeat(steps, 4)
    E, I = record("HER", path, b=b, j0=j0, seed=seed)
    E = E + rng.normal(0, 0.0003, E.size)
    E = np.concatenate([[E[0] - 0.18], E])  # like the first point of dgbowl_yadg/lsv.mpt
    I = np.concatenate([[I[0] * 50], I])
    cathodic = [s for s in split_sweeps(E) if s.direction < 0]
    # the sweep starts at the highest point of the first (noisy, flat) step
    assert len(cathodic) == 1 and 1 <= cathodic[0].start <= 4 and cathodic[0].stop == E.size - 1
    res = analyse_lsv(E, I, area_cm2=0.196, reaction="HER", offset_to_rhe_V=0.0, ru_ohm=4.0, ir_fraction=1.0)
    assert res.rows[0]["eta_mV"] == pytest.approx(eta_at(10, b, j0, 1000, 0.005), abs=1.0)
    assert res.rows[1]["eta_mV"] == pytest.approx(eta_at(100, b, j0, 1000, 0.005), abs=1.0)


def test_split_sweeps_triangle():
    E = np.concatenate([np.linspace(0, -1, 101), np.linspace(-1, 0.2, 121)[1:], np.linspace(0.2, -0.5, 71)[1:]])
    sweeps = split_sweeps(E)
    assert [s.direction for s in sweeps] == [-1, 1, -1]
    assert [(s.start, s.stop) for s in sweeps] == [(0, 100), (100, 220), (220, 290)]


def test_initial_charging_spike_above_target_is_not_taken_as_the_crossing():
    b, j0 = 60.0, 0.01
    path = np.arange(-40.0, applied_end(150, b, j0), 1.0)
    E, I = record("HER", path, b=b, j0=j0, seed=0)
    I = I.copy()
    I[:3] = -0.196 * 30e-3  # 30 mA/cm2 cathodic spike at the start
    res = analyse_lsv(E, I, area_cm2=0.196, reaction="HER", offset_to_rhe_V=0.0, ru_ohm=4.0, ir_fraction=1.0)
    assert res.rows[0]["eta_mV"] == pytest.approx(eta_at(10, b, j0, 1000, 0.005), abs=1.0)


# --------------------------------------------------------------------------- current at eta


@pytest.mark.parametrize("reaction", ["HER", "OER"])
def test_current_at_overpotential(reaction):
    b, j0, area = 60.0, 0.01, 0.196
    path = np.arange(-40.0, applied_end(150, b, j0), 1.0)
    E, I = record(reaction, path, b=b, j0=j0, area_cm2=area, seed=7)
    res = analyse_lsv(E, I, area_cm2=area, reaction=reaction, offset_to_rhe_V=0.0, ru_ohm=4.0, ir_fraction=1.0)
    eta = 150.0
    I_A, I_err = current_at_overpotential(res.curve, eta)
    expected = float(j_model(eta, b, j0, 1000, 0.005)) * area * 1e-3
    assert I_A == pytest.approx(expected, rel=0.01)
    assert 0 < I_err < 0.01 * expected
    I2, err2 = current_at_overpotential(res.curve, eta, ru_err_ohm=0.5, ir_fraction=1.0)
    assert I2 == pytest.approx(I_A) and err2 > I_err
    assert all(math.isnan(v) for v in current_at_overpotential(res.curve, 5000.0))


def test_plot_polarisation_draws_on_given_axes():
    from matplotlib.figure import Figure

    from echem.plots.lsv import plot_polarisation

    path = np.arange(-40.0, applied_end(150, 60, 0.01), 1.0)
    curves = {}
    for label, reaction in (("a", "HER"), ("b", "HER")):
        E, I = record(reaction, path, b=60, j0=0.01)
        curves[label] = analyse_lsv(E, I, area_cm2=0.196, reaction=reaction, offset_to_rhe_V=0.0).curve
    ax = Figure().add_subplot()
    assert plot_polarisation(ax, curves, (10, 100)) is ax
    assert ax.get_xlabel() == "E / V vs RHE (iR-corrected)" and "mA cm" in ax.get_ylabel()
    assert len(ax.get_lines()) == 2 + 2 + 1  # two curves, two target lines (HER: negative), zero line
    assert sorted(line.get_ydata()[0] for line in ax.get_lines()[2:4]) == [-100, -10]


@pytest.mark.parametrize("seed", [0, 1])
def test_oer_read_on_the_backward_sweep(seed):
    """OER curves are often read on the backward sweep (away from a Ni redox peak)."""
    b, j0, jcap = 60.0, 1e-4, 0.005
    eta_hi = applied_end(150, b, j0)
    path = _cv_path(-40.0, eta_hi, 1)
    E, I = record("OER", path, b=b, j0=j0, seed=seed)
    kw = dict(area_cm2=0.196, reaction="OER", offset_to_rhe_V=0.0, ru_ohm=4.0, ir_fraction=1.0)
    fwd = analyse_lsv(E, I, **kw)
    back = analyse_lsv(E, I, sweep_direction="reverse", **kw)
    assert back.audit["sweep"]["chosen"]["direction"] == "cathodic"
    # on the way back the charging current opposes the OER current
    for row, target in zip(back.rows, (10, 100)):
        assert row["eta_mV"] == pytest.approx(eta_at(target, b, j0, 1000, -jcap), abs=1.0)
    for row, target in zip(fwd.rows, (10, 100)):
        assert row["eta_mV"] == pytest.approx(eta_at(target, b, j0, 1000, jcap), abs=1.0)
    with pytest.raises(AnalysisError, match="sweep_direction='reverse'"):
        analyse_lsv(E[path.argmax():], I[path.argmax():], **kw)


def test_shuffled_rows_are_named_as_such():
    """Rows sorted or shuffled in a spreadsheet are no sweep: the error says so (not 'check
    the reaction')."""
    rng = np.random.default_rng(0)
    E = np.linspace(0, -0.4, 400)
    I = -1e-5 * 10 ** (-E / 0.06)
    p = rng.permutation(E.size)
    with pytest.raises(AnalysisError, match="not a sweep in time order"):
        analyse_lsv(E[p], I[p], area_cm2=1.0, reaction="HER", offset_to_rhe_V=0.0)
    # the same rows in order are analysed
    assert analyse_lsv(E, I, area_cm2=1.0, reaction="HER", offset_to_rhe_V=0.0).rows[0]["reached"]


def test_overcorrected_curve_is_flagged():
    """The potentiostat compensated 96 % of Ru during the run; correcting the full Ru
    again bends the curve back (eta falls while |j| rises): flagged, never silent."""
    path = np.arange(-40.0, applied_end(150, 60, 0.01), 1.0)
    E, I = record("HER", path, b=60, j0=0.01, ru_ohm=0.0, seed=3)
    ok = analyse_lsv(E, I, area_cm2=0.196, reaction="HER", offset_to_rhe_V=0.0, ru_ohm=4.0, ir_fraction=0.0)
    assert all("ir_overcorrected" not in [f.code for f in r["flags"]] for r in ok.rows)
    bad = analyse_lsv(E, I, area_cm2=0.196, reaction="HER", offset_to_rhe_V=0.0, ru_ohm=40.0, ir_fraction=1.0)
    assert all("ir_overcorrected" in [f.code for f in r["flags"]] for r in bad.rows)
