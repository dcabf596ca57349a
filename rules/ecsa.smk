# ECSA: double-layer capacitance from the CV scan-rate series; specific and mass activity.

from echem.workflow import ecsa as ecsa_stage


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
        formats=config["report"]["formats"],
    log:
        RES / "logs" / "ecsa" / "{sample}.log",
    benchmark:
        RES / "benchmarks" / "ecsa" / "{sample}.tsv"
    run:
        ecsa_stage.ecsa_sample(
            sample_dir=sample_dir(wildcards.sample),
            curves=input.curves,
            settings=params.settings,
            formats=params.formats,
            outputs=output,
            log_path=log[0],
        )
