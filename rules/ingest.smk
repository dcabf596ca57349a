# Ingest: read every file of a sample into the canonical measurement and resolve its
# metadata (echem.workflow.ingest:ingest_sample). Its inputs are the sample's raw files and
# sample.yaml: adding, removing or changing one re-runs that sample's stages, no others.


rule ingest:
    input:
        raw=raw_files,
        meta=sample_yaml,
    output:
        manifest=RES / "samples/{sample}/manifest.csv",
        record=RES / "samples/{sample}/ingest.json",
    params:
        defaults=config["defaults"],
        retry=retry("ingest"),  # changes when the job failed last time: the next run does it again
    log:
        RES / "logs/ingest/{sample}.log",
    benchmark:
        RES / "benchmarks/ingest/{sample}.tsv"
    run:
        run_ingest(wildcards, params, output, log)
