"""CH Instruments text reader on real exports: an A.C. Impedance file (impedance.py, MIT,
in tests/data) and the D3TaLES ferricyanide CV scan-rate series (MIT, read in place)."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from echem.errors import EmptyDataError
from echem.io import chi_txt, read, read_bytes

CHI_EIS = "exampleDataCHInstruments.txt"
D3TALES = {
    0.02: "D3TaLES_d3tales_api/01_GC_WE_Pt_RE_Pt_CE_10_mM_ferricyanide_in_100_mM_KCl_20_mV_scan_rate.csv",
    0.05: "D3TaLES_d3tales_api/02_GC_WE_Pt_RE_Pt_CE_10_mM_ferricyanide_in_100_mM_KCl_50_mV_scan_rate.csv",
    0.10: "D3TaLES_d3tales_api/03_GC_WE_Pt_RE_Pt_CE_10_mM_ferricyanide_in_100_mM_KCl_100_mV_scan_rate.csv",
    0.15: "D3TaLES_d3tales_api/04_GC_WE_Pt_RE_Pt_CE_10_mM_ferricyanide_in_100_mM_KCl_150_mV_scan_rate.csv",
    0.20: "D3TaLES_d3tales_api/05_GC_WE_Pt_RE_Pt_CE_10_mM_ferricyanide_in_100_mM_KCl_200_mV_scan_rate.csv",
}
FIRST_CURRENT_A = {0.02: -5.780e-5, 0.05: -7.385e-5, 0.10: -5.468e-5, 0.15: -5.702e-5, 0.20: -5.884e-5}


def test_impedance_file(data_dir):
    m = read(data_dir / CHI_EIS)
    d = m.data
    assert m.meta["format"] == "chi-txt" and m.meta["vendor"] == "CH Instruments"
    assert m.technique == "EIS" and m.meta["technique_label"] == "A.C. Impedance"
    assert list(d.columns) == ["freq_Hz", "Z_re_ohm", "Z_im_ohm"]
    assert len(d) == 73
    assert d.freq_Hz.max() == pytest.approx(9.961e4) and d.freq_Hz.min() == pytest.approx(0.1)
    assert d.Z_re_ohm.min() == pytest.approx(98.91) and d.Z_re_ohm.max() == pytest.approx(5685)
    assert d.Z_im_ohm.min() == pytest.approx(-15860) and d.Z_im_ohm.max() == pytest.approx(1.603)
    # Physical sign: 70 of 73 points negative (3 slightly inductive points near 80 kHz), and
    # the last row's phase from (Z', Z") is the -70.3 deg the file's Phase column states.
    assert int((d.Z_im_ohm < 0).sum()) == 70
    assert math.degrees(math.atan2(d.Z_im_ohm.iloc[-1], d.Z_re_ohm.iloc[-1])) == pytest.approx(-70.3, abs=0.05)
    assert m.meta["start_time"] == "2020-02-20T15:55:08"
    assert m.meta["instrument"] == "CHI660E"
    assert m.meta["ac_amplitude_V"] == 0.025 and m.meta["freq_high_Hz"] == 2e6


@pytest.mark.parametrize("scan_rate", sorted(D3TALES))
def test_d3tales_cv(corpus_dir, scan_rate):
    m = read(corpus_dir / D3TALES[scan_rate])
    d = m.data
    assert m.technique == "CV" and m.meta["technique_label"] == "Cyclic Voltammetry"
    assert m.meta["scan_rate_V_s"] == pytest.approx(scan_rate)  # "Scan Rate (V/s) = ..." matches the name
    assert list(d.columns) == ["E_V", "I_A", "cycle"]
    assert len(d) == 6000
    assert d.E_V.min() == -0.5 and d.E_V.max() == 0.5
    assert d.I_A.iloc[0] == pytest.approx(FIRST_CURRENT_A[scan_rate], rel=1e-9)  # A, as written
    assert 1e-5 < d.I_A.abs().max() < 2e-4
    # "Segment = 6": six sweeps, two per cycle; turning points belong to the segment they end.
    assert m.meta["segments_programmed"] == 6 and m.meta["segments_found"] == 6
    assert d.groupby("cycle").size().to_dict() == {1: 2001, 2: 2000, 3: 1999}
    c1 = d[d.cycle == 1]
    assert c1.E_V.iloc[0] == -0.5 and c1.E_V.max() == 0.5 and c1.E_V.iloc[-1] == -0.5
    assert m.meta["current_sign_convention"].startswith("not stated")
    assert m.meta["instrument"] == "CHI1100B"
    assert "warnings" not in m.meta


def test_d3tales_peak_current_follows_randles_sevcik(corpus_dir):
    """A diffusion-controlled couple has ip ~ v^0.5: the log-log slope of the anodic peak
    current (cycle 2) against the scan rate read from the headers lies in 0.4..0.6."""
    v, ip = [], []
    for path in D3TALES.values():
        m = read(corpus_dir / path)
        v.append(m.meta["scan_rate_V_s"])
        ip.append(m.data[m.data.cycle == 2].I_A.max())
    slope = np.polyfit(np.log(v), np.log(ip), 1)[0]
    assert 0.4 < slope < 0.6
    assert np.all(np.diff(ip) > 0)


def test_cut_inside_header_is_a_clear_error(data_dir):
    raw = (data_dir / CHI_EIS).read_bytes()
    with pytest.raises(EmptyDataError, match="cut inside its header"):
        read_bytes(raw[: raw.index(b"Freq/Hz")], "cut.txt")
    with pytest.raises(EmptyDataError, match="no data rows"):
        read_bytes(raw[: raw.index(b"Freq/Hz") + 45], "cut.txt")


def test_cut_mid_table_keeps_complete_rows(data_dir):
    raw = (data_dir / CHI_EIS).read_bytes()
    m = read_bytes(raw[:-12], "cut.txt")  # last row loses its Z and Phase cells
    assert len(m.data) == 72


def test_stated_polarity_and_minus_zim_header(data_dir):
    text = (data_dir / CHI_EIS).read_text()
    text = text.replace("Note: ", "Note: Cathodic current is positive")
    # A variant that writes -Z" (positive for the arc): the reader negates it.
    rows = text.split("\n")
    start = rows.index("Freq/Hz, Z'/ohm, Z\"/ohm, Z/ohm, Phase/deg")
    rows[start] = "Freq/Hz, Z'/ohm, -Z\"/ohm, Z/ohm, Phase/deg"
    for i in range(start + 2, len(rows)):
        if rows[i].strip():
            cells = rows[i].split(", ")
            cells[2] = cells[2][1:] if cells[2].startswith("-") else "-" + cells[2]
            rows[i] = ", ".join(cells)
    m = read_bytes("\n".join(rows).encode(), "variant.txt")
    ref = read(data_dir / CHI_EIS)
    np.testing.assert_allclose(m.data.Z_im_ohm, ref.data.Z_im_ohm, rtol=0, atol=0)
    assert m.meta["current_sign_convention"] == "cathodic positive"


def test_sweep_segments_on_a_noisy_triangle_wave():
    """Known answer: 7 linear sweeps between 0 and 1 V (1 mV steps) with 1 mV Gaussian noise
    give 7 segments whose boundaries are within 5 points of the true vertices."""
    rng = np.random.default_rng(12)
    legs = [np.linspace(0, 1, 1001), np.linspace(1, 0, 1001)[1:]] * 4
    E = np.concatenate(legs[:7]) + rng.normal(0, 0.001, size=sum(len(x) for x in legs[:7]))
    seg = chi_txt.sweep_segments(E)
    assert seg.max() == 6
    starts = np.flatnonzero(np.diff(seg)) + 1
    true_vertices = np.cumsum([len(x) for x in legs[:6]])
    assert np.all(np.abs(starts - true_vertices) <= 5)


def test_sweep_segments_monotonic_is_one_segment():
    assert chi_txt.sweep_segments(np.linspace(-0.2, 0.8, 500)).max() == 0


def test_sniff(data_dir, corpus_dir):
    assert chi_txt.sniff((data_dir / CHI_EIS).read_bytes(), CHI_EIS)
    assert chi_txt.sniff((corpus_dir / D3TALES[0.02]).read_bytes(), "x.csv")
    assert not chi_txt.sniff((data_dir / "exampleDataAutolab.txt").read_bytes(), "x.txt")
    assert not chi_txt.sniff(b"E/V,I/A\n0.1,1e-6\n", "x.csv")
    header = re.sub(r"Instrument Model:.*", "", (data_dir / CHI_EIS).read_text())
    assert chi_txt.sniff(header.encode(), "x.txt")  # date line + technique + File:/Data Source:
