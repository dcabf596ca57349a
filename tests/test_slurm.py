"""The demo through SLURM for real: a single-node cluster on this machine (tests/slurm_cluster.py).

The demo project (raw/, config, Snakefile, rules, profiles) is copied twice into a temporary
folder: one copy runs locally (profiles/default), the other through the Snakemake SLURM
executor with ``--workflow-profile profiles/slurm``, with the command line the README's
cluster section gives for this test cluster. Checked:

- every table of results/tables equals the local run's: the CSV text (rows sorted) and the
  Parquet files to the last bit, flags, errors and warnings included;
- the samples were grouped as the profile says: one SLURM job per ``sample`` group of
  samples, one for the collection, nothing else submitted;
- a sample job cancelled with ``scancel`` while it runs is submitted again (the profile's
  ``retries``) and the run still finishes every sample.

Needs root and Debian's slurmctld, slurmd, slurm-client and munge. Locally the test skips
when they are missing (``apt-get install slurmctld slurmd slurm-client munge``); under
CI=true it installs them (.ci/run does too) and fails if the cluster cannot be stood up.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from conftest import ROOT
from slurm_cluster import ClusterError, SlurmCluster, install_packages, missing_binaries

pytestmark = [pytest.mark.slurm, pytest.mark.workflow, pytest.mark.slow]

SNAKEMAKE = Path(sys.executable).with_name("snakemake")
CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
PROJECT = ["Snakefile", "rules", "config", "profiles", "report", "raw"]

#: What the test cluster needs on top of profiles/slurm (README, "Running on a cluster"): it
#: has no accounting database, so job states come from squeue, not sacct.
CLUSTER_ARGS = ["--slurm-status-command", "squeue"]
#: What this test adds: a first status check after 2 s (default 40), logs of successful SLURM
#: jobs kept (they are counted), and the demo's 17 samples in two SLURM jobs of 9 and 8 (the
#: profile's 25 would make one), so that one can be cancelled while the other finishes.
SAMPLES_PER_JOB = 9
TEST_ARGS = ["--slurm-init-seconds-before-status-checks", "2", "--slurm-keep-successful-logs",
             "--group-components", f"sample={SAMPLES_PER_JOB}", "collect=1000"]


def _unavailable(reason: str):
    if CI:
        pytest.fail(f"CI must run the SLURM test: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    if os.geteuid() != 0:
        _unavailable("the SLURM test runs slurmctld/slurmd/munged and needs root")
    if missing_binaries():
        if not CI:
            _unavailable(f"SLURM/munge not installed ({', '.join(missing_binaries())} missing): "
                         "apt-get install slurmctld slurmd slurm-client munge")
        try:
            install_packages()
        except ClusterError as exc:
            _unavailable(str(exc))
    cluster = SlurmCluster(tmp_path_factory.mktemp("cluster"), cpus=2)
    try:
        cluster.start()
    except ClusterError as exc:
        cluster.stop()
        _unavailable(f"the single-node SLURM cluster did not start: {exc}")
    yield cluster
    cluster.stop()


def copy_project(dest: Path) -> Path:
    dest.mkdir(parents=True)
    for name in PROJECT:
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, dest / name)
    return dest


def run(cmd: list[str], cwd: Path, env: dict | None = None, timeout: float = 1200) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-6000:]}"
    return proc


@pytest.fixture(scope="module")
def local_run(tmp_path_factory):
    work = copy_project(tmp_path_factory.mktemp("local") / "project")
    run([str(SNAKEMAKE)], cwd=work)  # profiles/default: --cores 2
    return work


@pytest.fixture(scope="module")
def slurm_run(cluster, tmp_path_factory):
    """The demo through SLURM; the first sample job is cancelled once it has done some work."""
    work = copy_project(tmp_path_factory.mktemp("slurm") / "project")
    cmd = [str(SNAKEMAKE), "--workflow-profile", "profiles/slurm", *CLUSTER_ARGS, *TEST_ARGS]
    start = time.monotonic()
    console = work.parent / "snakemake.out"  # a file, not a pipe: nobody reads a pipe while we wait
    with console.open("w") as sink:
        proc = subprocess.Popen(cmd, cwd=work, env=cluster.env, stdout=sink, stderr=subprocess.STDOUT)
    cancelled = None
    try:
        deadline = time.monotonic() + 600
        while cancelled is None and proc.poll() is None and time.monotonic() < deadline:
            for job in cluster.jobs():
                if job["state"] == "RUNNING" and job["comment"].startswith("rule_sample"):
                    log = next((work / "results" / "logs" / "slurm").rglob(f"{job['id']}.log"), None)
                    # mid-run: the job has finished at least one of its stage jobs, not all
                    if log is not None and "Finished jobid" in log.read_text(errors="replace"):
                        cluster.run("scancel", job["id"])
                        cancelled = job["id"]
                        break
            time.sleep(0.5)
        proc.wait(timeout=1200)
    finally:
        if proc.poll() is None:
            proc.kill()
    wall = time.monotonic() - start
    out = console.read_text(errors="replace")
    assert proc.returncode == 0, f"the SLURM run failed ({proc.returncode}):\n{out[-8000:]}"
    assert cancelled is not None, "no running sample job was found to cancel:\n" + out[-4000:]
    jobs = cluster.jobs()  # every job this cluster ran (MinJobAge: an hour)
    print(f"\nSLURM run: {wall:.0f} s wall, SLURM jobs: " + ", ".join(
        f"{j['id']} {j['comment'][:30]} {j['state']}" for j in jobs))
    return {"work": work, "out": out, "jobs": jobs, "cancelled": cancelled, "wall": wall}


def sorted_csv(path: Path) -> list[str]:
    header, *rows = path.read_text(encoding="utf-8").splitlines()
    return [header, *sorted(rows)]


def test_tables_equal_the_local_run(slurm_run, local_run):  # the cluster first: a skip costs nothing
    local, remote = local_run / "results" / "tables", slurm_run["work"] / "results" / "tables"
    names = sorted(p.name for p in local.iterdir())
    assert names == sorted(p.name for p in remote.iterdir())
    assert any(n.endswith(".csv") for n in names) and any(n.endswith(".parquet") for n in names)
    for name in names:
        if name.endswith(".csv"):
            assert sorted_csv(remote / name) == sorted_csv(local / name), name
        elif name.endswith(".parquet"):
            a, b = pd.read_parquet(local / name), pd.read_parquet(remote / name)
            assert list(a.columns) == list(b.columns), name
            a = a.sort_values(list(a.columns), ignore_index=True, na_position="first")
            b = b.sort_values(list(b.columns), ignore_index=True, na_position="first")
            pd.testing.assert_frame_equal(a, b, check_exact=True, obj=name)
    assert pd.read_csv(remote / "overpotentials.csv").shape[0] > 0


def test_samples_grouped_as_the_profile_says(slurm_run):
    """One SLURM job per SAMPLES_PER_JOB samples (and the cancelled one again), one for the
    collection; the stage rules were not submitted one by one."""
    samples = [p for p in (slurm_run["work"] / "raw").iterdir() if p.is_dir()]
    jobs = slurm_run["jobs"]
    sample_jobs = [j for j in jobs if j["comment"].startswith("rule_sample")]
    collect_jobs = [j for j in jobs if j["comment"].startswith("rule_collect")]
    expected = math.ceil(len(samples) / SAMPLES_PER_JOB)
    assert expected == 2
    assert len(sample_jobs) == expected + 1, sample_jobs  # + the cancelled job's second submission
    assert len(collect_jobs) == 1, collect_jobs
    assert len(jobs) == len(sample_jobs) + len(collect_jobs), jobs
    assert sorted(j["state"] for j in sample_jobs) == ["CANCELLED", "COMPLETED", "COMPLETED"]
    # the profile's own setting gives one SLURM job for the demo's samples (README)
    profile = yaml.safe_load((ROOT / "profiles" / "slurm" / "config.yaml").read_text())
    per_job = dict(item.split("=") for item in profile["group-components"])
    assert math.ceil(len(samples) / int(per_job["sample"])) == 1


def test_cancelled_job_is_submitted_again(slurm_run):
    out, cancelled = slurm_run["out"], slurm_run["cancelled"]
    log = next((slurm_run["work"] / "results" / "logs" / "slurm").rglob(f"{cancelled}.log"))
    assert f"*** JOB {cancelled} ON localhost CANCELLED" in log.read_text(errors="replace")
    # reported with its SLURM log, then submitted again (retries: 1 in the profile)
    assert re.search(rf"Error in group sample\n\s+log: \S+/{cancelled}\.log", out), out[-4000:]
    assert "Trying to restart job" in out, out[-4000:]
    jobs = {j["id"]: j for j in slurm_run["jobs"]}
    later = [j for j in slurm_run["jobs"] if int(j["id"]) > int(cancelled) and j["comment"] == jobs[cancelled]["comment"]]
    assert any(j["state"] == "COMPLETED" for j in later)
    # every sample finished: a manifest and the last stage's table for each
    work = slurm_run["work"]
    for sample in (work / "raw").iterdir():
        if sample.is_dir():
            assert (work / "results" / "samples" / sample.name / "tables" / "stability.csv").is_file(), sample.name


def test_slurm_logs_per_job(slurm_run):
    """Each SLURM job has its log under results/logs/slurm (the profile's slurm-logdir)."""
    logs = sorted((slurm_run["work"] / "results" / "logs" / "slurm").rglob("*.log"))
    ids = {p.stem for p in logs}
    assert {j["id"] for j in slurm_run["jobs"]} <= ids, (ids, slurm_run["jobs"])


def test_readme_cluster_section_is_what_the_test_runs():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Running on a cluster (SLURM)", 1)[1].split("\n## ", 1)[0]
    assert ".venv/bin/snakemake --workflow-profile profiles/slurm" in section
    assert " ".join(CLUSTER_ARGS) in section
    assert "tests/slurm_cluster.py" in section
