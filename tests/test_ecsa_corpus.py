"""ECSA stage on the real CV scan-rate series of the corpus (read in place).

Both series are redox-probe CVs, not non-faradaic windows:

- D3TaLES (CHI, MIT): 10 mM ferricyanide in 0.1 M KCl on glassy carbon, -0.5..0.5 V,
  20-200 mV/s, 3 cycles each;
- gcarrascohuertas (PalmSens, GPL-3.0, read in place only): 0.7..-0.1 V, 5-60 mV/s, one
  cycle each, with a redox wave around 0.2 V.

So the Cdl from them is not a physical double-layer capacitance. The smoke test
checks that the whole chain runs on real exports (scan rate from header or name,
cycles, charging currents, fit) and gives a finite, positive slope, and that the
quality checks flag the faradaic series instead of passing it silently.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from echem.ecsa import (
    charging_currents,
    fit_cdl,
    scan_rate_from_name,
    scan_rate_V_s,
    split_cycles,
)

pytestmark = pytest.mark.corpus

SERIES = {
    # folder, glob, E_mid_V away from the probe's wave, expected scan rates (V/s),
    # expected source of the scan rate, expected complete cycles
    "chi_ferricyanide": (
        "D3TaLES_d3tales_api", "0*_scan_rate.csv", 0.45,
        (0.02, 0.05, 0.10, 0.15, 0.20), "file header", (1, 2, 3),
    ),
    "palmsens": (
        "gcarrascohuertas_electrochemical_ECSA_processing_palmsens", "ECSA_*mVs_scan1.csv", 0.65,
        (0.005, 0.010, 0.020, 0.040, 0.060), "file name", (1,),
    ),
}


def _read(path):
    import echem.io as eio

    return eio.read(path)


@pytest.mark.parametrize("key", sorted(SERIES))
def test_scan_rate_series_gives_finite_positive_cdl_and_flags_faradaic_current(corpus_dir, key):
    folder, pattern, E_mid_V, rates, source, cycles = SERIES[key]
    files = sorted((corpus_dir / folder).glob(pattern))
    assert len(files) == len(rates), files

    v, ia, ic = [], [], []
    for path, rate in zip(files, rates):
        m = _read(path)
        data = m.data
        E = data["E_V"].to_numpy(float)
        I = data["I_A"].to_numpy(float)
        t = data["time_s"].to_numpy(float) if "time_s" in data.columns else None
        cycle = data["cycle"].to_numpy() if "cycle" in data.columns else None

        value, src = scan_rate_V_s(E, t, m.meta.get("scan_rate_V_s"), path.name)
        assert value == pytest.approx(rate, rel=1e-6)
        assert src == source
        # the name states the same rate as the header or the data
        assert scan_rate_from_name(path.name) == pytest.approx(rate, rel=1e-6)

        # cycles cut at the vertices agree with the reader's cycle column (if any)
        if cycle is not None:
            assert np.array_equal(split_cycles(E), cycle)

        cc = charging_currents(E, I, cycle, E_mid_V=E_mid_V)
        assert cc.complete_cycles == cycles
        assert cc.cycle == cycles[-1]
        assert math.isfinite(cc.i_anodic_A) and math.isfinite(cc.i_cathodic_A)
        # the anodic sweep carries more current than the cathodic one at the same E
        assert cc.i_anodic_A > cc.i_cathodic_A
        v.append(value)
        ia.append(cc.i_anodic_A)
        ic.append(cc.i_cathodic_A)

    res = fit_cdl(v, ia, ic)
    assert math.isfinite(res.cdl_F) and res.cdl_F > 0
    assert math.isfinite(res.cdl_err_F) and 0 < res.cdl_err_F < res.cdl_F
    assert res.n_scan_rates == len(rates)
    # ferri/ferrocyanide current on both sweeps: the anodic and cathodic slopes disagree
    assert res.asymmetry > 0.2
    assert any("slopes differ" in w for w in res.warnings), res.warnings
