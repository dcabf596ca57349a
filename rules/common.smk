# Shared by every stage: config validation, sample discovery, paths, input functions.

from pathlib import Path

from snakemake.utils import validate

from echem.workflow.discover import discover

validate(config, schema="../config/schema.yaml")

RAW = Path(config["raw_dir"])
RES = Path(config["results_dir"])
DISCOVERY = discover(RAW)
SAMPLES = sorted(DISCOVERY.samples)

# Per-sample jobs run as `run:` blocks. With `force-use-threads` (profiles/default)
# they execute inside the Snakemake process: the scientific Python stack is imported
# once per run instead of once per job (see README, "Speed").


wildcard_constraints:
    sample=r"[A-Za-z0-9._-]+",


def sample_dir(sample):
    return RES / "samples" / sample


def raw_inputs(wildcards):
    """Every data file of a sample, plus its sample.yaml when there is one."""
    s = DISCOVERY.samples[wildcards.sample]
    files = s.paths()
    if s.sample_yaml is not None:
        files.append(str(s.sample_yaml))
    return files


def per_sample(pattern):
    return [str(pattern).format(sample=s) for s in SAMPLES]


def get_final_output():
    targets = [RES / "tables" / f"{t}.csv" for t in TABLES] + [RES / "tables" / "errors.csv"]
    targets.append(RES / "figures")
    if config.get("strict"):
        targets.append(RES / "tables" / "strict.ok")
    return [str(t) for t in targets]
