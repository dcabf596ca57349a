# Arrhenius: conductivity per temperature from the EIS fits and the sample geometry.

from echem.workflow import arrhenius as arrhenius_stage


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
        formats=config["report"]["formats"],
    log:
        RES / "logs" / "arrhenius" / "{sample}.log",
    benchmark:
        RES / "benchmarks" / "arrhenius" / "{sample}.tsv"
    run:
        arrhenius_stage.arrhenius_sample(
            sample_dir=sample_dir(wildcards.sample),
            eis_fits=input.eis_fits,
            settings=params.settings,
            formats=params.formats,
            outputs=output,
            log_path=log[0],
        )
