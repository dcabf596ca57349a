# echem: raw potentiostat exports -> published electrochemistry numbers.
# Table of contents only; every stage lives in rules/<stage>.smk and calls one
# function of the echem package (echem/workflow/).

from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


report: "report/workflow.rst"


include: "rules/common.smk"
include: "rules/ingest.smk"
include: "rules/eis.smk"
include: "rules/lsv.smk"
include: "rules/tafel.smk"
include: "rules/ecsa.smk"
include: "rules/arrhenius.smk"
include: "rules/sample.smk"
include: "rules/report.smk"


# On a cluster these run where Snakemake runs: a file check is not worth a SLURM job.
localrules:
    all,
    strict_check,


rule all:
    input:
        get_final_output(),
