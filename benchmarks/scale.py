"""Scale benchmark: the whole workflow on N catalyst samples plus M temperature series.

    python benchmarks/scale.py                 # N = 50, 200, 1000
    python benchmarks/scale.py --samples 50    # one size only

Each catalyst sample is a copy of the demo's PtMG_as-cast folder (1 LSV .mpt, 6 CV
.DTA, 1 EIS .mpt: 8 files); each temperature series a copy of LLZO_650C's heating run
(9 EIS, 100..500 °C). M defaults to N/20. For each size, in a temporary folder and
with ``--cores 2`` and profiles/default, it times:

  (a) ``snakemake -n`` (DAG only)     (b) a cold full run
  (c) a re-run after adding a sample  (d) a re-run with nothing new

and prints files per second and the overhead per job (wall time / jobs run).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).with_name("snakemake")
CATALYST = ROOT / "raw" / "PtMG_as-cast"
FILM = ROOT / "raw" / "LLZO_650C"


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


def snakemake(work: Path, *args: str) -> tuple[float, str]:
    cmd = [str(SNAKEMAKE), "-s", str(ROOT / "Snakefile"), "--directory", str(work),
           "--configfile", str(ROOT / "config" / "config.yaml"), "--cores", "2", *args]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    out = proc.stdout + proc.stderr
    if proc.returncode != 0:
        raise SystemExit(f"snakemake failed:\n{out[-4000:]}")
    return elapsed, out


def jobs_planned(out: str) -> int:
    m = re.search(r"^total\s+(\d+)$", out, flags=re.M)
    return int(m.group(1)) if m else 0


def stage_seconds(work: Path) -> float:
    """CPU-side time of the analyses themselves: the stage timings every sample's done.json records."""
    import json

    total = 0.0
    for done in (work / "results" / "samples").glob("*/done.json"):
        total += sum(json.loads(done.read_text())["seconds"].values())
    return total


def run_size(n: int, m: int, keep: Path | None) -> dict:
    work = Path(tempfile.mkdtemp(prefix=f"echem-scale-{n}-", dir=keep))
    raw = work / "raw"
    raw.mkdir()
    files = sum(make_catalyst(raw, f"CAT_{i:05d}") for i in range(n))
    files += sum(make_series(raw, f"FILM_{i:04d}") for i in range(m))

    t_dry, out = snakemake(work, "-n")
    jobs = jobs_planned(out)
    t_cold, _ = snakemake(work)
    compute = stage_seconds(work)
    extra = make_catalyst(raw, "CAT_added")
    _, out = snakemake(work, "-n")
    jobs_add = jobs_planned(out)
    t_add, _ = snakemake(work)
    t_noop, out = snakemake(work)
    assert "Nothing to be done" in out
    if keep is None:
        shutil.rmtree(work, ignore_errors=True)
    return {"N": n, "M": m, "files": files, "jobs": jobs, "dry_s": t_dry, "cold_s": t_cold,
            "files_per_s": files / t_cold, "s_per_job": t_cold / max(jobs, 1), "compute_s": compute,
            "overhead_s_per_job": max(0.0, 2 * t_cold - compute) / max(jobs, 1),
            "add_one_s": t_add, "add_one_jobs": jobs_add, "noop_s": t_noop, "added_files": extra}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, nargs="+", default=[50, 200, 1000])
    parser.add_argument("--series", type=int, default=None, help="temperature series (default N/20)")
    parser.add_argument("--keep", type=Path, default=None, help="keep the work folders under this folder")
    args = parser.parse_args(argv)
    header = (f"{'N':>5} {'M':>4} {'files':>6} {'jobs':>6} {'dry-run s':>9} {'cold s':>8} {'files/s':>8} "
              f"{'s/job':>6} {'stages s':>8} {'ovh s/job':>9} {'add-one s':>9} {'(jobs)':>6} {'no-op s':>8}")
    print(header)
    print("-" * len(header), flush=True)
    for n in args.samples:
        m = args.series if args.series is not None else max(1, n // 20)
        r = run_size(n, m, args.keep)
        print(f"{r['N']:>5} {r['M']:>4} {r['files']:>6} {r['jobs']:>6} {r['dry_s']:>9.1f} {r['cold_s']:>8.1f} "
              f"{r['files_per_s']:>8.1f} {r['s_per_job']:>6.3f} {r['compute_s']:>8.1f} {r['overhead_s_per_job']:>9.3f} "
              f"{r['add_one_s']:>9.1f} {r['add_one_jobs']:>6} "
              f"{r['noop_s']:>8.1f}", flush=True)
    print("\nstages s: the analyses' own time summed over samples (done.json); ovh s/job: "
          "(2 cores x cold wall - stages s) / jobs, i.e. what each job costs beyond its analysis")
    print("targets (issue 8, 2 cores): N=1000 cold < 600 s; add one sample < 15 s; no-op < 10 s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
