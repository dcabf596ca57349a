"""Every number traces back to its file: change one raw file, and the audit trail and the
outputs of that sample change accordingly; the other samples stay as they were."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import ROOT
from test_workflow import snakemake

pytestmark = [pytest.mark.workflow, pytest.mark.slow]

ECHEM = Path(sys.executable).with_name("echem")
SAMPLES = ("PdMG_UV50J", "PdMG_as-cast")


def audit_records(results: Path, sample: str, stage: str) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((results / "samples" / sample / "audit" / stage).glob("*.json"))]


def scale_current(path: Path, factor: float) -> None:
    """Rewrite a canonical-style CSV with its current multiplied (a different measurement)."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    head = [l for l in lines if l.startswith("#")]
    table = pd.read_csv(path, comment="#")
    table["I_A"] = table["I_A"] * factor
    path.write_text("".join(head) + table.to_csv(index=False, float_format="%.10g"), encoding="utf-8")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    work = tmp_path_factory.mktemp("audit")
    for s in SAMPLES:
        shutil.copytree(ROOT / "raw" / s, work / "raw" / s)
    results = work / "results"
    snakemake(work)
    before = {
        "lsv": audit_records(results, "PdMG_UV50J", "lsv"),
        "other": (results / "samples" / "PdMG_as-cast" / "manifest.csv").stat().st_mtime_ns,
        "over": pd.read_csv(results / "tables" / "overpotentials.csv"),
        "cli": subprocess.run([str(ECHEM), "audit", "PdMG_UV50J", "--results", str(results)],
                              capture_output=True, text=True, check=True).stdout,
    }
    scale_current(work / "raw" / "PdMG_UV50J" / "lsv_5mVs.csv", 1.5)
    run = snakemake(work)
    after = {
        "lsv": audit_records(results, "PdMG_UV50J", "lsv"),
        "other": (results / "samples" / "PdMG_as-cast" / "manifest.csv").stat().st_mtime_ns,
        "over": pd.read_csv(results / "tables" / "overpotentials.csv"),
        "log": run.stdout + run.stderr,
    }
    return before, after


def test_the_audit_names_the_file_its_sha256_settings_and_versions(runs):
    before, _ = runs
    (rec,) = before["lsv"]
    assert rec["file"] == "lsv_5mVs.csv" and len(rec["input_sha256"]) == 64
    assert rec["settings"]["targets_mA_cm2"] == [10, 100]
    assert rec["metadata"]["reference_electrode"][1] == "sample.yaml"
    assert rec["versions"]["numpy"]
    cli = before["cli"]
    assert "lsv_5mVs.csv" in cli and rec["input_sha256"] in cli and "eta@10" in cli


def test_changing_a_raw_file_changes_its_audit_and_numbers(runs):
    before, after = runs
    assert after["lsv"][0]["input_sha256"] != before["lsv"][0]["input_sha256"]
    eta = lambda df: df[(df["sample"] == "PdMG_UV50J") & (df["target_mA_cm2"] == 10)]["eta_mV"].item()
    # 1.5x the current reaches 10 mA/cm2 earlier: a lower overpotential
    assert eta(after["over"]) < eta(before["over"]) - 5
    other = lambda df: df[df["sample"] == "PdMG_as-cast"].reset_index(drop=True)
    pd.testing.assert_frame_equal(other(after["over"]), other(before["over"]))


def test_only_the_changed_sample_is_recomputed(runs):
    before, after = runs
    assert after["other"] == before["other"]
    assert "wildcards: sample=PdMG_UV50J" in after["log"]
    assert "wildcards: sample=PdMG_as-cast" not in after["log"]
