"""Every benchmark the README shows runs, on a small size, and prints its figures.

The figures themselves are not asserted (they depend on the machine); that the command
works and prints what the README says it prints is.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from conftest import ROOT

pytestmark = [pytest.mark.slow]


def bench(*args: str, timeout: int = 900) -> str:
    proc = subprocess.run([sys.executable, *map(str, args)], capture_output=True, text=True, timeout=timeout,
                          cwd=ROOT)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-5000:]
    return out


@pytest.mark.workflow
def test_scale_runs_every_scenario_on_two_samples(tmp_path):
    out = bench(ROOT / "benchmarks" / "scale.py", "--samples", "2", "--series", "1", "--keep", tmp_path)
    row = next(line for line in out.splitlines() if re.match(r"\s+2\s+1\s", line))
    assert len(row.split()) == 15, out  # every column: dry, cold, add one, nothing new, tafel, overlay
    assert "dry run: 0 paths written under results/" in out, out
    added = next(line for line in out.splitlines() if "add one sample:" in line)
    assert "ingest 1" in added and "tafel 1" in added, out
    tafel = next(line for line in out.splitlines() if "tafel.r2_min changed:" in line)  # 3 samples + the added one
    assert "tafel 4" in tafel and "eis" not in tafel.replace("eis_circuits", ""), out
    assert "targets" in out


def test_readers_times_the_demo_files():
    out = bench(ROOT / "benchmarks" / "readers.py", "--groups", "raw", "--min-cpu", "0", "--repeat", "1")
    for fmt in ("biologic-mpt", "gamry-dta"):  # the demo's formats, each with its ms per file
        assert re.search(rf"^raw\s+{fmt}\s+\d+\s+\d+\.\d+", out, flags=re.M), out
    assert re.search(r"^raw\s+ALL\s+\d+", out, flags=re.M), out


def test_eis_fit_times_the_corpus_spectra(corpus_dir):
    out = bench(ROOT / "benchmarks" / "eis_fit.py", "--no-reference", "--no-select", "--no-demo")
    assert "CPU s per spectrum (corpus):" in out, out


def test_stability_long_reads_a_long_run(tmp_path):
    out = bench(ROOT / "benchmarks" / "stability_long.py", "--rows", "20000", "--keep", tmp_path)
    for name in ("cp_20000.mpt", "cp_20000.DTA"):  # each written, read and analysed: a row of figures
        assert re.search(rf"^{re.escape(name)}\s+\d+\s+20000\s+long\s+\d", out, flags=re.M), out
