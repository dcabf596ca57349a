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


def test_slurm_profile_sets_resources_for_every_rule():
    profile = yaml.safe_load((ROOT / "profiles" / "slurm" / "config.yaml").read_text())
    assert profile["executor"] == "slurm"
    for rule in ("sample", "collect", "series_figures"):
        assert {"mem_mb", "runtime"} <= set(profile["set-resources"][rule])


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
    assert "sample" in out and "This was a dry-run" in out
