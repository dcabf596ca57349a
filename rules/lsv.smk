# LSV: RHE scale, iR correction (Ru from sample.yaml, else the EIS fit), overpotentials.


rule lsv:
    input:
        ingest=RES / "samples" / "{sample}" / "ingest.json",
        eis_fits=RES / "samples" / "{sample}" / "eis_fits.json",
    output:
        table=RES / "samples" / "{sample}" / "tables" / "overpotentials.csv",
        curves=RES / "samples" / "{sample}" / "lsv_curves.parquet",
        audit=directory(RES / "samples" / "{sample}" / "audit" / "lsv"),
        figures=directory(RES / "samples" / "{sample}" / "figures" / "lsv"),
        errors=RES / "samples" / "{sample}" / "errors" / "lsv.csv",
    params:
        settings=config["lsv"],
        formats=SAMPLE_FORMATS,
    log:
        RES / "logs" / "lsv" / "{sample}.log",
    benchmark:
        RES / "benchmarks" / "lsv" / "{sample}.tsv"
    run:
        stage(
            "echem.workflow.lsv:lsv_sample",
            sample_dir=str(sample_dir(wildcards.sample)),
            eis_fits=str(input.eis_fits),
            settings=dict(params.settings),
            formats=list(params.formats),
            outputs=dict(output.items()),
            log_path=str(log[0]),
        )
