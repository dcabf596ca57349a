# LSV: RHE scale, iR correction (Ru from sample.yaml, else the EIS fit), overpotentials
# (echem.workflow.lsv:lsv_sample). Its corrected curves feed Tafel and ECSA.


rule lsv:
    input:
        eis_fits=rules.eis.output.fits,
    output:
        table=RES / "samples/{sample}/tables/overpotentials.csv",
        curves=RES / "samples/{sample}/lsv_curves.parquet",
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
