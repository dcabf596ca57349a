"""PalmSens PSTrace CSV reader on real exports (GPL, read in place): the ECSA CV scan-rate
series (5..60 mV/s), an impedance spectrum and a chronopotentiometry run; plus re-encoded
copies and a side-by-side multi-curve export assembled from two of the real curves."""

from __future__ import annotations

import numpy as np
import pytest

from echem.errors import EmptyDataError
from echem.io import palmsens_csv, read, read_bytes

ECSA = {
    5: "gcarrascohuertas_electrochemical_ECSA_processing_palmsens/ECSA_0005mVs_scan1.csv",
    10: "gcarrascohuertas_electrochemical_ECSA_processing_palmsens/ECSA_0010mVs_scan1.csv",
    20: "gcarrascohuertas_electrochemical_ECSA_processing_palmsens/ECSA_0020mVs_scan1.csv",
    40: "gcarrascohuertas_electrochemical_ECSA_processing_palmsens/ECSA_0040mVs_scan1.csv",
    60: "gcarrascohuertas_electrochemical_ECSA_processing_palmsens/ECSA_0060mVs_scan1.csv",
}
# First data row of each file: current as written in µA.
FIRST_uA = {5: 3.98159e-1, 10: 2.07424e-1, 20: 5.41210e-1, 40: 5.650519999999999e-1, 60: 2.11}
EIS = "matkrin_proespm-py3/PS241105-14_1.csv"
CP = "matkrin_proespm-py3/PS241105-1_1.csv"


@pytest.mark.parametrize("mV_s", sorted(ECSA))
def test_ecsa_cv(corpus_dir, mV_s):
    raw = (corpus_dir / ECSA[mV_s]).read_bytes()
    assert raw.startswith(b"\xff\xfe")  # UTF-16LE with BOM, as PSTrace writes it
    m = read(corpus_dir / ECSA[mV_s])
    d = m.data
    assert m.meta["format"] == "palmsens-csv" and m.meta["vendor"] == "PalmSens"
    assert m.technique == "CV" and m.meta["technique_label"] == "Cyclic Voltammetry: CV I vs E Scan 1"
    assert list(d.columns) == ["E_V", "I_A", "cycle"]
    assert len(d) == 806
    assert set(d.cycle) == {1}  # "Scan 1"
    assert d.E_V.min() == pytest.approx(-0.0994921) and d.E_V.max() == pytest.approx(0.699885)
    assert d.E_V.iloc[0] == pytest.approx(0.689963)
    assert d.I_A.iloc[0] == pytest.approx(FIRST_uA[mV_s] * 1e-6, rel=1e-9)  # µA -> A
    assert 1e-6 < d.I_A.abs().max() < 1e-4
    # The file does not state the scan rate. Its notes say "scanrate0.005" in all five
    # files (stale user text: the 60 mV/s run says it too), so nothing is taken from them.
    assert m.meta["notes"] == "Medida_ECSA_scanrate0.005"
    assert "scan_rate_V_s" not in m.meta
    assert m.meta["start_time"].startswith("2020-07-10T")


def test_ecsa_charging_current_grows_with_scan_rate(corpus_dir):
    """Capacitive current (I_anodic - I_cathodic)/2 at 0.3 V rises with the scan rate
    in the order the file names give (5, 10, 20, 40, 60 mV/s)."""
    half_diff = []
    for mV_s in sorted(ECSA):
        d = read(corpus_dir / ECSA[mV_s]).data
        E, I = d.E_V.to_numpy(), d.I_A.to_numpy()
        direction = np.sign(np.gradient(E))
        near = np.abs(E - 0.3) < 0.01
        half_diff.append((I[near & (direction > 0)].mean() - I[near & (direction < 0)].mean()) / 2)
    assert np.all(np.diff(half_diff) > 0)
    assert half_diff[0] == pytest.approx(3.14e-6, rel=0.01)


def test_eis(corpus_dir):
    m = read(corpus_dir / EIS)
    d = m.data
    assert m.technique == "EIS" and m.meta["technique_label"] == "Impedance Spectroscopy"
    assert list(d.columns) == ["I_A", "freq_Hz", "Z_re_ohm", "Z_im_ohm"]
    assert len(d) == 39 and m.meta["points_declared"] == 39
    assert d.freq_Hz.max() == 200000 and d.freq_Hz.min() == 20
    assert d.Z_re_ohm.min() == pytest.approx(556.793967784205)
    assert d.Z_re_ohm.max() == pytest.approx(10536.2161905695)
    assert d.Z_im_ohm.min() == pytest.approx(-4985.73423005904)
    assert d.Z_im_ohm.max() == pytest.approx(-18.1820772013548)
    assert (d.Z_im_ohm < 0).all()  # "-Z''" column negated to the physical sign
    # First row: neg. Phase 1.86854720696118 deg = atan(-Z_im / Z_re).
    assert np.degrees(np.arctan2(-d.Z_im_ohm.iloc[0], d.Z_re_ohm.iloc[0])) == pytest.approx(1.86854720696118, rel=1e-9)
    assert d.I_A.iloc[0] == pytest.approx(-0.715255737304688e-6, rel=1e-12)  # Idc / uA -> A
    assert m.meta["start_time"] == "2024-10-29T08:21:56"
    assert m.meta["file_written"] == "2024-10-29T08:23:17"
    assert "truncated" not in m.meta


def test_cp(corpus_dir):
    m = read(corpus_dir / CP)
    d = m.data
    assert m.technique == "CP" and m.meta["technique_label"] == "Chronopotentiometry: CP E vs t"
    assert list(d.columns) == ["time_s", "E_V"]
    assert len(d) == 401
    assert d.time_s.min() == 0 and d.time_s.max() == 400
    assert d.E_V.min() == pytest.approx(-5.7480297088623) and d.E_V.max() == pytest.approx(-5.6463885307312)
    assert m.meta["start_time"] == "2024-12-02T15:08:19"


@pytest.mark.parametrize("name", [ECSA[20], EIS, CP])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "latin-1", "utf-16"])
def test_reencoded_copies_read_the_same(corpus_dir, name, encoding):
    raw = (corpus_dir / name).read_bytes()
    text = raw.decode("utf-16").replace("\ufeff", "")  # PSTrace leaves a stray BOM at the end
    a = read_bytes(raw, "orig.csv")
    b = read_bytes(text.encode(encoding), "copy.csv")
    np.testing.assert_array_equal(a.data.to_numpy(), b.data.to_numpy())
    assert list(a.data.columns) == list(b.data.columns)
    for key in ("technique", "start_time", "notes", "points_declared"):
        assert a.meta.get(key) == b.meta.get(key)


def test_side_by_side_curves_become_cycles(corpus_dir):
    """PSTrace writes several scans side by side; the shorter one padded with empty cells."""
    def rows(path):
        text = (corpus_dir / path).read_bytes().decode("utf-16").replace("\ufeff", "")
        return [ln for ln in text.splitlines()[6:] if ln.strip()]

    a, b = rows(ECSA[5]), rows(ECSA[10])[:800]
    lines = [
        "Date and time:,2020-07-10 17:21:23",
        "Notes:",
        ",,,",
        "Cyclic Voltammetry: CV I vs E Scan 1,,Cyclic Voltammetry: CV I vs E Scan 2,",
        "Date and time measurement:,2020-07-10 16:59:57,Date and time measurement:,2020-07-10 17:21:46",
        "V,µA,V,µA",
    ]
    for i in range(len(a)):
        lines.append(a[i] + "," + (b[i] if i < len(b) else ","))
    m = read_bytes(("\r\n".join(lines) + "\r\n").encode("utf-16"), "two_scans.csv")
    d = m.data
    assert m.technique == "CV" and m.meta["curves"] == 2
    assert d.groupby("cycle").size().to_dict() == {1: 806, 2: 800}
    one = read(corpus_dir / ECSA[5]).data
    np.testing.assert_array_equal(d[d.cycle == 1][["E_V", "I_A"]].to_numpy(), one[["E_V", "I_A"]].to_numpy())
    two = read(corpus_dir / ECSA[10]).data.iloc[:800]
    np.testing.assert_array_equal(d[d.cycle == 2][["E_V", "I_A"]].to_numpy(), two[["E_V", "I_A"]].to_numpy())
    assert m.meta["start_time"] == "2020-07-10T16:59:57"


def test_side_by_side_spectra_become_cycles(corpus_dir):
    text = (corpus_dir / EIS).read_bytes().decode("utf-16").replace("\ufeff", "")
    lines = text.splitlines()
    head, columns, rows = lines[:5], lines[5], [ln for ln in lines[6:] if ln.strip()]
    width = columns.count(",")
    doubled = [*head, columns + columns]
    for i, row in enumerate(rows):
        doubled.append(row + (rows[i] if i < 30 else "," * width))
    m = read_bytes("\r\n".join(doubled).encode("utf-16"), "two_spectra.csv")
    assert m.technique == "EIS" and m.meta["curves"] == 2
    assert m.data.groupby("cycle").size().to_dict() == {1: 39, 2: 30}
    one = read(corpus_dir / EIS).data
    second = m.data[m.data.cycle == 2].drop(columns="cycle").to_numpy()
    np.testing.assert_array_equal(second, one.iloc[:30].to_numpy())


def test_header_without_rows_is_empty_data(corpus_dir):
    text = (corpus_dir / CP).read_bytes().decode("utf-16")
    header = "\r\n".join(text.splitlines()[:6]) + "\r\n"
    with pytest.raises(EmptyDataError, match="no data rows"):
        read_bytes(header.encode("utf-16"), "empty.csv")


def test_sniff(corpus_dir, data_dir):
    assert palmsens_csv.sniff((corpus_dir / EIS).read_bytes(), "x.csv")
    assert not palmsens_csv.sniff((data_dir / "exampleDataCHInstruments.txt").read_bytes(), "x.csv")
    assert not palmsens_csv.sniff(b"Date and time:,2020-01-01\nE,I\n1,2\n", "x.csv")
