"""The stability stage glue (echem.workflow.stability) on prepared sample folders.

The stage is called directly, after the ingest stage, as the per-sample job will call it:
roles from start times or sample.yaml, runs joined from several files, Ru from sample.yaml,
tables with the contract's columns, audit records, figures, and error rows for bad roles.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import ROOT
from echem.io.canonical_csv import write_csv
from echem.measurement import Measurement, canonical_frame
from echem.workflow.ingest import ingest_sample
from echem.workflow.stability import stability_sample
from echem.workflow.tables import TABLE_COLUMNS

CONFIG = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
AREA = 0.196
HGO = 0.926
T0 = datetime(2023, 5, 1, 9, 0, 0)
META = {"area_cm2": AREA, "reference_electrode": "Hg/HgO (1 M KOH)"}
YAML = "reaction: HER\npH: 14\nru_ohm: 2.0\nir_compensation: 1.0\n"


def lsv_file(path, start, eta10, seed):
    rng = np.random.default_rng(seed)
    eta = np.arange(1.0, 200.0, 1.0)
    j = 10.0 * 10 ** ((eta - eta10) / 40.0)
    I = -j * AREA * 1e-3
    E = -eta * 1e-3 + I * 2.0 - HGO + 3e-5 * rng.standard_normal(eta.size)  # measured with the iR drop
    t = 0.2 * np.arange(eta.size)
    write_csv(Measurement(canonical_frame({"time_s": t, "E_V": E, "I_A": I}),
                          {"technique": "LSV", "start_time": start.isoformat(), **META}), path)


def cp_file(path, start, t0_h, hours, eta_at, seed, dt_s=60.0, technique="CP"):
    rng = np.random.default_rng(seed)
    t = np.arange(0.0, hours * 3600.0, dt_s)
    eta = eta_at(t0_h + t / 3600.0) + 0.3 * rng.standard_normal(t.size)
    spikes = rng.random(t.size) < 0.02
    eta[spikes] += 5 + rng.exponential(5.0, spikes.sum())
    I = np.full(t.size, -10.0 * AREA * 1e-3)
    E = -eta * 1e-3 + I * 2.0 - HGO
    write_csv(Measurement(canonical_frame({"time_s": t, "E_V": E, "I_A": I}),
                          {"technique": technique, "start_time": start.isoformat(), **META}), path)


def run_stage(tmp_path, writers, sample_yaml=YAML, formats=("png",)):
    raw = tmp_path / "raw" / "S"
    raw.mkdir(parents=True)
    for name, write in writers.items():
        write(raw / name)
    (raw / "sample.yaml").write_text(sample_yaml)
    out = tmp_path / "results" / "S"
    files = sorted(writers)
    ingest_sample("S", raw, files, raw / "sample.yaml", CONFIG["defaults"], out, tmp_path / "ingest.log",
                  out / "errors" / "ingest.csv")
    outputs = {"table": str(out / "tables" / "stability.csv"),
               "shift_table": str(out / "tables" / "stability_lsv_shift.csv"),
               "traces": str(out / "stability_traces.parquet"), "curves": str(out / "stability_curves.parquet"),
               "audit": str(out / "audit" / "stability"), "figures": str(out / "figures" / "stability"),
               "errors": str(out / "errors" / "stability.csv")}
    stability_sample(out, CONFIG["stability"], list(formats), outputs, tmp_path / "stability.log")
    tables = {k: pd.read_csv(outputs[k]) for k in ("table", "shift_table", "errors")}
    tables["warnings"] = pd.read_csv(out / "warnings" / "stability.csv")
    return out, tables


def durability_writers(drift=0.05, shift=4.0):
    """lsv_initial, CP 0-10 h, LSV after 10 h, CP 10-12 h (an EC-Lab-like protocol)."""
    eta_at = lambda h: 48.0 + drift * h  # noqa: E731
    start_cp = T0 + timedelta(minutes=20)
    return {
        "lsv_initial.csv": lambda p: lsv_file(p, T0, 48.0, 1),
        "cp_a.csv": lambda p: cp_file(p, start_cp, 0.0, 10.0, eta_at, 2),
        "lsv_after_10h.csv": lambda p: lsv_file(p, start_cp + timedelta(hours=10, minutes=1), 48.0 + shift, 3),
        "cp_b.csv": lambda p: cp_file(p, start_cp + timedelta(hours=10, minutes=6), 10.0, 2.0, eta_at, 4),
    }


def test_durability_protocol_from_start_times(tmp_path):
    out, t = run_stage(tmp_path, durability_writers(drift=0.5, shift=4.0))
    assert t["errors"].empty, t["errors"].to_string()
    stab, shift = t["table"], t["shift_table"]
    assert list(stab.columns) == list(TABLE_COLUMNS["stability"])
    assert list(shift.columns) == list(TABLE_COLUMNS["stability_lsv_shift"])
    assert len(stab) == 1
    row = stab.iloc[0]
    assert row["file"] == "cp_a.csv;cp_b.csv" and row["mode"] == "CP"
    assert row["set_value"] == pytest.approx(-10.0) and row["set_unit"] == "mA/cm2"
    assert row["duration_h"] == pytest.approx(12.1, abs=0.02)  # 10 h + 6 min pause + 2 h
    assert row["drift_mV_h"] == pytest.approx(0.5, rel=0.05)
    # start window 5..65 min, end window the last hour (drift 0.5 mV/h from 48 mV at the CP start)
    assert row["eta_start_mV"] == pytest.approx(48.0 + 0.5 * 35 / 60, abs=1.0)
    assert row["eta_end_mV"] == pytest.approx(48.0 + 0.5 * 11.5, abs=1.0)
    # last point of cp_a at 9 h 59 min, first of cp_b at 10 h 6 min: 7 min minus one 1-min step
    assert row["interrupted_fraction"] == pytest.approx(6.0 / 60 / row["duration_h"], rel=1e-3)
    assert pd.isna(row["flags"])
    assert list(shift["target_mA_cm2"]) == [10, 100]
    assert list(shift["before_file"]) == ["lsv_initial.csv"] * 2
    assert list(shift["after_file"]) == ["lsv_after_10h.csv"] * 2
    assert np.allclose(shift["delta_eta_mV"], 4.0, atol=0.5)
    assert (shift["delta_eta_err_mV"] < 1.0).all()
    audits = sorted(p.name for p in (out / "audit" / "stability").iterdir())
    from echem.audit import audit_name

    # a run of two files is labelled "cp_a.csv;cp_b.csv": its record name says so, made unique
    assert audits == [audit_name("stability", "cp_a.csv;cp_b.csv"),
                      "stability_shift__lsv_initial.csv__lsv_after_10h.csv.json"]
    assert audits[0].startswith("stability__cp_a.csv_cp_b.csv-")
    rec = json.loads((out / "audit" / "stability" / audits[0]).read_text())
    assert rec["metadata"]["ru_ohm"][0] == 2.0 and len(rec["input_sha256"]) == 2
    assert [e["kind"] for e in rec["method"]["events"]] == ["join"]
    figures = sorted(p.name for p in (out / "figures" / "stability").iterdir())
    assert figures == ["run_cp_a__cp_b.png", "shift_lsv_initial__lsv_after_10h.png"]
    traces = pd.read_parquet(out / "stability_traces.parquet")
    assert set(traces["file"]) == {"cp_a.csv;cp_b.csv"} and len(traces) <= 2 * 1500 + 10
    curves = pd.read_parquet(out / "stability_curves.parquet")
    assert set(curves["role"]) == {"before", "after"}


def test_roles_from_sample_yaml_and_planned_duration(tmp_path):
    spec = ("stability: {run: [cp_a.csv, cp_b.csv], before: lsv_initial.csv, after: lsv_after_10h.csv, "
            "duration_h: 24, set_mA_cm2: -10}\n")
    out, t = run_stage(tmp_path, durability_writers(), YAML + spec)
    assert t["errors"].empty
    assert t["table"].iloc[0]["flags"] == "stopped_early"
    assert set(t["warnings"]["flag"].dropna()) == {"stopped_early"}


def test_a_role_naming_a_missing_file_is_an_error_row(tmp_path):
    out, t = run_stage(tmp_path, durability_writers(), YAML + "stability: {after: lsv_final.csv}\n")
    assert len(t["errors"]) == 1
    err = t["errors"].iloc[0]
    assert err["file"] == "sample.yaml" and "lsv_final.csv" in err["error"]
    assert t["table"].empty and t["shift_table"].empty


def test_no_ru_is_flagged_no_ir(tmp_path):
    out, t = run_stage(tmp_path, {"cp_24h.csv": lambda p: cp_file(p, T0, 0.0, 3.0, lambda h: 50 + 0 * h, 1)},
                       "reaction: HER\npH: 14\nir_compensation: 1.0\n")
    assert t["errors"].empty
    row = t["table"].iloc[0]
    assert row["flags"] == "no_ir;stopped_early"  # 3 h of the 24 h its name plans
    assert set(t["warnings"]["flag"]) == {"no_ir", "stopped_early"}
    assert t["shift_table"].empty


def test_chronoamperometry_run(tmp_path):
    def ca(path):
        rng = np.random.default_rng(0)
        t = np.arange(0.0, 6 * 3600.0, 30.0)
        j = 20.0 * (1 - 0.02 * t / 3600) + 0.05 * rng.standard_normal(t.size)
        write_csv(Measurement(canonical_frame({"time_s": t, "E_V": np.full(t.size, -1.026),
                                               "I_A": -j * AREA * 1e-3}),
                              {"technique": "CA", "start_time": T0.isoformat(), **META}), path)

    out, t = run_stage(tmp_path, {"ca.csv": ca})
    assert t["errors"].empty
    row = t["table"].iloc[0]
    assert row["mode"] == "CA" and row["set_unit"].startswith("V vs RHE")
    assert row["set_value"] == pytest.approx(-0.1)
    assert row["eta_start_mV"] == pytest.approx(20.0 * (1 - 0.02 * 35 / 60), abs=0.1)  # j in mA/cm2
    assert row["drift_mV_h"] == pytest.approx(-2.0 / (1 - 0.02 * 35 / 60), rel=0.05)  # %/h


def test_sample_without_stability_files_writes_empty_tables(tmp_path):
    out, t = run_stage(tmp_path, {"lsv.csv": lambda p: lsv_file(p, T0, 50.0, 1)})
    assert t["errors"].empty and t["table"].empty and t["shift_table"].empty
    assert pd.read_parquet(out / "stability_traces.parquet").empty


# --------------------------------------------------------------------------- the demo's durability samples


def run_demo_sample(tmp_path, name):
    raw = ROOT / "raw" / name
    out = tmp_path / "results" / name
    files = sorted(p.name for p in raw.iterdir() if p.name != "sample.yaml")
    ingest_sample(name, raw, files, raw / "sample.yaml", CONFIG["defaults"], out, tmp_path / "ingest.log",
                  out / "errors" / "ingest.csv")
    outputs = {"table": out / "tables" / "stability.csv", "shift_table": out / "tables" / "stability_lsv_shift.csv",
               "traces": out / "stability_traces.parquet", "curves": out / "stability_curves.parquet",
               "audit": out / "audit" / "stability", "figures": out / "figures" / "stability",
               "errors": out / "errors" / "stability.csv"}
    stability_sample(out, CONFIG["stability"], [], {k: str(v) for k, v in outputs.items()}, tmp_path / "s.log")
    return (pd.read_csv(outputs["table"]), pd.read_csv(outputs["shift_table"]), pd.read_csv(outputs["errors"]),
            pd.read_csv(out / "errors" / "ingest.csv"), pd.read_csv(out / "warnings" / "stability.csv"))


@pytest.mark.parametrize("name", ["PtMG_UV50J_84h", "PtMG_as-cast_84h"])
def test_demo_durability_numbers_come_back(tmp_path, name):
    """raw/'s durability electrodes (echem.demo): the published 4 mV shift of UV50J at 10 mA/cm²
    after 80 h within 1 mV, the assumed drift within 5 %, start/end within 1 mV, no flag."""
    from echem import demo

    d = next(x for x in demo.DURABILITY_SAMPLES if x.name == name)
    expected = demo.durability_expected(d)
    stab, shift, errors, ingest_errors, warnings = run_demo_sample(tmp_path, name)
    assert errors.empty and ingest_errors.empty and warnings.empty
    assert len(stab) == 1
    row = stab.iloc[0]
    assert row["mode"] == "CP" and row["set_value"] == pytest.approx(-10.0, rel=1e-3)
    assert row["duration_h"] == pytest.approx(expected["duration_h"], abs=0.01)
    assert row["drift_mV_h"] == pytest.approx(expected["drift_mV_h"], rel=0.05)
    assert row["eta_start_mV"] == pytest.approx(expected["eta_start_window_mV"], abs=1.0)
    assert row["eta_end_mV"] == pytest.approx(expected["eta_end_window_mV"], abs=1.0)
    assert row["interrupted_fraction"] == pytest.approx(expected["interrupted_fraction"], rel=0.01)
    assert pd.isna(row["flags"])
    at10 = shift[shift["target_mA_cm2"] == 10].iloc[0]
    assert (at10["before_file"], at10["after_file"]) == ("lsv_initial.mpt", "lsv_after_80h.mpt")
    assert at10["delta_eta_mV"] == pytest.approx(d.shift10_mV, abs=1.0)
    if name == "PtMG_UV50J_84h":
        assert row["eta_end_mV"] - row["eta_start_mV"] < 5.0  # "a marginal rise" over 84 h
