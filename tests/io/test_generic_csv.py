"""Generic delimited-table reader and the canonical CSV writer.

Real files: impedance.py's headerless exampleData.csv (MIT, tests/data) and pyimpspec's
data-comma.csv / data-tab.csv (GPL, read in place from the corpus). The other cases are
small tables written here with known values, in the encodings, delimiters and unit
spellings labs produce; and a property test that any canonical measurement written by
``write_csv`` reads back equal.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from echem.errors import ReaderError, UnknownFormatError
from echem.io import generic_csv, read, read_bytes
from echem.io.canonical_csv import encode_value, write_csv
from echem.measurement import Measurement, canonical_frame


def rb(text: str, name: str = "table.csv", encoding: str = "utf-8") -> Measurement:
    return read_bytes(text.encode(encoding), name)


# ----------------------------------------------------------------------------- real files


def test_headerless_impedance_py_csv(data_dir):
    m = read(data_dir / "exampleData.csv")
    d = m.data
    assert m.meta["format"] == "generic-csv" and m.technique == "EIS"
    assert "no column row" in m.meta["columns_assumed"]
    assert list(d.columns) == ["freq_Hz", "Z_re_ohm", "Z_im_ohm"]
    assert len(d) == 66
    assert d.freq_Hz.min() == pytest.approx(3.1623e-3) and d.freq_Hz.max() == pytest.approx(1.0e4)
    assert d.Z_re_ohm.min() == pytest.approx(0.015086882844244285) and d.Z_re_ohm.max() == pytest.approx(0.0494998977640506)
    assert d.Z_im_ohm.min() == pytest.approx(-0.020438698544418925) and d.Z_im_ohm.max() == pytest.approx(0.010157474564938236)
    # Written with the physical sign (impedance.py): capacitive below ~100 Hz, inductive above.
    assert (d.Z_im_ohm < 0).mean() > 0.7 and "z_im_sign_assumed" not in m.meta

    from impedance.preprocessing import readCSV

    f_ref, z_ref = readCSV(str(data_dir / "exampleData.csv"))
    np.testing.assert_allclose(d.freq_Hz, f_ref, rtol=1e-9, atol=0)
    np.testing.assert_allclose(d.Z_re_ohm + 1j * d.Z_im_ohm, z_ref, rtol=1e-9, atol=0)


@pytest.mark.parametrize("fname, delimiter", [("data-comma.csv", "comma"), ("data-tab.csv", "tab")])
def test_pyimpspec_tables(fname, delimiter, corpus_dir):
    m = read(corpus_dir / "vyrjana_pyimpspec" / fname)
    d = m.data
    assert m.meta["delimiter"] == delimiter and m.technique == "EIS"
    assert m.meta["columns_used"] == {"freq_Hz": "f", "Z_re_ohm": "Z'", "Z_im_ohm": "Z''"}
    assert m.meta["units_assumed"] == {"f": "Hz", "Z'": "Ohm", "Z''": "Ohm"}
    assert len(d) == 29
    assert d.freq_Hz.max() == 1.0e4 and d.freq_Hz.min() == pytest.approx(1.0)
    assert d.Z_re_ohm.iloc[0] == 109.00918219439028 and d.Z_im_ohm.iloc[0] == -26.55567987651522
    assert (d.Z_im_ohm < 0).all()
    ref = np.genfromtxt(corpus_dir / "vyrjana_pyimpspec" / fname, skip_header=1,
                        delimiter="," if delimiter == "comma" else "\t")
    np.testing.assert_array_equal(d.to_numpy(), ref)


# ----------------------------------------------------------------------------- delimiters, encodings


def test_semicolon_decimal_comma_with_units():
    text = "time/s;Ewe/V;<I>/mA\n0,0;0,100;1,5\n0,5;0,105;-2,25\n1,0;0,110;3,0E-1\n"
    m = rb(text, "lsv_semicolon.csv")
    assert m.meta["delimiter"] == "semicolon" and m.meta["decimal"] == ","
    assert m.data.time_s.tolist() == [0.0, 0.5, 1.0]
    assert m.data.E_V.tolist() == [0.100, 0.105, 0.110]
    np.testing.assert_allclose(m.data.I_A, [1.5e-3, -2.25e-3, 3.0e-4], rtol=1e-12)
    assert m.technique == "LSV" and m.meta["technique_source"] == "file name"


def test_tab_with_header_lines_and_technique():
    text = (
        "Sample:\tNiFe-LDH\n"
        "Technique:\tCyclic Voltammetry\n"
        "Scan rate (mV/s):\t50\n"
        "Electrode area:\t0.196 cm2\n"
        "Reference electrode:\tHg/HgO\n"
        "Date:\t2024-03-01T10:15:00\n"
        "\n"
        "Potential (V)\tCurrent (A)\tCycle\n"
        "0.1\t1e-6\t1\n0.2\t2e-6\t1\n0.3\t3e-6\t1\n0.2\t1e-6\t2\n0.1\t0\t2\n"
    )
    m = rb(text, "x.txt")
    assert m.meta["delimiter"] == "tab"
    assert m.technique == "CV" and m.meta["technique_source"] == "file content"
    assert m.meta["scan_rate_V_s"] == pytest.approx(0.05)
    assert m.meta["area_cm2"] == pytest.approx(0.196)
    assert m.meta["reference_electrode"] == "Hg/HgO"
    assert m.meta["start_time"] == "2024-03-01T10:15:00"
    assert m.meta["header"]["Sample"] == "NiFe-LDH"
    assert m.data.cycle.tolist() == [1, 1, 1, 2, 2] and m.data.cycle.dtype == np.int64


def test_latin1_micro_and_degree():
    text = "t (min)\tE (mV)\tI/µA\tT/°C\n0\t-100\t-12.5\t25.0\n1\t-110\t-13.0\t25.5\n2\t-120\t-14.5\t26.0\n"
    raw = text.encode("latin-1")
    assert b"\xb5" in raw and b"\xb0" in raw
    m = read_bytes(raw, "ca.txt")
    assert m.data.time_s.tolist() == [0.0, 60.0, 120.0]
    np.testing.assert_allclose(m.data.E_V, [-0.100, -0.110, -0.120], rtol=1e-12)
    np.testing.assert_allclose(m.data.I_A, [-12.5e-6, -13.0e-6, -14.5e-6], rtol=1e-12)
    assert m.data.temperature_C.tolist() == [25.0, 25.5, 26.0]


def test_utf16_with_bom_and_greek_mu():
    text = "E/V,I/μA\r\n0.0,1.0\r\n0.1,2.0\r\n0.2,4.0\r\n"
    m = read_bytes(text.encode("utf-16"), "utf16.csv")
    np.testing.assert_allclose(m.data.I_A, [1e-6, 2e-6, 4e-6], rtol=1e-12)


def test_whitespace_delimited_decimal_comma_and_footer_is_reported():
    text = "# exported by hand\nE/V   I/nA\n0,10   5,0\n0,20   7,5\n0,30   12,0\nEnd of data\n"
    m = rb(text, "ws.dat")
    assert m.meta["delimiter"] == "whitespace" and m.meta["decimal"] == ","
    np.testing.assert_allclose(m.data.I_A, [5e-9, 7.5e-9, 12e-9], rtol=1e-12)
    assert m.meta["lines_skipped"] == {"count": 1, "first": "End of data"}


def test_two_line_header_names_then_units():
    m = rb("Time,Potential,Current\ns,mV,uA\n0,100,1\n1,200,2\n2,300,3\n", "two.csv")
    np.testing.assert_allclose(m.data.E_V, [0.1, 0.2, 0.3], rtol=1e-12)
    np.testing.assert_allclose(m.data.I_A, [1e-6, 2e-6, 3e-6], rtol=1e-12)


# ----------------------------------------------------------------------------- units


@pytest.mark.parametrize(
    "header, column, factor",
    [
        ("E/V", "E_V", 1.0), ("E (mV)", "E_V", 1e-3), ("Potential (V)", "E_V", 1.0), ("Ewe/V", "E_V", 1.0),
        ("I/mA", "I_A", 1e-3), ("<I>/mA", "I_A", 1e-3), ("I/uA", "I_A", 1e-6), ("I/µA", "I_A", 1e-6),
        ("I/nA", "I_A", 1e-9), ("Current (A)", "I_A", 1.0), ("time/s", "time_s", 1.0),
        ("t (min)", "time_s", 60.0), ("t/h", "time_s", 3600.0), ("time/ms", "time_s", 1e-3),
        ("T/K", "temperature_C", None), ("T/°C", "temperature_C", 1.0),
    ],
)
def test_dc_unit_conversions(header, column, factor):
    other = "I/A" if column != "I_A" else "E/V"
    m = rb(f"{header},{other}\n2.5,1\n3.5,1\n", "u.csv")
    got = m.data[column].to_numpy()
    if factor is None:  # kelvin
        np.testing.assert_allclose(got, [2.5 - 273.15, 3.5 - 273.15], rtol=1e-12)
    else:
        np.testing.assert_allclose(got, [2.5 * factor, 3.5 * factor], rtol=1e-12)


@pytest.mark.parametrize(
    "header, factors",
    [
        ("freq/Hz,Re(Z)/Ohm,-Im(Z)/Ohm", (1.0, 1.0, -1.0)),
        ("Frequency (Hz),Z'/Ohm,-Z''/Ohm", (1.0, 1.0, -1.0)),
        ("f/kHz,Zreal/kOhm,Zimag/kOhm", (1e3, 1e3, 1e3)),
        ("freq/MHz,Re(Z)/MOhm,Im(Z)/MOhm", (1e6, 1e6, 1e6)),
        ("freq/mHz,Re(Z)/mOhm,Im(Z)/mOhm", (1e-3, 1e-3, 1e-3)),
        ("Frequency [Hz],Z' [Ω],Z'' [Ω]", (1.0, 1.0, 1.0)),
        ("freq_Hz,Z_re_ohm,Z_im_ohm", (1.0, 1.0, 1.0)),
    ],
)
def test_impedance_units_and_signs(header, factors):
    f = [100.0, 10.0, 1.0]
    re_ = [10.0, 15.0, 30.0]
    im = [-2.0, -6.0, -9.0] if factors[2] > 0 else [2.0, 6.0, 9.0]  # as the column name says
    rows = "".join(f"{a},{b},{c}\n" for a, b, c in zip(f, re_, im))
    m = rb(header + "\n" + rows, "eis.csv")
    np.testing.assert_allclose(m.data.freq_Hz, np.array(f) * factors[0], rtol=1e-12)
    np.testing.assert_allclose(m.data.Z_re_ohm, np.array(re_) * factors[1], rtol=1e-12)
    np.testing.assert_allclose(m.data.Z_im_ohm, np.array(im) * factors[2], rtol=1e-12)
    assert (m.data.Z_im_ohm < 0).all()
    assert "z_im_sign_assumed" not in m.meta


def test_plain_z2_written_positive_is_flipped_and_recorded():
    text = "freq/Hz,Z'/Ohm,Z''/Ohm\n1000,10,-0.5\n100,12,3\n10,20,8\n1,30,5\n"
    m = rb(text, "positive.csv")
    assert m.data.Z_im_ohm.tolist() == [0.5, -3.0, -8.0, -5.0]
    assert "3 of 4" in m.meta["z_im_sign_assumed"]


def test_plain_z2_with_an_inductive_tail_is_kept():
    text = "freq/Hz,Z'/Ohm,Z''/Ohm\n1e4,10,2\n1e3,11,1\n100,12,-3\n10,20,-8\n1,30,-5\n"
    m = rb(text, "mixed.csv")
    assert m.data.Z_im_ohm.tolist() == [2.0, 1.0, -3.0, -8.0, -5.0]
    assert "z_im_sign_assumed" not in m.meta and "physical sign" in m.meta["z_im_sign"]


def test_canonical_z_im_is_never_flipped():
    m = rb("freq_Hz,Z_re_ohm,Z_im_ohm\n100,1,2\n10,1,3\n1,1,4\n", "inductor.csv")
    assert m.data.Z_im_ohm.tolist() == [2.0, 3.0, 4.0] and "z_im_sign_assumed" not in m.meta


@pytest.mark.parametrize(
    "phase_header, phase_values",
    [("Phase/deg", [-45.0, -30.0, 0.0]), ("-Phase/deg", [45.0, 30.0, 0.0]),
     ("Phase(Z)/rad", [-math.pi / 4, -math.pi / 6, 0.0]), ("neg. Phase / °", [45.0, 30.0, 0.0]),
     ("Phase", [45.0, 30.0, 0.0])],  # unsigned name written positive: flipped by the sign rule
)
def test_modulus_and_phase_become_re_im(phase_header, phase_values):
    mod = [100.0, 200.0, 50.0]
    rows = "".join(f"{f},{z},{p}\n" for f, z, p in zip([1e3, 1e2, 1e1], mod, phase_values))
    m = rb(f"freq/Hz,|Z|/Ohm,{phase_header}\n" + rows, "bode.csv")
    np.testing.assert_allclose(m.data.Z_re_ohm, [100 / math.sqrt(2), 200 * math.sqrt(3) / 2, 50.0], rtol=1e-12)
    np.testing.assert_allclose(m.data.Z_im_ohm, [-100 / math.sqrt(2), -100.0, 0.0], rtol=1e-12, atol=1e-12)
    assert "|Z|" in m.meta["impedance_from"]


def test_reference_electrode_from_the_unit():
    m = rb("E/V vs RHE,I/mA\n1.2,1\n1.3,2\n", "rhe.csv")
    assert m.meta["reference_electrode"] == "RHE"
    m = rb("E vs. Ag/AgCl (V),I (A)\n1.2,1\n1.3,2\n", "agcl.csv")
    assert m.meta["reference_electrode"] == "Ag/AgCl" and m.data.E_V.tolist() == [1.2, 1.3]


def test_time_and_temperature_named_t_are_told_apart_by_unit():
    m = rb("t/s,T/K,E/V\n0,273.15,0.1\n10,283.15,0.2\n", "tt.csv")
    assert m.data.time_s.tolist() == [0.0, 10.0]
    np.testing.assert_allclose(m.data.temperature_C, [0.0, 10.0], atol=1e-12)


# ----------------------------------------------------------------------------- current density


def test_current_density_without_area_is_refused():
    with pytest.raises(ReaderError, match="area"):
        rb("E/V,j/mA cm-2\n0.1,1\n0.2,2\n", "j.csv")


def test_current_density_with_area_in_header():
    m = rb("# area_cm2: 0.5\nE/V,j/mA cm-2\n0.1,1\n0.2,-2\n", "j.csv")
    np.testing.assert_allclose(m.data.I_A, [0.5e-3, -1.0e-3], rtol=1e-12)
    assert m.meta["area_cm2"] == 0.5 and "area_cm2" in m.meta["current_from_density"]
    m = rb("Area (mm2): 50\nE (V),i (A/cm²)\n0.1,1\n0.2,2\n", "j2.csv")
    np.testing.assert_allclose(m.data.I_A, [0.5, 1.0], rtol=1e-12)


def test_area_normalised_impedance_is_refused():
    with pytest.raises(ReaderError, match="area-normalised"):
        rb("freq/Hz,Re(Z)/Ohm cm2,-Im(Z)/Ohm cm2\n1e3,1,1\n1e2,2,2\n", "zcm.csv")


# ----------------------------------------------------------------------------- refusals


def test_headerless_table_that_is_not_a_spectrum_asks_for_headers():
    rows = "".join(f"{t},{0.1 * t},{1e-3 * t}\n" for t in range(10))  # linear first column
    with pytest.raises(UnknownFormatError, match="column row"):
        rb(rows, "nohead.csv")
    with pytest.raises(UnknownFormatError, match="column row"):
        rb("0.1,1e-3\n0.2,2e-3\n0.3,3e-3\n", "two.csv")


def test_unknown_columns_are_not_claimed():
    raw = b"foo,bar\n1,2\n3,4\n"
    assert not generic_csv.sniff(raw, "x.csv")
    with pytest.raises(UnknownFormatError):
        read_bytes(raw, "x.csv")


@pytest.mark.parametrize(
    "text",
    [
        "EC-Lab ASCII FILE\nNb header lines : 3\n\nfreq/Hz\tRe(Z)/Ohm\t-Im(Z)/Ohm\n1\t2\t3\n",
        "Feb. 20, 2020   15:55:08\nInstrument Model:  CHI660E\n\nPotential/V, Current/A\n0.1, 1e-6\n0.2, 2e-6\n",
        "EXPLAIN\nTAG\tCV\nPt\tT\tVf\tIm\n0\t1\t0.1\t1e-6\n1\t2\t0.2\t2e-6\n",
        "Date and time measurement:,2020-07-10 16:59:57\nV,µA\n0.1,1\n0.2,2\n",
        "Fixed value(s) :  AC Volt  [Vrms]=3.5e-02\nFreq,Z',Z''\n1,2,3\n4,5,6\n",
        "Frequency\t Zre\t Zimg\n0.1\t 1\t -1\n1\t 2\t -2\n",
    ],
    ids=["eclab", "chi", "gamry", "palmsens", "novocontrol", "powersuite"],
)
def test_vendor_files_are_left_to_their_readers(text):
    assert not generic_csv.sniff(text.encode("utf-8"), "vendor.txt")


def test_real_vendor_files_are_not_claimed(data_dir):
    for fname in ("exampleDataAutolab.txt", "exampleDataCHInstruments.txt", "exampleDataGamry.DTA",
                  "exampleDataParstat.txt", "exampleDataPowersuite.txt", "exampleDataVersaStudio.par",
                  "Circuit1_EIS_1.z", "s04147-140deg.txt"):
        assert not generic_csv.sniff((data_dir / fname).read_bytes(), fname), fname


# ----------------------------------------------------------------------------- canonical CSV


def _strip_provenance(meta: dict) -> dict:
    return {k: v for k, v in meta.items() if k not in ("source", "file", "sha256", "rows", "format")}


def _assert_round_trip(original: Measurement, back: Measurement) -> None:
    pd.testing.assert_frame_equal(back.data, original.data, check_exact=True)
    for key, value in original.meta.items():
        if key in generic_csv.PROVENANCE_KEYS:
            assert back.meta[f"origin_{key}"] == value, key
        else:
            assert back.meta[key] == value, key
    extra = set(back.meta) - set(original.meta) - {f"origin_{k}" for k in generic_csv.PROVENANCE_KEYS}
    assert extra <= {"canonical_csv", "vendor", "technique_source", "n_spectra", "warnings",
                     *generic_csv.PROVENANCE_KEYS}, extra
    assert back.meta["format"] == "generic-csv" and back.meta["canonical_csv"] == 1


@pytest.mark.parametrize("fname", ["exampleDataVersaStudio.par", "exampleDataParstat.txt", "Circuit2_EIS_1.z",
                                   "s04147-170deg.txt", "exampleData.csv"])
def test_canonical_round_trip_of_real_files(fname, data_dir, tmp_path):
    original = read(data_dir / fname)
    path = write_csv(original, tmp_path / "out.csv")
    assert path.read_text(encoding="utf-8").startswith(generic_csv.CANONICAL_MARKER)
    back = read(path)
    _assert_round_trip(original, back)
    # Writing what was read gives the same file content except for the provenance lines.
    again = write_csv(back, tmp_path / "again.csv")
    assert read(again).data.equals(original.data)


def test_encode_value_bare_and_quoted():
    assert encode_value("EIS") == "EIS"
    assert encode_value("Ag/AgCl") == "Ag/AgCl"
    assert encode_value("1.5") == '"1.5"'  # would read back as a number
    assert encode_value("true") == '"true"'
    assert encode_value(" padded") == '" padded"'
    assert encode_value("two\nlines") == '"two\\nlines"'
    assert encode_value(np.float64(0.25)) == "0.25"
    assert encode_value({"a": [1, None]}) == '{"a": [1, null]}'


def test_write_csv_rejects_bad_keys(tmp_path):
    m = Measurement(canonical_frame({"E_V": [0.1, 0.2], "I_A": [1.0, 2.0]}), {"bad: key": 1})
    with pytest.raises(ValueError, match="key"):
        write_csv(m, tmp_path / "x.csv")


RESERVED = {"source", "file", "sha256", "rows", "format", "vendor", "technique", "technique_source", "canonical_csv"}
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=8), children, max_size=3),
    max_leaves=6,
)
meta_keys = st.from_regex(r"[a-z][a-z0-9_]{0,14}", fullmatch=True).filter(
    lambda k: k not in RESERVED and not k.startswith("origin_"))
finite = st.floats(allow_nan=False, allow_infinity=False, width=64)


@st.composite
def canonical_measurements(draw):
    n = draw(st.integers(min_value=1, max_value=25))
    kind = draw(st.sampled_from(["dc", "eis"]))
    columns: dict[str, list] = {}
    if kind == "eis":
        columns["freq_Hz"] = draw(st.lists(st.floats(min_value=1e-6, max_value=1e9), min_size=n, max_size=n))
        columns["Z_re_ohm"] = draw(st.lists(finite, min_size=n, max_size=n))
        columns["Z_im_ohm"] = draw(st.lists(finite, min_size=n, max_size=n))
        optional = ["time_s", "E_V", "I_A", "temperature_C"]
    else:
        columns[draw(st.sampled_from(["E_V", "I_A"]))] = draw(st.lists(finite, min_size=n, max_size=n))
        optional = ["time_s", "E_V", "I_A", "cycle", "temperature_C"]
    for col in draw(st.lists(st.sampled_from(optional), unique=True, max_size=len(optional))):
        if col in columns:
            continue
        if col == "cycle":
            columns[col] = draw(st.lists(st.integers(-(2**31), 2**31), min_size=n, max_size=n))
        else:
            columns[col] = draw(st.lists(finite, min_size=n, max_size=n))
    meta = draw(st.dictionaries(meta_keys, json_values, max_size=6))
    meta["technique"] = draw(st.sampled_from(["LSV", "CV", "EIS", "CA", "CP", "OCV"]))
    meta["vendor"] = draw(st.sampled_from(["BioLogic", "Gamry", "generic", "Scribner ZPlot/ZView"]))
    meta["technique_source"] = "file content"
    return Measurement(canonical_frame(columns), meta)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(canonical_measurements())
def test_canonical_csv_round_trip_property(tmp_path, m):
    path = write_csv(m, tmp_path / "prop.csv")
    back = read(path)
    _assert_round_trip(m, back)


# ----------------------------------------------------------------------------- signs and units (issue 15)

_F = np.logspace(4, 0, 12)
_ZRE = 100 + 400 / (1 + (_F / 50) ** 2)
_ZIM = -400 * (_F / 50) / (1 + (_F / 50) ** 2)


def _eis_csv(names: str, re_sign: float, im_sign: float, encoding: str = "utf-8") -> bytes:
    rows = [names] + [f"{f!r},{re_sign * r!r},{im_sign * i!r}"
                      for f, r, i in zip(_F.tolist(), _ZRE.tolist(), _ZIM.tolist())]
    return "\n".join(rows).encode(encoding)


@pytest.mark.parametrize("names, re_sign, im_sign", [
    ("f,Z',Z''", 1, 1),
    ("f,-Z',-Z''", -1, -1),          # pyimpspec case-negative-real-imaginary.csv
    ("freq,Zre,-Zim", 1, -1),
    ("Frequency (Hz),Re(Z) (Ohms),-Im(Z) (Ω)", 1, -1),
    ("f/Hz,Z'/ohm,Im(Z)/Ohm", 1, 1),
])
def test_signs_carried_by_column_names_are_honoured(names, re_sign, im_sign):
    m = read_bytes(_eis_csv(names, re_sign, im_sign), "signs.csv")
    np.testing.assert_allclose(m.data["Z_re_ohm"], _ZRE)
    np.testing.assert_allclose(m.data["Z_im_ohm"], _ZIM)
    assert not m.meta.get("warnings")


def test_plain_name_with_positive_values_is_negated_and_warned():
    m = read_bytes(_eis_csv("f,Z',Z''", 1, -1), "positive.csv")
    np.testing.assert_allclose(m.data["Z_im_ohm"], _ZIM)
    assert any("read as -Z''" in w for w in m.meta["warnings"])


@pytest.mark.parametrize("names, re_sign, im_sign, says", [
    ("f,Z',-Z''", 1, 1, "Z'' is positive"),     # the name says -Z'' but the values are Z''
    ("f,-Z',Z''", 1, 1, "Z' is negative"),      # the name says -Z' but the values are Z'
])
def test_name_and_data_that_disagree_are_reported_not_changed(names, re_sign, im_sign, says):
    m = read_bytes(_eis_csv(names, re_sign, im_sign), "disagree.csv")
    assert any(says in w for w in m.meta["warnings"])
    column = "Z_im_ohm" if "Z''" in says else "Z_re_ohm"
    expected = -_ZIM if column == "Z_im_ohm" else -_ZRE
    np.testing.assert_allclose(m.data[column], expected)  # the name was honoured


@pytest.mark.parametrize("header, factor", [
    ("T/°C", 1.0), ("Temperature (°C)", 1.0), ("Temp (\u00b0C)", 1.0),
])
def test_latin1_degree_sign_in_a_unit(header, factor):
    text = f"time/s,E/V,I/A,{header}\n" + "\n".join(f"{k},{0.1 * k},{1e-3 * k},{25 + k}" for k in range(6))
    m = read_bytes(text.encode("cp1252"), "temperature.csv")
    np.testing.assert_allclose(m.data["temperature_C"], 25 + np.arange(6) * factor)


@pytest.mark.parametrize("unit, scale", [("mA/cm²", 1e-3), ("mA cm⁻²", 1e-3), ("A/m²", 1e-4), ("µA/cm^2", 1e-6)])
def test_current_density_units_with_the_header_area(unit, scale):
    text = f"area_cm2: 0.5\nE/V,j ({unit})\n" + "\n".join(f"{-0.01 * k},{-2.0 * k}" for k in range(6))
    m = read_bytes(text.encode("utf-8"), "density.csv")
    np.testing.assert_allclose(m.data["I_A"], -2.0 * np.arange(6) * scale * 0.5)


@pytest.mark.parametrize("unit", ["Ohm", "Ohms", "ohm", "Ω", "kΩ", "kOhm"])
def test_ohm_spellings(unit):
    text = f"freq (Hz),Z' ({unit}),Z'' ({unit})\n" + "\n".join(
        f"{f!r},{r!r},{i!r}" for f, r, i in zip(_F.tolist(), _ZRE.tolist(), _ZIM.tolist()))
    m = read_bytes(text.encode("utf-8"), "ohm.csv")
    np.testing.assert_allclose(m.data["Z_re_ohm"], _ZRE * (1e3 if unit.startswith("k") else 1))
