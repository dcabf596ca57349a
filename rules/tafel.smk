# Tafel: slope and exchange current density on the iR-corrected LSV, automatic window.

from echem.workflow import tafel as tafel_stage


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
        formats=config["report"]["formats"],
    log:
        RES / "logs" / "tafel" / "{sample}.log",
    benchmark:
        RES / "benchmarks" / "tafel" / "{sample}.tsv"
    run:
        tafel_stage.tafel_sample(
            sample_dir=sample_dir(wildcards.sample),
            curves=input.curves,
            settings=params.settings,
            formats=params.formats,
            outputs=output,
            log_path=log[0],
        )
