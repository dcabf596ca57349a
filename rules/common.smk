# Shared by every stage: config validation, sample discovery, paths, input functions.

import threading
from pathlib import Path

import yaml
from snakemake.utils import validate

from echem.workflow.config_cli import coerce_booleans
from echem.workflow.discover import discover, sample_figure_formats, update_inventory
from echem.workflow.workers import WorkerPool, run_stage

# `--config strict=true` arrives as the string "true": read it as the schema's boolean
coerce_booleans(config, yaml.safe_load((Path(workflow.basedir) / "config" / "schema.yaml").read_text()))
validate(config, schema="../config/schema.yaml")

RAW = Path(config["raw_dir"])
RES = Path(config["results_dir"])
DISCOVERY = discover(RAW)
SAMPLES = sorted(DISCOVERY.samples)
SAMPLE_FORMATS = sample_figure_formats(config["report"], len(SAMPLES))
STAGES = {}  # filled by rules/<stage>.smk: settings and outputs of each stage, in order
SERIES = {}
for _sample in SAMPLES:
    SERIES.setdefault(DISCOVERY.samples[_sample].series, []).append(_sample)

# Per-sample jobs run as `run:` blocks. With `force-use-threads` (profiles/default)
# they execute in threads of the Snakemake process, which hand the work to warm worker
# processes (echem.workflow.workers): the scientific Python stack is imported once per
# run, not once per job, and every core computes (see README, "Speed").
_POOL = {}
_POOL_LOCK = threading.Lock()


def stage_pool():
    """The run's worker pool (None when jobs are not threads, e.g. on a cluster)."""
    if not workflow.use_threads:
        return None
    with _POOL_LOCK:
        if "pool" not in _POOL:
            _POOL["pool"] = WorkerPool(workflow.cores)
        return _POOL["pool"]


def stage(target, **kwargs):
    """Run one echem stage function (``module:function``) for a job."""
    return run_stage(stage_pool(), target, **kwargs)


def close_pool():
    pool = _POOL.pop("pool", None)
    if pool is not None:
        pool.shutdown()
    # profiles/default sets a job rate limit that never binds (see there); Snakemake still
    # arms a re-scheduling threading.Timer per round, and the interpreter would wait for
    # those to expire before exiting. Nothing is left to schedule here: cancel them.
    for thread in threading.enumerate():
        if isinstance(thread, threading.Timer):
            thread.cancel()


onsuccess:
    close_pool()


onerror:
    close_pool()


wildcard_constraints:
    sample=r"[A-Za-z0-9._-]+",
    series=r"[A-Za-z0-9._-]+",


def sample_dir(sample):
    return RES / "samples" / sample


def inventory_path(sample):
    return RES / "inventory" / f"{sample}.tsv"


# The raw files of each sample, summarised in one inventory file per sample (name, size,
# mtime), rewritten only when they change: the sample's job depends on that one file
# instead of on every raw file (see echem.workflow.discover.update_inventory).
_PENDING = [
    s for s in SAMPLES
    if update_inventory(inventory_path(s), DISCOVERY.samples[s].inventory())
    or not (sample_dir(s) / "done.json").exists()
]


def warm_pool_once():
    """Start the worker pool while the DAG is built, when sample jobs will run (the first
    input function call comes after Snakemake knows whether this is a dry run)."""
    if _PENDING and "warmed" not in _POOL and workflow.use_threads and not workflow.dryrun:
        _POOL["warmed"] = True
        stage_pool().warm()


def raw_inputs(wildcards):
    """The sample's inventory: it changes whenever one of its raw files does."""
    warm_pool_once()
    return str(inventory_path(wildcards.sample))


def per_sample(pattern):
    return [str(pattern).format(sample=s) for s in SAMPLES]


def get_final_output():
    targets = [RES / "tables" / f"{t}.csv" for t in TABLES] + [RES / "tables" / "errors.csv"]
    targets.append(RES / "tables" / "eis_circuits.csv")
    targets.append(RES / "tables" / "warnings.csv")
    targets += [RES / "figures" / series for series in sorted(SERIES)]
    if config.get("strict"):
        targets.append(RES / "tables" / "strict.ok")
    return [str(t) for t in targets]
