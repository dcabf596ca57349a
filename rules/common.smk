# Shared by every rule: config validation, the samples found in raw/, paths, input
# functions, and the helpers every rule's `run:` block calls. A job calls one function of
# the echem package; it computes in a warm worker process (echem/workflow/workers.py),
# so that no job pays for an interpreter start (see README, "Speed").

import functools
import importlib.util
from pathlib import Path

import yaml
from snakemake.utils import validate

from echem.plots.compare import FIGURE_GROUPS
from echem.workflow.collect import strict_check
from echem.workflow.config_cli import coerce_booleans
from echem.workflow.discover import discover, sample_figure_formats
from echem.workflow.faults import retry_tokens, run_job
from echem.workflow.process import freeze_at_exit, freeze_now
from echem.workflow.workers import WorkerPool

# `--config strict=true` arrives as the string "true": read it as the schema's boolean
coerce_booleans(config, yaml.safe_load((Path(workflow.basedir) / "config" / "schema.yaml").read_text()))
validate(config, schema="../config/schema.yaml")

RAW = Path(config["raw_dir"])
RES = Path(config["results_dir"])

# The samples: one folder each in raw/. Discovery only lists raw/ (and reads plain
# `series:` lines); nothing is written while the workflow is parsed, so a dry run leaves
# results/ as it was.
DISCOVERY = discover(RAW)
SAMPLES = sorted(DISCOVERY.samples)
SERIES = {}
for _sample in SAMPLES:
    SERIES.setdefault(DISCOVERY.samples[_sample].series, []).append(_sample)
# sample.yaml `order:` (a number: the sample's place in its series' figures), where given
ORDER = {s: DISCOVERY.samples[s].order for s in SAMPLES if DISCOVERY.samples[s].order is not None}

# Per-sample diagnostic figures: with report.sample_figures `auto`, drawn while the run has
# at most report.sample_figures_max_samples samples. The stage rules' params hold the
# settings (FIGURE_SETTINGS), not this run's decision: a run crossing the limit re-runs no
# sample that is up to date.
SAMPLE_FORMATS = sample_figure_formats(config["report"], len(SAMPLES))
FIGURE_SETTINGS = {key: config["report"].get(key) for key in ("sample_figures", "sample_formats")}


wildcard_constraints:
    sample=r"[A-Za-z0-9._-]+",
    series=r"[A-Za-z0-9._-]+",


# ----------------------------------------------------------------------------- input functions


def raw_files(wildcards):
    """The sample's raw files (all but sample.yaml): the ingest rule's inputs."""
    sample = DISCOVERY.samples.get(wildcards.sample)
    return sample.paths() if sample else [str(RAW / wildcards.sample)]


def sample_yaml(wildcards):
    sample = DISCOVERY.samples.get(wildcards.sample)
    return [str(sample.sample_yaml)] if sample and sample.sample_yaml else []


# A stage declares as inputs the first output of each job it waits for, and no file that a
# job it waits for already waits for: every stage reads what it needs from the sample folder
# (the ingest record; the EIS fits beside the EIS table; the LSV curves beside the LSV
# table; each written by the same job as the file declared). Change detection is the same
# (a re-run ingest re-runs eis, which re-runs the rest), with 7,400 fewer DAG edges at
# N = 1000 (README, "Speed").
#
# A stage declares as outputs its tables (which the collect rules gather and a user may ask
# for) and the ingest record. Beside them, every stage of a sample writes (and on each run
# first clears) its audit records, per-sample figures, error and warning rows:
# results/samples/<sample>/{audit,figures}/<stage>/ and {errors,warnings}/<stage>.csv, and
# the data of SIDE_DATA. They are not declared outputs: each declared file costs Snakemake
# time on every invocation (README, "Speed"); the rules that read them depend on the
# stage's first output, which its job writes with them.


#: Data a stage writes beside its tables for the stages and figures after it, which depend on
#: the stage's first output (written by the same job): the EIS fits (the LSV's Ru, the
#: conductivities, the fitted spectra), the iR-corrected LSV curves (Tafel, ECSA, the
#: polarisation figures), the stability runs' drawing envelopes and before/after curves.
#: Declared, they would cost 4 x 1050 files on every invocation at N = 1000.
SIDE_DATA = {"eis": {"fits": "eis_fits.json"},
             "lsv": {"curves": "lsv_curves.parquet"},
             "stability": {"traces": "stability_traces.parquet", "curves": "stability_curves.parquet"}}


def side_outputs(stage, sample):
    """The files a stage writes beside its declared outputs, for one sample."""
    root = RES / "samples" / sample
    return {"audit": str(root / "audit" / stage), "figures": str(root / "figures" / stage),
            "errors": str(root / "errors" / f"{stage}.csv"), "warnings": str(root / "warnings" / f"{stage}.csv"),
            **{key: str(root / name) for key, name in SIDE_DATA.get(stage, {}).items()}}


def stage_done(stage):
    """A stage rule's first output (pattern with {sample}): there once the stage has run."""
    return str(getattr(rules, stage).output[0])


def collected(stage):
    """The collected table (results/tables/) of a stage's first output, a per-sample table."""
    first = Path(stage_done(stage))
    assert first.parent.name == "tables", f"{stage}: its first output must be a table"
    return str(RES / "tables" / f"{first.stem}.csv")


def side_files(kind):
    """Every sample's and stage's error or warning rows (``kind``), stage by stage."""
    return [side_outputs(stage, sample)[kind] for stage in STAGES for sample in SAMPLES]


def stage_tables():
    """Every per-sample table of the stages, by name: the stage rules' outputs in tables/."""
    return {Path(p).stem: str(p) for stage in STAGES for p in getattr(rules, stage).output
            if Path(p).parent.name == "tables"}


def per_sample(patterns, samples=None):
    return expand(patterns, sample=SAMPLES if samples is None else samples)


def series_order(series):
    """sample.yaml's ``order`` of the series' samples that have one."""
    return {s: ORDER[s] for s in SERIES[series] if s in ORDER}


def shown(series):
    """The samples a series' comparative figures show: the first 16 in the series' order
    (sample.yaml ``order``, then by role: echem.plots.figure.order_samples)."""
    return list(_shown(series))


@functools.cache  # the params and inputs of every figure group's job of the series ask for it
def _shown(series):
    from echem.plots.compare import shown_members

    return tuple(shown_members(SERIES[series], series_order(series)))


def series_inputs(wildcards):
    """What a figure group of a series reads: its stages' outputs of the samples shown (adding
    a sample beyond them redraws nothing)."""
    stages = FIGURE_GROUPS[wildcards.group].stages
    patterns = [str(p) for stage in stages for p in getattr(rules, stage).output]
    return per_sample(patterns, shown(wildcards.series))


def series_figure_folders():
    """results/figures/<series>/<group>/ of every series and figure group."""
    return [str(RES / "figures" / series / group) for series in sorted(SERIES) for group in FIGURE_GROUPS]


def get_final_output():
    """Everything a run makes: the collected tables, the figures per series, the strict check."""
    names = [*stage_tables(), "errors", "warnings", "eis_circuits"]
    targets = [str(RES / "tables" / f"{name}.csv") for name in names]
    targets += series_figure_folders()
    targets.append(str(RES / "report" / "index.html"))
    if config.get("strict"):
        targets.append(str(RES / "tables" / "strict.ok"))
    return targets


# ----------------------------------------------------------------------------- running a job
# A sample's stage job never fails: if its worker dies (killed, out of memory) or the call
# raises, run_job writes the stage's outputs empty with an error row saying so, and the
# collection goes on with every sample; a new token in results/retry/<stage>/<sample>, a
# param of the stage's rule (retry), makes the next run do the job again
# (echem/workflow/faults.py).

# As many workers as the run's --cores (in a SLURM job: the CPUs it was given,
# profiles/slurm); one where no --cores is given.
POOL = WorkerPool(lambda: workflow.resource_settings.cores)
RETRY = retry_tokens(str(RES), STAGES)


def retry(stage):
    """The stage rules' ``retry`` param: the token of the sample's last failed job of the stage
    (empty if none); a new failure changes it, and Snakemake re-runs a job whose params changed.
    A plain "" while no job of the stage has failed: the same value, without Snakemake
    inspecting a function for each of the stage's jobs on every invocation."""
    tokens = RETRY.get(stage)
    return (lambda wildcards: tokens.get(wildcards.sample, "")) if tokens else ""


def retry_path(stage, sample):
    return str(RES / "retry" / stage / sample)


def call(target, **kwargs):
    """Run the echem function ``module:function`` with ``kwargs`` in a worker process."""
    return POOL.call(target, **kwargs)


def paths(named):
    """A rule's named inputs or outputs as plain strings."""
    return {key: str(value) for key, value in named.items()}


def run_ingest(wildcards, params, output, log):
    sample = DISCOVERY.samples[wildcards.sample]
    errors = side_outputs("ingest", wildcards.sample)["errors"]
    kwargs = dict(sample=wildcards.sample, folder=str(sample.folder), files=list(sample.files),
                  sample_yaml=str(sample.sample_yaml) if sample.sample_yaml else None,
                  defaults=dict(params.defaults), out_dir=str(RES / "samples" / wildcards.sample),
                  log_path=str(log[0]), errors_path=errors)
    run_job(POOL, "echem.workflow.ingest:ingest_sample", kwargs, "ingest", wildcards.sample, errors,
            retry_path("ingest", wildcards.sample))


def run_stage(target, wildcards, input, params, output, log):
    """One stage of one sample: ``target(sample_dir, settings, formats, outputs, log_path)``
    (``target`` is ``echem.workflow.<stage>:<function>``). ``outputs`` holds the rule's
    outputs and the stage's side files. ``input`` (the first outputs of the jobs the stage
    waits for) is not passed: what the stage reads (the ingest record, the EIS fits, the LSV
    curves) it finds in the sample folder, beside them."""
    stage = target.split(":")[0].rsplit(".", 1)[-1]
    side = side_outputs(stage, wildcards.sample)
    kwargs = dict(sample_dir=str(RES / "samples" / wildcards.sample), settings=dict(params.settings),
                  formats=list(SAMPLE_FORMATS), outputs={**side, **paths(output)}, log_path=str(log[0]))
    run_job(POOL, target, kwargs, stage, wildcards.sample, side["errors"], retry_path(stage, wildcards.sample))


def run_series_figures(wildcards, params, output, log):
    call("echem.workflow.collect:series_figures", results_dir=str(RES), series=wildcards.series,
         members=list(params.members), cut=bool(params.cut), out_dir=str(output[0]),
         formats=list(params.formats), settings=dict(params.settings), log_path=str(log[0]),
         order=dict(params.order), group=wildcards.group)


def finish_run():
    """At the end of a run that ran jobs: stop the workers, print the run summary."""
    POOL.shutdown()
    if importlib.util.find_spec("echem.workflow.summary") is not None:
        from echem.workflow.summary import print_summary

        try:
            print_summary(str(RES))
        except Exception as exc:  # noqa: BLE001 - a summary must never fail the run
            print(f"echem: run summary not printed ({type(exc).__name__}: {exc})")


# Warm the workers as the jobs start (a run with nothing to do starts none), and stop them
# at the end; the one place where a run ends, for the summary too.
onstart:
    if workflow.local_exec:  # jobs run here, not on a cluster
        POOL.warm()


onsuccess:
    finish_run()


onerror:
    finish_run()
