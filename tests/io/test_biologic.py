"""BioLogic EC-Lab readers (.mpt text, .mpr binary) on the real corpus files.

The corpus files are GPL-3.0 (yadg, pyimpspec) or MIT (ixdat, impedance.py); all
are read in place. Expected values come from the files themselves: E windows from
the technique parameters or file names (lsv.mpt sweeps Ei = -0.057 V to EL = -4 V;
cv.mpt is "1,5-5,5V"; ca.mpt "0,1-0,3V"; cp.mpt "CP_100mA"), row counts from the
line counts, and every .mpr against the .mpt exported from the same run.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pytest

from echem import io
from echem.errors import EmptyDataError, ReaderError, UnknownFormatError
from echem.io import biologic_mpr, biologic_mpt

pytestmark = pytest.mark.corpus


# --------------------------------------------------------------------------- helpers


def raw_mpt_columns(path: Path) -> dict[str, list[str]]:
    """The .mpt's columns as printed (strings), by a deliberately naive parse."""
    lines = path.read_bytes().decode("cp1252").replace("\r\n", "\n").split("\n")
    n = int(re.search(r"\d+", lines[1]).group())
    names = lines[n - 1].split("\t")
    rows = [line.split("\t") for line in lines[n:] if line.strip()]
    out: dict[str, list[str]] = {}
    for j, name in enumerate(names):
        if name and name not in out:
            out[name] = [row[j].replace(",", ".") for row in rows]
    return out


def printed_ulp(cells: list[str]) -> np.ndarray:
    """Unit of the last printed digit of each number ("-2.4618463E-001" -> 1e-8)."""
    ulps = []
    for cell in cells:
        m = re.match(r"^[-+]?\d*\.?(\d*)(?:[eE]([-+]?\d+))?$", cell.strip())
        decimals = len(m.group(1)) if m else 0
        exponent = int(m.group(2)) if m and m.group(2) else 0
        ulps.append(10.0 ** (exponent - decimals))
    return np.array(ulps)


def read_corpus(corpus_dir: Path, rel: str):
    return io.read(corpus_dir / rel)


# --------------------------------------------------------------------------- .mpt: every corpus file

# file, technique, rows, (E_V min, E_V max) or None, extra checks
MPT_FILES = [
    ("dgbowl_yadg/lsv.mpt", "LSV", 1186, (-4.01, -0.055)),
    ("dgbowl_yadg/lsv.issue_195.mpt", "LSV", 999, (-0.001, 1.001)),
    ("dgbowl_yadg/cv.mpt", "CV", 5103, (1.49, 5.51)),
    ("dgbowl_yadg/ca.mpt", "CA", 721, (0.10, 0.30)),
    ("dgbowl_yadg/cp.mpt", "CP", 121, (-3.6, -3.2)),
    ("dgbowl_yadg/ocv.mpt", "OCV", 602, (0.25, 0.47)),
    ("dgbowl_yadg/peis.mpt", "EIS", 32, (-3.6, -3.59)),
    ("dgbowl_yadg/geis.issue_149.mpt", "EIS", 84, (3.42, 3.44)),
    ("ixdat_ixdat-large-test-files/dataset_with_loop_01_01_OCV_DUSB0_C01.mpt", "OCV", 21, (0.85, 0.86)),
    ("ixdat_ixdat-large-test-files/dataset_with_loop_01_02_CVA_DUSB0_C01.mpt", "CV", 154, (0.69, 1.01)),
    ("ixdat_ixdat-large-test-files/dataset_with_loop_01_03_CP_DUSB0_C01.mpt", "CP", 44, (0.80, 0.85)),
    ("ixdat_ixdat-large-test-files/dataset_with_loop_01_05_PEIS_DUSB0_C01.mpt", "EIS", 16, (0.84, 0.93)),
    ("ixdat_ixdat/Pt_poly_cv_CUT.mpt", "CV", 223, (-0.05, 1.70)),
    ("ECSHackWeek_impedance.py/exampleDataBioLogic.mpt", "EIS", 43, (-0.001, 0.001)),
    ("vyrjana_pyimpspec/data.mpt", "EIS", 29, None),
    ("vyrjana_pyimpspec/case-multiple-spectra.mpt", "EIS", 87, None),
]


@pytest.mark.parametrize("rel, technique, rows, e_window", MPT_FILES, ids=[f[0] for f in MPT_FILES])
def test_mpt_corpus_file(corpus_dir, rel, technique, rows, e_window):
    m = read_corpus(corpus_dir, rel)
    assert m.meta["format"] == "biologic-mpt"
    assert m.meta["vendor"] == "BioLogic"
    assert m.meta["technique"] == technique
    assert m.meta["technique_source"] == "file content"  # from the header label, not the name
    assert len(m.data) == rows
    if e_window is not None:
        e = m.data["E_V"].to_numpy()
        assert e_window[0] <= e.min() and e.max() <= e_window[1]
    if "time_s" in m.data:
        assert np.all(np.diff(m.data["time_s"].to_numpy()) >= 0)


@pytest.mark.parametrize(
    "rel, column",
    [("dgbowl_yadg/lsv.mpt", "<I>/mA"), ("dgbowl_yadg/cp.mpt", "I/mA"), ("dgbowl_yadg/ca.mpt", "I/mA")],
)
def test_current_is_in_ampere(corpus_dir, rel, column):
    m = read_corpus(corpus_dir, rel)
    assert m.meta["columns_used"]["I_A"] == column
    mA = np.array(raw_mpt_columns(corpus_dir / rel)[column], dtype=float)
    np.testing.assert_allclose(m.data["I_A"].to_numpy(), mA / 1000.0, rtol=1e-12, atol=0)


def test_cp_current_is_the_programmed_100_mA(corpus_dir):
    # file "Batch_..._CP_100mA_...": the galvanostat held -100 mA
    i = read_corpus(corpus_dir, "dgbowl_yadg/cp.mpt").data["I_A"].to_numpy()
    assert np.all(np.abs(i + 0.100) < 0.0002)


def test_lsv_header_metadata(corpus_dir):
    meta = read_corpus(corpus_dir, "dgbowl_yadg/lsv.mpt").meta
    assert meta["area_cm2"] == pytest.approx(0.001)  # the placeholder area this file carries
    assert meta["reference_electrode"] == "SCE"
    assert meta["reference_E_V"] == pytest.approx(0.241)
    assert meta["reference_electrode_label"] == "SCE Saturated Calomel Electrode (0.241 V)"
    assert meta["scan_rate_V_s"] == pytest.approx(0.020)
    assert meta["start_time"] == "2021-03-02T15:46:03"
    assert meta["technique_label"] == "Linear Sweep Voltammetry"
    assert meta["instrument"] == "SP-240 (SN 0200)"
    assert "instrument_ir_compensation" not in meta  # the header does not state any


@pytest.mark.parametrize(
    "rel, rate",
    [("dgbowl_yadg/lsv.mpt", 0.020), ("dgbowl_yadg/lsv.issue_195.mpt", 0.100), ("dgbowl_yadg/cv.mpt", 1e-4),
     ("ixdat_ixdat/Pt_poly_cv_CUT.mpt", 0.100)],
)
def test_header_scan_rate_matches_the_sweep(corpus_dir, rel, rate):
    m = read_corpus(corpus_dir, rel)
    assert m.meta["scan_rate_V_s"] == pytest.approx(rate)
    t, e = m.data["time_s"].to_numpy(), m.data["E_V"].to_numpy()
    slopes = np.abs(np.diff(e) / np.diff(t))
    assert np.median(slopes[np.isfinite(slopes)]) == pytest.approx(rate, rel=0.05)


def test_decimal_comma_file_from_the_corpus(corpus_dir):
    m = read_corpus(corpus_dir, "ixdat_ixdat/Pt_poly_cv_CUT.mpt")
    assert m.meta["decimal"] == ","
    assert m.meta["area_cm2"] == pytest.approx(0.001)
    assert m.meta["start_time"] == "2020-07-29T10:31:01"
    assert m.data["time_s"].iloc[0] == pytest.approx(3.289600104471901)
    assert set(m.data["cycle"]) == {1, 2, 3, 4, 5}


def test_placeholders_are_not_taken_for_values(corpus_dir):
    # pyimpspec's template: "DD/MM/YYYY HH:MM:SS", "Electrode surface area : 0.000 cm²"
    meta = read_corpus(corpus_dir, "vyrjana_pyimpspec/data.mpt").meta
    assert "start_time" not in meta and meta["start_time_text"] == "DD/MM/YYYY HH:MM:SS"
    assert "area_cm2" not in meta


def test_zir_export_without_rows_fails_with_reason(corpus_dir):
    with pytest.raises(EmptyDataError, match=r"ZIR.*50%"):
        read_corpus(corpus_dir, "ixdat_ixdat-large-test-files/multiple_techniques_dataset_01_07_ZIR_C01.mpt")


# --------------------------------------------------------------------------- impedance sign and spectra

# pyimpspec's two .mpt are templates with |Z| and Phase(Z) left at 0: checked against its CSV below.
EIS_MPT = [f[0] for f in MPT_FILES if f[1] == "EIS" and not f[0].startswith("vyrjana")]


@pytest.mark.parametrize("rel", EIS_MPT)
def test_z_im_has_the_physical_sign(corpus_dir, rel):
    """Z_im = |Z| sin(phase) with EC-Lab's own Phase(Z) column: independent of -Im(Z)."""
    m = read_corpus(corpus_dir, rel)
    raw = raw_mpt_columns(corpus_dir / rel)
    modulus = np.array(raw["|Z|/Ohm"], dtype=float)
    phase = np.deg2rad(np.array(raw["Phase(Z)/deg"], dtype=float))
    np.testing.assert_allclose(m.data["Z_im_ohm"], modulus * np.sin(phase), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(m.data["Z_re_ohm"], modulus * np.cos(phase), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize(
    "rel",
    ["dgbowl_yadg/peis.mpt", "dgbowl_yadg/geis.issue_149.mpt", "ECSHackWeek_impedance.py/exampleDataBioLogic.mpt",
     "vyrjana_pyimpspec/data.mpt"],
)
def test_capacitive_spectra_have_negative_z_im(corpus_dir, rel):
    """Most points of these capacitive spectra lie below the real axis."""
    z_im = read_corpus(corpus_dir, rel).data["Z_im_ohm"].to_numpy()
    assert np.mean(z_im < 0) > 0.6


def test_pyimpspec_template_sign_matches_its_csv(corpus_dir):
    # pyimpspec's data-tab.csv holds the same spectrum as f, Z', Z'' with Z'' < 0
    rows = (corpus_dir / "vyrjana_pyimpspec/data-tab.csv").read_text().split("\n")[1:]
    csv = np.array([r.split("\t") for r in rows if r.strip()], dtype=float)
    m = read_corpus(corpus_dir, "vyrjana_pyimpspec/data.mpt")
    np.testing.assert_allclose(m.data["freq_Hz"], csv[:, 0], rtol=1e-6)
    np.testing.assert_allclose(m.data["Z_re_ohm"], csv[:, 1], rtol=1e-6)
    np.testing.assert_allclose(m.data["Z_im_ohm"], csv[:, 2], rtol=1e-6)


def test_inductive_spectrum_keeps_positive_z_im(corpus_dir):
    # ixdat's PEIS run shows Phase(Z) = +37..+78 deg: an inductive response, Z_im > 0
    m = read_corpus(corpus_dir, "ixdat_ixdat-large-test-files/dataset_with_loop_01_05_PEIS_DUSB0_C01.mpt")
    assert np.all(m.data["Z_im_ohm"] > 0)


def test_multi_spectrum_file_from_frequency_resets(corpus_dir):
    m = read_corpus(corpus_dir, "vyrjana_pyimpspec/case-multiple-spectra.mpt")
    assert m.meta["n_spectra"] == 3
    # the file's cycle number is 0 on every row: the three sweeps are told apart by the resets
    assert "frequency resets" in m.meta["columns_used"]["cycle"]
    single = read_corpus(corpus_dir, "vyrjana_pyimpspec/data.mpt").data
    for k, (_, spectrum) in enumerate(m.data.groupby("cycle", sort=True)):
        assert len(spectrum) == 29
        assert np.all(np.diff(spectrum["freq_Hz"].to_numpy()) < 0)  # each a full descending sweep
        np.testing.assert_allclose(spectrum["freq_Hz"], single["freq_Hz"], rtol=1e-12)
    assert sorted(m.data["cycle"].unique()) == [1, 2, 3]  # numbered 1..n in file order


def test_multi_spectrum_file_from_cycle_number(corpus_dir):
    m = read_corpus(corpus_dir, "dgbowl_yadg/geis.issue_149.mpt")
    assert m.meta["n_spectra"] == 4 and m.meta["n_loops"] == 4
    assert m.data.groupby("cycle").size().to_dict() == {1: 21, 2: 21, 3: 21, 4: 21}
    # the frequency-reset detector finds the same boundaries as EC-Lab's cycle number
    starts = biologic_mpt.spectrum_starts(m.data["freq_Hz"].to_numpy())
    changes = np.r_[False, np.diff(m.data["cycle"].to_numpy()) != 0]
    np.testing.assert_array_equal(starts, changes)


@pytest.mark.parametrize("ascending", [False, True])
def test_spectrum_starts_on_synthetic_sweeps(ascending):
    sweep = np.logspace(5, -1, 25)
    if ascending:
        sweep = sweep[::-1]
    freq = np.concatenate([sweep, sweep, sweep[:10]])
    freq[5] *= 1.02  # a re-measured point a little off the sweep is not a new spectrum
    starts = biologic_mpt.spectrum_starts(freq)
    assert list(np.flatnonzero(starts)) == [25, 50]


# --------------------------------------------------------------------------- synthetic damage


def _lsv_bytes(corpus_dir: Path) -> bytes:
    return (corpus_dir / "dgbowl_yadg/lsv.mpt").read_bytes()


def test_truncated_mid_header(corpus_dir):
    raw = _lsv_bytes(corpus_dir)
    cut = b"\n".join(raw.split(b"\n")[:30])
    with pytest.raises(ReaderError, match=r"claims 66 lines.*only 30.*truncated"):
        io.read_bytes(cut, "lsv.mpt")


def test_header_claiming_more_lines_than_the_file_has(corpus_dir):
    lines = _lsv_bytes(corpus_dir).split(b"\n")[:60]
    lines[1] = b"Nb header lines : 500                         "
    with pytest.raises(ReaderError) as info:
        io.read_bytes(b"\n".join(lines), "lsv.mpt")
    assert not isinstance(info.value, UnknownFormatError)
    assert "500" in str(info.value) and "60" in str(info.value) and "re-export" in str(info.value)


def test_header_count_off_points_at_the_column_line(corpus_dir):
    raw = _lsv_bytes(corpus_dir).replace(b"Nb header lines : 66", b"Nb header lines : 60", 1)
    with pytest.raises(ReaderError, match=r"line 66"):
        io.read_bytes(raw, "lsv.mpt")


def test_short_data_row(corpus_dir):
    raw = _lsv_bytes(corpus_dir).rstrip(b"\r\n")
    cut = raw[: raw.rfind(b"\t", 0, len(raw) - 40)]  # last row loses its last columns
    with pytest.raises(ReaderError, match=r"data line 1252 has \d+ of 13 values"):
        io.read_bytes(cut, "lsv.mpt")


def _decimal_comma(raw: bytes) -> bytes:
    return re.sub(rb"(?<=\d)\.(?=\d)", b",", raw)


@pytest.mark.parametrize("rel", ["dgbowl_yadg/lsv.mpt", "dgbowl_yadg/peis.mpt", "dgbowl_yadg/cv.mpt"])
def test_decimal_comma_version_reads_identically(corpus_dir, rel):
    raw = (corpus_dir / rel).read_bytes()
    comma = _decimal_comma(raw)
    assert comma != raw and b"0,001 cm" in comma
    a = io.read_bytes(raw, Path(rel).name)
    b = io.read_bytes(comma, Path(rel).name)
    assert b.meta["decimal"] == ","
    assert list(a.data.columns) == list(b.data.columns)
    np.testing.assert_array_equal(a.data.to_numpy(), b.data.to_numpy())
    for key in ("technique", "area_cm2", "scan_rate_V_s", "reference_E_V", "reference_electrode", "start_time"):
        assert a.meta.get(key) == b.meta.get(key)


def test_crlf_and_utf8_copies_read_identically(corpus_dir):
    raw = _lsv_bytes(corpus_dir)
    a = io.read_bytes(raw, "lsv.mpt")
    for variant in (raw.replace(b"\n", b"\r\n"), raw.decode("cp1252").encode("utf-8")):
        b = io.read_bytes(variant, "lsv.mpt")
        np.testing.assert_array_equal(a.data.to_numpy(), b.data.to_numpy())
        assert b.meta["area_cm2"] == a.meta["area_cm2"] and b.meta["scan_rate_V_s"] == a.meta["scan_rate_V_s"]


def test_export_without_header(corpus_dir):
    lines = _lsv_bytes(corpus_dir).split(b"\n")
    headerless = b"\n".join(lines[65:])  # from the column line on
    m = io.read_bytes(headerless, "sample_lsv_noheader.mpt")
    full = io.read_bytes(_lsv_bytes(corpus_dir), "lsv.mpt")
    assert m.meta["format"] == "biologic-mpt"
    assert m.meta["header"].startswith("none")
    assert m.meta["technique"] == "LSV" and m.meta["technique_source"] == "file name"
    np.testing.assert_array_equal(m.data.to_numpy(), full.data.to_numpy())


def test_sniffer_is_not_greedy(corpus_dir):
    for rel in ("vyrjana_pyimpspec/data-tab.csv", "ECSHackWeek_impedance.py/exampleData.csv",
                "vyrjana_pyimpspec/data.idf", "dgbowl_yadg/lsv.mpr"):
        raw = (corpus_dir / rel).read_bytes()
        assert not biologic_mpt.sniff(raw, Path(rel).name), rel
    assert not biologic_mpt.sniff(b"time/s,Ewe/V,I/mA\n0,1,2\n", "x.csv")  # not tab separated


@pytest.mark.parametrize(
    "text, expected",
    [
        ("SCE Saturated Calomel Electrode (0.241 V)", {"reference_electrode": "SCE", "reference_E_V": 0.241}),
        ("Li+/Li (-3,020 V)", {"reference_electrode": "Li+/Li", "reference_E_V": -3.02}),
        ("Ag/AgCl 3M", {"reference_electrode": "Ag/AgCl 3M"}),
        ("(unspecified)", {}),
    ],
)
def test_split_reference(text, expected):
    got = biologic_mpt.split_reference(text)
    got.pop("reference_electrode_label", None)
    assert got == pytest.approx(expected)


@pytest.mark.parametrize(
    "text, iso",
    [
        ("03/02/2021 15:46:03.000", "2021-03-02T15:46:03"),
        ("10/25/2024 11:48:00.118", "2024-10-25T11:48:00.118000"),
        ("25.10.2024 11:48:00", "2024-10-25T11:48:00"),  # dotted, day > 12: unambiguous
        ("02.10.2015 15:28:29", None),  # dotted and ambiguous: not guessed
        ("DD/MM/YYYY HH:MM:SS", None),
    ],
)
def test_eclab_datetime(text, iso):
    assert biologic_mpt.parse_eclab_datetime(text) == iso


def test_instrument_compensation_only_when_the_technique_states_it():
    header = [
        "", "Cyclic Voltammetry", "", "Acquisition started on : 01/02/2024 10:00:00",
        "comp. level (%)     85                  ", "comp. mode          Software            ",
    ]
    meta = biologic_mpt.parse_header(header, ".")
    assert meta["instrument_ir_compensation"] == pytest.approx(0.85)
    header[1] = "Manual IR compensation"
    meta = biologic_mpt.parse_header(header, ".")
    assert "instrument_ir_compensation" not in meta
    assert meta["ir_compensation_setting"] == pytest.approx(0.85)


# --------------------------------------------------------------------------- .mpr against .mpt

PAIRS = ["lsv", "lsv.issue_195", "cv", "ca", "cp", "ocv", "peis", "geis.issue_149"]


@pytest.mark.parametrize("stem", PAIRS)
def test_mpr_agrees_with_mpt(corpus_dir, stem):
    mpr = read_corpus(corpus_dir, f"dgbowl_yadg/{stem}.mpr")
    mpt = read_corpus(corpus_dir, f"dgbowl_yadg/{stem}.mpt")
    raw = raw_mpt_columns(corpus_dir / f"dgbowl_yadg/{stem}.mpt")
    assert mpr.meta["format"] == "biologic-mpr"
    assert mpr.meta["technique"] == mpt.meta["technique"]
    assert mpr.meta["technique_label"] == mpt.meta["technique_label"]
    assert len(mpr.data) == len(mpt.data)
    assert mpr.meta["start_time"] == mpt.meta["start_time"]
    assert mpr.meta.get("area_cm2") == mpt.meta.get("area_cm2")
    assert mpr.meta.get("reference_electrode") == mpt.meta.get("reference_electrode")
    if "reference_E_V" in mpt.meta:
        assert mpr.meta["reference_E_V"] == pytest.approx(mpt.meta["reference_E_V"], abs=5e-4)
    compared = 0
    for col in ("time_s", "E_V", "I_A", "freq_Hz", "Z_re_ohm", "Z_im_ohm"):
        if col not in mpt.data:
            continue
        assert col in mpr.data, col
        vendor = mpt.meta["columns_used"][col]
        scale = abs(mpt.data[col].iloc[0] / float(raw[vendor][0])) if float(raw[vendor][0]) else 1.0
        a, b = mpr.data[col].to_numpy(), mpt.data[col].to_numpy()
        tolerance = np.maximum(1e-6 * np.abs(b), 0.51 * printed_ulp(raw[vendor]) * scale)
        assert np.all(np.abs(a - b) <= tolerance), col
        compared += 1
    assert compared >= 2
    if "cycle" in mpr.data:
        np.testing.assert_array_equal(mpr.data["cycle"], mpt.data["cycle"])


def test_column_185_is_the_counter_electrode_potential(corpus_dir):
    """The evidence for EXTRA_COLUMN_IDS[185]: its values are the .mpt's <Ece>/V column."""
    columns, _ = biologic_mpr.read_columns((corpus_dir / "dgbowl_yadg/lsv.issue_195.mpr").read_bytes())
    raw = raw_mpt_columns(corpus_dir / "dgbowl_yadg/lsv.issue_195.mpt")
    ece = np.array(raw["<Ece>/V"], dtype=float)
    got = np.asarray(columns["<Ece>/V"], dtype=float)
    assert np.ptp(ece) > 0.01  # a varying column, so agreement is not luck
    assert np.all(np.abs(got - ece) <= 0.51 * printed_ulp(raw["<Ece>/V"]))


def test_unknown_column_of_deducible_width_is_skipped(corpus_dir, monkeypatch):
    BioLogic = biologic_mpr._galvani()
    monkeypatch.setattr(biologic_mpr, "EXTRA_COLUMN_IDS", {})
    m = read_corpus(corpus_dir, "dgbowl_yadg/lsv.issue_195.mpr")
    assert m.meta["mpr_skipped_columns"] == ["unknown column 185"]
    assert 185 not in BioLogic.VMPdata_colID_dtype_map  # the temporary entry is removed again
    monkeypatch.undo()
    full = read_corpus(corpus_dir, "dgbowl_yadg/lsv.issue_195.mpr")
    np.testing.assert_array_equal(m.data.to_numpy(), full.data.to_numpy())


def test_two_unknown_columns_ask_for_an_mpt_export(corpus_dir, monkeypatch):
    BioLogic = biologic_mpr._galvani()
    monkeypatch.setattr(biologic_mpr, "EXTRA_COLUMN_IDS", {})
    monkeypatch.delitem(BioLogic.VMPdata_colID_dtype_map, 16)
    with pytest.raises(ReaderError, match=r"\[16, 185\].*\.mpt"):
        read_corpus(corpus_dir, "dgbowl_yadg/lsv.issue_195.mpr")


def test_mpr_without_galvani_says_how_to_install(corpus_dir, monkeypatch):
    monkeypatch.setitem(sys.modules, "galvani", None)
    with pytest.raises(ReaderError, match=r'pip install "echem\[mpr\]"'):
        read_corpus(corpus_dir, "dgbowl_yadg/lsv.mpr")


def test_mpr_with_no_data_points(corpus_dir):
    with pytest.raises(EmptyDataError, match="0 data points"):
        read_corpus(corpus_dir, "ComPlat_chemotion-converter-app/CHD048_CHD050_60C_C01.mpr")


def test_binary_garbage_named_mpr():
    garbage = np.random.default_rng(7).integers(0, 256, 4096, dtype=np.uint8).tobytes()
    with pytest.raises(ReaderError):
        io.read_bytes(garbage, "run_01.mpr")


def test_truncated_mpr(corpus_dir):
    raw = (corpus_dir / "dgbowl_yadg/lsv.mpr").read_bytes()
    with pytest.raises(ReaderError, match=r"\.mpt"):
        io.read_bytes(raw[: len(raw) // 2], "lsv.mpr")


def test_mpr_with_unreadable_log_timestamp_still_reads(corpus_dir):
    raw = bytearray((corpus_dir / "dgbowl_yadg/lsv.mpr").read_bytes())
    log_data = raw.index(b"VMP LOG   ") + 10 + 25 + 4 + 4 + 8  # after the v1 module header
    raw[log_data + 465 : log_data + 600] = bytes(135)  # wipe the places galvani looks for it
    m = io.read_bytes(bytes(raw), "lsv.mpr")
    full = read_corpus(corpus_dir, "dgbowl_yadg/lsv.mpr")
    np.testing.assert_array_equal(m.data.to_numpy(), full.data.to_numpy())
    assert "start_time" not in m.meta and m.meta["start_date"] == "2021-03-02"
    assert "LOG" in m.meta["mpr_log"]
