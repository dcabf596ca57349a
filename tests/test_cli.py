"""The ``echem`` command beyond single files: ``audit`` piped into ``head``, ``report``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ECHEM = Path(sys.executable).with_name("echem")


def fake_results(tmp_path: Path, n: int = 400) -> Path:
    """A results folder with one sample and ``n`` EIS fit records (≈ 300 KB of audit text)."""
    audit = tmp_path / "results" / "samples" / "S1" / "audit" / "eis"
    audit.mkdir(parents=True)
    for k in range(n):
        rec = {"stage": "eis", "sample": "S1", "file": f"eis_{k:03d}.mpt", "input_sha256": "ab" * 32,
               "settings": {"weighting": "modulus"}, "metadata": {"area_cm2": [0.196, "sample.yaml"]},
               "method": {"circuit": "R0-p(R1,CPE1)"}, "versions": {"echem": "0"},
               "result": {"params": [
                   {"param": "R0", "value": 2.6004292292122693, "stderr": 0.0031136997895449903, "unit": "Ohm"},
                   {"param": "R1", "value": 213.1e6, "stderr": 0.6e6, "unit": "Ohm"},
                   {"param": "CPE1_0", "value": 1.26315e-4, "stderr": 1.43e-6, "unit": "Ohm^-1 sec^a"},
                   {"param": "CPE1_1", "value": 0.918081, "stderr": 0.0014, "unit": ""}],
                   "chi2": 2.0453966029691786e-05, "kk_ok": True,
                   "series_resistance": {"value_ohm": 2.6004, "err_ohm": 0.0031, "source": "EIS fit R0"}}}
        (audit / f"eis__{k:03d}.json").write_text(json.dumps(rec), encoding="utf-8")
    return tmp_path / "results"


def test_audit_rounds_numbers_to_their_errors_and_writes_units_for_people(tmp_path):
    from echem.audit_report import format_sample_audit

    text = format_sample_audit(fake_results(tmp_path, 1), "S1")
    assert "R0 = 2.6004 ± 0.0031 Ω" in text and "R1 = 213.1 ± 0.6 MΩ" in text
    assert "CPE1_0 = (1.263 ± 0.014)×10⁻⁴ S·s^n" in text and "Ohm^-1 sec^a" not in text
    assert "area_cm2: 0.196  (sample.yaml)" in text


def test_audit_piped_into_head_ends_quietly(tmp_path):
    results = fake_results(tmp_path)
    proc = subprocess.Popen([str(ECHEM), "audit", "S1", "--results", str(results)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    proc.stdout.readline()
    proc.stdout.close()  # as `head -1` does
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr, stderr


def test_report_command_writes_the_report_of_a_results_folder(tmp_path):
    results = fake_results(tmp_path, 2)
    proc = subprocess.run([str(ECHEM), "report", "--results", str(results)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    index = results / "report" / "index.html"
    assert index.is_file() and str(index) in proc.stdout
    page = (results / "report" / "samples" / "S1.html").read_text(encoding="utf-8")
    assert "Fit records (2)" in page and "213.1 ± 0.6 MΩ" in page


def test_report_rebuilds_only_the_pages_whose_sample_changed(tmp_path):
    import os

    from echem.report import build

    results = fake_results(tmp_path, 2)
    other = results / "samples" / "S2" / "audit" / "eis"
    other.mkdir(parents=True)
    for p in (results / "samples" / "S1" / "audit" / "eis").glob("*.json"):
        (other / p.name).write_bytes(p.read_bytes())
    index = build(results)
    page = lambda s: index.parent / "samples" / f"{s}.html"  # noqa: E731
    before = {s: page(s).stat().st_ino for s in ("S1", "S2")}
    build(results)
    assert {s: page(s).stat().st_ino for s in ("S1", "S2")} == before  # linked over, not rewritten
    record = next(other.glob("*.json"))
    os.utime(record, ns=(record.stat().st_atime_ns, record.stat().st_mtime_ns + 10**9))
    build(results)
    assert page("S1").stat().st_ino == before["S1"] and page("S2").stat().st_ino != before["S2"]
    assert "Fit records (2)" in page("S2").read_text(encoding="utf-8")


def test_a_report_build_that_fails_leaves_the_previous_report_whole(tmp_path, monkeypatch):
    """Unchanged samples' folders are moved from the previous report into the new one; a build
    that fails after moving them puts them back, so the previous report keeps every file."""
    from echem.report import build, pages

    results = fake_results(tmp_path, 2)
    index = build(results)
    report = index.parent
    files = lambda: sorted(str(p.relative_to(report)) for p in report.rglob("*") if p.is_file())  # noqa: E731
    before = files()
    assert any(f.startswith("audit/S1/") for f in before)  # a folder _reuse moves

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(pages, "_write_warnings", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        build(results)
    assert files() == before
    assert not [p for p in report.parent.iterdir() if p.name.startswith(".report")]  # no temporary folder left
    monkeypatch.undo()
    build(results)
    assert files() == before
