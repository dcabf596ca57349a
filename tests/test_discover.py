"""Sample discovery at DAG time: files, ignored names, inventories and series."""

from __future__ import annotations

import os

import pytest

from echem.workflow.discover import Sample, discover, update_inventory


def test_files_ignored_names_and_nested_folders(tmp_path):
    raw = tmp_path / "raw"
    s = raw / "S1"
    (s / "sub").mkdir(parents=True)
    (s / ".hidden").mkdir()
    for rel in ("lsv.mpt", "sub/eis.z", ".hidden/x.mpt", "~$lock.csv", "README.txt", "cv.DTA~", "sample.yaml"):
        (s / rel).write_text("x")
    d = discover(raw)
    sample = d.samples["S1"]
    assert sample.files == ["lsv.mpt", "sub/eis.z"]
    assert sample.sample_yaml == s / "sample.yaml"


def test_inventory_changes_when_a_file_does(tmp_path):
    raw = tmp_path / "raw"
    (raw / "S1").mkdir(parents=True)
    f = raw / "S1" / "lsv.mpt"
    f.write_text("one")
    inv = tmp_path / "inv.tsv"
    assert update_inventory(inv, discover(raw).samples["S1"].inventory()) is True
    assert update_inventory(inv, discover(raw).samples["S1"].inventory()) is False  # unchanged: not rewritten
    f.write_text("longer content")
    os.utime(f, ns=(f.stat().st_atime_ns, f.stat().st_mtime_ns + 10**9))
    assert update_inventory(inv, discover(raw).samples["S1"].inventory()) is True
    assert "lsv.mpt\t14\t" in inv.read_text()


@pytest.mark.parametrize("text, series", [
    ("series: PtMG\n", "PtMG"),
    ("series: 'A-1'  # comment\n", "A-1"),
    ('notes: x\nseries: "B"\n', "B"),
    ("series:   C.2\n", "C.2"),
    ("a:\n  series: X\n", "S"),        # not top level: the id's prefix
    ("series: [a, b]\n", "S"),         # not a name
    ("series: {bad\n", "S"),           # broken YAML (the ingest stage reports it)
    ("reaction: HER\n", "S"),
])
def test_series_from_sample_yaml_else_the_id_prefix(tmp_path, text, series):
    (tmp_path / "sample.yaml").write_text(text)
    assert Sample(id="S_1", folder=tmp_path, sample_yaml=tmp_path / "sample.yaml").series == series
