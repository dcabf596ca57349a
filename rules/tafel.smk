# Tafel: slope and exchange current density on the iR-corrected LSV, automatic window
# (echem.workflow.tafel:tafel_sample).


rule tafel:
    input:
        curves=rules.lsv.output.curves,  # with its LSV table; the ingest record comes before both
    output:
        table=RES / "samples/{sample}/tables/tafel.csv",
    params:
        settings=config["tafel"],
        figures=FIGURE_SETTINGS,  # per-sample figures: report.sample_figures, sample_formats
        retry=retry("tafel"),  # changes when the job failed last time: the next run does it again
    log:
        RES / "logs/tafel/{sample}.log",
    benchmark:
        RES / "benchmarks/tafel/{sample}.tsv"
    run:
        run_stage("echem.workflow.tafel:tafel_sample", wildcards, input, params, output, log)
