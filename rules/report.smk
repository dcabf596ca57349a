# Collect per-sample tables into results/tables/, draw comparative figures, strict check.

from echem.workflow import collect as collect_stage

TABLES = ("overpotentials", "tafel", "ecsa", "eis", "conductivity", "arrhenius")


rule collect_table:
    input:
        lambda wc: per_sample(RES / "samples" / "{sample}" / "tables" / f"{wc.table}.csv"),
    output:
        csv=report(RES / "tables" / "{table}.csv", caption="../report/table.rst", category="Tables"),
        parquet=RES / "tables" / "{table}.parquet",
    wildcard_constraints:
        table="|".join(TABLES),
    log:
        RES / "logs" / "collect" / "{table}.log",
    run:
        collect_stage.collect_table(list(input), wildcards.table, output.csv, log[0])


rule collect_errors:
    input:
        [p for stage in STAGES for p in per_sample(RES / "samples" / "{sample}" / "errors" / f"{stage}.csv")],
    output:
        csv=report(RES / "tables" / "errors.csv", caption="../report/errors.rst", category="Tables"),
        parquet=RES / "tables" / "errors.parquet",
    params:
        problems=DISCOVERY.problems,
    log:
        RES / "logs" / "collect" / "errors.log",
    run:
        collect_stage.collect_errors(list(input), params.problems, output.csv, log[0])


def series_inputs(wildcards):
    """Per-sample outputs of a series' members: a figure is redrawn only when they change."""
    members = SERIES[wildcards.series]
    names = ("overpotentials", "tafel", "ecsa", "eis", "conductivity", "arrhenius")
    files = [RES / "samples" / s / "tables" / f"{t}.csv" for s in members for t in names]
    files += [RES / "samples" / s / name for s in members
              for name in ("ingest.json", "lsv_curves.parquet", "eis_fits.json")]
    return [str(f) for f in files]


rule collect_circuits:
    input:
        per_sample(RES / "samples" / "{sample}" / "eis_fits.json"),
    output:
        csv=report(RES / "tables" / "eis_circuits.csv", caption="../report/circuits.rst", category="Tables"),
        parquet=RES / "tables" / "eis_circuits.parquet",
    params:
        series_of={s: DISCOVERY.samples[s].series for s in SAMPLES},
    log:
        RES / "logs" / "collect" / "eis_circuits.log",
    run:
        collect_stage.collect_circuits(list(input), dict(params.series_of), output.csv, log[0])


rule series_figures:
    input:
        series_inputs,
    output:
        report(
            directory(RES / "figures" / "{series}"),
            patterns=["{name}.png"],
            caption="../report/figures.rst",
            category="Comparative figures",
            subcategory="{series}",
        ),
    params:
        members=lambda wc: SERIES[wc.series],
        formats=config["report"]["formats"],
        settings={k: v for k, v in config.items()},
    log:
        RES / "logs" / "figures" / "{series}.log",
    run:
        stage(
            "echem.workflow.collect:series_figures",
            results_dir=str(RES), series=wildcards.series, members=list(params.members),
            out_dir=str(output[0]), formats=list(params.formats), settings=dict(params.settings),
            log_path=str(log[0]),
        )


rule strict_check:
    input:
        RES / "tables" / "errors.csv",
    output:
        RES / "tables" / "strict.ok",
    run:
        collect_stage.strict_check(input[0], output[0])
