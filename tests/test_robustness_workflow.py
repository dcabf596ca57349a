"""The workflow on a raw/ where damaged samples sit next to good ones.

One run (module scope) over every kind of bad input labs produce, beside good samples:
each bad file gives exactly ONE row in results/tables/errors.csv that says what is wrong
and what to do; every good sample gets complete results; raw/ is not touched (same
bytes before and after); the run exits 0 (the default profile keeps going) unless
strict mode is asked for. A run killed with SIGKILL (the Snakemake process alone) leaves
no worker process and no half-written table, and the re-run (after ``--unlock``)
reproduces the uninterrupted run's tables; a second run on the same folder while one is
going is refused with Snakemake's lock message, before any worker starts.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import damage
from conftest import ROOT
from echem.io import read
from echem.workflow.tables import TABLE_COLUMNS

pytestmark = [pytest.mark.workflow, pytest.mark.slow, pytest.mark.corpus]

SNAKEMAKE = Path(sys.executable).with_name("snakemake")
TABLES = ("overpotentials", "tafel", "ecsa", "eis", "conductivity", "arrhenius", "errors")


def snakemake_cmd(workdir: Path, *args: str) -> list[str]:
    return [str(SNAKEMAKE), "-s", str(ROOT / "Snakefile"), "--directory", str(workdir),
            "--configfile", str(ROOT / "config" / "config.yaml"), "--cores", "2", *args]


def snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(snakemake_cmd(workdir, *args), capture_output=True, text=True, cwd=workdir,
                          timeout=900)


def tree_hashes(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def table(work: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(work / "results" / "tables" / f"{name}.csv")


# ----------------------------------------------------------------------------- raw/

SCE_HER = "area_cm2: 0.196\nreference_electrode: SCE\npH: 14\nreaction: HER\n"
FILM = "geometry: {kind: through-plane, thickness_cm: 0.1, area_cm2: 0.5}\n"
ODD_NAME = "PEIS 1 µA – Ø 5 mm (Kopie).mpt"

#: (sample, file) -> (stage, words the message must hold): exactly one row each.
BAD: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {
    ("empty", "lsv.mpt"): ("ingest", ("the file is empty", "re-export it")),
    ("cut_row", "cv.mpt"): ("ingest", ("has 6 of 12 values", "truncated", "re-export it from EC-Lab")),
    ("cut_header", "lsv.mpt"): ("ingest", ("the header claims 66 lines but the file has only 8 lines",
                                           "truncated inside its header", "re-export")),
    ("garbage", "lsv.mpt"): ("ingest", ("the name says an EC-Lab text export (.mpt)", "binary data", "damaged")),
    ("garbage", "run.DTA"): ("ingest", ("the name says a Gamry .DTA export", "damaged")),
    ("garbage", "lsv.mpr"): ("ingest", ("the name says an EC-Lab binary file (.mpr)", "damaged")),
    ("garbage", "spectrum.z"): ("ingest", ("the name says a ZPlot/ZView .z export", "damaged")),
    ("garbage", "data.csv"): ("ingest", ("the name says a CSV table", "Copy or export it again")),
    ("nb_header", "lsv.mpt"): ("ingest", ("the header claims 5000 lines", "set 'Nb header lines : 66'")),
    ("cells", "lsv_typed.mpt"): ("ingest", ("is not a row of numbers like the lines around it",
                                            "correct or delete that line")),
    ("cells", "cv_nan.csv"): ("ingest", ("'NaN,NaN'", "correct or delete that line")),
    ("eis_few", "eis.csv"): ("eis", ("only 3 usable points", "more frequencies")),
    ("cv_one", "cv_20mVs.csv"): ("ecsa", ("needs CVs at >= 3 scan rates; found 1", "add CVs")),
    ("film_one", "single run"): ("arrhenius", ("needs EIS at >= 3 temperatures; found 1",
                                               "Measure more temperatures")),
    ("yaml_typo", "sample.yaml"): ("ingest", ("unknown key 'area_cm'; did you mean 'area_cm2'?",
                                              "analyses are skipped until it is fixed")),
    ("yaml_type", "sample.yaml"): ("ingest", ("area_cm2 must be a number, got '0.196 cm2'",
                                              "e.g. area_cm2: 0.196")),
    ("yaml_ref", "sample.yaml"): ("ingest", ("unknown reference electrode 'AgAgCl'", "Did you mean")),
    ("yaml_neg", "sample.yaml"): ("ingest", ("area_cm2 must be > 0, got -0.196",)),
    ("Twin", ""): ("discover", ("sample folders Twin, twin differ only in case", "merge or rename them")),
    ("twin", ""): ("discover", ("sample folders Twin, twin differ only in case", "merge or rename them")),
    ("bad name é", ""): ("discover", ("is not a valid sample id", "rename it, e.g. to 'bad_name'")),
}

#: Bad input reported by its own tests below (one row each, checked there).
PENDING: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {
    ("eis_sign", "eis.csv"): ("eis", ("sign",)),
    ("cut_partial", "eis.DTA"): ("ingest", ("truncated",)),
}

#: Rows that are not bad input but the limits of the real data: the dgbowl LSV spans
#: 0.9 decades of current, less than the Tafel stage's 1 decade (the message says so).
DATA_LIMITS: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {
    (sample, "lsv.mpt"): ("tafel", ("decades of current above the noise floor", "lower tafel.min_decades"))
    for sample in ("cat1", "cat1_locale", "lsv_low")
}
#: The dgbowl PEIS spectrum (real data) is fitted by no candidate circuit to 5 %: the EIS
#: stage rejects the fit and says why (its Kramers-Kronig check fails too).
DATA_LIMITS.update({
    (sample, name): ("eis", ("misses the data by", "Kramers-Kronig"))
    for sample, name in (("cat1", "peis.mpt"), ("cat1_locale", "peis.mpt"),
                         ("odd_name", "PEIS 1 µA – Ø 5 mm (Kopie).mpt"))
})

#: Good samples: their tables must be complete, and no error row (but DATA_LIMITS) may name them.
GOOD = ("cat1", "cat1_locale", "film1", "odd_name", "eis_shuffled", "eis_dup", "lsv_low")


def build_raw(raw: Path, corpus: Path, data: Path) -> None:
    """Write the damaged and the good samples into ``raw``."""
    def put(sample: str, name: str, content: bytes | str) -> None:
        (raw / sample).mkdir(parents=True, exist_ok=True)
        path = raw / sample / name
        path.write_bytes(content.encode() if isinstance(content, str) else content)

    yadg = corpus / "dgbowl_yadg"
    lsv, peis, cv = ((yadg / n).read_bytes() for n in ("lsv.mpt", "peis.mpt", "cv.mpt"))
    chi = [(corpus / "D3TaLES_d3tales_api" / n).read_bytes() for n in (
        "01_GC_WE_Pt_RE_Pt_CE_10_mM_ferricyanide_in_100_mM_KCl_20_mV_scan_rate.csv",
        "02_GC_WE_Pt_RE_Pt_CE_10_mM_ferricyanide_in_100_mM_KCl_50_mV_scan_rate.csv")]
    films = sorted((data).glob("s04147-*deg.txt"))[:3]
    gamry = read(data / "exampleDataGamry.DTA").data
    f, Z = gamry["freq_Hz"].to_numpy(), gamry["Z_re_ohm"].to_numpy() + 1j * gamry["Z_im_ohm"].to_numpy()

    # good samples
    put("cat1", "lsv.mpt", lsv), put("cat1", "peis.mpt", peis), put("cat1", "sample.yaml", SCE_HER)
    put("cat1_locale", "lsv.mpt", damage.decimal_comma_latin1(lsv))          # German Windows
    put("cat1_locale", "peis.mpt", damage.reencode(peis, "utf-16"))           # UTF-16 with BOM
    put("cat1_locale", "sample.yaml", SCE_HER)
    for path in films:
        put("film1", path.name, path.read_bytes())
    put("film1", "sample.yaml", FILM)
    put("odd_name", ODD_NAME, peis)
    put("eis_shuffled", "eis.csv", damage.eis_csv(f, Z, order=np.random.default_rng(4).permutation(f.size)))
    put("eis_dup", "eis.csv", damage.eis_csv(f, Z, duplicate=6))
    put("lsv_low", "lsv.mpt", lsv), put("lsv_low", "sample.yaml", SCE_HER.replace("0.196", "1000"))

    # bad samples: one bad file each (or one bad sample.yaml beside a good file)
    put("empty", "lsv.mpt", b"")
    put("cut_row", "cv.mpt", damage.cut_mid_row(cv, 0.6, cell=4))
    put("cut_header", "lsv.mpt", damage.cut_in_header(lsv, 8))
    put("cut_partial", "eis.DTA", damage.cut_mid_row((data / "exampleDataGamry.DTA").read_bytes(), 0.97))
    for i, name in enumerate(("lsv.mpt", "run.DTA", "lsv.mpr", "spectrum.z", "data.csv")):
        put("garbage", name, damage.garbage(3000, seed=i))
    put("nb_header", "lsv.mpt", damage.claim_header_lines(lsv, 5000))
    put("cells", "lsv_typed.mpt", damage.text_cell(lsv, 0.5, "n/a"))
    put("cells", "cv_nan.csv", damage.nan_row(chi[0], 0.5))
    put("eis_sign", "eis.csv", damage.eis_csv(f, Z, flip_sign=True))
    put("eis_few", "eis.csv", damage.eis_csv(f[::24][:4], Z[::24][:4]))
    put("cv_one", "cv_20mVs.csv", chi[0])
    put("film_one", films[0].name, films[0].read_bytes()), put("film_one", "sample.yaml", FILM)
    for sample, text in (("yaml_typo", "area_cm: 0.196\n"), ("yaml_type", "area_cm2: 0.196 cm2\n"),
                         ("yaml_ref", "reference_electrode: AgAgCl\n"), ("yaml_neg", "area_cm2: -0.196\n")):
        put(sample, "peis.mpt", peis), put(sample, "sample.yaml", text)
    put("Twin", "peis.mpt", peis), put("twin", "peis.mpt", peis)
    put("bad name é", "peis.mpt", peis)
    for path in raw.rglob("*"):
        if path.is_file():
            path.chmod(0o444)  # raw/ is read-only for the workflow


@pytest.fixture(scope="module")
def project(tmp_path_factory, corpus_dir, data_dir):
    work = tmp_path_factory.mktemp("robust")
    raw = work / "raw"
    build_raw(raw, corpus_dir, data_dir)
    before = tree_hashes(raw)
    t0 = time.perf_counter()
    run = snakemake(work)
    return {"work": work, "raw": raw, "before": before, "run": run, "seconds": time.perf_counter() - t0}


# ----------------------------------------------------------------------------- one run


def test_run_finishes_and_exits_zero_despite_the_errors(project):
    run = project["run"]
    log = run.stdout + run.stderr
    assert run.returncode == 0, log[-5000:]
    assert "workflow specific profile" in log and "profiles/default" in log, "the default profile is used"
    assert (project["work"] / "results" / "figures").is_dir()


def test_one_error_row_per_bad_input(project):
    errors = table(project["work"], "errors").fillna("")
    keyed = errors.set_index(["sample", "file"])
    assert not keyed.index.duplicated().any(), errors[keyed.index.duplicated(keep=False)].to_string()
    for (sample, file), (stage, words) in {**BAD, **DATA_LIMITS}.items():
        assert (sample, file) in keyed.index, f"no error row for {sample}/{file}:\n{errors.to_string()}"
        row = keyed.loc[(sample, file)]
        assert row["stage"] == stage, (sample, file, row["stage"], row["error"])
        for w in words:
            assert w in row["error"], f"{sample}/{file}: {w!r} not in {row['error']!r}"
    extra = set(keyed.index) - set(BAD) - set(DATA_LIMITS) - set(PENDING)
    assert not extra, f"unexpected error rows:\n{errors[keyed.index.isin(extra)].to_string()}"


def test_sign_flipped_spectrum_is_one_error_row_naming_the_sign(project):
    errors = table(project["work"], "errors").fillna("")
    rows = errors[(errors["sample"] == "eis_sign") & (errors["file"] == "eis.csv")]
    assert len(rows) == 1 and rows.iloc[0]["stage"] == "eis"
    assert "sign" in rows.iloc[0]["error"]


def test_truncated_file_read_in_part_is_reported(project):
    errors = table(project["work"], "errors").fillna("")
    rows = errors[(errors["sample"] == "cut_partial") & (errors["file"] == "eis.DTA")]
    assert len(rows) == 1 and rows.iloc[0]["stage"] == "ingest"
    assert "truncated" in rows.iloc[0]["error"]


def test_good_samples_are_complete(project):
    work = project["work"]
    over = table(work, "overpotentials")
    for sample in ("cat1", "cat1_locale"):
        rows = over[over["sample"] == sample]
        assert sorted(rows["target_mA_cm2"]) == [10, 100] and rows["reached"].all(), sample
        assert rows["eta_mV"].notna().all()
    eis = table(work, "eis")
    rejected = {sample for (sample, _), (stage, _) in DATA_LIMITS.items() if stage == "eis"}
    assert set(GOOD) - {"lsv_low"} - rejected | {"film_one"} <= set(eis["sample"])
    assert not rejected & set(eis["sample"]), "a rejected EIS fit must not reach eis.csv"
    # the rejected spectrum still gives Ru from its high-frequency intercept
    ru = over.groupby("sample")["ru_ohm"].first()
    assert ru[["cat1", "cat1_locale"]].notna().all()
    cond = table(work, "conductivity")
    assert sorted(cond.loc[cond["sample"] == "film1", "temperature_C"]) == [140, 150, 160]
    arr = table(work, "arrhenius")
    assert list(arr["sample"]) == ["film1"] and arr["Ea_eV"].notna().all()


def test_a_decimal_comma_latin1_and_utf16_copy_gives_the_same_numbers(project):
    work = project["work"]
    over = table(work, "overpotentials").set_index(["sample", "target_mA_cm2"])
    for target in (10, 100):
        assert over.loc[("cat1_locale", target), "eta_mV"] == pytest.approx(over.loc[("cat1", target), "eta_mV"],
                                                                           rel=1e-9)
    # the UTF-16 copy of the PEIS file gives the same Ru (its fit is rejected in both: DATA_LIMITS)
    ru = over.groupby(level="sample")["ru_ohm"].first()
    assert ru["cat1_locale"] == pytest.approx(ru["cat1"], rel=1e-9) and ru["cat1"] > 0


def test_unsorted_and_duplicate_frequencies_fit_like_the_clean_spectrum(project):
    eis = table(project["work"], "eis")
    values = {s: dict(zip(g["param"], g["value"])) for s, g in eis.groupby("sample")}
    assert values["eis_shuffled"].keys() == values["eis_dup"].keys()
    for param, v in values["eis_shuffled"].items():
        assert values["eis_dup"][param] == pytest.approx(v, rel=1e-6), param


def test_lsv_that_never_reaches_the_target_is_reported_not_failed(project):
    over = table(project["work"], "overpotentials")
    rows = over[over["sample"] == "lsv_low"]
    assert len(rows) == 2 and not rows["reached"].any() and rows["eta_mV"].isna().all()


def test_manifest_says_what_happened_to_each_file(project):
    work = project["work"]
    garbage = pd.read_csv(work / "results" / "samples" / "garbage" / "manifest.csv")
    assert len(garbage) == 5 and set(garbage["status"]) <= {"error", "skipped"}
    assert garbage["error"].str.contains("damaged").all()
    cells = pd.read_csv(work / "results" / "samples" / "cells" / "manifest.csv")
    assert set(cells["status"]) == {"error"}


def test_raw_is_not_touched(project):
    assert tree_hashes(project["raw"]) == project["before"]


def test_every_table_has_its_contract_columns(project):
    for name in TABLES:
        df = table(project["work"], name)
        assert tuple(df.columns) == TABLE_COLUMNS[name], name


def run_or_hang(workdir: Path, *args: str, timeout: float = 300, grace: float = 15) -> tuple[int | None, str]:
    """Run snakemake; ``(None, log)`` if it is still alive ``grace`` s after a job failed for good."""
    log_path = workdir / f"run-{time.monotonic_ns()}.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(snakemake_cmd(workdir, *args), cwd=workdir, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
    said_exit = None
    end = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < end:
        time.sleep(0.2)
        text = log_path.read_text()
        if said_exit is None and ("Will exit after finishing" in text or "strict mode:" in text):
            said_exit = time.monotonic()
        if said_exit is not None and time.monotonic() - said_exit > grace:
            break
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
        return None, log_path.read_text()
    return proc.returncode, log_path.read_text()


def test_strict_mode_fails_the_run_and_says_why(project):
    """Last on the shared folder: only strict_check runs (no analysis or figure depends on strict)."""
    work = project["work"]
    rc, log = run_or_hang(work, "--config", "strict=true")  # a word: read as the boolean (config_cli)
    assert rc is not None, "snakemake hung after strict_check failed:\n" + log[-3000:]
    assert rc != 0
    n = len(table(work, "errors"))
    assert f"strict mode: {n} input(s) or fit(s) failed" in log, log[-3000:]
    assert "set strict: false in config/config.yaml" in log
    assert not (work / "results" / "tables" / "strict.ok").exists()
    assert tree_hashes(project["raw"]) == project["before"]


# ----------------------------------------------------------------------------- kill, re-run, lock


def wait_for(predicate, timeout: float, every: float = 0.1) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(every)
    return False


def contract_tables_parse(results: Path) -> list[str]:
    """Every table CSV under results/ that does not parse with its contract's columns."""
    bad = []
    for path in results.rglob("*.csv"):
        # per-sample stage logs (samples/<s>/errors/eis.csv) are error/warning tables named by stage
        name = path.parent.name if path.parent.name in ("errors", "warnings") else path.stem
        if name not in TABLE_COLUMNS:
            continue
        try:
            df = pd.read_csv(path)
        except pd.errors.EmptyDataError:
            bad.append(f"{path}: empty")
            continue
        if tuple(df.columns) != TABLE_COLUMNS[name]:
            bad.append(f"{path}: columns {list(df.columns)}")
    return bad


def sorted_table(work: Path, name: str) -> pd.DataFrame:
    df = table(work, name)
    keys = [c for c in ("sample", "file", "stage", "param", "target_mA_cm2", "temperature_C", "run")
            if c in df.columns]
    return df.sort_values(keys).reset_index(drop=True)


def session_processes(sid: int) -> list[int]:
    """The live processes of session ``sid`` (Snakemake started with start_new_session: its
    forkserver, workers and resource tracker are in its session)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                fields = fh.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid and fields[0] not in (b"Z", b"X"):
            pids.append(int(entry))
    return pids


def refused_run(work: Path) -> subprocess.CompletedProcess:
    """A second run on a locked folder, watched: how long it takes and which processes it
    started (their command lines: a worker pool started before the lock is checked would
    show as multiprocessing's forkserver and workers)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(snakemake_cmd(work), cwd=work, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    children: dict[int, str] = {}
    while proc.poll() is None and time.perf_counter() - t0 < 300:
        for pid in set(session_processes(proc.pid)) - {proc.pid}:
            try:  # read again every time: a child shows its parent's command line until it execs
                with open(f"/proc/{pid}/cmdline", "rb") as fh:
                    children[pid] = children.get(pid, "") + " | " + fh.read().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                pass
        time.sleep(0.05)
    stdout, stderr = proc.communicate(timeout=60)
    done = subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
    done.seconds, done.children = time.perf_counter() - t0, children
    return done


@pytest.fixture(scope="module")
def killed_and_rerun(project, tmp_path_factory):
    """The same raw/ in a fresh folder: a run killed mid-way, then the re-runs."""
    work = tmp_path_factory.mktemp("killed")
    shutil.copytree(project["raw"], work / "raw")
    out = {"work": work}
    proc = subprocess.Popen(snakemake_cmd(work), cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        samples = work / "results" / "samples"
        started = wait_for(lambda: len(list(samples.glob("*/ingest.json"))) >= 4, timeout=300)
        out["finished_before_kill"] = proc.poll() is not None
        time.sleep(1.0)
        out["processes_before_kill"] = session_processes(proc.pid)
        os.kill(proc.pid, signal.SIGKILL)  # Snakemake only, as `kill -9 <pid>` does: not its workers
        proc.wait(timeout=60)
        wait_for(lambda: not session_processes(proc.pid), timeout=10, every=0.2)
        out["left_after_kill"] = session_processes(proc.pid)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=60)
        for pid in session_processes(proc.pid):  # whatever survived must not disturb the re-run
            os.kill(pid, signal.SIGKILL)
    out["started"] = started
    out["tables_missing"] = not (work / "results" / "tables" / "errors.csv").exists()
    out["half_written"] = contract_tables_parse(work / "results")
    out["refused_stale"] = snakemake(work)
    out["unlock"] = snakemake(work, "--unlock")
    # the re-run, and a second run started while it holds the lock
    rerun = subprocess.Popen(snakemake_cmd(work), cwd=work, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True, start_new_session=True)
    try:
        locks = work / ".snakemake" / "locks"
        out["locked"] = wait_for(lambda: locks.is_dir() and any(locks.iterdir()), timeout=120)
        out["second"] = refused_run(work) if out["locked"] and rerun.poll() is None else None
        out["rerun_log"], _ = rerun.communicate(timeout=900)
    finally:
        if rerun.poll() is None:
            os.killpg(rerun.pid, signal.SIGKILL)
    out["rerun_rc"] = rerun.returncode
    return out


def test_killed_run_was_really_interrupted(killed_and_rerun):
    k = killed_and_rerun
    assert k["started"] and not k["finished_before_kill"] and k["tables_missing"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_kill_9_of_snakemake_leaves_no_worker_behind(killed_and_rerun):
    """`kill -9` of the Snakemake process alone: its worker processes (and their forkserver)
    follow it within seconds (echem.workflow.workers: PR_SET_PDEATHSIG and a watchdog)."""
    k = killed_and_rerun
    assert len(k["processes_before_kill"]) >= 3, "the run had no workers yet when it was killed"
    assert k["left_after_kill"] == [], f"processes of the killed run still alive: {k['left_after_kill']}"


def test_killed_run_leaves_no_half_written_table(killed_and_rerun):
    assert killed_and_rerun["half_written"] == []


def test_after_a_kill_the_stale_lock_is_reported_with_what_to_do(killed_and_rerun):
    refused = killed_and_rerun["refused_stale"]
    log = refused.stdout + refused.stderr
    assert refused.returncode != 0
    assert "Directory cannot be locked" in log and "--unlock" in log
    assert killed_and_rerun["unlock"].returncode == 0


def test_second_concurrent_run_is_refused(killed_and_rerun):
    second = killed_and_rerun["second"]
    assert second is not None, "the first run ended before the second could start"
    log = second.stdout + second.stderr
    assert second.returncode != 0
    assert "Directory cannot be locked" in log
    assert "no other Snakemake process is trying to create the same files" in log.replace("\n", " ")
    # refused before any worker starts (the pool starts at onstart, after the lock): it costs
    # the parse and the DAG only (README, "Bad input")
    workers = {pid: cmd for pid, cmd in second.children.items() if "multiprocessing" in cmd}
    assert not workers, f"the refused run started worker processes: {workers}"
    assert second.seconds < 60, second.seconds


def test_rerun_completes_and_equals_the_uninterrupted_run(killed_and_rerun, project):
    k = killed_and_rerun
    assert k["rerun_rc"] == 0, k["rerun_log"][-5000:]
    for name in TABLES:
        pd.testing.assert_frame_equal(sorted_table(k["work"], name), sorted_table(project["work"], name),
                                      check_exact=False, rtol=1e-9, obj=name)
    assert tree_hashes(k["work"] / "raw") == project["before"]
