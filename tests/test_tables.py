"""Output tables are written so that nothing in a cell can corrupt a row, and so that
colleagues can read them (issue: hostile input)."""

from __future__ import annotations

import os
import stat

import pandas as pd

from echem.workflow.tables import atomic_write_text, read_csv, write_csv


def test_carriage_return_in_a_name_cannot_split_a_row(tmp_path):
    path = tmp_path / "errors.csv"
    rows = pd.DataFrame({"sample": ["Icon\r", "good"], "file": ["a\rb.mpt", "x.mpt"], "stage": ["ingest"] * 2,
                         "error": ["e1", "e2"]})
    write_csv(rows, path)
    raw = path.read_bytes()
    assert b"\r" not in raw
    back = read_csv(path, "errors")
    assert list(back["sample"]) == ["Icon\\r", "good"] and list(back["error"]) == ["e1", "e2"]


def test_outputs_respect_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "a.txt", "x")
        assert stat.S_IMODE(os.stat(tmp_path / "a.txt").st_mode) == 0o644
        os.umask(0o002)
        atomic_write_text(tmp_path / "b.txt", "x")
        assert stat.S_IMODE(os.stat(tmp_path / "b.txt").st_mode) == 0o664
    finally:
        os.umask(old)
