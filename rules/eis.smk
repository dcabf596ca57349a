# EIS: equivalent-circuit fit of every impedance spectrum of a sample, with Lin-KK
# (echem.workflow.eis:eis_sample). Its fits (eis_fits.json beside its tables) give the LSV's
# Ru and the conductivities.


rule eis:
    input:
        record=rules.ingest.output.record,
    output:
        table=RES / "samples/{sample}/tables/eis.csv",
        drt_peaks=RES / "samples/{sample}/tables/drt_peaks.csv",
    params:
        settings=config["eis"],
        figures=FIGURE_SETTINGS,  # per-sample figures: report.sample_figures, sample_formats
        retry=retry("eis"),  # changes when the job failed last time: the next run does it again
    log:
        RES / "logs/eis/{sample}.log",
    benchmark:
        RES / "benchmarks/eis/{sample}.tsv"
    run:
        run_stage("echem.workflow.eis:eis_sample", wildcards, input, params, output, log)
