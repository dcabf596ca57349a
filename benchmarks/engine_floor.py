"""Snakemake's own floor: echem's DAG with jobs that do nothing, timed like scale.py.

    python benchmarks/engine_floor.py                   # N = 1000 samples + 50 series, 3 repeats
    python benchmarks/engine_floor.py --samples 200 --repeats 5
    python benchmarks/engine_floor.py --with-echem     # echem too, each run followed by the floor's

The raw folder is built as in scale.py (copies of the demo's PtMG_as-cast and LLZO_650C
folders). A generated Snakefile gives it echem's shape: per sample the seven stage rules
with echem's dependencies and per-sample tables, each job with a log, a benchmark and a
param; the nine table collections, the error, warning and circuit collections and the
report, each reading what echem's reads. Every job only writes its empty outputs, in a
`run:` block, under echem's own profile (profiles/default: threads, greedy scheduler,
subsampling, quiet) and with echem's ``gc.freeze()``. So what a run of it costs is what
Snakemake costs for echem's DAG, whatever echem's analyses do.

It checks the shape against echem: ``snakemake -n`` of echem's Snakefile on the same
folder must plan the same jobs per rule (the series figures aside, which the floor
leaves out: they are not part of adding a sample). Then it times a cold run;
``--repeats`` times, alternated, a run that adds a sample and one with nothing new; and
``--repeats`` runs that each change the Tafel stage's param (the floor of echem's "one
Tafel setting" scenario). Each run is split into Snakemake's start (imports, parsing),
the DAG, the jobs and the exit.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scale import ROOT, SNAKEFILE, SNAKEMAKE, fmt_jobs, jobs_run, make_catalyst, make_series  # noqa: E402

#: echem's stages: the stages each waits for (its inputs are their first table) and its tables.
STAGES = {
    "ingest": ([], ["manifest", "ingest_record"]),
    "eis": (["ingest"], ["eis", "drt_peaks"]),
    "lsv": (["eis"], ["overpotentials"]),
    "tafel": (["lsv"], ["tafel"]),
    "ecsa": (["lsv"], ["ecsa"]),
    "arrhenius": (["eis"], ["arrhenius", "conductivity"]),
    "stability": (["eis"], ["stability", "stability_lsv_shift"]),
}

FLOOR_SNAKEFILE = textwrap.dedent('''
    # echem's DAG with jobs that only write their outputs (benchmarks/engine_floor.py).
    import atexit, gc, os

    STAGES = {stages!r}
    SAMPLES = sorted(d for d in os.listdir("raw") if os.path.isdir(os.path.join("raw", d)))
    RAW = {{s: sorted(os.path.join("raw", s, f) for f in os.listdir(os.path.join("raw", s))) for s in SAMPLES}}
    TABLES = [t for stage, (_, tables) in STAGES.items() if stage != "ingest" for t in tables]
    LEAVES = [s for s in STAGES if not any(s in after for after, _ in STAGES.values())]  # as echem's


    def table(stage, sample="{{sample}}", name=None):
        return f"results/samples/{{sample}}/tables/{{name or STAGES[stage][1][0]}}.csv"


    def touch(paths):
        for p in paths:
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, "w") as fh:
                fh.write("x\\n")


    rule all:
        input:
            "results/report/index.html",


    for stage, (after, tables) in STAGES.items():

        rule:
            name:
                stage
            input:
                (lambda w: RAW[w.sample]) if stage == "ingest" else [table(d) for d in after],
            output:
                [table(stage, name=t) for t in tables],
            params:
                setting=config.get(stage, 1),
            log:
                f"results/logs/{{stage}}/{{{{sample}}}}.log",
            benchmark:
                f"results/benchmarks/{{stage}}/{{{{sample}}}}.tsv"
            run:
                touch([*output, *log])


    rule collect_table:
        input:
            lambda w: [f"results/samples/{{s}}/tables/{{w.table}}.csv" for s in SAMPLES],
        output:
            csv="results/tables/{{table}}.csv",
            parquet="results/tables/{{table}}.parquet",
        wildcard_constraints:
            table="|".join(TABLES),
        log:
            "results/logs/collect/{{table}}.log",
        benchmark:
            "results/benchmarks/collect/{{table}}.tsv"
        run:
            touch([*output, *log])


    for name, inputs in {{
        "collect_errors": [f"results/tables/{{STAGES[s][1][0]}}.csv" for s in LEAVES],
        "collect_warnings": [f"results/tables/{{STAGES[s][1][0]}}.csv" for s in LEAVES],
        "collect_circuits": [table("eis", s) for s in SAMPLES],
    }}.items():

        rule:
            name:
                name
            input:
                inputs,
            output:
                csv=f"results/tables/{{name[8:]}}.csv",
                parquet=f"results/tables/{{name[8:]}}.parquet",
            log:
                f"results/logs/collect/{{name}}.log",
            benchmark:
                f"results/benchmarks/collect/{{name}}.tsv"
            run:
                touch([*output, *log])


    rule report_html:
        input:
            [f"results/tables/{{t}}.csv" for t in [*TABLES, "errors", "warnings", "circuits"]],
        output:
            "results/report/index.html",
        log:
            "results/logs/report/report.log",
        benchmark:
            "results/benchmarks/report/report.tsv"
        run:
            touch([*output, *log])


    gc.freeze()  # as echem's Snakefile does (echem/workflow/process.py)
    atexit.register(gc.freeze)
''')

#: Lines that end a phase: the DAG starts, the DAG is done (jobs planned or nothing to do),
#: the last job is done.
MARKS = {"dag": "Building DAG of jobs", "planned": ("Job stats:", "Nothing to be done"),
         "done": ("Elapsed time", "Nothing to be done")}


def timed(cmd: list[str]) -> dict:
    """Run ``cmd``; wall seconds at which each of MARKS first appears and at exit."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
    seen: dict = {}
    lines = []
    for line in proc.stdout:
        lines.append(line)
        now = time.perf_counter() - t0
        for key, marks in MARKS.items():
            if key not in seen and line.startswith(marks if isinstance(marks, tuple) else (marks,)):
                seen[key] = now
    proc.wait()
    seen["exit"] = time.perf_counter() - t0
    out = "".join(lines)
    if proc.returncode != 0:
        raise SystemExit(f"snakemake failed:\n{out[-4000:]}")
    seen["out"] = out
    return seen


def phases(t: dict) -> dict[str, float]:
    """start (to 'Building DAG'), DAG, jobs (to 'Elapsed time'), exit (after it)."""
    return {"start": t["dag"], "dag": t["planned"] - t["dag"], "jobs": t["done"] - t["planned"],
            "exit": t["exit"] - t["done"], "total": t["exit"]}


def summary(runs: list[dict]) -> str:
    cols = []
    for key in ("total", "start", "dag", "jobs", "exit"):
        vals = [phases(r)[key] for r in runs]
        cols.append(f"{key} {statistics.median(vals):5.1f} ({min(vals):.1f}-{max(vals):.1f})")
    return " | ".join(cols)


def difference(echem: list[dict], floor: list[dict]) -> str:
    """echem's own part: each echem run minus the floor run timed right after it."""
    diffs = [phases(e)["total"] - phases(f)["total"] for e, f in zip(echem, floor)]
    return f"{statistics.median(diffs):5.1f} ({min(diffs):.1f}-{max(diffs):.1f})"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--series", type=int, default=None, help="temperature series (default N/20)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--with-echem", action="store_true",
                        help="also run echem itself on the same folder, each of its runs followed by the floor's")
    parser.add_argument("--keep", type=Path, default=None, help="keep the work folder under this folder")
    args = parser.parse_args(argv)
    n = args.samples
    m = args.series if args.series is not None else max(1, n // 20)

    work = Path(tempfile.mkdtemp(prefix=f"echem-floor-{n}-", dir=args.keep))
    raw = work / "raw"
    raw.mkdir()
    shutil.copy(ROOT / "config" / "config.yaml", work / "config.yaml")
    overlay = work / "tafel_change.yaml"
    overlay.write_text("tafel:\n  r2_min: 0.998\n")
    for i in range(n):
        make_catalyst(raw, f"CAT_{i:05d}")
    for i in range(m):
        make_series(raw, f"FILM_{i:04d}")
    floor = work / "floor"  # its own results/ beside echem's, the same raw/
    (floor / "profiles" / "default").mkdir(parents=True)
    (floor / "raw").symlink_to(raw)
    shutil.copy(ROOT / "profiles" / "default" / "config.yaml", floor / "profiles" / "default" / "config.yaml")
    (floor / "Snakefile").write_text(FLOOR_SNAKEFILE.format(stages=STAGES), encoding="utf-8")
    floor_cmd = [str(SNAKEMAKE), "-s", str(floor / "Snakefile"), "--directory", str(floor), "--cores", "2"]
    echem_cmd = [str(SNAKEMAKE), "-s", str(SNAKEFILE), "--directory", str(work),
                 "--configfile", str(work / "config.yaml"), "--cores", "2"]

    print(f"N = {n} samples + {m} series, {sum(1 for _ in raw.rglob('*') if _.is_file())} files; "
          f"load {os.getloadavg()[0]:.2f}", flush=True)
    echem_plan = jobs_run(subprocess.run([*echem_cmd, "-n"], capture_output=True, text=True).stdout)
    floor_plan = jobs_run(timed([*floor_cmd, "-n"])["out"])
    print(f"echem plans: {fmt_jobs(echem_plan)}")
    print(f"floor plans: {fmt_jobs(floor_plan)}")
    echem_plan.pop("series_figures", None)
    if echem_plan != floor_plan:
        print("the floor's DAG is not echem's (above): update STAGES and the rules of this script")
        return 1

    runs: dict[str, dict[str, list[dict]]] = {"add": {}, "noop": {}, "tafel": {}}

    def both(scenario: str, echem_args: tuple[str, ...], floor_args: tuple[str, ...]) -> None:
        if args.with_echem:
            runs[scenario].setdefault("echem", []).append(timed([*echem_cmd, *echem_args]))
        runs[scenario].setdefault("floor", []).append(timed([*floor_cmd, *floor_args]))

    if args.with_echem:
        cold = timed(echem_cmd)
        print(f"cold, echem: {phases(cold)['total']:.1f} s for {sum(jobs_run(cold['out']).values())} jobs", flush=True)
    cold = timed(floor_cmd)
    print(f"cold, floor: {phases(cold)['total']:.1f} s for {sum(jobs_run(cold['out']).values())} jobs", flush=True)
    for k in range(args.repeats):
        make_catalyst(raw, f"CAT_added_{k}")
        both("add", (), ())
        both("noop", (), ())
        assert all("Nothing to be done" in r[-1]["out"] for r in runs["noop"].values())
    for k in range(args.repeats):
        both("tafel", ("--configfile", str(work / "config.yaml"), str(overlay)) if k % 2 == 0 else (),
             ("--config", f"tafel={k + 2}"))
    for scenario, label in (("add", "add one sample"), ("noop", "nothing new"),
                            ("tafel", "one Tafel setting changed")):
        floor_runs = runs[scenario]["floor"]
        print(f"{label} ({fmt_jobs(jobs_run(floor_runs[-1]['out']))}), s, median (min-max) of {args.repeats}:")
        print(f"    floor  {summary(floor_runs)}")
        if args.with_echem:
            print(f"    echem  {summary(runs[scenario]['echem'])}")
            print(f"    echem - floor (each echem run minus the floor run after it): {difference(runs[scenario]['echem'], floor_runs)}")
    print("start: to 'Building DAG of jobs'; dag: to the job plan; jobs: to 'Elapsed time'; exit: after it")
    if args.keep is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
