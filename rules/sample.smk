# One job per sample runs the stages declared in rules/<stage>.smk: ingest, then
# eis, lsv, tafel, ecsa, arrhenius (echem.workflow.sample). Why one job and not one per
# stage: see echem/workflow/sample.py and the README, "Speed".


def stage_outputs(stage, sample):
    """Where a stage writes, for one sample (names ending in "/" are directories)."""
    return {key: str(RES / "samples" / sample / rel.rstrip("/")) for key, rel in STAGES[stage]["outputs"].items()}


# The job declares one output, done.json, written last (atomically) with what each
# stage wrote and how long it took: Snakemake's bookkeeping per declared output
# (metadata, incomplete markers) would otherwise cost more than the analyses. Everything
# under results/samples/<sample>/ belongs to this job and is rebuilt whenever it runs.
rule sample:
    input:
        raw_inputs,
    output:
        done=RES / "samples" / "{sample}" / "done.json",
    params:
        settings={stage: spec["settings"] for stage, spec in STAGES.items()},
        formats=SAMPLE_FORMATS,
    log:
        RES / "logs" / "samples" / "{sample}.log",
    benchmark:
        RES / "benchmarks" / "samples" / "{sample}.tsv"
    run:
        s = DISCOVERY.samples[wildcards.sample]
        ingest_out = stage_outputs("ingest", wildcards.sample)
        stage(
            "echem.workflow.sample:process_sample",
            ingest=dict(
                sample=wildcards.sample,
                folder=str(s.folder),
                files=list(s.files),
                sample_yaml=str(s.sample_yaml) if s.sample_yaml else None,
                defaults=dict(params.settings["ingest"]),
                out_dir=str(sample_dir(wildcards.sample)),
                log_path=str(RES / "logs" / "ingest" / f"{wildcards.sample}.log"),
                errors_path=ingest_out["errors"],
            ),
            sample_dir=str(sample_dir(wildcards.sample)),
            stages={
                name: {
                    "settings": dict(params.settings[name]),
                    "outputs": stage_outputs(name, wildcards.sample),
                    "log_path": str(RES / "logs" / name / f"{wildcards.sample}.log"),
                }
                for name in STAGES if name != "ingest"
            },
            formats=list(params.formats),
            done_path=str(output.done),
            log_path=str(log[0]),
        )
