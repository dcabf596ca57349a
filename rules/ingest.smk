# Ingest: read every file of a sample into the canonical measurement.

from echem.workflow import ingest as ingest_stage


rule ingest:
    input:
        raw_inputs,
    output:
        manifest=RES / "samples" / "{sample}" / "manifest.csv",
        ingest=RES / "samples" / "{sample}" / "ingest.json",
        canonical=directory(RES / "samples" / "{sample}" / "canonical"),
        errors=RES / "samples" / "{sample}" / "errors" / "ingest.csv",
    params:
        defaults=config["defaults"],
    log:
        RES / "logs" / "ingest" / "{sample}.log",
    benchmark:
        RES / "benchmarks" / "ingest" / "{sample}.tsv"
    run:
        s = DISCOVERY.samples[wildcards.sample]
        ingest_stage.ingest_sample(
            sample=wildcards.sample,
            folder=s.folder,
            files=s.files,
            sample_yaml=s.sample_yaml,
            defaults=params.defaults,
            out_dir=sample_dir(wildcards.sample),
            log_path=log[0],
            errors_path=output.errors,
        )
