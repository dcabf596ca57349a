"""Novocontrol WinDETA/NEISYS text reader on a real solid-electrolyte series (140-200 °C).

Files: EISFitpython's s04147-*deg.txt (MIT, copied to tests/data). Expected numbers were
taken from the files' text with awk, not from the reader. The files carry no
temperature (only the title "s04147-140deg"), so temperature_C must stay unset.
"""

from __future__ import annotations

import numpy as np
import pytest

from echem.errors import ReaderError
from echem.io import generic_csv, novocontrol_txt, read, read_bytes

# temperature in the file name: (rows, f_min, f_max, Zre_min, Zre_max, Zim_min, Zim_max)
SERIES = {
    140: (42, 3.0e-2, 1.0e6, 2.21423e4, 3.27266e6, -1.40853e6, -5.43115e4),
    150: (42, 3.0e-2, 1.0e6, 2.26968e4, 2.03344e6, -1.05180e6, -4.33417e4),
    160: (42, 3.0e-2, 1.0e6, 2.11122e4, 1.32853e6, -7.93978e5, -2.17579e4),
    170: (41, 4.57730e-2, 1.0e6, 2.07915e4, 8.02011e5, -4.61894e5, -1.12717e4),
    180: (41, 4.57730e-2, 1.0e6, 1.96241e4, 5.47582e5, -3.44520e5, -6.10713e3),
    190: (41, 4.57730e-2, 1.0e6, 1.76938e4, 3.81677e5, -2.56512e5, -3.51737e3),
    200: (40, 6.98380e-2, 1.0e6, 1.58596e4, 2.35592e5, -1.37609e5, -1.90149e3),
}


def _name(T: int) -> str:
    return f"s04147-{T}deg.txt"


@pytest.mark.parametrize("T", sorted(SERIES))
def test_series_rows_ranges_sign(T, data_dir):
    rows, fmin, fmax, rmin, rmax, imin, imax = SERIES[T]
    m = read(data_dir / _name(T))
    d = m.data
    assert m.meta["format"] == "novocontrol-windeta-txt" and m.meta["vendor"] == "Novocontrol"
    assert m.technique == "EIS" and m.meta["technique_source"] == "file content (impedance columns)"
    assert list(d.columns) == ["freq_Hz", "Z_re_ohm", "Z_im_ohm"]
    assert len(d) == rows
    assert d.freq_Hz.min() == pytest.approx(fmin, rel=1e-12) and d.freq_Hz.max() == pytest.approx(fmax, rel=1e-12)
    assert d.Z_re_ohm.min() == pytest.approx(rmin, rel=1e-12) and d.Z_re_ohm.max() == pytest.approx(rmax, rel=1e-12)
    assert d.Z_im_ohm.min() == pytest.approx(imin, rel=1e-12) and d.Z_im_ohm.max() == pytest.approx(imax, rel=1e-12)
    assert (d.Z_im_ohm < 0).all()  # physical sign as WinDETA writes it: capacitive everywhere
    assert "warnings" not in m.meta
    assert m.meta["title"] == f"s04147-{T}deg"
    assert m.meta["ac_amplitude_V_rms"] == pytest.approx(0.035)
    assert "temperature_C" not in m.meta  # not in the file; the workflow uses the file name


@pytest.mark.parametrize("T", sorted(SERIES))
def test_series_equals_the_numbers_in_the_file(T, data_dir):
    ref = np.loadtxt(data_dir / _name(T), skiprows=3)
    d = read(data_dir / _name(T)).data
    np.testing.assert_array_equal(d[["freq_Hz", "Z_re_ohm", "Z_im_ohm"]].to_numpy(), ref)


def test_series_is_thermally_activated(data_dir):
    """|Z| at the lowest common frequency falls monotonically from 140 to 200 °C (ionic conductor)."""
    modulus = []
    for T in sorted(SERIES):
        d = read(data_dir / _name(T)).data
        row = d.iloc[(np.abs(np.log(d.freq_Hz) - np.log(1.0))).argmin()]
        modulus.append(np.hypot(row.Z_re_ohm, row.Z_im_ohm))
    assert np.all(np.diff(modulus) < 0)
    assert modulus[0] / modulus[-1] > 5


def test_sniff(data_dir):
    raw = (data_dir / _name(140)).read_bytes()
    assert novocontrol_txt.sniff(raw, "x.dat")
    assert not generic_csv.sniff(raw, "x.csv")  # "Fixed value(s)": the generic reader stays away
    for other in ("exampleData.csv", "exampleDataParstat.txt", "exampleDataPowersuite.txt",
                  "Circuit1_EIS_1.z", "exampleDataVersaStudio.par", "exampleDataAutolab.txt"):
        assert not novocontrol_txt.sniff((data_dir / other).read_bytes(), other), other


def _full_header_file(data_dir, temperature_line: str, columns: str, scale: float = 1.0) -> bytes:
    """The 150 °C data behind a full WinDETA header (title with date, geometry, fixed values)."""
    ref = np.loadtxt(data_dir / _name(150), skiprows=3)
    lines = [
        "s05751_25deg, 26.02.2025, 15:11",
        "Diameter[mm]: 1.300e+01  Thickness[mm]: 7.500e-01  Spacer Capacity[pF]: 0.000e+00  "
        "Spacer Area[mm^2] 0.000e+00  Edge Correction On  Electrode Thickness[mm]: 4.00e+00",
        temperature_line,
        columns,
    ]
    lines += [f" {f:.7e}\t {zr / scale:.7e}\t{zi / scale:.7e}" for f, zr, zi in ref]
    return ("\n".join(lines) + "\n").encode("cp1252")


def test_full_header_geometry_date_temperature_and_units(data_dir):
    raw = _full_header_file(
        data_dir,
        "Fixed value(s) :  AC Volt  [Vrms]=7.1000e-03  Temperature [K]=4.2315e+02",
        "     Freq.[Hz]\t      Zs'[kOhm]\t     Zs''[kOhm]",
        scale=1e3,
    )
    m = read_bytes(raw, "full.txt")
    assert m.meta["title"] == "s05751_25deg"
    assert m.meta["start_time"] == "2025-02-26T15:11:00"  # DD.MM.YYYY
    assert m.meta["temperature_C"] == pytest.approx(150.0)
    assert m.meta["temperature_source"] == "file header (fixed value)"
    assert m.meta["ac_amplitude_V_rms"] == pytest.approx(7.1e-3)
    assert m.meta["area_cm2"] == pytest.approx(np.pi * 0.65**2)  # 13 mm diameter
    assert m.meta["geometry"] == {"kind": "through-plane", "thickness_cm": pytest.approx(0.075),
                                  "area_cm2": pytest.approx(np.pi * 0.65**2)}
    assert m.meta["cell"]["Electrode Thickness [mm]"] == 4.0
    ref = read(data_dir / _name(150)).data
    np.testing.assert_allclose(m.data.Z_re_ohm, ref.Z_re_ohm, rtol=1e-7)  # kOhm -> ohm
    np.testing.assert_allclose(m.data.Z_im_ohm, ref.Z_im_ohm, rtol=1e-7)


def test_temperature_column(data_dir):
    ref = np.loadtxt(data_dir / _name(160), skiprows=3)
    text = "Freq.[Hz]\tZ'[Ohm]\tZ''[Ohm]\tTemp.[°C]\n" + "".join(
        f"{f:.5e}\t{zr:.5e}\t{zi:.5e}\t1.6001e+02\n" for f, zr, zi in ref)
    m = read_bytes(text.encode("cp1252"), "tcol.txt")
    assert list(m.data.columns) == ["freq_Hz", "Z_re_ohm", "Z_im_ohm", "temperature_C"]
    assert m.meta["temperature_C"] == pytest.approx(160.01)
    assert m.meta["temperature_source"] == "file content (temperature column)"


def test_positive_z2_is_kept_but_flagged(data_dir):
    ref = np.loadtxt(data_dir / _name(140), skiprows=3)
    text = "Freq.[Hz]\tZs'[ohm]\tZs''[ohm]\n" + "".join(f"{f}\t{zr}\t{-zi}\n" for f, zr, zi in ref)
    m = read_bytes(text.encode(), "flipped.txt")
    assert (m.data.Z_im_ohm > 0).all()
    assert "positive at 42 of 42" in m.meta["warnings"][0]


def test_permittivity_export_is_refused(data_dir):
    text = "s1\nFreq.[Hz]\tEps'\tEps''\tSig'[S/cm]\n1e6\t5.1\t0.2\t1e-9\n1e5\t5.3\t0.4\t2e-9\n"
    with pytest.raises(ReaderError, match="export the impedance"):
        read_bytes(text.encode(), "eps.txt")
