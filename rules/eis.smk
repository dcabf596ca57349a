# EIS: equivalent-circuit fit of every impedance spectrum of a sample, with Lin-KK.

from echem.workflow import eis as eis_stage


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
        formats=config["report"]["formats"],
    log:
        RES / "logs" / "eis" / "{sample}.log",
    benchmark:
        RES / "benchmarks" / "eis" / "{sample}.tsv"
    run:
        eis_stage.eis_sample(
            sample_dir=sample_dir(wildcards.sample),
            settings=params.settings,
            formats=params.formats,
            outputs=output,
            log_path=log[0],
        )
