# Arrhenius: conductivity per temperature from the EIS fits and the sample geometry,
# activation energy per heating/cooling run (echem.workflow.arrhenius:arrhenius_sample).


rule arrhenius:
    input:
        eis=rules.eis.output.table,  # its fits lie beside it (eis_fits.json, the same job)
    output:
        conductivity=RES / "samples/{sample}/tables/conductivity.csv",
        arrhenius=RES / "samples/{sample}/tables/arrhenius.csv",
    params:
        settings=config["arrhenius"],
        figures=FIGURE_SETTINGS,  # per-sample figures: report.sample_figures, sample_formats
        retry=retry("arrhenius"),  # changes when the job failed last time: the next run does it again
    log:
        RES / "logs/arrhenius/{sample}.log",
    benchmark:
        RES / "benchmarks/arrhenius/{sample}.tsv"
    run:
        run_stage("echem.workflow.arrhenius:arrhenius_sample", wildcards, input, params, output, log)
