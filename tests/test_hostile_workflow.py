"""The workflow on a raw/ built by a hostile user and a flaky machine (issue 19).

ONE run (module scope) over good samples and every kind of hostile one: series names that
are paths (``..``, ``.``, ``a/b``, absolute), link loops, a pipe, dangling links, a link to
/etc/passwd, a linked sample folder (a lab's data share) holding a link out of it, a
sub-folder, a ``backup~`` folder, a 255-character id, an id Snakemake takes for a recursion,
an LSV crossing its target several times, a spectrum with every other frequency negative,
unreadable files and folders (not as root), and a sample whose EIS job's worker process is
killed with SIGKILL (as the out-of-memory killer would; ``ECHEM_TEST_KILL_WORKER``).

What must hold: the run finishes and writes every table; each hostile input is one row of
errors.csv saying what is wrong; nothing outside raw/ is read or quoted; nothing under
results/ but what a rule owns is touched; every good sample is analysed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import ROOT
from echem.workflow.tables import TABLE_COLUMNS
from echem.workflow.workers import FAULT_ENV

pytestmark = [pytest.mark.workflow, pytest.mark.slow]

SNAKEMAKE = Path(sys.executable).with_name("snakemake")
DEMO = ROOT / "raw" / "PdMG_as-cast"
ROOT_USER = hasattr(os, "geteuid") and os.geteuid() == 0
LONG_ID = "L_" + "".join("abcdefghij"[i % 10] for i in range(253))   # 255 characters
PERIODIC_ID = "rep_" + "a" * 40
CRASH = "Pd_crash"

#: (sample, file) -> (stage, words the message must hold): exactly one row each.
EXPECTED: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {
    ("S_dotdot", "sample.yaml"): ("ingest", ("series '..' is not a valid series", "skipped until it is fixed")),
    ("S_dot", "sample.yaml"): ("ingest", ("series '.' is not a valid series",)),
    ("S_slash", "sample.yaml"): ("ingest", ("series 'a/b' is not a valid series",)),
    ("S_abs", "sample.yaml"): ("ingest", ("series '/tmp/x' is not a valid series",)),
    ("H_loop", "a"): ("discover", ("too many levels of symbolic links", "nothing read")),
    ("H_loop", "b"): ("discover", ("too many levels of symbolic links",)),
    ("H_loop", "self/"): ("discover", ("sub-folder self/ is not read",)),
    ("H_loop", "pipe.csv"): ("discover", ("not a regular file",)),
    ("H_sub", "old/"): ("discover", ("sub-folder old/ is not read", "must not join the sample's fits")),
    ("H_passwd", "notes.csv"): ("discover", ("symbolic link to /etc/passwd, outside raw/", "not read")),
    ("H_dangling", "gone.mpt"): ("discover", ("which does not exist; nothing read",)),
    ("H_gone", ""): ("discover", ("a symbolic link to", "which does not exist")),
    ("backup~", ""): ("discover", ("folder 'backup~' is skipped", "Rename it to a sample id")),
    (LONG_ID, ""): ("discover", ("255 characters long, too long for a sample id", "rename it")),
    (PERIODIC_ID, ""): ("discover", ("ends in 'a' repeated 40 times", "Snakemake refuses")),
    ("Lab_share", "secret.csv"): ("discover", ("outside raw/ and outside the sample folder", "not read")),
    (CRASH, ""): ("eis", ("the worker process died (killed by SIGKILL: out of memory?), twice",
                          "while the eis stage analysed this sample", "written empty")),
}
#: Only where chmod denies reading (not as root).
UNREADABLE: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {
    ("H_nofolder", ""): ("discover", ("cannot list the sample folder", "permission denied")),
    ("H_noyaml", "sample.yaml"): ("discover", ("cannot read sample.yaml: permission denied",
                                               "the sample is not analysed until it can be read")),
    ("H_nofile", "lsv_5mVs.csv"): ("discover", ("cannot read lsv_5mVs.csv: permission denied", "chmod a+r")),
}
GOOD = ("Pd_good", "Lab_share", CRASH, "H_crossings")   # samples with overpotentials


def snakemake_cmd(work: Path, *args: str) -> list[str]:
    return [str(SNAKEMAKE), "-s", str(ROOT / "Snakefile"), "--directory", str(work),
            "--configfile", str(ROOT / "config" / "config.yaml"), str(work / "fast.yaml"), "--quiet", "host",
            "--cores", "2", *args]  # each job's rule and wildcards printed (profiles/default hides them)


def crossing_lsv() -> str:
    """The demo LSV with a dip just past 10 mA/cm2: |j| crosses the target three times."""
    head, table = (DEMO / "lsv_5mVs.csv").read_text().split("time_s,E_V,I_A\n")
    rows = [line.split(",") for line in table.strip().splitlines()]
    current = np.array([float(r[2]) for r in rows])
    k = int(np.argmax(np.abs(current) / 0.196 * 1e3 >= 10))
    for j in range(k + 1, k + 4):
        rows[j][2] = f"{current[k - 1] * 0.97:.6e}"
    return head + "time_s,E_V,I_A\n" + "".join(",".join(r) + "\n" for r in rows)


def negative_frequency_csv() -> str:
    f = np.logspace(5, -1, 41)
    z = 5 + 50 / (1 + (1j * 2 * np.pi * f * 50 * 2e-5) ** 0.9)
    f[1::2] *= -1
    return "freq/Hz,Re(Z)/Ohm,-Im(Z)/Ohm\n" + "".join(f"{a:.6g},{b.real:.6g},{-b.imag:.6g}\n" for a, b in zip(f, z))


def build(work: Path) -> Path:
    raw = work / "raw"
    raw.mkdir(parents=True)

    def demo(sample: str, files=None, root: Path = raw) -> Path:
        folder = root / sample
        folder.mkdir(parents=True)
        for path in sorted(DEMO.iterdir()):
            if files is None or path.name in files:
                shutil.copy(path, folder / path.name)
        return folder

    one = ("eis.DTA",)
    demo("Pd_good")
    demo(CRASH)
    # a sample folder that is a link to a lab's data share, holding a link out of itself
    share = demo("run42", root=work / "share")
    (work / "secret.csv").write_text("password;hunter2\n")
    (share / "secret.csv").symlink_to(work / "secret.csv")
    (raw / "Lab_share").symlink_to(share)
    # series that are paths
    for sample, series in (("S_dotdot", ".."), ("S_dot", "."), ("S_slash", "a/b"), ("S_abs", "/tmp/x")):
        demo(sample, one)
        (raw / sample / "sample.yaml").write_text(f"series: {series}\n")
    # links, pipes, sub-folders, backups
    loop = demo("H_loop", one)
    (loop / "self").symlink_to(".")
    (loop / "a").symlink_to("b")
    (loop / "b").symlink_to("a")
    os.mkfifo(loop / "pipe.csv")
    demo("H_passwd", one)
    (raw / "H_passwd" / "notes.csv").symlink_to("/etc/passwd")
    demo("H_dangling", one)
    (raw / "H_dangling" / "gone.mpt").symlink_to(work / "nonexistent.mpt")
    (raw / "H_gone").symlink_to(work / "no_such_folder")
    demo("H_sub", one)
    demo("old", ("lsv_5mVs.csv",), root=raw / "H_sub")
    demo("backup~", one)
    demo(LONG_ID, one)
    demo(PERIODIC_ID, one)
    # data that gives a result with a warning, not an error
    demo("H_crossings", ("sample.yaml", "eis.DTA"))
    (raw / "H_crossings" / "lsv_5mVs.csv").write_text(crossing_lsv())
    (raw / "H_negfreq").mkdir()
    (raw / "H_negfreq" / "eis.csv").write_text(negative_frequency_csv())
    if not ROOT_USER:
        demo("H_nofolder", one).chmod(0)
        demo("H_noyaml", ("eis.DTA", "sample.yaml"))
        (raw / "H_noyaml" / "sample.yaml").chmod(0)
        demo("H_nofile", ("eis.DTA", "lsv_5mVs.csv"))
        (raw / "H_nofile" / "lsv_5mVs.csv").chmod(0)
    # per-sample figures off: they are not what this test is about (and cost most of a run)
    (work / "fast.yaml").write_text("report:\n  sample_figures: false\n")
    return raw


def restore_modes(work: Path) -> None:
    for path in (work / "raw").glob("H_no*"):
        path.chmod(0o755)
        for child in path.iterdir():
            child.chmod(0o644)


def hashes(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and os.access(p, os.R_OK)}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    work = tmp_path_factory.mktemp("hostile")
    raw = build(work)
    before = hashes(raw)
    env = {**os.environ, FAULT_ENV: f"eis:{CRASH}"}
    t0 = time.perf_counter()
    run = subprocess.run(snakemake_cmd(work), capture_output=True, text=True, cwd=work, timeout=900, env=env)
    seconds = time.perf_counter() - t0
    yield {"work": work, "raw": raw, "run": run, "before": before, "seconds": seconds}
    restore_modes(work)


def table(hostile, name: str) -> pd.DataFrame:
    return pd.read_csv(hostile["work"] / "results" / "tables" / f"{name}.csv", dtype=str, keep_default_na=False)


def test_the_run_finishes_and_writes_every_table(hostile):
    run = hostile["run"]
    assert run.returncode == 0, (run.stdout + run.stderr)[-5000:]
    for name in [*TABLE_COLUMNS, "eis_circuits"]:
        path = hostile["work"] / "results" / "tables" / f"{name}.csv"
        assert path.is_file(), f"{name}.csv not written"
    assert (hostile["work"] / "results" / "report" / "index.html").is_file()


def test_one_error_row_per_hostile_input(hostile):
    errors = table(hostile, "errors")
    keyed = errors.set_index(["sample", "file"])
    assert not keyed.index.duplicated().any(), errors[keyed.index.duplicated(keep=False)].to_string()
    expected = {**EXPECTED, **({} if ROOT_USER else UNREADABLE)}
    for (sample, file), (stage, words) in expected.items():
        assert (sample, file) in keyed.index, f"no error row for {sample}/{file}:\n{errors.to_string()}"
        row = keyed.loc[(sample, file)]
        assert row["stage"] == stage, (sample, file, row["stage"], row["error"])
        for w in words:
            assert w in row["error"], f"{sample}/{file}: {w!r} not in {row['error']!r}"
    extra = set(keyed.index) - set(expected)
    assert not extra, f"unexpected error rows:\n{errors[keyed.index.isin(extra)].to_string()}"


def test_unreadable_input_sub_cases(hostile):
    """(To run them as root: ``unshare --user --map-user=1000 --map-group=1000 .venv/bin/python -m pytest ...``.)"""
    if ROOT_USER:
        pytest.skip("running as root: chmod 000 denies root nothing, so unreadable files cannot be made")
    errors = table(hostile, "errors")
    assert not errors["error"].str.contains("internal error").any()
    over = table(hostile, "overpotentials")
    assert "H_noyaml" not in set(over["sample"])      # never analysed on the config's defaults
    assert not (hostile["work"] / "results" / "samples" / "H_noyaml").exists()
    eis = table(hostile, "eis")
    assert "H_nofile" in set(eis["sample"])           # its readable files are analysed


def test_nothing_outside_raw_is_read_or_quoted(hostile):
    results = hostile["work"] / "results"
    passwd = Path("/etc/passwd").read_text().splitlines()[0]
    for path in results.rglob("*"):
        if path.is_file() and path.suffix in (".csv", ".json", ".log", ".html", ".tsv"):
            text = path.read_text(errors="replace")
            assert passwd not in text and "hunter2" not in text, path
    assert not list((results / "samples" / "H_passwd").rglob("*notes*"))


def test_a_series_that_is_a_path_touches_nothing_outside_its_folder(hostile):
    """`series: ..` once drew into results/ itself and the next redraw deleted results/."""
    results = hostile["work"] / "results"
    figures = sorted(p.name for p in (results / "figures").iterdir())
    assert set(figures) == {"PdMG", "S", "H"}, figures   # the demo's sample.yaml says PdMG
    assert {"samples", "tables", "figures", "logs"} <= {p.name for p in results.iterdir()}
    assert not [p for p in results.iterdir() if p.suffix in (".png", ".svg")]
    assert not (hostile["work"] / "a").exists() and not Path("/tmp/x").exists()
    samples = {p.name for p in (results / "samples").iterdir()}
    assert {"Pd_good", "S_dotdot", "S_dot", "S_slash", "S_abs"} <= samples
    # the refused samples are not analysed: no numbers, the sample still listed
    eis = table(hostile, "eis")
    assert not set(eis["sample"]) & {"S_dotdot", "S_dot", "S_slash", "S_abs"}


def test_a_killed_worker_costs_only_its_sample_stage(hostile):
    over = table(hostile, "overpotentials")
    assert set(GOOD) <= set(over["sample"]), sorted(set(over["sample"]))
    eis = table(hostile, "eis")
    assert CRASH not in set(eis["sample"]) and "Pd_good" in set(eis["sample"])
    # the crashed sample's later stages ran on the empty EIS output: its LSV without Ru
    crashed = over[over["sample"] == CRASH]
    assert crashed["flags"].str.contains("no_ir").all()
    good = over[over["sample"] == "Pd_good"]
    assert not good["flags"].str.contains("no_ir").any()
    assert (hostile["work"] / "results" / "samples" / CRASH / "tables" / "ecsa.csv").is_file()


def test_a_linked_sample_folder_is_analysed(hostile):
    over = table(hostile, "overpotentials").set_index(["sample", "target_mA_cm2"])
    assert over.loc[("Lab_share", "10"), "eta_mV"] == over.loc[("Pd_good", "10"), "eta_mV"] != ""


def test_multiple_crossings_are_a_warning_not_an_error(hostile):
    errors, warnings = table(hostile, "errors"), table(hostile, "warnings")
    assert "H_crossings" not in set(errors["sample"])
    rows = warnings[(warnings["sample"] == "H_crossings") & (warnings["flag"] == "multiple_crossings")]
    assert len(rows) >= 1 and rows["warning"].str.contains("crosses 10 mA/cm2").all()
    over = table(hostile, "overpotentials")
    eta = over[(over["sample"] == "H_crossings") & (over["target_mA_cm2"] == "10")]["eta_mV"]
    assert len(eta) == 1 and float(eta.iloc[0]) > 0


def test_half_the_frequencies_negative_is_a_warning(hostile):
    warnings = table(hostile, "warnings")
    rows = warnings[(warnings["sample"] == "H_negfreq") & (warnings["file"] == "eis.csv")]
    assert rows["warning"].str.contains("20 of 41 points have a negative frequency and were left out").any()
    eis = table(hostile, "eis")
    assert set(eis[eis["sample"] == "H_negfreq"]["file"]) == {"eis.csv"}   # one spectrum, fitted


def test_raw_is_not_touched(hostile):
    assert hashes(hostile["raw"]) == hostile["before"]


def test_the_next_run_tries_the_crashed_job_again(hostile):
    """Last (it re-runs the folder): without the fault, the next run redoes the crashed sample's
    EIS job and what reads it, and nothing else (results/retry/<stage>/<sample>, faults.py)."""
    work = hostile["work"]
    env = {k: v for k, v in os.environ.items() if k != FAULT_ENV}
    run = subprocess.run(snakemake_cmd(work), capture_output=True, text=True, cwd=work, timeout=900, env=env)
    log = run.stdout + run.stderr
    assert run.returncode == 0, log[-5000:]
    ran = {line.split()[1].rstrip(":") for line in log.splitlines() if line.startswith("localrule ")}
    assert {"eis", "lsv", "tafel", "ecsa", "collect_errors"} <= ran and "ingest" not in ran, ran
    assert f"wildcards: sample={CRASH}" in log and "wildcards: sample=Pd_good" not in log
    assert CRASH in set(table(hostile, "eis")["sample"])
    assert CRASH not in set(table(hostile, "errors")["sample"])
    again = subprocess.run(snakemake_cmd(work), capture_output=True, text=True, cwd=work, timeout=900, env=env)
    assert "Nothing to be done" in again.stdout + again.stderr, "the retry must happen once, not every run"
