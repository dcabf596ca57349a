"""Princeton Applied Research readers: Parstat txt, VersaStudio .par, PowerSuite txt.

Files: impedance.py's exampleDataParstat.txt, exampleDataVersaStudio.par and
exampleDataPowersuite.txt (MIT, copied to tests/data). Expected numbers were taken
from the files' text with awk, not from the readers; each reader is also compared
with impedance.py's own reader for that format.
"""

from __future__ import annotations

import numpy as np
import pytest

from echem.errors import EmptyDataError, ReaderError
from echem.io import parstat_txt, powersuite_txt, read, read_bytes, versastudio_par

PARSTAT = "exampleDataParstat.txt"
VERSA = "exampleDataVersaStudio.par"
POWERSUITE = "exampleDataPowersuite.txt"


# ----------------------------------------------------------------------------- Parstat


def test_parstat_keeps_the_impedance_rows_and_describes_the_dc_part(data_dir):
    m = read(data_dir / PARSTAT)
    d = m.data
    assert m.meta["format"] == "parstat-txt" and m.meta["vendor"] == "Princeton Applied Research"
    assert m.technique == "EIS" and m.meta["technique_source"] == "file content (impedance columns)"
    assert list(d.columns) == ["time_s", "E_V", "I_A", "freq_Hz", "Z_re_ohm", "Z_im_ohm"]
    assert len(d) == 31  # 812 data rows: 781 at 0 Hz (DC record) + 31 impedance points
    assert d.freq_Hz.min() == pytest.approx(10.0) and d.freq_Hz.max() == pytest.approx(1.0e4)
    assert d.Z_re_ohm.min() == pytest.approx(-0.00049816280376104, rel=1e-12)
    assert d.Z_re_ohm.max() == pytest.approx(0.0311342528064856, rel=1e-12)
    assert d.Z_im_ohm.min() == pytest.approx(-0.00407387412978746, rel=1e-12)
    assert d.Z_im_ohm.max() == pytest.approx(0.0175143479976367, rel=1e-12)
    # Physical sign as written: inductive (> 0) above ~1 kHz, capacitive (< 0) below.
    assert int((d.Z_im_ohm < 0).sum()) == 21
    assert (d.Z_im_ohm[d.freq_Hz < 100] < 0).all() and (d.Z_im_ohm[d.freq_Hz > 5000] > 0).all()
    dc = m.meta["dc_part"]
    assert dc["rows"] == 781 and dc["time_s_range"] == [10.0, 7630.0]
    assert "781 rows" in m.meta["dropped"]
    # The DC values of each impedance point are kept (3.50029 V, 24.57 mA during the sweep).
    assert d.E_V.iloc[0] == pytest.approx(3.50029397010803) and d.I_A.iloc[0] == pytest.approx(0.0245747901499271)


def test_parstat_matches_impedance_py(data_dir):
    from impedance.preprocessing import readParstat

    f_ref, z_ref = readParstat(str(data_dir / PARSTAT))
    d = read(data_dir / PARSTAT).data
    np.testing.assert_allclose(d.freq_Hz, f_ref, rtol=1e-9, atol=0)
    np.testing.assert_allclose(d.Z_re_ohm + 1j * d.Z_im_ohm, z_ref, rtol=1e-9, atol=0)


def test_parstat_dc_only_file_has_no_impedance_columns(data_dir):
    lines = (data_dir / PARSTAT).read_text().splitlines(keepends=True)
    m = read_bytes("".join(lines[:40]).encode(), "dc_only.txt")
    assert "freq_Hz" not in m.data.columns and len(m.data) == 39
    assert list(m.data.columns) == ["time_s", "E_V", "I_A"]
    assert "no impedance rows" in m.meta["dropped"]


def test_parstat_short_row_is_an_error(data_dir):
    text = (data_dir / PARSTAT).read_text()
    broken = text.rstrip("\n") + "\n3.5\t0.02\t7751\t8\n"
    with pytest.raises(ReaderError, match="fields"):
        read_bytes(broken.encode(), "broken.txt")


def test_parstat_decimal_comma(data_dir):
    lines = (data_dir / PARSTAT).read_text().splitlines(keepends=True)
    german = lines[0] + "".join(l.replace(".", ",") for l in lines[-5:])
    m = read_bytes(german.encode("cp1252"), "german.txt")
    assert m.meta["decimal"] == ","
    assert m.data.freq_Hz.tolist() == pytest.approx([25.118860244751, 19.9526195526123, 15.8489303588867,
                                                     12.5892496109009, 10.0])


# ----------------------------------------------------------------------------- VersaStudio


def test_versastudio_eis_segment(data_dir):
    m = read(data_dir / VERSA)
    d = m.data
    assert m.meta["format"] == "versastudio-par"
    assert m.technique == "EIS" and m.meta["technique_source"] == "file content"
    assert m.meta["technique_label"] == "Potentiostatic EIS"
    assert list(d.columns) == ["time_s", "E_V", "I_A", "freq_Hz", "Z_re_ohm", "Z_im_ohm"]
    assert len(d) == 61
    assert d.freq_Hz.min() == pytest.approx(0.02154435) and d.freq_Hz.max() == pytest.approx(1.0e5)
    assert d.Z_re_ohm.min() == pytest.approx(55.31571) and d.Z_re_ohm.max() == pytest.approx(1516.313)
    assert d.Z_im_ohm.min() == pytest.approx(-478.3702) and d.Z_im_ohm.max() == pytest.approx(4.575431)
    assert int((d.Z_im_ohm < 0).sum()) == 59  # only the two highest frequencies are inductive
    meta = m.meta
    assert meta["start_time"] == "2018-07-19T09:40:30"  # "Thursday, July 19, 2018" "9:40:30 AM"
    assert meta["area_cm2"] == 1.0
    assert "reference_electrode" not in meta  # "(unspecified) (0 Volts)"
    assert meta["ocp_V"] == pytest.approx(6.404e-3)
    assert meta["ac_amplitude_V_rms"] == pytest.approx(0.020)
    assert "scan_rate_V_s" not in meta  # the EIS action's hidden scan rate is not a sweep rate
    assert meta["instrument"] == "VersaSTAT4 SN 16334007"
    assert meta["segments"] == [
        {"segment": 1, "action": "Potentiostatic EIS", "technique": "EIS", "rows": 61, "used": True}
    ]


def test_versastudio_matches_impedance_py(data_dir):
    from impedance.preprocessing import readVersaStudio

    f_ref, z_ref = readVersaStudio(str(data_dir / VERSA))
    d = read(data_dir / VERSA).data
    np.testing.assert_allclose(d.freq_Hz, f_ref, rtol=1e-9, atol=0)
    np.testing.assert_allclose(d.Z_re_ohm + 1j * d.Z_im_ohm, z_ref, rtol=1e-9, atol=0)


def _cv_par(text: str, *, with_lsv: bool = False) -> str:
    """The real file's header with its EIS action replaced by Open Circuit + CV (+ LSV) actions."""
    head = text[: text.index("<Action1>")]
    tail = text[text.index("</Segment1>") + len("</Segment1>"):]
    definition = "Definition=Segment #, Point #, E(V), I(A), Elapsed Time(s), Cycle #, 0\n"
    ocv = "<Action1>\nName=Open Circuit\nSegments=1\n</Action1>\n\n"
    cv = "<Action2>\nName=Cyclic Voltammetry (Multiple Cycles)\nScan Rate (V/s)=.05\nSegments=1\n</Action2>\n\n"
    lsv = "<Action3>\nName=Linear Scan Voltammetry\nScan Rate (V/s)=.01\nSegments=1\n</Action3>\n\n"
    seg1 = "<Segment1>\nType=1\nVersion=3\n" + definition + "".join(
        f"0,{i},{0.1 + 1e-4 * i},{0.0},{i},0\n" for i in range(5)) + "</Segment1>\n\n"
    E = np.concatenate([np.linspace(0, 0.5, 11), np.linspace(0.45, 0, 10)])
    seg2 = "<Segment2>\nType=1\nVersion=3\n" + definition + "".join(
        f"1,{i},{e:.4f},{1e-6 * (e - 0.25):.6E},{5 + 0.2 * i},{1 if i < 21 else 2}\n" for i, e in enumerate(E)
    ) + "</Segment2>\n\n"
    seg3 = "<Segment3>\nType=1\nVersion=3\n" + definition + "".join(
        f"2,{i},{0.1 * i},{1e-6 * i},{20 + i},1\n" for i in range(6)) + "</Segment3>\n\n"
    body = ocv + cv + (lsv if with_lsv else "") + seg1 + seg2 + (seg3 if with_lsv else "")
    return head + body + tail


def test_versastudio_cv_segment_by_definition_columns(data_dir):
    text = (data_dir / VERSA).read_text(encoding="utf-8")
    m = read_bytes(_cv_par(text).encode("utf-8"), "cv.par")
    assert m.technique == "CV" and m.meta["technique_label"] == "Cyclic Voltammetry (Multiple Cycles)"
    assert list(m.data.columns) == ["time_s", "E_V", "I_A", "cycle"]
    assert len(m.data) == 21
    assert m.data.E_V.max() == pytest.approx(0.5) and m.data.E_V.iloc[-1] == pytest.approx(0.0)
    assert m.data.I_A.iloc[0] == pytest.approx(-2.5e-7)
    assert m.meta["scan_rate_V_s"] == pytest.approx(0.05)
    used = {s["segment"]: s["used"] for s in m.meta["segments"]}
    assert used == {1: False, 2: True}  # the open-circuit segment is listed, not used


def test_versastudio_mixed_techniques_are_refused(data_dir):
    text = (data_dir / VERSA).read_text(encoding="utf-8")
    with pytest.raises(ReaderError, match="several techniques"):
        read_bytes(_cv_par(text, with_lsv=True).encode("utf-8"), "mixed.par")


def test_versastudio_truncated_file_is_an_error(data_dir):
    text = (data_dir / VERSA).read_text(encoding="utf-8")
    cut = text[: text.index("</Segment1>") - 200]
    with pytest.raises(ReaderError, match="not closed"):
        read_bytes(cut.encode("utf-8"), "cut.par")


def test_versastudio_without_data_rows(data_dir):
    text = (data_dir / VERSA).read_text(encoding="utf-8")
    start = text.index("Definition=")
    start = text.index("\n", start) + 1
    empty = text[:start] + text[text.index("</Segment1>"):]
    with pytest.raises(EmptyDataError, match="no data rows"):
        read_bytes(empty.encode("utf-8"), "empty.par")


# ----------------------------------------------------------------------------- PowerSuite


def test_powersuite_crcrlf_file(data_dir):
    raw = (data_dir / POWERSUITE).read_bytes()
    assert b"\r\r\n" in raw  # PowerSuite's line ends, kept byte for byte in tests/data
    m = read(data_dir / POWERSUITE)
    d = m.data
    assert m.meta["format"] == "powersuite-txt"
    assert m.technique == "EIS"
    assert list(d.columns) == ["freq_Hz", "Z_re_ohm", "Z_im_ohm"]
    assert len(d) == 30
    assert d.freq_Hz.min() == pytest.approx(0.1) and d.freq_Hz.max() == pytest.approx(2.0e6)
    assert d.Z_re_ohm.min() == pytest.approx(-1075.6649) and d.Z_re_ohm.max() == pytest.approx(423929.46)
    assert d.Z_im_ohm.min() == pytest.approx(-105476.2) and d.Z_im_ohm.max() == pytest.approx(-713.75358)
    assert (d.Z_im_ohm < 0).all()
    # Low to high frequency, as written.
    assert np.all(np.diff(d.freq_Hz) > 0)


def test_powersuite_matches_impedance_py(data_dir):
    from impedance.preprocessing import readPowerSuite

    f_ref, z_ref = readPowerSuite(str(data_dir / POWERSUITE))
    d = read(data_dir / POWERSUITE).data
    np.testing.assert_allclose(d.freq_Hz, f_ref, rtol=1e-9, atol=0)
    np.testing.assert_allclose(d.Z_re_ohm + 1j * d.Z_im_ohm, z_ref, rtol=1e-9, atol=0)


# ----------------------------------------------------------------------------- sniffers


def test_sniffers_claim_only_their_own_files(data_dir):
    files = {name: (data_dir / name).read_bytes() for name in (
        PARSTAT, VERSA, POWERSUITE, "Circuit1_EIS_1.z", "exampleData.csv", "s04147-140deg.txt",
        "exampleDataAutolab.txt", "exampleDataCHInstruments.txt", "exampleDataGamry.DTA")}
    owners = {PARSTAT: parstat_txt, VERSA: versastudio_par, POWERSUITE: powersuite_txt}
    for fname, raw in files.items():
        for owned, module in owners.items():
            assert module.sniff(raw, "renamed.dat") == (fname == owned), (module.FORMAT, fname)
