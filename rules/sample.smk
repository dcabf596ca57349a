# One job per sample runs the stages declared in rules/<stage>.smk: ingest, then
# eis, lsv, tafel, ecsa, arrhenius (echem.workflow.sample). Why one job and not one per
# stage: see echem/workflow/sample.py and the README, "Speed".


def stage_outputs(stage):
    """A stage's outputs as Snakemake patterns (names ending in "/" are directories)."""
    out = {}
    for key, rel in STAGES[stage]["outputs"].items():
        path = str(RES / "samples" / "{sample}" / rel.rstrip("/"))
        out[f"{stage}_{key}"] = directory(path) if rel.endswith("/") else path
    return out


rule sample:
    input:
        raw_inputs,
    output:
        **{k: v for stage in STAGES for k, v in stage_outputs(stage).items()},
    params:
        settings={stage: spec["settings"] for stage, spec in STAGES.items()},
        formats=SAMPLE_FORMATS,
    log:
        **{stage: RES / "logs" / stage / "{sample}.log" for stage in STAGES},
    benchmark:
        RES / "benchmarks" / "samples" / "{sample}.tsv"
    run:
        s = DISCOVERY.samples[wildcards.sample]
        out = dict(output.items())
        stage(
            "echem.workflow.sample:process_sample",
            ingest=dict(
                sample=wildcards.sample,
                folder=str(s.folder),
                files=list(s.files),
                sample_yaml=str(s.sample_yaml) if s.sample_yaml else None,
                defaults=dict(params.settings["ingest"]),
                out_dir=str(sample_dir(wildcards.sample)),
                log_path=str(log.ingest),
                errors_path=str(output.ingest_errors),
            ),
            sample_dir=str(sample_dir(wildcards.sample)),
            stages={
                name: {
                    "settings": dict(params.settings[name]),
                    "outputs": {k[len(name) + 1:]: str(v) for k, v in out.items() if k.startswith(name + "_")},
                    "log_path": str(log[name]),
                }
                for name in STAGES if name != "ingest"
            },
            formats=list(params.formats),
        )
