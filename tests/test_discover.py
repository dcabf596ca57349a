"""Sample discovery at DAG time: files, ignored names, inventories and series."""

from __future__ import annotations

import os

import pytest

from echem.workflow.discover import Sample, discover, update_inventory


def test_files_ignored_names_and_sub_folders(tmp_path):
    """Files in a sub-folder (an old run, a copy, another sample's file) are not merged into
    the sample: one row per sub-folder; hidden folders, lock files and backups are skipped."""
    raw = tmp_path / "raw"
    s = raw / "S1"
    (s / "sub").mkdir(parents=True)
    (s / "backup~").mkdir()
    (s / ".hidden").mkdir()
    for rel in ("lsv.mpt", "sub/eis.z", "backup~/cv.mpt", ".hidden/x.mpt", "~$lock.csv", "README.txt",
                "cv.DTA~", "sample.yaml"):
        (s / rel).write_text("x")
    d = discover(raw)
    sample = d.samples["S1"]
    assert sample.files == ["lsv.mpt"]
    assert sample.sample_yaml == s / "sample.yaml"
    rows = {p["file"]: p for p in d.problems}
    assert set(rows) == {"sub/", "backup~/"}
    assert all(p["sample"] == "S1" and p["stage"] == "discover" for p in d.problems)
    assert "sub-folder sub/ is not read" in rows["sub/"]["error"]
    assert "must not join the sample's fits" in rows["sub/"]["error"]


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


# ----------------------------------------------------------------------------- hostile raw/


def _sample(raw, name, files=("lsv.mpt",)):
    folder = raw / name
    folder.mkdir(parents=True)
    for f in files:
        (folder / f).write_text("x")
    return folder


def test_symlink_loops_fifos_and_dangling_links_are_rows_not_a_crash(tmp_path):
    raw = tmp_path / "raw"
    loop = _sample(raw, "loop")
    (loop / "self").symlink_to(".")             # a folder link to itself
    (loop / "a").symlink_to("b")                # a link loop
    (loop / "b").symlink_to("a")
    (loop / "gone.mpt").symlink_to(tmp_path / "nonexistent")
    os.mkfifo(loop / "pipe.mpt")                # reading it would block the run
    (raw / "top_link").symlink_to(tmp_path / "nowhere")
    _sample(raw, "good")
    d = discover(raw)
    assert sorted(d.samples) == ["good", "loop"]
    assert d.samples["loop"].files == ["lsv.mpt"]
    rows = {(p["sample"], p["file"]): p["error"] for p in d.problems}
    assert "too many levels of symbolic links" in rows[("loop", "a")]
    assert "too many levels of symbolic links" in rows[("loop", "b")]
    assert "sub-folder self/ is not read" in rows[("loop", "self/")]
    assert "which does not exist; nothing read" in rows[("loop", "gone.mpt")]
    assert "not a regular file" in rows[("loop", "pipe.mpt")]
    assert "which does not exist" in rows[("top_link", "")]
    assert len(rows) == 6


def test_a_file_link_leaving_raw_is_not_followed(tmp_path):
    raw = tmp_path / "raw"
    s = _sample(raw, "S1")
    (s / "notes.csv").symlink_to("/etc/passwd")
    (s / "inside.mpt").symlink_to(raw / "S1" / "lsv.mpt")      # a link within raw/: followed
    d = discover(raw)
    assert d.samples["S1"].files == ["inside.mpt", "lsv.mpt"]
    (row,) = d.problems
    assert row["file"] == "notes.csv"
    assert "symbolic link to /etc/passwd, outside raw/" in row["error"] and "not read" in row["error"]
    assert "root:" not in row["error"]


def test_a_linked_sample_folder_is_followed_but_its_files_stay_inside_it(tmp_path):
    """A sample folder may be a link to a lab's data share; a file link inside it may point
    within that folder (or raw/), not elsewhere."""
    share = tmp_path / "share" / "run42"
    share.mkdir(parents=True)
    (share / "lsv.mpt").write_text("x")
    (share / "copy.mpt").symlink_to(share / "lsv.mpt")
    (tmp_path / "secret.csv").write_text("x")
    (share / "secret.csv").symlink_to(tmp_path / "secret.csv")
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "Lab_run42").symlink_to(share)
    d = discover(raw)
    assert d.samples["Lab_run42"].files == ["copy.mpt", "lsv.mpt"]
    (row,) = d.problems
    assert row["file"] == "secret.csv" and "outside raw/ and outside the sample folder" in row["error"]


@pytest.mark.parametrize("name, words", [
    ("S_" + "x" * 253, ("255 characters long, too long for a sample id (at most 100)", "rename it")),
    ("ok_" + "a" * 30, ("ends in 'a' repeated 30 times", "Snakemake refuses")),
    ("ab" * 25, ("ends in 'ab' repeated 25 times",)),
    ("Icon\rx", ("not a valid sample id", "\\r", "rename it, e.g. to 'Icon_x'")),
])
def test_ids_snakemake_or_the_file_system_cannot_take_are_rows(tmp_path, name, words):
    raw = tmp_path / "raw"
    _sample(raw, name)
    _sample(raw, "good")
    d = discover(raw)
    assert list(d.samples) == ["good"]
    (row,) = d.problems
    for w in words:
        assert w in row["error"], row["error"]


def test_an_unreadable_sample_folder_is_a_row_and_the_others_go_on(tmp_path, monkeypatch):
    raw = tmp_path / "raw"
    _sample(raw, "locked")
    _sample(raw, "good")
    real = os.scandir

    def scandir(path="."):
        if str(path).endswith("locked"):
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    d = discover(raw)
    assert list(d.samples) == ["good"]
    (row,) = d.problems
    assert row["sample"] == "locked" and "cannot list the sample folder" in row["error"]
    assert "permission denied" in row["error"] and "chmod a+rx" in row["error"]


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root reads a folder and a file whatever their mode (chmod 000 denies nothing)")
def test_chmod_000_folder_sample_yaml_and_file(tmp_path):
    """Unreadable inputs are rows at discovery: Snakemake checksums a job's inputs and would
    stop the run on one it cannot read."""
    raw = tmp_path / "raw"
    locked = _sample(raw, "locked")
    yml = _sample(raw, "S_yaml", ("lsv.mpt", "sample.yaml"))
    (yml / "sample.yaml").write_text("series: Other\n")
    (yml / "sample.yaml").chmod(0)
    locked.chmod(0)
    nofile = _sample(raw, "S_file", ("lsv.mpt", "cv.mpt"))
    (nofile / "cv.mpt").chmod(0)
    try:
        d = discover(raw)
        assert sorted(d.samples) == ["S_file"]       # an unreadable sample.yaml: not analysed at all
        assert d.samples["S_file"].files == ["lsv.mpt"]
        rows = {(p["sample"], p["file"]): p["error"] for p in d.problems}
        assert "cannot list the sample folder" in rows[("locked", "")]
        assert "cannot read sample.yaml: permission denied; the sample is not analysed" in rows[("S_yaml", "sample.yaml")]
        assert "cannot read cv.mpt: permission denied" in rows[("S_file", "cv.mpt")]
        assert Sample(id="S_yaml", folder=yml, sample_yaml=yml / "sample.yaml").series == "S"
    finally:
        locked.chmod(0o755)


@pytest.mark.parametrize("text", ["series: ..\n", "series: .\n", "series: a/b\n", "series: /tmp/x\n",
                                  "series: '../../x'\n", "series: " + "a" * 30 + "\n"])
def test_a_series_that_is_not_a_name_is_never_a_path(tmp_path, text):
    """Discovery gives the default series; the ingest stage refuses the sample.yaml (a row)."""
    from echem.errors import MetadataError
    from echem.metadata import load_sample_yaml

    (tmp_path / "sample.yaml").write_text(text)
    assert Sample(id="S_1", folder=tmp_path, sample_yaml=tmp_path / "sample.yaml").series == "S"
    with pytest.raises(MetadataError, match="series '.*' .*; a series names the folder of its figures"):
        load_sample_yaml(tmp_path / "sample.yaml")


def test_default_series_is_always_a_name():
    from echem.names import default_series

    assert default_series("PtMG_UV50J") == "PtMG"
    assert default_series("_x_y") == "_x_y"       # empty prefix: the whole id
    assert default_series("..a_b") == "..a"


@pytest.mark.parametrize("text, order", [
    ("series: PtMG\norder: 2\n", 2.0),
    ("order: -1.5   # before the others\n", -1.5),
    ("order: 1e1\n", 10.0),
    ("series: PtMG\n", None),
    ("order: first\n", None),        # not a number: the ingest stage refuses the sample.yaml
    ("notes: the order: 3 of them\n", None),
])
def test_order_from_a_plain_sample_yaml_line(tmp_path, text, order):
    folder = tmp_path / "raw" / "S1"
    folder.mkdir(parents=True)
    (folder / "lsv.csv").write_text("x\n")
    (folder / "sample.yaml").write_text(text)
    assert discover(tmp_path / "raw").samples["S1"].order == order
