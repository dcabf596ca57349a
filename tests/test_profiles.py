"""The Snakemake profiles: local default and SLURM (dry run: no cluster here)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import DATA, ROOT

SNAKEMAKE = Path(sys.executable).with_name("snakemake")


def test_default_profile_keeps_going_and_reruns_incomplete():
    profile = yaml.safe_load((ROOT / "profiles" / "default" / "config.yaml").read_text())
    assert profile["keep-going"] is True and profile["rerun-incomplete"] is True
    assert profile["cores"] == 2


def test_default_profile_uses_only_documented_options():
    """No setting that only works around Snakemake internals (a job-rate limit that never binds)."""
    profile = yaml.safe_load((ROOT / "profiles" / "default" / "config.yaml").read_text())
    assert "max-jobs-per-timespan" not in profile
    assert profile["force-use-threads"] is True and profile["scheduler"] == "greedy"


def test_slurm_profile_sets_resources_for_every_rule():
    profile = yaml.safe_load((ROOT / "profiles" / "slurm" / "config.yaml").read_text())
    assert profile["executor"] == "slurm"
    rules = ("ingest", "eis", "lsv", "tafel", "ecsa", "arrhenius", "stability", "collect_table",
             "collect_errors", "collect_warnings", "collect_circuits", "series_figures")
    for rule in rules:
        assert {"mem_mb", "runtime"} <= set(profile["set-resources"][rule]), rule


@pytest.mark.workflow
def test_slurm_profile_dry_run(tmp_path):
    sample = tmp_path / "raw" / "S1"
    sample.mkdir(parents=True)
    shutil.copy(DATA / "exampleDataGamry.DTA", sample / "eis.DTA")
    proc = subprocess.run(
        [str(SNAKEMAKE), "-s", str(ROOT / "Snakefile"), "--directory", str(tmp_path),
         "--configfile", str(ROOT / "config" / "config.yaml"),
         "--workflow-profile", str(ROOT / "profiles" / "slurm"), "-n"],
        capture_output=True, text=True, timeout=300,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert "ingest" in out and "eis" in out and "This was a dry-run" in out
    assert not (tmp_path / "results").exists(), "a dry run writes nothing under results/"
