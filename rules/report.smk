# Collect per-sample tables into results/tables/, draw comparative figures, strict check.

from echem.plots.compare import shown_members
from echem.workflow import collect as collect_stage

TABLES = ("overpotentials", "tafel", "ecsa", "eis", "conductivity", "arrhenius")


def done_files(samples=None):
    """The samples' done.json: a sample's tables are complete once it exists."""
    return [str(RES / "samples" / s / "done.json") for s in (SAMPLES if samples is None else samples)]


COLLECTED = (*TABLES, "errors", "warnings", "eis_circuits")
CAPTIONS = {"errors": "errors.rst", "warnings": "warnings.rst", "eis_circuits": "circuits.rst"}


# One job writes every collected table: they all depend on every sample, and a job per
# table would cost Snakemake's per-job bookkeeping nine times (see collect_all).
rule collect:
    input:
        done_files(),
    output:
        **{f"{t}_csv": report(RES / "tables" / f"{t}.csv", caption=f"../report/{CAPTIONS.get(t, 'table.rst')}",
                              category="Tables") for t in COLLECTED},
        **{f"{t}_parquet": RES / "tables" / f"{t}.parquet" for t in COLLECTED},
    params:
        problems=DISCOVERY.problems,
        series_of={s: DISCOVERY.samples[s].series for s in SAMPLES},
    log:
        **{t: RES / "logs" / "collect" / f"{t}.log" for t in COLLECTED},
    run:
        stage(
            "echem.workflow.collect:collect_all",
            sample_dirs=[str(Path(p).parent) for p in input], stages=list(STAGES), problems=list(params.problems),
            series_of=dict(params.series_of), outputs={t: output[f"{t}_csv"] for t in COLLECTED},
            logs={t: log[t] for t in COLLECTED},
        )


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
