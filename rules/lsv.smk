# LSV: RHE scale, iR correction (Ru from sample.yaml, else the EIS fit), overpotentials
# (echem.workflow.lsv:lsv_sample). Its corrected curves (lsv_curves.parquet beside its table)
# feed Tafel and ECSA.


rule lsv:
    input:
        eis=rules.eis.output.table,  # its fits lie beside it (eis_fits.json, the same job)
    output:
        table=RES / "samples/{sample}/tables/overpotentials.csv",
    params:
        settings=config["lsv"],
        figures=FIGURE_SETTINGS,  # per-sample figures: report.sample_figures, sample_formats
        retry=retry("lsv"),  # changes when the job failed last time: the next run does it again
    log:
        RES / "logs/lsv/{sample}.log",
    benchmark:
        RES / "benchmarks/lsv/{sample}.tsv"
    run:
        run_stage("echem.workflow.lsv:lsv_sample", wildcards, input, params, output, log)
