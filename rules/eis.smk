# EIS: equivalent-circuit fit of every impedance spectrum of a sample, with Lin-KK.


rule eis:
    input:
        ingest=RES / "samples" / "{sample}" / "ingest.json",
    output:
        table=RES / "samples" / "{sample}" / "tables" / "eis.csv",
        fits=RES / "samples" / "{sample}" / "eis_fits.json",
        audit=directory(RES / "samples" / "{sample}" / "audit" / "eis"),
        figures=directory(RES / "samples" / "{sample}" / "figures" / "eis"),
        errors=RES / "samples" / "{sample}" / "errors" / "eis.csv",
    params:
        settings=config["eis"],
        formats=SAMPLE_FORMATS,
    log:
        RES / "logs" / "eis" / "{sample}.log",
    benchmark:
        RES / "benchmarks" / "eis" / "{sample}.tsv"
    run:
        stage(
            "echem.workflow.eis:eis_sample",
            sample_dir=str(sample_dir(wildcards.sample)),
            settings=dict(params.settings),
            formats=list(params.formats),
            outputs=dict(output.items()),
            log_path=str(log[0]),
        )
