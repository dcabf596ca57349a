# ECSA: double-layer capacitance from the CV scan-rate series; specific and mass activity.


rule ecsa:
    input:
        ingest=RES / "samples" / "{sample}" / "ingest.json",
        curves=RES / "samples" / "{sample}" / "lsv_curves.parquet",
    output:
        table=RES / "samples" / "{sample}" / "tables" / "ecsa.csv",
        audit=directory(RES / "samples" / "{sample}" / "audit" / "ecsa"),
        figures=directory(RES / "samples" / "{sample}" / "figures" / "ecsa"),
        errors=RES / "samples" / "{sample}" / "errors" / "ecsa.csv",
    params:
        settings=config["ecsa"],
        formats=SAMPLE_FORMATS,
    log:
        RES / "logs" / "ecsa" / "{sample}.log",
    benchmark:
        RES / "benchmarks" / "ecsa" / "{sample}.tsv"
    run:
        stage(
            "echem.workflow.ecsa:ecsa_sample",
            sample_dir=str(sample_dir(wildcards.sample)),
            curves=str(input.curves),
            settings=dict(params.settings),
            formats=list(params.formats),
            outputs=dict(output.items()),
            log_path=str(log[0]),
        )
