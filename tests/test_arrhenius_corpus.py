"""Arrhenius stage on a real solid electrolyte: EISFitpython's s04147 series.

Seven Novocontrol spectra (1 MHz .. 0.03 Hz) of one sample at 140..200 °C, blocking
electrodes: one arc and a low-frequency spike. The sample geometry is not published
with the data; Ea does not depend on it, so a nominal through-plane geometry is used.

Known answer: EISFitpython's own analysis of these files
(Sheyigold/EISFitpython@b45e3d5316c65f16b88d54d6e446d17642c87efe,
Example_scripts/Example3/Arrhenius_Analysis_Report.txt and Example4/...) reports for the
total resistance, law sigma*T: Ea = 0.8555 ± 0.0006 eV (batch fit) and
0.8566 ± 0.0007 eV (single-chi fit).
"""

from __future__ import annotations

import numpy as np
import pytest

from echem.arrhenius import (
    K_B_EV_K,
    arc_in_range,
    conductivity_S_cm,
    fit_arrhenius,
    split_runs,
    temperature_C_from_name,
)

pytestmark = pytest.mark.corpus

PUBLISHED_EA_EV = 0.856
NOMINAL = {"kind": "through-plane", "thickness_cm": 0.1, "area_cm2": 0.25}


@pytest.fixture(scope="module")
def series(corpus_dir):
    """(file name, freq_Hz, Z) per file, in temperature order, read with echem.io."""
    files = sorted((corpus_dir / "Sheyigold_EISFitpython").glob("s04147-*deg.txt"))
    assert len(files) == 7, f"expected 7 s04147 files in the corpus, found {len(files)}"
    from echem.io import read

    out = []
    for path in files:
        d = read(path).data
        Z = d["Z_re_ohm"].to_numpy(float) + 1j * d["Z_im_ohm"].to_numpy(float)
        out.append((path.name, d["freq_Hz"].to_numpy(float), Z))
    return out


def _r_low_frequency_end_of_arc(freq_Hz, Z):
    """Z' at the minimum of -Z'' between the arc and the electrode spike."""
    order = np.argsort(freq_Hz)[::-1]  # high -> low frequency
    m, zr = -Z.imag[order], Z.real[order]
    peaks = [k for k in range(1, m.size - 1) if m[k] >= m[k - 1] and m[k] >= m[k + 1]]
    assert peaks, "no arc apex in the spectrum"
    k0 = peaks[0]
    dips = [k for k in range(k0 + 1, m.size - 1) if m[k] <= m[k - 1] and m[k] <= m[k + 1]]
    assert dips, "the arc does not close before the lowest frequency"
    return float(zr[dips[0]])


def test_names_give_the_temperatures(series):
    temps = [temperature_C_from_name(name) for name, _, _ in series]
    assert temps == [140.0, 150.0, 160.0, 170.0, 180.0, 190.0, 200.0]
    assert split_runs(temps, [name for name, _, _ in series]) == ["single"] * 7


def test_arc_end_resistances_give_published_Ea(series):
    T = np.array([temperature_C_from_name(name) for name, _, _ in series])
    R = np.array([_r_low_frequency_end_of_arc(f, Z) for _, f, Z in series])
    assert np.all(np.diff(R) < 0), "resistance must fall as temperature rises"
    sigma, _ = conductivity_S_cm(R, None, NOMINAL)
    res = fit_arrhenius(T, sigma, labels=[name for name, _, _ in series])
    assert np.isfinite(res.Ea_eV) and 0.1 < res.Ea_eV < 1.5
    assert res.Ea_eV == pytest.approx(PUBLISHED_EA_EV, abs=0.02)
    assert res.r2 > 0.999 and res.n_points == 7


def test_eis_fit_resistances_give_published_Ea(series):
    from echem.eis import fit_spectrum
    T, R, R_err, reasons = [], [], [], []
    for name, f, Z in series:
        fit = fit_spectrum(f, Z, "p(R1,CPE1)-CPE2")
        R.append(fit.value("R1"))
        R_err.append(fit.stderr("R1"))
        ok, why = arc_in_range(fit.params, f, circuit="p(R1,CPE1)-CPE2")
        reasons.append(None if ok else why)
        T.append(temperature_C_from_name(name))
    assert reasons == [None] * 7  # apex 5 kHz .. 0.1 MHz, inside 0.03 Hz .. 1 MHz
    sigma, sigma_err = conductivity_S_cm(np.array(R), np.array(R_err, float), NOMINAL)
    res = fit_arrhenius(T, sigma, sigma_err, exclude=reasons)
    assert res.Ea_eV == pytest.approx(PUBLISHED_EA_EV, abs=0.01)
    assert 0 < res.Ea_err_eV < 0.01
    assert res.audit["weighting"] == "1/relative sigma error"
    # the other law on the same data: lower by k_B * T, T inside 413..473 K
    res_s = fit_arrhenius(T, sigma, sigma_err, law="sigma")
    assert K_B_EV_K * 413 < res.Ea_eV - res_s.Ea_eV < K_B_EV_K * 474
