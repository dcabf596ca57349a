"""Collect per-sample tables into results/tables/ and draw the comparative figures."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from echem.errors import EchemError
from echem.workflow.run import StageRun
from echem.workflow.tables import concat_tables, frame, read_csv, write_table


def existing(paths: Iterable[str], run: StageRun) -> list[str]:
    """The per-sample files that are there; a missing one (a stage that never finished for
    that sample) is logged and left out, so that every other sample is still collected."""
    from os.path import exists

    paths = list(paths)
    found = [p for p in paths if exists(p)]
    for p in sorted(set(paths) - set(found)):
        run.info(f"missing, left out: {p}")
    return found


def collect_table(paths: Iterable[str], table: str, out_csv: str | Path, log_path: str | Path) -> None:
    """Concatenate one table over all samples; write CSV and Parquet."""
    with StageRun(f"collect {table}", "all", log_path, None) as run:
        df = concat_tables(existing(paths, run), table)
        run.info(f"{len(df)} rows")
        write_table(df, out_csv)


def collect_errors(paths: Iterable[str], problems: list[dict[str, str]], out_csv: str | Path,
                   log_path: str | Path) -> None:
    """All error rows: discovery problems first, then every stage of every sample."""
    import pandas as pd

    with StageRun("collect errors", "all", log_path, None) as run:
        frames = [f for f in (frame(problems, "errors"), concat_tables(existing(paths, run), "errors"))
                  if not f.empty]
        df = pd.concat(frames, ignore_index=True) if frames else frame([], "errors")
        df = df.fillna("")
        run.info(f"{len(df)} error rows")
        for row in df.itertuples():
            run.info(f"{row.sample} | {row.file} | {row.stage} | {row.error}")
        write_table(df, out_csv)


def strict_check(errors_csv: str | Path, out_path: str | Path) -> None:
    """Fail the run (strict mode) when any input or fit failed."""
    df = read_csv(errors_csv, "errors")
    if len(df):
        # not SystemExit: inside a Snakemake thread that hangs the run instead of failing it
        raise EchemError(
            f"strict mode: {len(df)} input(s) or fit(s) failed, see {errors_csv}; "
            "fix them or set strict: false in config/config.yaml"
        )
    Path(out_path).write_text("no errors\n", encoding="utf-8")


def series_figures(results_dir: str | Path, series: str, members: list[str], out_dir: str | Path,
                   formats: list[str], settings: Mapping[str, Any], log_path: str | Path,
                   cut: bool = False, order: Mapping[str, float] | None = None, group: str | None = None) -> None:
    """Comparative figures of one series (see :mod:`echem.plots.compare`): those of ``group``
    (:data:`~echem.plots.compare.FIGURE_GROUPS`) into ``results/figures/<series>/<group>/``,
    or all of them into ``out_dir``; ``members`` are the samples shown, ``cut`` says the
    series has more."""
    import glob

    from echem.names import name_problem
    from echem.plots.compare import FIGURE_GROUPS, KINDS, draw_series

    out = Path(out_dir)
    # the folder is the rule's own output, results/figures/<series>/<group>/ (Snakemake clears it
    # before the job): a series that is not a name ('..' would be results/ itself) never gets that far
    problem = name_problem(series, "series")
    if group is not None and group not in FIGURE_GROUPS:
        problem = f"figure group {group!r} is not one of {', '.join(FIGURE_GROUPS)}"
    expected = Path(results_dir) / "figures" / series / (group or "")
    if problem or out.resolve() != expected.resolve():
        raise EchemError(f"series figures: {problem or f'{out} is not {expected}'}; nothing drawn")
    out.mkdir(parents=True, exist_ok=True)
    kinds = FIGURE_GROUPS[group].kinds if group else KINDS
    if group:  # the group's figures as the layout before the groups wrote them, beside the groups
        for kind in kinds:
            for old in out.parent.glob(f"{glob.escape(series)}_{kind}.*"):
                if old.is_file():
                    old.unlink()
    with StageRun("figures", series, log_path, None) as run:
        draw_series(Path(results_dir), series, members, out, formats, settings, run, cut=cut, order=order,
                    kinds=kinds)


def collect_circuits(fits_paths: Iterable[str], series_of: Mapping[str, str], out_csv: str | Path,
                     log_path: str | Path) -> None:
    """Which circuit each spectrum got, and whether it differs from the rest of its series.

    ``differs`` is true where a spectrum's circuit is not the most common one of its
    series: similar samples analysed with different models, which the report flags.
    """
    import json
    from collections import Counter

    import pandas as pd

    with StageRun("collect circuits", "all", log_path, None) as run:
        rows = []
        for path in fits_paths:
            try:  # written by the eis stage beside its table; removed by hand, the lsv stage says so
                with open(path, encoding="utf-8") as fh:
                    info = json.load(fh)
            except (OSError, ValueError) as exc:
                run.error(Path(path).parent.name, f"{Path(path).name} is missing or unreadable "
                                                  f"({type(exc).__name__}): its circuits are not in this table")
                continue
            for fit in info["fits"]:
                rows.append({"series": series_of.get(info["sample"], ""), "sample": info["sample"],
                             "file": fit["file"], "circuit": fit["circuit"],
                             "circuit_source": fit["circuit_source"]})
        df = pd.DataFrame(rows, columns=["series", "sample", "file", "circuit", "circuit_source"])
        majority = {s: Counter(g["circuit"]).most_common(1)[0][0] for s, g in df.groupby("series")}
        df["series_circuit"] = df["series"].map(majority)
        df["differs"] = df["circuit"] != df["series_circuit"]
        for row in df[df["differs"]].itertuples():
            run.warning(f"{row.sample} {row.file}: circuit {row.circuit} differs from the series' "
                        f"usual {row.series_circuit}")
        write_table(df, out_csv)
