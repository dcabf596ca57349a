# Stability: CP/CA durability runs and the shift of the LSV before/after them, Ru from the
# EIS fits as for the LSVs (echem.workflow.stability:stability_sample).


rule stability:
    input:
        eis=rules.eis.output.table,  # its fits lie beside it (eis_fits.json, the same job)
    output:
        table=RES / "samples/{sample}/tables/stability.csv",
        shift_table=RES / "samples/{sample}/tables/stability_lsv_shift.csv",
    params:
        settings=config["stability"],
        figures=FIGURE_SETTINGS,  # per-sample figures: report.sample_figures, sample_formats
        retry=retry("stability"),  # changes when the job failed last time: the next run does it again
    log:
        RES / "logs/stability/{sample}.log",
    benchmark:
        RES / "benchmarks/stability/{sample}.tsv"
    run:
        run_stage("echem.workflow.stability:stability_sample", wildcards, input, params, output, log)
