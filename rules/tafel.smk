# Tafel: slope and exchange current density on the iR-corrected LSV, automatic window.


rule tafel:
    input:
        ingest=RES / "samples" / "{sample}" / "ingest.json",
        curves=RES / "samples" / "{sample}" / "lsv_curves.parquet",
    output:
        table=RES / "samples" / "{sample}" / "tables" / "tafel.csv",
        audit=directory(RES / "samples" / "{sample}" / "audit" / "tafel"),
        figures=directory(RES / "samples" / "{sample}" / "figures" / "tafel"),
        errors=RES / "samples" / "{sample}" / "errors" / "tafel.csv",
    params:
        settings=config["tafel"],
        formats=SAMPLE_FORMATS,
    log:
        RES / "logs" / "tafel" / "{sample}.log",
    benchmark:
        RES / "benchmarks" / "tafel" / "{sample}.tsv"
    run:
        stage(
            "echem.workflow.tafel:tafel_sample",
            sample_dir=str(sample_dir(wildcards.sample)),
            curves=str(input.curves),
            settings=dict(params.settings),
            formats=list(params.formats),
            outputs=dict(output.items()),
            log_path=str(log[0]),
        )
