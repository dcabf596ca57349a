# echem: raw potentiostat exports -> published electrochemistry numbers.
# Table of contents only. Each stage of a sample is one rule in rules/<stage>.smk that
# calls one function of the echem package (echem/workflow/<stage>.py); rules/report.smk
# collects the tables and draws the comparative figures.

from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


report: "report/workflow.rst"


# The per-sample stages, in the order they depend on each other. A new stage is a rule in
# rules/<stage>.smk (outputs named table(s) in tables/, errors, warnings, ...) and its name here.
STAGES = ["ingest", "eis", "lsv", "tafel", "ecsa", "arrhenius", "stability"]


include: "rules/common.smk"


for stage in STAGES:

    include: f"rules/{stage}.smk"


include: "rules/report.smk"


# The imports' and the DAG's objects live as long as this process: out of the garbage
# collector's full collections, now and at exit (echem/workflow/process.py; 15 % of a run
# with nothing to do at N = 1000).
freeze_now()
freeze_at_exit()


# On a cluster these run where Snakemake runs: a file check is not worth a SLURM job.
localrules:
    all,
    strict_check,
    report_html,


rule all:
    input:
        get_final_output(),


# Inside a cluster job (Snakemake's remote mode: the SLURM job on its node runs Snakemake on
# the group of jobs it was given) every one of those jobs runs in this process, as many at a
# time as the job has cores, handing its work to the job's warm workers (README, "Running on
# a cluster"). Without this the SLURM executor starts each job as a job step (srun) with an
# interpreter and a workflow parse of its own, one after another (it runs the group with
# --jobs 1): 15 min instead of 2.5 for the demo's 17 samples.
if workflow.remote_exec:
    workflow.localrules(*(rule.name for rule in workflow.rules))
    workflow.global_resources["_nodes"] = workflow.resource_settings.cores or 1
