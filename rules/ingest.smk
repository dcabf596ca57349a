# Ingest: read every file of a sample into the canonical measurement.


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
        stage(
            "echem.workflow.ingest:ingest_sample",
            sample=wildcards.sample,
            folder=str(s.folder),
            files=list(s.files),
            sample_yaml=str(s.sample_yaml) if s.sample_yaml else None,
            defaults=dict(params.defaults),
            out_dir=str(sample_dir(wildcards.sample)),
            log_path=str(log[0]),
            errors_path=str(output.errors),
        )
