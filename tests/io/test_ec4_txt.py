"""Nordic Electrochemistry EC4 DAQ text reader on the proespm CV file (GPL, read in place)."""

from __future__ import annotations

import numpy as np
import pytest

from echem.errors import EmptyDataError
from echem.io import ec4_txt, read, read_bytes

EC4_CV = "matkrin_proespm-py3/CV_185158__1.txt"


def test_cv_file(corpus_dir):
    m = read(corpus_dir / EC4_CV)
    d = m.data
    assert m.meta["format"] == "nordic-ec4-txt" and m.meta["vendor"] == "Nordic Electrochemistry"
    assert m.technique == "CV" and m.meta["technique_label"] == "CV"
    assert list(d.columns) == ["time_s", "E_V", "I_A", "cycle"]
    assert len(d) == 999 and m.meta["points_declared"] == 999
    assert d.time_s.min() == 0 and d.time_s.max() == pytest.approx(199.6)
    assert d.E_V.min() == pytest.approx(0.10166) and d.E_V.max() == pytest.approx(1.09926)
    assert d.I_A.min() == pytest.approx(-2.52977e-4) and d.I_A.max() == pytest.approx(1.29164e-5)
    assert d.I_A.iloc[0] == pytest.approx(1.29164e-5, rel=1e-12)  # "i (A)", as written
    assert set(d.cycle) == {1}  # "Nr of Sweeps 0.50": one sweep, 1.1 -> 0.1 V
    assert m.meta["scan_rate_V_s"] == 0.005
    assert m.meta["E_start_V"] == 1.1 and m.meta["E_vertex2_V"] == 0.1 and m.meta["sweeps"] == 0.5
    assert m.meta["area_cm2"] == pytest.approx(0.2)  # 2.00E-5 m^2
    assert m.meta["temperature_C"] == 25.0  # Temp_0 298.15 K
    assert m.meta["reference_electrode"] == "SHE"
    assert m.meta["rotation_rpm"] == 400
    assert m.meta["start_time"] == "2023-07-12T18:51:58"
    assert "solution_resistance_ohm" not in m.meta  # R.solution -1.00 Ohm means "not set"
    assert "truncated" not in m.meta


def test_scan_rate_matches_the_data(corpus_dir):
    m = read(corpus_dir / EC4_CV)
    slope = np.polyfit(m.data.time_s, m.data.E_V, 1)[0]
    assert -slope == pytest.approx(m.meta["scan_rate_V_s"], rel=0.01)


def test_truncated_file_says_so(corpus_dir):
    raw = (corpus_dir / EC4_CV).read_bytes()
    lines = raw.rstrip().split(b"\r\n")
    m = read_bytes(b"\r\n".join(lines[:-100]) + b"\r\n1.8", "cut.txt")  # and a cut row
    assert len(m.data) == 899
    assert m.meta["truncated"] is True
    assert "899 of the 999 samples" in m.meta["warnings"][0]


def test_cut_inside_header(corpus_dir):
    raw = (corpus_dir / EC4_CV).read_bytes()
    with pytest.raises(EmptyDataError, match="cut"):
        read_bytes(raw[: raw.index(b"Time (s)")], "cut.txt")


def test_sniff(corpus_dir, data_dir):
    assert ec4_txt.sniff((corpus_dir / EC4_CV).read_bytes(), "x.txt")
    assert not ec4_txt.sniff((data_dir / "exampleDataAutolab.txt").read_bytes(), "x.txt")
