"""Ivium .idf reader on pyimpspec's test file (GPL-3.0, read in place).

pyimpspec's tests paste one spectrum into several vendor templates; the .idf must
therefore give the same spectrum as its CSV and .mpt siblings.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from echem import io
from echem.errors import ReaderError
from echem.io import ivium_idf

pytestmark = pytest.mark.corpus

REL = "vyrjana_pyimpspec/data.idf"


@pytest.fixture(scope="module")
def idf(corpus_dir):
    return io.read(corpus_dir / REL)


def test_idf_reads_as_eis(idf):
    assert idf.meta["format"] == "ivium-idf" and idf.meta["vendor"] == "Ivium"
    assert idf.meta["technique"] == "EIS" and idf.meta["technique_source"] == "file content"
    assert len(idf.data) == 29
    freq = idf.data["freq_Hz"].to_numpy()
    assert freq.max() == pytest.approx(1e4) and freq.min() == pytest.approx(1.0)
    assert np.all(np.diff(freq) < 0)
    assert np.all(idf.data["Z_im_ohm"] < 0)  # capacitive: physical sign kept
    assert idf.meta["n_spectra"] == 1 and set(idf.data["cycle"]) == {1}


def test_idf_metadata(idf):
    assert idf.meta["title"] == "Test"
    assert idf.meta["control_mode"] == "Constant E"
    assert idf.meta["dc_potential_V"] == 0.0
    assert idf.meta["ac_amplitude_V"] == pytest.approx(0.01)
    assert idf.meta["hardware"] == "IviumStat+HiSens+FRA60Hz"
    assert "start_time" not in idf.meta  # the template's "DD.MM.YYYY HH:MM:SS" is not a date
    assert "area_cm2" not in idf.meta  # IviumSoft's area setting has no unit in the file


def test_idf_matches_the_same_spectrum_as_csv(corpus_dir, idf):
    rows = (corpus_dir / "vyrjana_pyimpspec/data-tab.csv").read_text().split("\n")[1:]
    csv = np.array([r.split("\t") for r in rows if r.strip()], dtype=float)
    # the .idf prints 6 significant digits
    np.testing.assert_allclose(idf.data["freq_Hz"], csv[:, 0], rtol=6e-6)
    np.testing.assert_allclose(idf.data["Z_re_ohm"], csv[:, 1], rtol=6e-6)
    np.testing.assert_allclose(idf.data["Z_im_ohm"], csv[:, 2], rtol=6e-6)


def _raw(corpus_dir) -> bytes:
    return (corpus_dir / REL).read_bytes()


def test_decimal_comma_idf(corpus_dir, idf):
    raw = _raw(corpus_dir)
    start = raw.index(b"primary_data")
    end = raw.index(b"osc_data")
    comma = raw[:start] + re.sub(rb"(?<=\d)\.(?=\d)", b",", raw[start:end]) + raw[end:]
    m = io.read_bytes(comma, "data.idf")
    np.testing.assert_array_equal(m.data.to_numpy(), idf.data.to_numpy())


def test_truncated_idf(corpus_dir):
    raw = _raw(corpus_dir)
    cut = raw[: raw.index(b"primary_data") + 400]
    with pytest.raises(ReaderError, match=r"announces 29 rows.*truncated"):
        io.read_bytes(cut, "data.idf")


def test_damaged_row(corpus_dir):
    raw = _raw(corpus_dir).replace(b"1.12058E+02  -3.51662E+01", b"1.12058E+02  -3.5x662E+01", 1)
    with pytest.raises(ReaderError, match=r"row 2"):
        io.read_bytes(raw, "data.idf")


def test_other_methods_are_refused_not_guessed(corpus_dir):
    raw = _raw(corpus_dir).replace(b"Method=Impedance", b"Method=CyclicVoltammetry", 1)
    with pytest.raises(ReaderError, match=r"Method=CyclicVoltammetry.*ASCII"):
        io.read_bytes(raw, "data.idf")


def test_sniffer(corpus_dir):
    assert ivium_idf.sniff(_raw(corpus_dir), "renamed.bin")
    for rel in ("vyrjana_pyimpspec/data.mpt", "vyrjana_pyimpspec/data.dta", "dgbowl_yadg/peis.mpr"):
        assert not ivium_idf.sniff((corpus_dir / rel).read_bytes(), rel)
