"""The output contract lives in the repository: docs/outputs.md, generated from
echem.report.contract, documents every column of every table, and the README links it."""

from __future__ import annotations

from conftest import ROOT

from echem.report.contract import TABLES, markdown
from echem.workflow.tables import TABLE_COLUMNS


def test_docs_outputs_is_the_generated_contract():
    assert (ROOT / "docs" / "outputs.md").read_text(encoding="utf-8") == markdown(), \
        "regenerate it: python -m echem.report.contract > docs/outputs.md"


def test_every_table_column_is_documented_in_order():
    for table, columns in TABLE_COLUMNS.items():
        assert table in TABLES, f"{table} is not in docs/outputs.md"
        assert tuple(TABLES[table][1]) == columns, f"{table}: documented columns differ from TABLE_COLUMNS"
        for column, (unit, meaning) in TABLES[table][1].items():
            assert meaning, f"{table}.{column} has no meaning"


def test_unit_suffixes_and_flags_are_explained():
    from echem.flags import FLAGS

    text = markdown()
    for code in FLAGS:
        assert f"`{code}`" in text
    for suffix in ("_mA_cm2", "_mV", "_S_cm", "_cm2", "_err_<unit>"):
        assert f"`{suffix}`" in text


def test_readme_sends_readers_to_the_docs_not_to_design_md():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "docs/outputs.md" in readme
    assert "DESIGN.md" not in readme  # not in a user's clone
