"""benchmarks/engine_floor.py, the README's measure of Snakemake's own cost, stays echem's DAG.

The floor is only worth its figures while its generated workflow plans the jobs echem's
workflow plans: a stage added to echem and not to the floor must fail here, not make the
README's comparison quietly wrong.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import ROOT

pytestmark = [pytest.mark.workflow, pytest.mark.slow]


def test_floor_plans_echems_jobs_and_times_its_runs(tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "engine_floor.py"), "--samples", "2",
                           "--series", "1", "--repeats", "1", "--with-echem", "--keep", str(tmp_path)],
                          capture_output=True, text=True, timeout=600)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
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
