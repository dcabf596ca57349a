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


# engine_floor.py is only worth its figures while its generated workflow plans the jobs echem's
# plans: a stage added to echem and not to the floor must fail here, not make the README's
# comparison quietly wrong.
@pytest.mark.workflow
def test_floor_plans_echems_jobs_and_times_its_runs(tmp_path):
    out = bench(ROOT / "benchmarks" / "engine_floor.py", "--samples", "2", "--series", "1", "--repeats", "1",
                "--with-echem", "--keep", tmp_path)
    echem = next(line for line in out.splitlines() if line.startswith("echem plans:"))
    floor = next(line for line in out.splitlines() if line.startswith("floor plans:"))
    # 3 samples: 7 stages each; 9 tables and 3 more collections; the report
    for rule in ("ingest", "eis", "lsv", "tafel", "ecsa", "arrhenius", "stability"):
        assert f"{rule} 3" in echem and f"{rule} 3" in floor, out
    assert "collect_table 9" in floor and "report_html 1" in floor, out
    # adding a sample runs its 7 stages, the 12 collections and the report, as in echem
    added = next(line for line in out.splitlines() if line.startswith("add one sample"))
    assert "collect_table 9" in added and "ingest 1" in added and "report_html 1" in added, out
    # the added sample makes 4
    assert "total" in out and "nothing new" in out and "one Tafel setting changed (tafel 4" in out, out
    # echem itself on the same folder, each run followed by the floor's, and the difference
    assert out.count("    echem  total") == 3 and out.count("echem - floor") == 3, out


def test_floor_fails_when_its_dag_is_not_echems(tmp_path, monkeypatch):
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import engine_floor
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    monkeypatch.delitem(engine_floor.STAGES, "stability")
    assert engine_floor.main(["--samples", "1", "--series", "1", "--repeats", "1", "--keep", str(tmp_path)]) == 1
