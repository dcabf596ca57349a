"""Data a stage reads from the stage before it, beside that stage's table (the EIS fits, the LSV
curves). The workflow does not declare these files, so if one is removed by hand Snakemake does
not redo the stage that wrote it: the stage that reads it must say so in one actionable error
row, write its outputs (empty) and let the rest of the run go on."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
import yaml

from conftest import ROOT
from echem.workflow.arrhenius import arrhenius_sample
from echem.workflow.ecsa import ecsa_sample
from echem.workflow.ingest import ingest_sample
from echem.workflow.lsv import lsv_sample
from echem.workflow.tafel import tafel_sample

CONFIG = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())


@pytest.fixture
def sample_dir(tmp_path):
    """The demo's PtMG_as-cast (LSV, CVs, EIS) ingested, no stage after ingest run yet."""
    raw = tmp_path / "raw" / "S"
    shutil.copytree(ROOT / "raw" / "PtMG_as-cast", raw)
    files = sorted(p.name for p in raw.iterdir() if p.name != "sample.yaml")
    out = tmp_path / "results" / "samples" / "S"
    ingest_sample("S", raw, files, raw / "sample.yaml", CONFIG["defaults"], out, tmp_path / "ingest.log",
                  out / "errors" / "ingest.csv")
    return out


def outputs(sample_dir, stage, **tables):
    return {"audit": str(sample_dir / "audit" / stage), "figures": str(sample_dir / "figures" / stage),
            "errors": str(sample_dir / "errors" / f"{stage}.csv"),
            **{key: str(sample_dir / "tables" / name) for key, name in tables.items()}}


def error_rows(sample_dir, stage):
    return pd.read_csv(sample_dir / "errors" / f"{stage}.csv")


def test_missing_eis_fits_is_an_actionable_error_of_the_lsv_and_arrhenius_stages(sample_dir, tmp_path):
    assert not (sample_dir / "eis_fits.json").exists()
    lsv_sample(sample_dir, CONFIG["lsv"], [], {**outputs(sample_dir, "lsv", table="overpotentials.csv"),
                                              "curves": str(sample_dir / "lsv_curves.parquet")},
               tmp_path / "lsv.log")
    rows = error_rows(sample_dir, "lsv")
    assert len(rows) == 1
    message = rows["error"].iloc[0]
    assert "eis_fits.json, which the eis stage writes beside tables/eis.csv, is missing" in message
    assert f"snakemake --forcerun {sample_dir / 'tables' / 'eis.csv'}" in message and "internal error" not in message
    # its outputs are there, empty, so the stages after it and the collections run
    assert pd.read_csv(sample_dir / "tables" / "overpotentials.csv").empty
    assert pd.read_parquet(sample_dir / "lsv_curves.parquet").empty

    arrhenius_sample(sample_dir, CONFIG["arrhenius"], [],
                     outputs(sample_dir, "arrhenius", conductivity="conductivity.csv", arrhenius="arrhenius.csv"),
                     tmp_path / "arrhenius.log")
    rows = error_rows(sample_dir, "arrhenius")
    assert len(rows) == 1 and "eis_fits.json, which the eis stage writes" in rows["error"].iloc[0]
    assert pd.read_csv(sample_dir / "tables" / "arrhenius.csv").empty


def test_unreadable_lsv_curves_are_an_actionable_error_of_the_tafel_and_ecsa_stages(sample_dir, tmp_path):
    (sample_dir / "tables").mkdir(exist_ok=True)
    (sample_dir / "tables" / "overpotentials.csv").write_text("sample,file,flags\n")
    (sample_dir / "lsv_curves.parquet").write_bytes(b"not a parquet file")  # truncated by a full disk, say
    tafel_sample(sample_dir, CONFIG["tafel"], [], outputs(sample_dir, "tafel", table="tafel.csv"),
                 tmp_path / "tafel.log")
    rows = error_rows(sample_dir, "tafel")
    assert len(rows) == 1
    message = rows["error"].iloc[0]
    assert "lsv_curves.parquet, which the lsv stage writes beside tables/overpotentials.csv" in message
    assert f"snakemake --forcerun {sample_dir / 'tables' / 'overpotentials.csv'}" in message
    assert pd.read_csv(sample_dir / "tables" / "tafel.csv").empty

    ecsa_sample(sample_dir, CONFIG["ecsa"], [], outputs(sample_dir, "ecsa", table="ecsa.csv"),
                tmp_path / "ecsa.log")
    rows = error_rows(sample_dir, "ecsa")
    assert len(rows) == 1 and "lsv_curves.parquet, which the lsv stage writes" in rows["error"].iloc[0]


def test_the_circuits_table_skips_a_sample_whose_fits_are_missing(tmp_path):
    """collect_circuits gathers every sample's eis_fits.json: one removed by hand costs that
    sample's rows (the log says which; its lsv stage has the error row), not the table."""
    import json

    from echem.workflow.collect import collect_circuits

    a = tmp_path / "A" / "eis_fits.json"
    a.parent.mkdir()
    a.write_text(json.dumps({"sample": "A", "fits": [
        {"file": "eis.mpt", "circuit": "R0-p(R1,CPE1)", "circuit_source": "automatic"}]}))
    out = tmp_path / "tables" / "eis_circuits.csv"
    collect_circuits([str(a), str(tmp_path / "B" / "eis_fits.json")], {"A": "s", "B": "s"}, out,
                     tmp_path / "collect.log")
    table = pd.read_csv(out)
    assert table["sample"].tolist() == ["A"] and table["circuit"].tolist() == ["R0-p(R1,CPE1)"]
    log = (tmp_path / "collect.log").read_text()
    assert "ERROR B: eis_fits.json is missing or unreadable (FileNotFoundError)" in log
