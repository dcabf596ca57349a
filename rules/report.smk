# Over all samples: each table of results/tables/ collected from the per-sample tables,
# the comparative figures of each series, and the strict check.

TABLES = stage_tables()  # table name -> per-sample path pattern, read off the stage rules
# The stages no other stage reads from (tafel, ecsa, arrhenius, stability): once they are done
# for a sample, all its stages are, and once their collected tables are written, every
# sample's are. The error and warning collections wait for those four tables alone, which
# keeps 8,400 edges out of the DAG at N = 1000 (README, "Speed").
LEAF_STAGES = [stage for stage in STAGES
               if not any(str(p) in map(str, getattr(rules, other).input)
                          for other in STAGES for p in getattr(rules, stage).output)]



rule collect_table:
    input:
        lambda wildcards: per_sample(TABLES[wildcards.table]),
    output:
        csv=report(RES / "tables/{table}.csv", caption="../report/table.rst", category="Tables"),
        parquet=RES / "tables/{table}.parquet",
    wildcard_constraints:
        table="|".join(TABLES),
    log:
        RES / "logs/collect/{table}.log",
    benchmark:
        RES / "benchmarks/collect/{table}.tsv"
    run:
        call("echem.workflow.collect:collect_table", paths=list(input), table=wildcards.table,
             out_csv=output.csv, log_path=log[0])


rule collect_errors:
    input:
        [collected(stage) for stage in LEAF_STAGES],  # the rows lie beside each sample's: side_files
    output:
        csv=report(RES / "tables/errors.csv", caption="../report/errors.rst", category="Tables"),
        parquet=RES / "tables/errors.parquet",
    params:
        problems=DISCOVERY.problems,  # folders discovery could not use: rows of their own
    log:
        RES / "logs/collect/errors.log",
    benchmark:
        RES / "benchmarks/collect/errors.tsv"
    run:
        call("echem.workflow.collect:collect_errors", paths=side_files("errors"),
             problems=list(params.problems), out_csv=output.csv, log_path=log[0])


rule collect_warnings:
    input:
        [collected(stage) for stage in LEAF_STAGES],  # the rows lie beside each sample's: side_files
    output:
        csv=report(RES / "tables/warnings.csv", caption="../report/warnings.rst", category="Tables"),
        parquet=RES / "tables/warnings.parquet",
    log:
        RES / "logs/collect/warnings.log",
    benchmark:
        RES / "benchmarks/collect/warnings.tsv"
    run:
        call("echem.workflow.collect:collect_table", paths=side_files("warnings"), table="warnings",
             out_csv=output.csv, log_path=log[0])


rule collect_circuits:
    input:
        per_sample(rules.eis.output.table),  # each sample's eis_fits.json lies beside it
    output:
        csv=report(RES / "tables/eis_circuits.csv", caption="../report/circuits.rst", category="Tables"),
        parquet=RES / "tables/eis_circuits.parquet",
    params:
        series_of={sample: DISCOVERY.samples[sample].series for sample in SAMPLES},
    log:
        RES / "logs/collect/eis_circuits.log",
    benchmark:
        RES / "benchmarks/collect/eis_circuits.tsv"
    run:
        call("echem.workflow.collect:collect_circuits", fits_paths=[side_outputs("eis", s)["fits"] for s in SAMPLES],
             series_of=dict(params.series_of), out_csv=output.csv, log_path=log[0])


# One job per series and figure group (echem.plots.compare.FIGURE_GROUPS: lsv, eis, stability),
# each reading the outputs of its own stages and its own config sections: a Tafel setting
# redraws the polarisation and Tafel figures, no Nyquist or Bode plot.
rule series_figures:
    input:
        series_inputs,
    output:
        report(
            directory(RES / "figures/{series}/{group}"),
            patterns=["{name}.png"],
            caption="../report/figures.rst",
            category="Comparative figures",
            subcategory="{series}",
        ),
    wildcard_constraints:
        group="|".join(FIGURE_GROUPS),
    params:
        members=lambda wildcards: shown(wildcards.series),
        cut=lambda wildcards: len(SERIES[wildcards.series]) > len(shown(wildcards.series)),
        order=lambda wildcards: series_order(wildcards.series),  # sample.yaml `order`, where given
        formats=config["report"]["formats"],
        # only the sections the group's figures use: other keys (strict) must not redraw them
        settings=lambda wildcards: {key: config[key] for key in FIGURE_GROUPS[wildcards.group].config},
    log:
        RES / "logs/figures/{series}/{group}.log",
    benchmark:
        RES / "benchmarks/figures/{series}/{group}.tsv"
    run:
        run_series_figures(wildcards, params, output, log)


rule strict_check:
    input:
        rules.collect_errors.output.csv,
    output:
        RES / "tables/strict.ok",
    log:
        RES / "logs/collect/strict.log",
    run:
        strict_check(input[0], output[0])


# The offline HTML report (echem.report): a first page with every sample's key numbers,
# a page per sample and per series. index.html is declared, not the folder: Snakemake
# would delete a directory output before the job, and the builder reuses unchanged pages.
rule report_html:
    input:
        tables=[str(RES / "tables" / f"{name}.csv") for name in [*stage_tables(), "errors", "warnings", "eis_circuits"]],
        figures=series_figure_folders(),
    output:
        RES / "report/index.html",
    log:
        RES / "logs/report/report.log",
    benchmark:
        RES / "benchmarks/report/report.tsv"
    run:
        call("echem.report:write_report", results_dir=str(RES), out_dir=str(RES / "report"), log_path=log[0])
