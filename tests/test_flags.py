"""The flag vocabulary, its README table and the run summary."""

from __future__ import annotations

import pandas as pd
import pytest

from conftest import ROOT
from echem.flags import FLAGS, Flag, codes, readme_table, split
from echem.workflow.summary import format_summary, summarise
from echem.workflow.tables import TABLE_COLUMNS


def test_readme_documents_every_flag_exactly():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert readme_table() in readme


def test_codes_are_unique_ordered_and_known():
    assert codes([Flag("kk_failed", "a"), Flag("no_ir", "b"), Flag("no_ir", "c")]) == "no_ir;kk_failed"
    assert codes([]) == ""
    assert split("no_ir;kk_failed") == ["no_ir", "kk_failed"] and split(float("nan")) == [] and split(None) == []
    with pytest.raises(ValueError, match="unknown flag"):
        Flag("nonsense", "x")


def test_every_results_table_ends_with_flags():
    for name, columns in TABLE_COLUMNS.items():
        if name not in ("errors", "warnings"):
            assert columns[-1] == "flags", name
    assert TABLE_COLUMNS["warnings"][-1] == "flag"


def test_summary_counts_flagged_numbers(tmp_path):
    tables = tmp_path / "tables"
    tables.mkdir()
    (tmp_path / "samples" / "a").mkdir(parents=True)
    (tmp_path / "samples" / "b").mkdir(parents=True)
    pd.DataFrame([{"sample": "a", "flags": "no_ir;ru_bound_only"}, {"sample": "a", "flags": ""},
                  {"sample": "b", "flags": "no_ir"}]).to_csv(tables / "overpotentials.csv", index=False)
    pd.DataFrame([{"sample": "b", "file": "x", "stage": "eis", "error": "bad"}]).to_csv(tables / "errors.csv",
                                                                                       index=False)
    pd.DataFrame(columns=["sample", "file", "stage", "warning", "flag"]).to_csv(tables / "warnings.csv", index=False)
    s = summarise(tmp_path)
    assert s["samples_analysed"] == 2 and s["errors"] == 1 and s["warnings"] == 0
    assert s["flagged"]["overpotentials"] == (2, 3)
    assert s["codes"] == {"no_ir": 2, "ru_bound_only": 1}
    text = format_summary(tmp_path)
    assert "flagged numbers: 2 of 3" in text and "errors.csv" in text and "no_ir (2)" in text
    assert set(FLAGS) >= set(s["codes"])
