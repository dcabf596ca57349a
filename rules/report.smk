# Collect per-sample tables into results/tables/, draw comparative figures, strict check.

from echem.plots.compare import shown_members
from echem.workflow import collect as collect_stage

TABLES = ("overpotentials", "tafel", "ecsa", "eis", "conductivity", "arrhenius")


def done_files(samples=None):
    """The samples' done.json: a sample's tables are complete once it exists."""
    return [str(RES / "samples" / s / "done.json") for s in (SAMPLES if samples is None else samples)]


def beside(done_paths, rel):
    """Paths of a per-sample output next to each done.json."""
    return [str(Path(p).parent / rel) for p in done_paths]


rule collect_table:
    input:
        done_files(),
    output:
        csv=report(RES / "tables" / "{table}.csv", caption="../report/table.rst", category="Tables"),
        parquet=RES / "tables" / "{table}.parquet",
    wildcard_constraints:
        table="|".join(TABLES),
    log:
        RES / "logs" / "collect" / "{table}.log",
    run:
        collect_stage.collect_table(beside(input, f"tables/{wildcards.table}.csv"), wildcards.table,
                                    output.csv, log[0])


rule collect_errors:
    input:
        done_files(),
    output:
        csv=report(RES / "tables" / "errors.csv", caption="../report/errors.rst", category="Tables"),
        parquet=RES / "tables" / "errors.parquet",
    params:
        problems=DISCOVERY.problems,
    log:
        RES / "logs" / "collect" / "errors.log",
    run:
        collect_stage.collect_errors([p for stage in STAGES for p in beside(input, f"errors/{stage}.csv")],
                                     params.problems, output.csv, log[0])


rule collect_warnings:
    input:
        done_files(),
    output:
        csv=report(RES / "tables" / "warnings.csv", caption="../report/warnings.rst", category="Tables"),
        parquet=RES / "tables" / "warnings.parquet",
    log:
        RES / "logs" / "collect" / "warnings.log",
    run:
        collect_stage.collect_table([p for stage in STAGES for p in beside(input, f"warnings/{stage}.csv")],
                                    "warnings", output.csv, log[0])


rule collect_circuits:
    input:
        done_files(),
    output:
        csv=report(RES / "tables" / "eis_circuits.csv", caption="../report/circuits.rst", category="Tables"),
        parquet=RES / "tables" / "eis_circuits.parquet",
    params:
        series_of={s: DISCOVERY.samples[s].series for s in SAMPLES},
    log:
        RES / "logs" / "collect" / "eis_circuits.log",
    run:
        collect_stage.collect_circuits(beside(input, "eis_fits.json"), dict(params.series_of), output.csv, log[0])


rule series_figures:
    input:
        # only the samples a figure shows: adding a sample beyond them redraws nothing
        lambda wc: done_files(shown_members(SERIES[wc.series])),
    output:
        report(
            directory(RES / "figures" / "{series}"),
            patterns=["{name}.png"],
            caption="../report/figures.rst",
            category="Comparative figures",
            subcategory="{series}",
        ),
    params:
        members=lambda wc: shown_members(SERIES[wc.series]),
        cut=lambda wc: len(SERIES[wc.series]) > len(shown_members(SERIES[wc.series])),
        formats=config["report"]["formats"],
        settings={"lsv": config["lsv"]},  # only what the figures use: other keys (strict) must not redraw them
    log:
        RES / "logs" / "figures" / "{series}.log",
    run:
        stage(
            "echem.workflow.collect:series_figures",
            results_dir=str(RES), series=wildcards.series, members=list(params.members), cut=bool(params.cut),
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
