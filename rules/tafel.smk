# Tafel: slope and exchange current density on the iR-corrected LSV, automatic window
# (echem.workflow.tafel:tafel_sample).


rule tafel:
    input:
        lsv=rules.lsv.output.table,  # the LSV curves lie beside it (lsv_curves.parquet, the same job)
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
