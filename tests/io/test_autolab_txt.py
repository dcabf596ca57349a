"""Autolab readers: the FRA Z60W impedance file (impedance.py, MIT, in tests/data), a NOVA CV
export (chemotion, AGPL, read in place) and NOVA impedance exports written here from a
known circuit."""

from __future__ import annotations

import numpy as np
import pytest

from echem.errors import EmptyDataError
from echem.io import autolab_txt, read, read_bytes
from echem.io.chi_txt import sweep_segments

Z60W = "exampleDataAutolab.txt"
NOVA_CV = "ComPlat_chemotion-converter-app/FeBr3_TMGasme__-_100mV.txt"


def test_z60w_impedance(data_dir):
    m = read(data_dir / Z60W)
    d = m.data
    assert m.meta["format"] == "autolab-txt" and m.meta["vendor"] == "Metrohm Autolab"
    assert m.technique == "EIS"
    assert list(d.columns) == ["freq_Hz", "Z_re_ohm", "Z_im_ohm"]  # Time/Bias columns are all 0
    assert len(d) == 41 and m.meta["points_declared"] == 41
    assert d.freq_Hz.max() == 10000 and d.freq_Hz.min() == pytest.approx(0.1)
    assert d.Z_re_ohm.min() == pytest.approx(0.0133448817513185)
    assert d.Z_re_ohm.max() == pytest.approx(0.0345697771923854)
    assert d.Z_im_ohm.min() == pytest.approx(-0.00496704811524199)
    assert d.Z_im_ohm.max() == pytest.approx(0.007191946305823)
    # Z''(b) is physical: an inductive tail above ~2 kHz (positive), then the capacitive
    # arc (negative) for all 35 lower frequencies.
    inductive = d[d.Z_im_ohm > 0]
    assert len(inductive) == 6 and inductive.freq_Hz.min() == pytest.approx(2371.4)
    assert (d[d.freq_Hz < 2000].Z_im_ohm < 0).all()
    assert "truncated" not in m.meta


def test_z60w_cut_short(data_dir):
    raw = (data_dir / Z60W).read_bytes()
    lines = raw.rstrip().split(b"\n")
    m = read_bytes(b"\n".join(lines[:-5]), "cut.txt")  # the last 5 frequencies never came
    assert len(m.data) == 36
    assert m.meta["truncated"] is True
    with pytest.raises(EmptyDataError):
        read_bytes(raw[: raw.index(b"Freq")], "cut.txt")


def test_nova_cv_export(corpus_dir):
    m = read(corpus_dir / NOVA_CV)
    d = m.data
    assert m.meta["format"] == "autolab-nova-txt" and m.meta["vendor"] == "Metrohm Autolab"
    assert list(d.columns) == ["time_s", "E_V", "I_A", "cycle"]
    assert len(d) == 506
    assert set(d.cycle) == {3}  # the export holds scan 3 only ("Scan" column)
    assert m.meta["E_column"] == "WE(1).Potential (V)"  # measured, not the applied setpoint
    assert d.E_V.min() == pytest.approx(0.8013916015625) and d.E_V.max() == pytest.approx(1.30279541015625)
    assert d.I_A.min() == pytest.approx(-1.2713623046875e-07) and d.I_A.max() == pytest.approx(4.87640380859375e-06)
    assert d.time_s.min() == pytest.approx(42.680145892243) and d.time_s.max() == pytest.approx(52.697325866952)
    assert d.I_A.iloc[0] == pytest.approx(-1.009521484375e-07, rel=1e-12)  # A, as written


def test_nova_cv_sweeps_at_the_named_scan_rate(corpus_dir):
    """The file is named '100mV': each of its three sweeps (1.0 -> 0.8 -> 1.3 -> 1.0 V)
    runs at 0.100 V/s within 3 %, from the time and measured potential columns."""
    d = read(corpus_dir / NOVA_CV).data
    seg = sweep_segments(d.E_V.to_numpy())
    assert seg.max() == 2
    for k in range(3):
        part = d[seg == k]
        rate = abs(np.polyfit(part.time_s, part.E_V, 1)[0])
        assert rate == pytest.approx(0.1, rel=0.03)


def test_nova_cv_technique_is_cv(corpus_dir):
    assert read(corpus_dir / NOVA_CV).technique == "CV"


def _randles(freq_Hz):
    """Z = R0 + R1 / (1 + j w R1 C1) with R0 = 10 ohm, R1 = 100 ohm, C1 = 10 uF."""
    w = 2 * np.pi * freq_Hz
    return 10.0 + 100.0 / (1 + 1j * w * 100.0 * 10e-6)


def _nova_eis_text(freq, Z, delimiter, decimal):
    header = delimiter.join(["Index", "Frequency (Hz)", "Z' (Ω)", "-Z'' (Ω)", "Z (Ω)", "-Phase (°)", "Time (s)"])
    rows = []
    for i, (f, z) in enumerate(zip(freq, Z)):
        cells = [i + 1, f, z.real, -z.imag, abs(z), -np.degrees(np.angle(z)), 0.5 * i]
        text = [repr(float(c)) if not isinstance(c, int) else str(c) for c in cells]
        if decimal == ",":
            text = [t.replace(".", ",") for t in text]
        rows.append(delimiter.join(text))
    return "\r\n".join([header, *rows]) + "\r\n"


@pytest.mark.parametrize("delimiter,decimal,encoding", [(";", ",", "utf-8-sig"), ("\t", ".", "utf-8"),
                                                        (",", ".", "utf-16")])
def test_nova_eis_export_of_a_known_circuit(delimiter, decimal, encoding):
    rng = np.random.default_rng(7)
    freq = np.logspace(5, -1, 61)
    Z = _randles(freq) * (1 + rng.normal(0, 1e-3, freq.size))
    raw = _nova_eis_text(freq, Z, delimiter, decimal).encode(encoding)
    m = read_bytes(raw, "nova_eis.txt")
    assert m.meta["format"] == "autolab-nova-txt"
    assert m.technique == "EIS"  # from the impedance columns
    assert len(m.data) == 61
    np.testing.assert_allclose(m.data.freq_Hz, freq, rtol=1e-12)
    np.testing.assert_allclose(m.data.Z_re_ohm, Z.real, rtol=1e-12)
    np.testing.assert_allclose(m.data.Z_im_ohm, Z.imag, rtol=1e-12)  # -Z'' negated back
    assert (m.data.Z_im_ohm < 0).all()
    # The arc's apex sits at f = 1 / (2 pi R1 C1) = 159 Hz with -Z'' = R1 / 2 = 50 ohm (1 %).
    apex = m.data.loc[m.data.Z_im_ohm.idxmin()]
    assert apex.Z_im_ohm == pytest.approx(-50, rel=0.01)
    assert apex.freq_Hz == pytest.approx(1 / (2 * np.pi * 1e-3), rel=0.13)  # one point at 10/decade


def test_sniff_is_specific(data_dir, corpus_dir):
    assert autolab_txt.sniff((data_dir / Z60W).read_bytes(), Z60W)
    assert autolab_txt.sniff((corpus_dir / NOVA_CV).read_bytes(), "x.txt")
    # Parstat exports have 'Frequency (Hz)' and 'Potential (V)' too, but are not NOVA's.
    assert not autolab_txt.sniff((corpus_dir / "ECSHackWeek_impedance.py/exampleDataParstat.txt").read_bytes(), "x")
    assert not autolab_txt.sniff(b"Frequency (Hz),Z' (ohm),Z'' (ohm)\n1,2,3\n", "x.csv")
    assert not autolab_txt.sniff((data_dir / "exampleDataCHInstruments.txt").read_bytes(), "x.txt")
