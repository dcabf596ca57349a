# Tafel: slope and exchange current density on the iR-corrected LSV, automatic window
# (echem.workflow.tafel:tafel_sample).


rule tafel:
    input:
        record=rules.ingest.output.record,
        curves=rules.lsv.output.curves,
        lsv_table=rules.lsv.output.table,
    output:
        table=RES / "samples/{sample}/tables/tafel.csv",
        audit=directory(RES / "samples/{sample}/audit/tafel"),
        figures=directory(RES / "samples/{sample}/figures/tafel"),
        errors=RES / "samples/{sample}/errors/tafel.csv",
        warnings=RES / "samples/{sample}/warnings/tafel.csv",
    params:
        settings=config["tafel"],
        figures=FIGURE_SETTINGS,
    log:
        RES / "logs/tafel/{sample}.log",
    benchmark:
        RES / "benchmarks/tafel/{sample}.tsv"
    run:
        run_stage("echem.workflow.tafel:tafel_sample", wildcards, input, params, output, log)
