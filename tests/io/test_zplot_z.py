"""Scribner ZPlot/ZView .z reader on real ZPlot 3.2c exports and a ZView-style file.

Files: impedance.py's Circuit1/2/3_EIS_1.z and exampleDataZPlot.z (MIT, copied to
tests/data) and pyimpspec's data-z (GPL, read in place from the corpus). Expected
numbers below were taken from the files' text (awk over the rows after "End Comments"),
not from the reader.
"""

from __future__ import annotations

import numpy as np
import pytest

from echem.errors import EmptyDataError, ReaderError
from echem.io import read, read_bytes, zplot_z

# file: (rows, f_min, f_max, Zre_min, Zre_max, Zim_min, Zim_max, rows with Z'' < 0)
ZPLOT_FILES = {
    "Circuit1_EIS_1.z": (48, 1.0, 5.0e4, 29.036, 75.833, -23.238, 0.63662, 45),
    "Circuit2_EIS_1.z": (56, 1.0, 3.0e5, 147.77, 654.90, -248.85, 1.6725, 50),
    "Circuit3_EIS_1.z": (53, 1.0, 1.5e5, 1493.7, 6150.3, -2300.3, 17.890, 51),
    "exampleDataZPlot.z": (21, 3.0e3, 3.0e5, 147.77, 613.68, -248.85, -11.335, 21),
}
ZVIEW = "vyrjana_pyimpspec/data-z"


@pytest.mark.parametrize("fname", sorted(ZPLOT_FILES))
def test_zplot_files_rows_ranges_sign(fname, data_dir):
    rows, fmin, fmax, rmin, rmax, imin, imax, negative = ZPLOT_FILES[fname]
    m = read(data_dir / fname)
    d = m.data
    assert m.meta["format"] == "zplot-z" and m.meta["vendor"] == "Scribner ZPlot/ZView"
    assert m.technique == "EIS" and m.meta["technique_source"] == "file content"
    assert m.meta["experiment_type"] == "Sweep Frequency, Control Voltage"
    assert list(d.columns) == ["time_s", "freq_Hz", "Z_re_ohm", "Z_im_ohm"]
    assert len(d) == rows
    assert d.freq_Hz.min() == pytest.approx(fmin, rel=1e-12) and d.freq_Hz.max() == pytest.approx(fmax, rel=1e-12)
    assert d.Z_re_ohm.min() == pytest.approx(rmin, rel=1e-12) and d.Z_re_ohm.max() == pytest.approx(rmax, rel=1e-12)
    assert d.Z_im_ohm.min() == pytest.approx(imin, rel=1e-12) and d.Z_im_ohm.max() == pytest.approx(imax, rel=1e-12)
    # Physical sign as written: the capacitive arc is negative; the few positive points
    # are the highest frequencies (lead inductance) or noise around zero at the
    # resistive low-frequency limit.
    assert int((d.Z_im_ohm < 0).sum()) == negative
    assert (d.Z_im_ohm < 0).mean() > 0.85
    # The sweep goes from high to low frequency in time order.
    assert np.all(np.diff(d.freq_Hz) < 0) and np.all(np.diff(d.time_s) > 0)


def test_zplot_header_metadata(data_dir):
    m = read(data_dir / "Circuit2_EIS_1.z")
    meta = m.meta
    assert meta["software_version"] == "3.2c"
    assert meta["start_time"] == "2018-10-12T11:04:34"  # Date: 10-12-2018 (US order), Time: 11:04:34
    assert meta["date_order"] == "MM-DD-YYYY"
    assert meta["ocp_V"] == pytest.approx(0.0033)
    assert meta["area_cm2"] == 1.0  # "Surface Area: 1"
    assert meta["ac_amplitude_V"] == pytest.approx(0.01) and meta["dc_bias_V"] == 0.0
    assert meta["data_points_declared"] == 56 and "warnings" not in meta
    assert "temperature_C" not in meta  # ZPlot's header has no temperature
    assert m.data.time_s.iloc[0] == pytest.approx(2.67) and m.data.time_s.iloc[-1] == pytest.approx(49.59)


def test_zplot_trimmed_file_is_read_with_a_warning(data_dir):
    """exampleDataZPlot.z declares 56 points but holds the first 21 (a trimmed copy of Circuit2)."""
    m = read(data_dir / "exampleDataZPlot.z")
    assert m.meta["data_points_declared"] == 56
    assert any("56" in w and "21" in w for w in m.meta["warnings"])
    full = read(data_dir / "Circuit2_EIS_1.z").data
    np.testing.assert_array_equal(m.data.to_numpy(), full.iloc[:21].to_numpy())


@pytest.mark.parametrize("fname", sorted(ZPLOT_FILES))
def test_zplot_matches_impedance_py(fname, data_dir):
    from impedance.preprocessing import readZPlot

    f_ref, z_ref = readZPlot(str(data_dir / fname))
    m = read(data_dir / fname)
    np.testing.assert_allclose(m.data.freq_Hz, f_ref, rtol=1e-9, atol=0)
    np.testing.assert_allclose(m.data.Z_re_ohm + 1j * m.data.Z_im_ohm, z_ref, rtol=1e-9, atol=0)


def test_zview_style_file(corpus_dir):
    m = read(corpus_dir / ZVIEW)
    d = m.data
    assert m.meta["format"] == "zview-z"
    assert m.meta["software_version"] == "1.0.0"
    assert m.technique == "EIS" and m.meta["technique_source"] == "file content (impedance columns)"
    # Time and amplitude are placeholder zeros in this writer's files: not data.
    assert list(d.columns) == ["freq_Hz", "Z_re_ohm", "Z_im_ohm"]
    assert "ac_amplitude_V" not in m.meta and m.meta["time_column"].startswith("all zeros")
    assert len(d) == 29
    assert d.freq_Hz.min() == pytest.approx(1.0) and d.freq_Hz.max() == pytest.approx(1.0e4)
    assert d.Z_re_ohm.min() == pytest.approx(109.0092) and d.Z_re_ohm.max() == pytest.approx(645.4787)
    assert d.Z_im_ohm.min() == pytest.approx(-120.3991) and d.Z_im_ohm.max() == pytest.approx(-26.55568)
    assert (d.Z_im_ohm < 0).all()

    from impedance.preprocessing import readZPlot

    f_ref, z_ref = readZPlot(str(corpus_dir / ZVIEW))
    np.testing.assert_allclose(d.freq_Hz, f_ref, rtol=1e-9, atol=0)
    np.testing.assert_allclose(d.Z_re_ohm + 1j * d.Z_im_ohm, z_ref, rtol=1e-9, atol=0)


def test_zview_matches_the_same_spectrum_in_csv(corpus_dir):
    """pyimpspec ships one spectrum in several templates: data-z (7 digits) equals data-comma.csv."""
    z = read(corpus_dir / ZVIEW).data
    c = read(corpus_dir / "vyrjana_pyimpspec/data-comma.csv").data
    for col in ("freq_Hz", "Z_re_ohm", "Z_im_ohm"):
        np.testing.assert_allclose(z[col], c[col], rtol=1e-6)


def test_sniff_is_content_based(data_dir, corpus_dir):
    raw = (data_dir / "Circuit1_EIS_1.z").read_bytes()
    assert zplot_z.sniff(raw, "renamed.txt")
    assert zplot_z.sniff((corpus_dir / ZVIEW).read_bytes(), "data-z")
    for other in ("exampleDataParstat.txt", "exampleDataPowersuite.txt", "exampleData.csv",
                  "exampleDataVersaStudio.par", "s04147-140deg.txt", "exampleDataAutolab.txt"):
        assert not zplot_z.sniff((data_dir / other).read_bytes(), other), other


MINIMAL = (
    "ZPLOT2 ASCII\r\n"
    "  Date:                       25-12-2019\r\n"
    "  Time:                       08:00:00\r\n"
    "  Temperature (K):            298.15\r\n"
    "End Comments\r\n"
    "1.0E+03, 0, 0, 1.0, 10.0, -1.0, 0, 0, 0\r\n"
    "1.0E+02, 0, 0, 2.0, 12.0, -5.0, 0, 0, 0\r\n"
    "1.0E+01, 0, 0, 3.0, 20.0, -8.0, 0, 0, 0\r\n"
)


def test_minimal_comma_file_default_columns_day_first_date_and_temperature():
    m = read_bytes(MINIMAL.encode(), "minimal.z")
    assert m.meta["format"] == "zview-z"
    assert "default order" in m.meta["columns_assumed"]
    assert m.data.freq_Hz.tolist() == [1e3, 1e2, 1e1]
    assert m.data.Z_re_ohm.tolist() == [10.0, 12.0, 20.0]
    assert m.data.Z_im_ohm.tolist() == [-1.0, -5.0, -8.0]
    assert m.data.time_s.tolist() == [1.0, 2.0, 3.0]
    assert m.meta["start_time"] == "2019-12-25T08:00:00" and m.meta["date_order"] == "DD-MM-YYYY"
    assert m.meta["temperature_C"] == pytest.approx(25.0)


def test_truncated_row_and_missing_data_are_errors(data_dir):
    text = (data_dir / "Circuit1_EIS_1.z").read_text()
    cut = text[: text.rindex("\t0.0000E+00\t0\t4")]  # the last row loses its GD/Err/Range fields
    last = cut.splitlines()[-1]
    broken = cut[: len(cut) - len(last)] + "\t".join(last.split("\t")[:4]) + "\n"
    with pytest.raises(ReaderError, match="fields"):
        read_bytes(broken.encode(), "cut.z")
    header_only = text[: text.index("End Comments")] + "End Comments\n"
    with pytest.raises(EmptyDataError):
        read_bytes(header_only.encode(), "empty.z")


# ----------------------------------------------------------------------------- older headers (issue 15)

_ROWS = "\n".join(f"{f:.6E} 0.0 0.0 0.0 {100 + k:.6E} {-10.0 - k:.6E}"
                  for k, f in enumerate(np.logspace(5, 0, 11)))


@pytest.mark.parametrize("head", [
    "ZPLOT ASCII\nMeasured Data, ZPlot: 1.4\nFreq(Hz) Ampl Bias Time(Sec) Z'(a) Z''(b)\nEnd Comments\n",
    "Comment: cell 3, 25 C\nFreq(Hz)\tAmpl\tBias\tTime(Sec)\tZ'(a)\tZ''(b)\n",
])
def test_older_headers_are_read(head):
    raw = (head + _ROWS.replace(" ", "\t" if "\t" in head else " ") + "\n").encode("latin-1")
    assert zplot_z.sniff(raw, "old.z")
    m = read_bytes(raw, "old.z")
    assert len(m.data) == 11 and m.meta["technique"] == "EIS"
    np.testing.assert_allclose(m.data["Z_im_ohm"], -10.0 - np.arange(11))
    assert "older header" in m.meta["header_variant"]


def test_a_text_file_with_a_freq_row_is_not_claimed_without_the_z_extension():
    raw = ("Comment\nFreq(Hz)\tZ'(a)\tZ''(b)\n" + "1.0\t2.0\t-3.0\n" * 5).encode()
    assert not zplot_z.sniff(raw, "table.txt")
