"""The EIS stage glue: circuit choice per spectrum, once per temperature series, user wins."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import ROOT
from echem.eis import simulate
from echem.measurement import Measurement, canonical_frame
from echem.io.canonical_csv import write_csv
from echem.workflow.eis import eis_sample
from echem.workflow.ingest import ingest_sample

CONFIG = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
FREQ = np.logspace(6, -1, 50)


def spectrum_file(path, circuit, params, seed):
    rng = np.random.default_rng(seed)
    Z = simulate(circuit, params, FREQ)
    Z = Z * (1 + 0.005 * (rng.standard_normal(Z.size) + 1j * rng.standard_normal(Z.size)))
    write_csv(Measurement(canonical_frame({"freq_Hz": FREQ, "Z_re_ohm": Z.real, "Z_im_ohm": Z.imag}),
                          {"technique": "EIS"}), path)


def run_stage(tmp_path, files, sample_yaml=""):
    raw = tmp_path / "raw" / "S"
    raw.mkdir(parents=True)
    for name, (circuit, params) in files.items():
        spectrum_file(raw / name, circuit, params, seed=len(name))
    (raw / "sample.yaml").write_text(sample_yaml)
    out = tmp_path / "results" / "S"
    ingest_sample("S", raw, sorted(files), raw / "sample.yaml", CONFIG["defaults"], out,
                  tmp_path / "ingest.log", tmp_path / "ingest_err.csv")
    outputs = {"table": str(out / "eis.csv"), "fits": str(out / "fits.json"), "audit": str(out / "audit"),
               "figures": str(out / "fig"), "errors": str(out / "err.csv")}
    eis_sample(out, CONFIG["eis"], [], outputs, tmp_path / "eis.log")
    return json.loads((out / "fits.json").read_text())["fits"], pd.read_csv(out / "err.csv")


def film(T_C):
    """Film arcs whose resistance falls with temperature (apex moves through the window)."""
    R = 1e7 * np.exp(-0.05 * (T_C - 100))
    return "p(R1,CPE1)-CPE2", [R, 5e-11, 0.95, 2e-8, 0.85]


def test_temperature_series_gets_one_circuit_chosen_on_the_best_resolved_spectrum(tmp_path):
    files = {f"eis_{T}C.csv": film(T) for T in (100, 150, 200, 250)}
    fits, errors = run_stage(tmp_path, files)
    assert errors.empty
    assert len({f["circuit"] for f in fits}) == 1
    assert all("best-resolved" in f["circuit_source"] for f in fits)
    assert {f["temperature_C"] for f in fits} == {100, 150, 200, 250}
    # the blocking-electrode spur is recognised: a CPE in series with the bulk arc
    assert fits[0]["circuit"].endswith("-CPE2")


def test_single_spectra_are_each_selected(tmp_path):
    files = {"a_eis.csv": ("R0-p(R1,CPE1)", [5.0, 50.0, 1e-4, 0.9]),
             "b_eis.csv": ("R0-p(R1,CPE1)-p(R2,CPE2)", [5.0, 20.0, 1e-6, 0.9, 200.0, 1e-3, 0.85])}
    fits, _ = run_stage(tmp_path, files)
    circuits = {f["file"]: f["circuit"] for f in fits}
    assert circuits["a_eis.csv"] == "R0-p(R1,CPE1)"
    assert circuits["b_eis.csv"] == "R0-p(R1,CPE1)-p(R2,CPE2)"
    by_file = {f["file"]: f for f in fits}
    assert by_file["a_eis.csv"]["rs_ohm"] == pytest.approx(5.0, rel=0.03)


def test_user_circuit_always_wins(tmp_path):
    files = {f"eis_{T}C.csv": film(T) for T in (100, 200)}
    fits, _ = run_stage(tmp_path, files, "circuit: R0-p(R1,CPE1)-CPE2\n")
    assert {f["circuit"] for f in fits} == {"R0-p(R1,CPE1)-CPE2"}
    assert all(f["circuit_source"] == "sample.yaml circuit" for f in fits)


def test_every_valid_spectrum_gets_its_drt(tmp_path):
    """drt_peaks.csv with the contract's columns (flags last), a DRT curve per spectrum, the
    DRT in the fit record; a spectrum whose circuit the user named gets its DRT too."""
    from echem.workflow.tables import TABLE_COLUMNS

    files = {f"eis_{T}C.csv": film(T) for T in (100, 150)}
    fits, errors = run_stage(tmp_path, files, "circuit: p(R1,CPE1)-CPE2\n")
    out = tmp_path / "results" / "S"
    peaks = pd.read_csv(out / "drt_peaks.csv")
    assert tuple(peaks.columns) == TABLE_COLUMNS["drt_peaks"]
    assert set(peaks["file"]) == set(files)
    for f in fits:
        assert f["drt"]["lambda"] > 0 and (out / f["drt"]["curve"]).is_file()
        (arc,) = [p for p in f["drt"]["peaks"] if p["in_range"]]  # the bulk arc: one process
        R1 = f["params"]["R1"]["value"]
        assert arc["R_ohm"] == pytest.approx(R1, rel=0.2)
    curve = pd.read_csv(out / fits[0]["drt"]["curve"])
    assert list(curve.columns) == ["tau_s", "f_Hz", "gamma_ohm", "gamma_err_ohm"]
    record = json.loads(next((out / "audit").glob("*100C*.json")).read_text())
    assert record["result"]["drt"]["lambda_rule"].startswith("discrepancy")
