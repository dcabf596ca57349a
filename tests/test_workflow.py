"""End-to-end runs of the Snakemake workflow in a temporary folder.

Real corpus files make up the samples. The runs check the contract tables, the error
rows for bad input, that raw/ is never written to, and that a change re-runs only the
jobs it touches: adding one file re-runs its sample's stages, changing one stage's
setting re-runs that stage (and what reads its outputs). The workflow's face to a
Snakemake user is checked too: a stage's output can be asked for, a dry run writes
nothing, ``--list-rules`` shows the stages, ``--lint`` finds nothing.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from conftest import ROOT
from echem.workflow.tables import TABLE_COLUMNS

pytestmark = [pytest.mark.workflow, pytest.mark.slow]

SNAKEMAKE = Path(sys.executable).with_name("snakemake")


def snakemake(workdir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    # --quiet host: each job's rule and wildcards are printed (profiles/default hides them)
    cmd = [str(SNAKEMAKE), "-s", str(ROOT / "Snakefile"), "--directory", str(workdir),
           "--configfile", str(ROOT / "config" / "config.yaml"), "--quiet", "host", "--cores", "2", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=workdir, timeout=900)
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}")
    return proc


def tree_hashes(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def project(tmp_path_factory, corpus_dir):
    """A raw/ folder with a catalyst sample, a film temperature series and a broken sample."""
    work = tmp_path_factory.mktemp("wf")
    raw = work / "raw"
    (raw / "cat1").mkdir(parents=True)
    shutil.copy(corpus_dir / "dgbowl_yadg" / "lsv.mpt", raw / "cat1" / "lsv.mpt")
    shutil.copy(corpus_dir / "dgbowl_yadg" / "peis.mpt", raw / "cat1" / "peis.mpt")
    (raw / "cat1" / "sample.yaml").write_text("area_cm2: 0.196\nreference_electrode: SCE\npH: 14\nreaction: HER\n")
    (raw / "film1").mkdir()
    for f in sorted((corpus_dir / "Sheyigold_EISFitpython").glob("*.txt"))[:4]:
        shutil.copy(f, raw / "film1" / f.name)
    (raw / "film1" / "sample.yaml").write_text(
        "geometry: {kind: through-plane, thickness_cm: 0.1, area_cm2: 0.5}\n")
    (raw / "bad1").mkdir()
    (raw / "bad1" / "cv_cut.mpt").write_bytes((corpus_dir / "dgbowl_yadg" / "cv.mpt").read_bytes()[:300])
    (raw / "bad1" / "notes.txt").write_text("weighed the electrode twice\n")
    for f in raw.rglob("*"):
        if f.is_file():
            f.chmod(0o444)  # raw/ is read-only for the workflow
    before = tree_hashes(raw)
    first = snakemake(work)
    return {"work": work, "raw": raw, "before": before, "first": first}


def test_contract_tables_exist_with_their_columns(project):
    tables = project["work"] / "results" / "tables"
    for name, columns in TABLE_COLUMNS.items():
        df = pd.read_csv(tables / f"{name}.csv")
        assert tuple(df.columns) == columns, name
        assert (tables / f"{name}.parquet").is_file(), name


def test_numbers_reach_the_tables(project):
    tables = project["work"] / "results" / "tables"
    eis = pd.read_csv(tables / "eis.csv")
    assert set(eis["sample"]) == {"film1"}
    # the dgbowl PEIS spectrum is fitted by no candidate to 5 %: one error row says why,
    # and the LSV still gets its Ru from the spectrum's high-frequency intercept
    errors = pd.read_csv(tables / "errors.csv")
    (row,) = errors[(errors["sample"] == "cat1") & (errors["stage"] == "eis")].itertuples()
    assert row.file == "peis.mpt" and "misses the data by" in row.error
    cond = pd.read_csv(tables / "conductivity.csv")
    assert sorted(cond["temperature_C"]) == [140, 150, 160, 170]
    assert (cond["sigma_S_cm"] > 0).all()
    over = pd.read_csv(tables / "overpotentials.csv")
    assert set(over["target_mA_cm2"]) == {10, 100}
    assert over["eta_mV"].notna().all()
    assert over["ru_ohm"].notna().all()


def test_bad_input_gives_one_actionable_row_each(project):
    errors = pd.read_csv(project["work"] / "results" / "tables" / "errors.csv")
    bad = errors[errors["sample"] == "bad1"].set_index("file")
    assert "truncated" in bad.loc["cv_cut.mpt", "error"]
    # a text note is no error: listed in the manifest as a note, not read
    assert "notes.txt" not in bad.index
    assert (errors.groupby(["sample", "file", "stage"]).size() == 1).all()


def test_manifest_lists_every_file(project):
    manifest = pd.read_csv(project["work"] / "results" / "samples" / "bad1" / "manifest.csv")
    assert set(manifest["file"]) == {"cv_cut.mpt", "notes.txt"}
    assert set(manifest["status"]) == {"error", "skipped"}
    assert "text note" in manifest.set_index("file").loc["notes.txt", "error"]
    cat = pd.read_csv(project["work"] / "results" / "samples" / "cat1" / "manifest.csv")
    assert dict(zip(cat["file"], cat["technique"])) == {"lsv.mpt": "LSV", "peis.mpt": "EIS"}
    assert cat["sha256"].str.len().eq(64).all()


def test_audit_json_per_fit(project):
    audit = project["work"] / "results" / "samples" / "film1" / "audit" / "eis"
    records = sorted(audit.glob("*.json"))
    assert len(records) == 4
    import json

    rec = json.loads(records[0].read_text())
    assert len(rec["input_sha256"]) == 64 and rec["versions"]["impedance"]


def test_raw_is_never_written(project):
    assert tree_hashes(project["raw"]) == project["before"]


def test_adding_a_file_reruns_only_its_sample(project, corpus_dir):
    work, raw = project["work"], project["raw"]
    nothing = snakemake(work, "-n")
    assert "Nothing to be done" in nothing.stdout + nothing.stderr
    film_out = work / "results" / "samples" / "film1" / "ingest.json"
    film_mtime = film_out.stat().st_mtime_ns
    extra = sorted((corpus_dir / "Sheyigold_EISFitpython").glob("*.txt"))[4]
    shutil.copy(extra, raw / "film1" / extra.name)
    plan = snakemake(work, "-n", "--quiet", "rules")
    planned = plan.stdout + plan.stderr
    assert "ingest" in planned and "eis" in planned
    run = snakemake(work)
    log = run.stdout + run.stderr
    assert "wildcards: sample=film1" in log
    assert "wildcards: sample=cat1" not in log and "wildcards: sample=bad1" not in log
    assert film_out.stat().st_mtime_ns != film_mtime
    cond = pd.read_csv(work / "results" / "tables" / "conductivity.csv")
    assert len(cond) == 5


def test_bad_config_value_fails_at_start_naming_the_key(tmp_path):
    (tmp_path / "raw").mkdir()
    bad = tmp_path / "bad.yaml"
    text = (ROOT / "config" / "config.yaml").read_text()
    assert "  min_scan_rates: 3" in text
    bad.write_text(text.replace("  min_scan_rates: 3", "  min_scan_rate: 3"))
    proc = subprocess.run([str(SNAKEMAKE), "-s", str(ROOT / "Snakefile"), "--directory", str(tmp_path),
                           "--configfile", str(bad), "-n"], capture_output=True, text=True)
    assert proc.returncode != 0
    assert "min_scan_rate" in proc.stdout + proc.stderr


def jobs_run(log: str) -> dict[str, set[str]]:
    """Rule -> samples of the jobs a run started (from Snakemake's log of each job)."""
    jobs: dict[str, set[str]] = {}
    for block in re.split(r"^(?=(?:local)?rule \w+:$)", log, flags=re.M)[1:]:
        rule = re.match(r"(?:local)?rule (\w+):", block).group(1)
        sample = re.search(r"^\s+wildcards: sample=([^,\s]+)", block.split("\n\n")[0], flags=re.M)
        jobs.setdefault(rule, set()).add(sample.group(1) if sample else "")
    return jobs


def test_a_setting_change_reruns_only_its_stage(project, tmp_path):
    """tafel.r2_min changed: the Tafel jobs and the tables/figures that show them, no EIS refit."""
    work = project["work"]
    eis_out = work / "results" / "samples" / "film1" / "tables" / "eis.csv"
    eis_mtime = eis_out.stat().st_mtime_ns
    overlay = tmp_path / "tafel.yaml"
    overlay.write_text("tafel:\n  r2_min: 0.998\n")
    run = snakemake(work, "--configfile", str(ROOT / "config" / "config.yaml"), str(overlay))
    jobs = jobs_run(run.stdout + run.stderr)
    assert jobs["tafel"] == {"cat1", "film1", "bad1"}
    assert set(jobs) <= {"tafel", "collect_table", "collect_errors", "collect_warnings", "series_figures", "report_html", "all"}, jobs
    assert eis_out.stat().st_mtime_ns == eis_mtime
    # of the comparative figures only the group that shows Tafel slopes: no Nyquist or Bode redrawn
    groups = set(re.findall(r"^\s+wildcards: series=[^,\s]+, group=(\w+)", run.stdout + run.stderr, flags=re.M))
    assert groups == {"lsv"}, groups
    back = snakemake(work)  # the default again: Tafel once more, nothing else of the samples
    assert set(jobs_run(back.stdout + back.stderr)) <= set(jobs)


@pytest.fixture(scope="module")
def demo_sample(tmp_path_factory):
    """A raw/ with one demo catalyst sample; nothing run yet."""
    work = tmp_path_factory.mktemp("stage")
    shutil.copytree(ROOT / "raw" / "PtMG_UV50J", work / "raw" / "PtMG_UV50J")
    return work


def test_a_dry_run_writes_nothing_under_results(demo_sample):
    plan = snakemake(demo_sample, "-n")
    assert "This was a dry-run" in plan.stdout + plan.stderr
    assert not (demo_sample / "results").exists()


def test_a_stage_output_can_be_asked_for(demo_sample):
    """`snakemake <a stage's output>` runs that stage and what it needs, nothing else."""
    target = "results/samples/PtMG_UV50J/tables/eis.csv"
    run = snakemake(demo_sample, target)
    assert set(jobs_run(run.stdout + run.stderr)) == {"ingest", "eis"}
    eis = pd.read_csv(demo_sample / target)
    assert tuple(eis.columns) == TABLE_COLUMNS["eis"] and len(eis)
    assert not (demo_sample / "results" / "samples" / "PtMG_UV50J" / "tables" / "tafel.csv").exists()
    assert (demo_sample / "results" / "logs" / "eis" / "PtMG_UV50J.log").is_file()
    assert (demo_sample / "results" / "benchmarks" / "eis" / "PtMG_UV50J.tsv").is_file()


def test_the_stages_are_rules_snakemake_shows(demo_sample):
    rules = snakemake(demo_sample, "--list-rules").stdout.split()
    assert {"ingest", "eis", "lsv", "tafel", "ecsa", "arrhenius", "collect_table", "series_figures"} <= set(rules)
    dag = snakemake(demo_sample, "--dag").stdout
    for rule in ("ingest", "eis", "lsv", "tafel", "ecsa"):
        assert f'label = "{rule}' in dag, rule


def test_lint_is_clean(tmp_path):
    (tmp_path / "raw").mkdir()
    lint = snakemake(tmp_path, "--lint", check=False)
    out = lint.stdout + lint.stderr
    assert lint.returncode == 0 and "Lints for" not in out, out[-3000:]
    assert not (tmp_path / "results").exists()
