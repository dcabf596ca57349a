"""Scale benchmark: the whole workflow on N catalyst samples plus M temperature series.

    python benchmarks/scale.py                 # N = 50, 200, 1000
    python benchmarks/scale.py --samples 50    # one size only
    python benchmarks/scale.py --samples 1000 --profile-arg scheduler-subsample=5   # a variant

Each catalyst sample is a copy of the demo's PtMG_as-cast folder (1 LSV .mpt, 6 CV
.DTA, 1 EIS .mpt: 8 files); each temperature series a copy of LLZO_650C's heating run
(9 EIS, 100..500 °C). M defaults to N/20. For each size, in a temporary folder, with
``--cores 2`` and profiles/default, it times:

  (a) ``snakemake -n`` (DAG only; checks that it writes nothing under results/)
  (b) a cold full run
  (c) a re-run after adding a sample
  (d) a re-run with nothing new
  (e) a re-run after changing one Tafel setting (tafel.r2_min): which rules ran (no EIS)
  (f) the published overlay switched on, then off again: which rules ran each time

and prints the jobs each run ran per rule, files per second and Snakemake's cost per job
(what a job costs beyond its analysis). Every figure is printed with the machine's load
(``uptime``) at the start of the size: on 2 shared cores other processes change them.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).with_name("snakemake")
CATALYST = ROOT / "raw" / "PtMG_as-cast"
FILM = ROOT / "raw" / "LLZO_650C"
STAGES = ("ingest", "eis", "lsv", "tafel", "ecsa", "arrhenius", "stability")


def make_catalyst(raw: Path, name: str) -> int:
    dest = raw / name
    shutil.copytree(CATALYST, dest)
    return sum(1 for p in dest.iterdir() if p.name != "sample.yaml")


def make_series(raw: Path, name: str) -> int:
    dest = raw / name
    dest.mkdir()
    shutil.copy(FILM / "sample.yaml", dest / "sample.yaml")
    files = sorted(FILM.glob("eis_heat_*"))
    for f in files:
        shutil.copy(f, dest / f.name)
    return len(files)


SNAKEFILE = ROOT / "Snakefile"


def snakemake(work: Path, *args: str, configfiles: tuple[Path, ...] = (), extra: tuple[str, ...] = ()) -> tuple[float, str]:
    # the config as it was when the size started (copied there): an edit of config/ during
    # a long benchmark would otherwise re-run the stages whose settings changed
    cmd = [str(SNAKEMAKE), "-s", str(SNAKEFILE), "--directory", str(work),
           "--configfile", str(work / "config.yaml"), *map(str, configfiles),
           "--cores", "2", *extra, *args]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    out = proc.stdout + proc.stderr
    if proc.returncode != 0:
        raise SystemExit(f"snakemake failed:\n{out[-4000:]}")
    CPU.append(cpu_seconds())
    return elapsed, out


CPU: list[float] = []


def cpu_seconds() -> float:
    """CPU seconds (user + system) of the finished Snakemake processes so far: the engine's
    own cost (DAG, scheduling, bookkeeping; the workers are the forkserver's children and
    not counted). Less sensitive than wall time to other load on the machine."""
    import resource

    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def jobs_run(out: str) -> Counter:
    """Jobs per rule, from the 'Job stats' table Snakemake prints before running."""
    m = re.search(r"^Job stats:\n.*?\n-+\s+-+\n(.*?)\ntotal\s+\d+", out, flags=re.M | re.S)
    return Counter({rule: int(n) for rule, n in re.findall(r"^(\w+)\s+(\d+)$", m.group(1), flags=re.M)}) if m else Counter()


def fmt_jobs(jobs: Counter) -> str:
    return ", ".join(f"{rule} {n}" for rule, n in sorted(jobs.items(), key=lambda kv: (-kv[1], kv[0])) if rule != "all") or "none"


def stage_seconds(work: Path) -> float:
    """The analyses' own time: wall seconds of every stage job (Snakemake's benchmark files;
    for a one-job-per-sample design, the stage timings in its done.json files)."""
    import json

    total = sum(sum(json.loads(done.read_text())["seconds"].values())
                for done in (work / "results" / "samples").glob("*/done.json"))
    for stage in STAGES:
        for tsv in (work / "results" / "benchmarks" / stage).glob("*.tsv"):
            lines = tsv.read_text().splitlines()
            if len(lines) > 1:
                total += float(lines[1].split("\t")[0])
    return total


def tree(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")} if folder.exists() else set()


def run_size(n: int, m: int, keep: Path | None, extra: tuple[str, ...], cold_only: bool = False) -> dict:
    work = Path(tempfile.mkdtemp(prefix=f"echem-scale-{n}-", dir=keep))
    raw = work / "raw"
    raw.mkdir()
    for name in ("config.yaml", "published.yaml"):
        shutil.copy(ROOT / "config" / name, work / name)
    files = sum(make_catalyst(raw, f"CAT_{i:05d}") for i in range(n))
    files += sum(make_series(raw, f"FILM_{i:04d}") for i in range(m))
    r = {"N": n, "M": m, "files": files, "load": os.getloadavg()[0]}

    r["dry_s"], out = snakemake(work, "-n", extra=extra)
    r["jobs"] = sum(jobs_run(out).values())
    r["dry_writes"] = len(tree(work / "results"))
    before = cpu_seconds()
    r["cold_s"], out = snakemake(work, extra=extra)
    r["cold_cpu_s"] = CPU[-1] - before
    r["compute_s"] = stage_seconds(work)
    if cold_only:
        r["noop_s"], out = snakemake(work, extra=extra)
        if keep is None:
            shutil.rmtree(work, ignore_errors=True)
        return r
    make_catalyst(raw, "CAT_added")
    r["add_one_s"], out = snakemake(work, extra=extra)
    r["add_one_jobs"] = jobs_run(out)
    r["noop_s"], out = snakemake(work, extra=extra)
    assert "Nothing to be done" in out
    overlay = work / "tafel_change.yaml"
    overlay.write_text("tafel:\n  r2_min: 0.998\n")
    before = cpu_seconds()
    r["tafel_s"], out = snakemake(work, configfiles=(overlay,), extra=extra)
    r["tafel_cpu_s"] = CPU[-1] - before
    r["tafel_jobs"] = jobs_run(out)
    published = (overlay, work / "published.yaml")
    r["pub_on_s"], out = snakemake(work, configfiles=published, extra=extra)
    r["pub_on_jobs"] = jobs_run(out)
    r["pub_off_s"], out = snakemake(work, configfiles=(overlay,), extra=extra)
    r["pub_off_jobs"] = jobs_run(out)
    if keep is None:
        shutil.rmtree(work, ignore_errors=True)
    return r


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, nargs="+", default=[50, 200, 1000])
    parser.add_argument("--series", type=int, default=None, help="temperature series (default N/20)")
    parser.add_argument("--keep", type=Path, default=None, help="keep the work folders under this folder")
    parser.add_argument("--profile-arg", action="append", default=[], metavar="KEY=VALUE",
                        help="an extra Snakemake option for every run, e.g. scheduler-subsample=5")
    parser.add_argument("--cold-only", action="store_true",
                        help="only the dry run, the cold run and a re-run with nothing new (to compare options)")
    parser.add_argument("--snakefile", type=Path, default=None,
                        help="another design's Snakefile to compare (its folder holds its rules and profiles)")
    args = parser.parse_args(argv)
    if args.snakefile:
        global SNAKEFILE
        SNAKEFILE = args.snakefile.resolve()
    extra = tuple(a for kv in args.profile_arg for a in (f"--{kv.split('=', 1)[0]}", *kv.split("=", 1)[1:]))
    header = (f"{'N':>5} {'M':>3} {'files':>6} {'jobs':>5} {'load':>5} {'dry s':>6} {'cold s':>7} {'files/s':>7} "
              f"{'stages s':>8} {'ovh s/job':>9} {'add s':>6} {'no-op s':>7} {'tafel s':>7} {'pub on s':>8} {'pub off s':>9}")
    print(header)
    print("-" * len(header), flush=True)
    for n in args.samples:
        m = args.series if args.series is not None else max(1, n // 20)
        r = run_size(n, m, args.keep, extra, cold_only=args.cold_only)
        ovh = max(0.0, 2 * r["cold_s"] - r["compute_s"]) / max(r["jobs"], 1)
        if args.cold_only:
            print(f"{r['N']:>5} {r['M']:>3} {r['files']:>6} {r['jobs']:>5} {r['load']:>5.2f} {r['dry_s']:>6.1f} "
                  f"{r['cold_s']:>7.1f} {r['files'] / r['cold_s']:>7.1f} {r['compute_s']:>8.1f} {ovh:>9.3f} "
                  f"{'':>6} {r['noop_s']:>7.1f}   (cold only; Snakemake's own CPU s: {r['cold_cpu_s']:.0f})", flush=True)
            continue
        print(f"{r['N']:>5} {r['M']:>3} {r['files']:>6} {r['jobs']:>5} {r['load']:>5.2f} {r['dry_s']:>6.1f} "
              f"{r['cold_s']:>7.1f} {r['files'] / r['cold_s']:>7.1f} {r['compute_s']:>8.1f} {ovh:>9.3f} "
              f"{r['add_one_s']:>6.1f} {r['noop_s']:>7.1f} {r['tafel_s']:>7.1f} {r['pub_on_s']:>8.1f} "
              f"{r['pub_off_s']:>9.1f}", flush=True)
        print(f"      dry run: {r['dry_writes']} paths written under results/; Snakemake's own CPU s: "
              f"cold {r['cold_cpu_s']:.0f}, tafel change {r['tafel_cpu_s']:.0f}")
        for key, label in (("add_one_jobs", "add one sample"), ("tafel_jobs", "tafel.r2_min changed"),
                           ("pub_on_jobs", "published overlay on"), ("pub_off_jobs", "published overlay off")):
            print(f"      {label}: {fmt_jobs(r[key])}", flush=True)
    print("\nstages s: the stage jobs' own wall time (results/benchmarks/<stage>/); ovh s/job: "
          "(2 cores x cold wall - stages s) / jobs, i.e. what each job costs beyond its analysis")
    print("targets (issue 18, 2 cores, N=1000): cold < 600 s; add one < 15 s; no-op < 10 s; "
          "tafel change < 60 s with no eis job; dry run writes nothing")
    print("Snakemake's own share of these runs (the same DAG of jobs that do nothing, paired with echem's): "
          "benchmarks/engine_floor.py --with-echem")
    return 0


if __name__ == "__main__":
    sys.exit(main())
