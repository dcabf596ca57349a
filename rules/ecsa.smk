# ECSA: double-layer capacitance from the CV scan-rate series; specific and mass activity
# from the LSV (echem.workflow.ecsa:ecsa_sample).


rule ecsa:
    input:
        lsv=rules.lsv.output.table,  # the LSV curves lie beside it (lsv_curves.parquet, the same job)
    output:
        table=RES / "samples/{sample}/tables/ecsa.csv",
    params:
        settings=config["ecsa"],
        figures=FIGURE_SETTINGS,  # per-sample figures: report.sample_figures, sample_formats
        retry=retry("ecsa"),  # changes when the job failed last time: the next run does it again
    log:
        RES / "logs/ecsa/{sample}.log",
    benchmark:
        RES / "benchmarks/ecsa/{sample}.tsv"
    run:
        run_stage("echem.workflow.ecsa:ecsa_sample", wildcards, input, params, output, log)
