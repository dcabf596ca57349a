# Arrhenius: conductivity per temperature from the EIS fits and the sample geometry.


rule arrhenius:
    input:
        ingest=RES / "samples" / "{sample}" / "ingest.json",
        eis_fits=RES / "samples" / "{sample}" / "eis_fits.json",
    output:
        conductivity=RES / "samples" / "{sample}" / "tables" / "conductivity.csv",
        arrhenius=RES / "samples" / "{sample}" / "tables" / "arrhenius.csv",
        audit=directory(RES / "samples" / "{sample}" / "audit" / "arrhenius"),
        figures=directory(RES / "samples" / "{sample}" / "figures" / "arrhenius"),
        errors=RES / "samples" / "{sample}" / "errors" / "arrhenius.csv",
    params:
        settings=config["arrhenius"],
        formats=SAMPLE_FORMATS,
    log:
        RES / "logs" / "arrhenius" / "{sample}.log",
    benchmark:
        RES / "benchmarks" / "arrhenius" / "{sample}.tsv"
    run:
        stage(
            "echem.workflow.arrhenius:arrhenius_sample",
            sample_dir=str(sample_dir(wildcards.sample)),
            eis_fits=str(input.eis_fits),
            settings=dict(params.settings),
            formats=list(params.formats),
            outputs=dict(output.items()),
            log_path=str(log[0]),
        )
