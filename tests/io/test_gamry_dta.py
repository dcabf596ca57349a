"""Gamry .DTA reader on real Framework exports, and on damaged copies of them.

Files: exampleDataGamry.DTA (impedance.py, MIT, copied to tests/data), pyimpspec data.dta
(GPL, decimal commas) and chemotion DHM-15-CV-Demo.DTA (AGPL, CV, decimal commas), both
read in place from the corpus.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from echem.errors import EmptyDataError, ReaderError
from echem.io import gamry_dta, read, read_bytes

GAMRY_EIS = "exampleDataGamry.DTA"
PYIMPSPEC = "vyrjana_pyimpspec/data.dta"
CHEMOTION_CV = "ComPlat_chemotion-converter-app/DHM-15-CV-Demo.DTA"


@pytest.fixture(scope="module")
def eis_raw(data_dir):
    return (data_dir / GAMRY_EIS).read_bytes()


def test_eis_example_columns_ranges_and_meta(data_dir):
    m = read(data_dir / GAMRY_EIS)
    d = m.data
    assert m.meta["format"] == "gamry-dta" and m.meta["vendor"] == "Gamry"
    assert m.technique == "EIS" and m.meta["gamry_tag"] == "EISPOT"
    assert m.meta["technique_source"] == "file content"
    assert list(d.columns) == ["time_s", "E_V", "I_A", "freq_Hz", "Z_re_ohm", "Z_im_ohm"]
    assert len(d) == 72  # Pt 0..71 in ZCURVE; OCVCURVE (387 rows) is not the data
    # Ranges as written in the file (ZCURVE Freq, Zreal, Zimag, Time).
    assert d.freq_Hz.min() == pytest.approx(0.0158898) and d.freq_Hz.max() == pytest.approx(200015.6)
    assert d.Z_re_ohm.min() == pytest.approx(825.8584) and d.Z_re_ohm.max() == pytest.approx(17007.49)
    assert d.Z_im_ohm.min() == pytest.approx(-6635.557) and d.Z_im_ohm.max() == pytest.approx(-68.13791)
    assert d.time_s.iloc[0] == 1 and d.time_s.iloc[-1] == 861
    # Physical sign: Zimag is negative over the whole capacitive spectrum, and the first
    # row's phase computed from (Zreal, Zimag) is the Zphz the file states (-58.86662 deg).
    assert (d.Z_im_ohm < 0).all()
    phase = math.degrees(math.atan2(d.Z_im_ohm.iloc[0], d.Z_re_ohm.iloc[0]))
    assert phase == pytest.approx(-58.86662, abs=1e-3)
    # Idc is in A as written (-5.89286E-006 in the first row).
    assert d.I_A.iloc[0] == pytest.approx(-5.89286e-6, rel=1e-9)
    assert m.meta["area_cm2"] == 1.0
    assert m.meta["start_time"] == "2018-04-23T16:43:15"
    assert m.meta["freq_initial_Hz"] == 2e5 and m.meta["freq_final_Hz"] == 0.02
    assert m.meta["aborted"] is False and m.meta["truncated"] is False


def test_eis_dc_potential_is_vdc_against_open_circuit(data_dir):
    """VDC is flagged 'T' (vs Eoc): the measured Vdc must sit at Eoc + VDC, within 2 mV."""
    m = read(data_dir / GAMRY_EIS)
    assert "E_dc_V" not in m.meta
    expected = m.meta["E_oc_V"] + m.meta["E_dc_vs_Eoc_V"]  # -0.29198 + (-0.05) V
    assert float(np.median(m.data.E_V)) == pytest.approx(expected, abs=0.002)


def test_pyimpspec_decimal_comma_file(corpus_dir):
    m = read(corpus_dir / PYIMPSPEC)
    d = m.data
    assert m.technique == "EIS" and m.meta["decimal_comma"] is True
    assert len(d) == 29  # FREQINIT 1e4 .. FREQFINAL 1 Hz at 7 points/decade: 4*7 + 1
    assert d.freq_Hz.max() == 10000 and d.freq_Hz.min() == 1
    assert d.Z_re_ohm.min() == pytest.approx(109.00918219439)
    assert d.Z_re_ohm.max() == pytest.approx(645.478700150494)
    assert d.Z_im_ohm.min() == pytest.approx(-120.39912459346)
    assert d.Z_im_ohm.max() == pytest.approx(-26.5556798765152)
    assert (d.Z_im_ohm < 0).all()
    assert m.meta["start_time"] == "2022-01-01T00:00:01"
    assert m.meta["truncated"] is False


def test_cv_cycles_scan_rate_area(corpus_dir):
    m = read(corpus_dir / CHEMOTION_CV)
    d = m.data
    assert m.technique == "CV" and m.meta["gamry_tag"] == "CV"
    assert list(d.columns) == ["time_s", "E_V", "I_A", "cycle"]
    assert len(d) == 1202
    # One CURVEn table per cycle; CURVE4 is the final leg back to VFINAL (one point here).
    assert d.groupby("cycle").size().to_dict() == {1: 401, 2: 400, 3: 400, 4: 1}
    assert m.meta["cycles_programmed"] == 3
    assert d.E_V.min() == pytest.approx(-0.700263) and d.E_V.max() == pytest.approx(0.299932)
    assert d.I_A.min() == pytest.approx(-2.20613e-6) and d.I_A.max() == pytest.approx(4.07245e-6)
    assert d.time_s.min() == pytest.approx(0.05) and d.time_s.max() == pytest.approx(60.1)
    assert d.I_A.iloc[0] == pytest.approx(2.96077e-6, rel=1e-9)  # "2,96077E-006" A
    assert m.meta["scan_rate_V_s"] == pytest.approx(0.1, rel=1e-5)  # 9,99998E+001 mV/s
    assert m.meta["area_cm2"] == pytest.approx(0.00785)
    assert m.meta["step_V"] == pytest.approx(0.005)
    assert m.meta["start_time"] == "2023-09-18T12:35:02"  # "18.9.2023": day.month.year
    # The Temp column holds 1388 deg C (nothing connected): not a temperature.
    assert "temperature_C" not in d.columns and "temperature_C" not in m.meta
    assert any("Temp column ignored" in w for w in m.meta["warnings"])


def test_cv_scan_rate_matches_the_data(corpus_dir):
    """The header's SCANRATE is what the potential did: |dE/dt| on the first sweep."""
    d = read(corpus_dir / CHEMOTION_CV).data
    first = d[(d.cycle == 1) & (d.time_s <= 9.5)]  # 0.3 V -> -0.65 V, before the vertex
    slope = np.polyfit(first.time_s, first.E_V, 1)[0]
    assert slope == pytest.approx(-0.1, rel=0.01)


def test_cv_current_convention_anodic_positive(corpus_dir):
    """CONVENTION=1: the reduction peak on the cathodic sweep (-0.3..-0.5 V) is negative
    and the oxidation peak on the way back is positive."""
    m = read(corpus_dir / CHEMOTION_CV)
    assert m.meta["current_sign_convention"] == "anodic positive"
    c1 = m.data[m.data.cycle == 1]
    vertex = int(c1.E_V.idxmin())
    window = lambda part: part[(part.E_V > -0.5) & (part.E_V < -0.3)]  # noqa: E731
    assert window(c1.loc[:vertex]).I_A.min() < -1.5e-6
    assert window(c1.loc[vertex:]).I_A.max() > 1.5e-6


def _cut_after_rows(raw: bytes, table: bytes, rows: int) -> bytes:
    start = raw.index(table + b"\tTABLE")
    pos = start
    for _ in range(3 + rows):  # table line, names, units, rows
        pos = raw.index(b"\n", pos) + 1
    return raw[:pos]


def test_truncated_mid_row_reads_what_is_there(eis_raw):
    cut = eis_raw[: len(eis_raw) - 1000]  # inside a ZCURVE row, some 12 rows before the end
    m = read_bytes(cut, "cut.DTA")
    full = read_bytes(eis_raw, GAMRY_EIS)
    assert 0 < len(m.data) < len(full.data)
    assert len(m.data) == 60
    np.testing.assert_array_equal(m.data.to_numpy(), full.data.iloc[: len(m.data)].to_numpy())
    assert m.meta["truncated"] is True and m.meta["aborted"] is True
    assert any("cut short" in w for w in m.meta["warnings"])
    assert any("programmed to 0.02 Hz" in w for w in m.meta["warnings"])


def test_truncated_cv_says_so(corpus_dir):
    raw = (corpus_dir / CHEMOTION_CV).read_bytes()
    m = read_bytes(raw[: len(raw) // 2], "half.DTA")
    assert m.technique == "CV"
    assert len(m.data) == 592 and set(m.data.cycle) == {1, 2}
    assert m.meta["truncated"] is True
    assert any("2 CURVE tables for 3 programmed cycles" in w for w in m.meta["warnings"])


def test_aborted_flag_is_recorded(eis_raw):
    raw = _cut_after_rows(eis_raw, b"ZCURVE", 10) + b"EXPERIMENTABORTED\tTOGGLE\tT\tExperiment Aborted\n"
    m = read_bytes(raw, "aborted.DTA")
    assert len(m.data) == 10
    assert m.meta["aborted"] is True
    assert any("EXPERIMENTABORTED" in w for w in m.meta["warnings"])


@pytest.mark.parametrize("where", ["inside header", "inside OCVCURVE", "after ZCURVE units"])
def test_cut_before_the_data_is_a_clear_error(eis_raw, where):
    if where == "inside header":
        cut = eis_raw[:600]
    elif where == "inside OCVCURVE":
        cut = eis_raw[: eis_raw.index(b"EOC\tQUANT")]
    else:
        cut = _cut_after_rows(eis_raw, b"ZCURVE", 0)
    with pytest.raises(EmptyDataError) as info:
        read_bytes(cut, "cut.DTA")
    message = str(info.value)
    assert message.startswith("cut.DTA")
    assert "ZCURVE" in message or "data rows" in message
    assert "re-run" in message.lower() or "re-export" in message.lower()


def _to_decimal_comma(raw: bytes) -> bytes:
    return re.sub(rb"(\d)\.(\d)", rb"\1,\2", raw)


def test_decimal_comma_rewrite_reads_the_same_numbers(eis_raw):
    comma = _to_decimal_comma(eis_raw)
    assert b"825,8584" in comma
    a = read_bytes(eis_raw, "dot.DTA")
    b = read_bytes(comma, "comma.DTA")
    assert b.meta["decimal_comma"] is True
    np.testing.assert_array_equal(a.data.to_numpy(), b.data.to_numpy())
    for key in ("area_cm2", "E_oc_V", "freq_final_Hz", "ac_amplitude_mV_rms", "start_time"):
        assert a.meta[key] == b.meta[key]


def test_crlf_and_bom_read_the_same(eis_raw):
    crlf = b"\xef\xbb\xbf" + eis_raw.decode("latin-1").replace("\n", "\r\n").encode("utf-8")
    a = read_bytes(eis_raw, "lf.DTA")
    b = read_bytes(crlf, "crlf.DTA")
    np.testing.assert_array_equal(a.data.to_numpy(), b.data.to_numpy())


def test_flipped_zimag_is_detected_from_the_phase(eis_raw):
    """A file whose Zimag had the opposite sign of Zphz is brought back to the physical sign."""
    lines = eis_raw.decode("latin-1").split("\n")
    start = next(i for i, ln in enumerate(lines) if ln.startswith("ZCURVE")) + 3
    for i in range(start, len(lines)):
        if not lines[i].strip():
            continue
        cells = lines[i].split("\t")
        cells[5] = cells[5][1:] if cells[5].startswith("-") else "-" + cells[5]
        lines[i] = "\t".join(cells)
    m = read_bytes("\n".join(lines).encode("latin-1"), "flipped.DTA")
    assert (m.data.Z_im_ohm < 0).all()
    assert any("opposite sign" in w for w in m.meta["warnings"])


def test_unknown_unit_is_a_reader_error(eis_raw):
    bad = eis_raw.replace(b"\t#\ts\tHz\tohm\tohm", b"\t#\ts\tHz\tfurlong\tohm")
    with pytest.raises(ReaderError, match="unit"):
        read_bytes(bad, "bad.DTA")


@pytest.mark.parametrize(
    "date,time,expected",
    [
        ("4/23/2018", "16:43:15", "2018-04-23T16:43:15"),
        ("23/4/2018", "16:43:15", "2018-04-23T16:43:15"),
        ("18.9.2023", "12:35:02", "2023-09-18T12:35:02"),
        ("2023-09-18", "12:35:02", "2023-09-18T12:35:02"),
        ("5/11/2016", "17:47:03", None),  # May 11 or 5 November: not guessed
    ],
)
def test_dates_in_windows_locales(date, time, expected):
    assert gamry_dta._parse_date(date, time)[0] == expected


def test_sniff_is_specific(data_dir):
    assert gamry_dta.sniff((data_dir / GAMRY_EIS).read_bytes(), GAMRY_EIS)
    assert not gamry_dta.sniff((data_dir / "exampleDataCHInstruments.txt").read_bytes(), "x.txt")
    assert not gamry_dta.sniff(b"EXPLAIN this\nnot a gamry file\n", "x.DTA")
