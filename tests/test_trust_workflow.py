"""Every number the workflow reports from real exports is right or visibly flagged.

One workflow run on samples a new user would make from real exports (../shared/corpus
and ../shared/corpus-peers) and from simulated ones with a known answer:

* ``case1``: the LSV ``dgbowl_yadg/lsv.mpt`` with impedance.py's Gamry example spectrum,
  whose highest frequency (200 kHz) is still on an arc: Ru cannot be read from it, so
  the LSV is reported without iR correction, flagged, with the bound in the audit;
* ``oer_fast`` / ``oer_slow``: simulated OER electrodes (CV scan-rate series and an LSV
  with the double-layer charging current of its sweep); the specific activity is asked
  for at η = 70 mV, where the slow electrode's current is only charging current;
* ``negz``: pyimpspec's CSV whose columns are named ``-Z'`` and ``-Z''``: fitted right;
* the run summary says how many numbers are flagged and where to look.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import ROOT
from test_workflow import snakemake

pytestmark = [pytest.mark.workflow, pytest.mark.slow]

CDL_F = 2e-4          # double-layer capacitance of the simulated OER electrodes
AREA_CM2 = 0.2
LSV_RATE_V_S = 0.005


def write_oer_sample(folder: Path, j0_mA_cm2: float, b_mV_dec: float, seed: int) -> None:
    """CVs at 6 scan rates in 1.00-1.10 V vs RHE (charging only) and one anodic LSV."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True)
    for v in (0.01, 0.02, 0.04, 0.06, 0.08, 0.1):
        E_up = np.linspace(1.0, 1.1, 101)
        E = np.concatenate([E_up, E_up[::-1][1:]] * 3)
        t = np.concatenate([[0.0], np.cumsum(np.abs(np.diff(E)) / v)])
        sign = np.sign(np.gradient(E))
        I = CDL_F * v * sign + 2e-6 + rng.normal(size=E.size) * 1e-8
        pd.DataFrame({"time/s": t, "Ewe/V": E, "I/A": I}).to_csv(folder / f"cv_{v * 1e3:g}mVs.csv", index=False)
    E = np.arange(1.20, 1.75, 0.001)
    eta_mV = (E - 1.23) * 1e3
    j = j0_mA_cm2 * (10 ** (eta_mV / b_mV_dec) - 10 ** (-eta_mV / b_mV_dec))
    I = j * AREA_CM2 * 1e-3 + CDL_F * LSV_RATE_V_S
    I = I * (1 + 0.003 * rng.normal(size=E.size)) + 1e-8 * rng.normal(size=E.size)
    t = (E - E[0]) / LSV_RATE_V_S
    pd.DataFrame({"time/s": t, "Ewe/V": E, "I/A": I}).to_csv(folder / "lsv_oer.csv", index=False)
    (folder / "sample.yaml").write_text(
        f"reaction: OER\nreference_electrode: RHE\narea_cm2: {AREA_CM2}\nelectrolyte: 1 M KOH\nru_ohm: 0\n")


@pytest.fixture(scope="module")
def run(tmp_path_factory, corpus_dir):
    peers = corpus_dir.parent / "corpus-peers"
    work = tmp_path_factory.mktemp("trust")
    raw = work / "raw"
    (raw / "case1").mkdir(parents=True)
    shutil.copy(corpus_dir / "dgbowl_yadg" / "lsv.mpt", raw / "case1")
    shutil.copy(corpus_dir / "ECSHackWeek_impedance.py" / "exampleDataGamry.DTA", raw / "case1")
    (raw / "case1" / "sample.yaml").write_text(
        "reaction: HER\nreference_electrode: SCE\npH: 6.8\narea_cm2: 0.5\nir_compensation: 0.85\n")
    # fast: 10 mA/cm2 at ~170 mV; slow: 1e-6 mA/cm2 of exchange current, nothing at 70 mV
    write_oer_sample(raw / "oer_fast", j0_mA_cm2=0.3, b_mV_dec=40.0, seed=1)
    write_oer_sample(raw / "oer_slow", j0_mA_cm2=1e-7, b_mV_dec=60.0, seed=2)
    (raw / "negz").mkdir()
    shutil.copy(peers / "vyrjana_pyimpspec" / "case-negative-real-imaginary.csv", raw / "negz")
    overlay = work / "sa70.yaml"
    overlay.write_text("ecsa:\n  sa_eta_mV: {HER: 70, OER: 70}\n")
    # the overlay after the default config (one --configfile option: a second would replace the first)
    proc = snakemake(work, "--configfile", str(ROOT / "config" / "config.yaml"), str(overlay))
    return {"work": work, "tables": work / "results" / "tables", "proc": proc}


def table(run, name):
    return pd.read_csv(run["tables"] / f"{name}.csv", keep_default_na=True)


def flags_of(cell) -> list[str]:
    return [] if pd.isna(cell) else str(cell).split(";")


def test_case1_lsv_is_not_ir_corrected_with_an_invented_ru(run):
    over = table(run, "overpotentials")
    rows = over[over["sample"] == "case1"]
    assert len(rows) == 2
    assert rows["ru_ohm"].isna().all() and (rows["ir_fraction"] == 0).all()
    for cell in rows["flags"]:
        assert {"no_ir", "ru_bound_only"} <= set(flags_of(cell))
    # 1.9 V "overpotential" at 100 mA/cm2 (pH assumed, no iR correction): implausible, flagged
    at100 = rows[rows["target_mA_cm2"] == 100].iloc[0]
    assert at100["eta_mV"] > 1000 and "eta_out_of_range" in flags_of(at100["flags"])
    warnings = table(run, "warnings")
    why = warnings[(warnings["sample"] == "case1") & (warnings["flag"] == "ru_bound_only")]
    assert len(why) and why["warning"].str.contains("still on an arc").all()
    audit = json.loads((run["work"] / "results" / "samples" / "case1" / "audit" / "lsv" /
                        "lsv__lsv.mpt.json").read_text())
    assert audit["metadata"]["ru_bound_ohm"] == pytest.approx(825.8584, rel=1e-6)
    assert audit["metadata"]["ru_ohm"][0] is None
    # the Tafel slope of that resistance-dominated curve is no Tafel slope, and says so
    tafel = table(run, "tafel")
    assert "tafel_out_of_range" in flags_of(tafel[tafel["sample"] == "case1"]["flags"].iloc[0])


def test_case1_spectrum_rows_say_it_fails_kramers_kronig(run):
    eis = table(run, "eis")
    rows = eis[eis["sample"] == "case1"]
    # the spectrum starts on an arc at the origin's side: a circuit without a series resistor
    # (R0 would sit at its lower bound, below 0.1 % of |Z|: not in the data)
    assert len(rows) and not rows["circuit"].iloc[0].startswith("R0") and "R0" not in set(rows["param"])
    assert all("kk_failed" in flags_of(c) for c in rows["flags"])
    # no CPE impersonates the series resistance: every exponent is a CPE's, not a resistor's
    exps = rows[rows["param"].str.endswith("_1")]["value"]
    assert (exps > 0.2).all()


def test_specific_activity_only_where_the_current_is_faradaic(run):
    ecsa = table(run, "ecsa").set_index("sample")
    # both: Cdl from the CVs within 3 %
    for s in ("oer_fast", "oer_slow"):
        assert ecsa.loc[s, "cdl_mF"] == pytest.approx(CDL_F * 1e3, rel=0.03)
        assert ecsa.loc[s, "sa_eta_mV"] == 70
    # fast: j(70 mV) = 0.3 (10^(70/40) - 10^(-70/40)) mA/cm2 geometric, i.e. the faradaic
    # current 0.3 * 56.05 * 0.2 = 3.36 uA over ECSA = Cdl/Cs = 5 cm2
    expected = 0.3 * (10 ** (70 / 40) - 10 ** (-70 / 40)) * AREA_CM2 / (CDL_F * 1e3 / 0.040)
    assert ecsa.loc["oer_fast", "sa_mA_cm2"] == pytest.approx(expected, rel=0.05)
    assert "capacitive_dominated" not in flags_of(ecsa.loc["oer_fast", "flags"])
    # slow: at 70 mV the current is the charging current Cdl*v alone: no SA, flagged
    assert pd.isna(ecsa.loc["oer_slow", "sa_mA_cm2"]) and pd.isna(ecsa.loc["oer_slow", "mass_activity_A_g"])
    assert "capacitive_dominated" in flags_of(ecsa.loc["oer_slow", "flags"])
    warnings = table(run, "warnings")
    msg = warnings[(warnings["sample"] == "oer_slow") & (warnings["flag"] == "capacitive_dominated")]["warning"]
    assert len(msg) == 1 and "charging current" in msg.iloc[0]


def test_negative_z_columns_are_read_and_fitted(run):
    """pyimpspec's spectrum R(RC)(RQ) with R0 = 100, R1 = 200, C1 = 0.8 uF, R2 = 500,
    Q = 4e-4, n = 0.5, exported with columns -Z' and -Z''."""
    eis = table(run, "eis")
    rows = eis[eis["sample"] == "negz"].set_index("param")
    assert rows["circuit"].iloc[0] == "R0-p(R1,C1)-p(R2,CPE1)"
    for name, value in {"R0": 100, "R1": 200, "C1": 8e-7, "R2": 500, "CPE1_0": 4e-4, "CPE1_1": 0.5}.items():
        assert rows.loc[name, "value"] == pytest.approx(value, rel=1e-4)
    assert rows["flags"].isna().all()
    assert not (table(run, "errors")["sample"] == "negz").any()


def test_every_flag_has_its_warning_row_and_a_documented_code(run):
    from echem.flags import FLAGS

    warnings = table(run, "warnings")
    for name in ("overpotentials", "tafel", "ecsa", "eis"):
        df = table(run, name)
        for row in df.itertuples():
            for code in flags_of(row.flags):
                assert code in FLAGS
                # the flag is explained for that sample (a row's own, or its curve's for inherited ones)
                assert ((warnings["sample"] == row.sample) & (warnings["flag"] == code)).any(), (name, row)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for code in FLAGS:
        assert f"`{code}`" in readme, code


def test_run_summary_is_printed(run):
    out = run["proc"].stdout + run["proc"].stderr
    assert "echem run summary" in out
    assert "flagged numbers:" in out and "warnings.csv" in out


def test_text_note_is_listed_not_an_error(tmp_path):
    from echem.workflow.ingest import is_text_note

    note = tmp_path / "notes.txt"
    note.write_text("Electrode weighed twice; 2nd CV after re-polishing.\nBubbles at -0.3 V.\n")
    assert is_text_note(note)
    table_txt = tmp_path / "data.txt"
    table_txt.write_text("E I\n" + "".join(f"{0.1 * k} {0.01 * k}\n" for k in range(10)))
    assert not is_text_note(table_txt)
