# LSV: RHE scale, iR correction (Ru from sample.yaml, else the EIS fit), overpotentials.

from echem.workflow import lsv as lsv_stage


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
        formats=config["report"]["formats"],
    log:
        RES / "logs" / "lsv" / "{sample}.log",
    benchmark:
        RES / "benchmarks" / "lsv" / "{sample}.tsv"
    run:
        lsv_stage.lsv_sample(
            sample_dir=sample_dir(wildcards.sample),
            eis_fits=input.eis_fits,
            settings=params.settings,
            formats=params.formats,
            outputs=output,
            log_path=log[0],
        )
