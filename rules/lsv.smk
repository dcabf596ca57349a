# LSV: RHE scale, iR correction (Ru from sample.yaml, else the EIS fit), overpotentials
# (echem.workflow.lsv:lsv_sample). Its corrected curves feed Tafel and ECSA.


rule lsv:
    input:
        record=rules.ingest.output.record,
        canonical=rules.ingest.output.canonical,
        eis_fits=rules.eis.output.fits,
    output:
        table=RES / "samples/{sample}/tables/overpotentials.csv",
        curves=RES / "samples/{sample}/lsv_curves.parquet",
        audit=directory(RES / "samples/{sample}/audit/lsv"),
        figures=directory(RES / "samples/{sample}/figures/lsv"),
        errors=RES / "samples/{sample}/errors/lsv.csv",
        warnings=RES / "samples/{sample}/warnings/lsv.csv",
    params:
        settings=config["lsv"],
        figures=FIGURE_SETTINGS,
    log:
        RES / "logs/lsv/{sample}.log",
    benchmark:
        RES / "benchmarks/lsv/{sample}.tsv"
    run:
        run_stage("echem.workflow.lsv:lsv_sample", wildcards, input, params, output, log)
