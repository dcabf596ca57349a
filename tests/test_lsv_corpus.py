"""Smoke test of the LSV and Tafel stages on real EC-Lab exports (dgbowl/yadg, GPL-3.0, read in place).

``lsv.mpt``: a cathodic sweep from -0.06 to -4.0 V vs SCE reaching -133 mA (a CO2/H2
electrolysis test on Ag; the header area, 0.001 cm², is a placeholder, so the area is
given here). ``lsv.issue_195.mpt``: a dummy cell (a resistor) swept anodically 0 -> 1 V.
Each must give finite numbers or a clear AnalysisError, never a crash or a silent NaN.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from echem.errors import AnalysisError
from echem.lsv import analyse_lsv
from echem.reference import offset_to_rhe_V
from echem.tafel import fit_tafel

pytestmark = pytest.mark.corpus


def _read(path):
    from echem.io import read

    return read(path)


def test_lsv_mpt_her(corpus_dir):
    m = _read(corpus_dir / "dgbowl_yadg" / "lsv.mpt")
    assert m.meta["technique"] == "LSV"
    E, I = m.data["E_V"].to_numpy(float), m.data["I_A"].to_numpy(float)
    assert 0.1 < np.max(np.abs(I)) < 0.2  # -133 mA in the file
    # header says "SCE Saturated Calomel Electrode (0.241 V)"; the electrolyte pH is not
    # stated, 7 is assumed for this smoke test
    offset = offset_to_rhe_V(m.meta.get("reference_electrode") or "SCE", 7.0)
    assert offset == pytest.approx(0.241 + 7 * 0.05916, abs=1e-3)
    res = analyse_lsv(E, I, area_cm2=1.0, reaction="HER", offset_to_rhe_V=offset, ru_ohm=None)
    json.dumps(res.audit, allow_nan=False)
    # the first point is a 180 mV glitch: the cathodic sweep starts after it
    assert res.audit["sweep"]["n_reaction_sweeps"] == 1
    assert res.audit["sweep"]["chosen"]["start"] <= 3
    for row in res.rows:
        assert row["reached"] is True
        assert math.isfinite(row["eta_mV"]) and math.isfinite(row["eta_err_mV"]) and row["eta_mV"] > 0
    # eta rises with the target, and E_RHE at 10 mA/cm2 lies inside the swept range
    assert res.rows[1]["eta_mV"] > res.rows[0]["eta_mV"]
    E_rhe = res.curve["E_RHE_corr_V"]
    assert E_rhe.min() <= res.rows[0]["E_RHE_V"] <= E_rhe.max()
    try:
        tafel = fit_tafel(res.curve["eta_mV"], res.curve["j_mA_cm2"])
    except AnalysisError as exc:
        assert "decades" in str(exc) or "window" in str(exc)
    else:
        assert all(math.isfinite(v) for v in (tafel.slope_mV_dec, tafel.slope_err_mV_dec, tafel.j0_mA_cm2))
        assert tafel.n_points >= 5
        json.dumps(tafel.audit, allow_nan=False)
        # this curve is dominated by resistance (no iR correction, j linear in E): no Tafel
        # region, and the table says so with a flag
        assert "tafel_out_of_range" in [f.code for f in tafel.flags]


def test_lsv_issue_195_dummy_cell(corpus_dir):
    m = _read(corpus_dir / "dgbowl_yadg" / "lsv.issue_195.mpt")
    E, I = m.data["E_V"].to_numpy(float), m.data["I_A"].to_numpy(float)
    # an anodic sweep: the HER analysis must refuse it with a clear message
    with pytest.raises(AnalysisError, match="no cathodic"):
        analyse_lsv(E, I, area_cm2=0.01, reaction="HER", offset_to_rhe_V=0.0)
    # as an "OER" on the RHE scale the resistor reaches 10 mA/cm2 at ~0.5 V, below 1.23 V:
    # a number with a warning, and the Tafel stage finds nothing driven
    res = analyse_lsv(E, I, area_cm2=0.01, reaction="OER", offset_to_rhe_V=0.0)
    r10, r100 = res.rows
    assert r10["reached"] is True and math.isfinite(r10["eta_mV"])
    assert 0.4 < r10["E_RHE_V"] < 0.6  # 0.1 mA through a ~5 kOhm dummy
    assert r100["reached"] is False and math.isnan(r100["eta_mV"])
    assert [f.code for f in r10["flags"]] == ["eta_negative"]
    assert "far side of the equilibrium" in r10["flags"][0].message
    with pytest.raises(AnalysisError, match="reaction driven"):
        fit_tafel(res.curve["eta_mV"], res.curve["j_mA_cm2"])
