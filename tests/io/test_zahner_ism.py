"""Zahner .ism reader on the MIT-licensed files of Zahner-elektrik/Zahner-Analysis-Python.

``rc-data.ism`` ("RC HIZ") is a test circuit: 0.9996 V DC drives 10.0 nA through it
and its impedance is that of R || C. Its known values follow from the data's own
limits: R from the low-frequency plateau of Re(Z), C from the high-frequency
susceptance Im(Y)/omega; the parallel-RC model with these two numbers must then
reproduce every point, and R must agree with the DC potential and current.
"""

from __future__ import annotations

import numpy as np
import pytest

from echem import io
from echem.errors import ReaderError, UnknownFormatError
from echem.io import zahner_ism

pytestmark = pytest.mark.corpus

DIR = "Zahner-elektrik_Zahner-Analysis-Python"

FILES = [
    # file, rows, (f_min, f_max) in Hz, overlap points dropped
    ("rc-data.ism", 55, (0.2, 100_000.0), 20),
    ("li-ion-battery.ism", 128, (0.0005, 5000.0), 0),
    ("000_mvdc.ism", 38, (100.0, 500_000.0), 0),
    ("100_mvdc.ism", 38, (100.0, 500_000.0), 0),
    ("200_mvdc.ism", 38, (100.0, 500_000.0), 0),
]


@pytest.fixture(scope="module")
def rc(corpus_dir):
    return io.read(corpus_dir / DIR / "rc-data.ism")


@pytest.mark.parametrize("name, rows, f_range, dropped", FILES, ids=[f[0] for f in FILES])
def test_ism_corpus_file(corpus_dir, name, rows, f_range, dropped):
    m = io.read(corpus_dir / DIR / name)
    assert m.meta["format"] == "zahner-ism" and m.meta["vendor"] == "Zahner"
    assert m.meta["technique"] == "EIS"
    assert len(m.data) == rows
    freq = m.data["freq_Hz"].to_numpy()
    assert freq.min() == pytest.approx(f_range[0]) and freq.max() == pytest.approx(f_range[1])
    assert m.meta["overlap_points_dropped"] == dropped
    # the main sweep is monotonic in frequency, in measurement order
    steps = np.diff(freq)
    assert np.all(steps < 0) or np.all(steps > 0)
    assert np.all(np.diff(m.data["time_s"].to_numpy()) >= 0)
    assert np.all(m.data["Z_re_ohm"] > 0)


def test_rc_is_a_parallel_rc_with_physical_sign(rc):
    f = rc.data["freq_Hz"].to_numpy()
    z = rc.data["Z_re_ohm"].to_numpy() + 1j * rc.data["Z_im_ohm"].to_numpy()
    assert np.all(z.imag < 0)  # capacitive everywhere
    w = 2 * np.pi * f
    y = 1 / z
    R = 1 / np.median(y.real[f < 1.0])  # below the 11 Hz corner Re(Z) -> R
    C = np.median(y.imag[f > 1000.0] / w[f > 1000.0])  # above it Im(Y) = omega C
    assert R == pytest.approx(1.0e8, rel=0.03)  # 100 MOhm
    assert C == pytest.approx(1.47e-10, rel=0.03)  # 147 pF
    model = R / (1 + 1j * w * R * C)
    assert np.max(np.abs(z - model) / np.abs(model)) < 0.05
    # Ohm's law on the DC values the file records: I = E / R
    assert rc.meta["dc_current_A"] == pytest.approx(rc.meta["dc_potential_V"] / R, rel=0.03)
    assert np.median(rc.data["I_A"]) == pytest.approx(np.median(rc.data["E_V"]) / R, rel=0.03)


def test_rc_metadata(rc):
    meta = rc.meta
    assert meta["start_time"] == "2024-07-16T09:32:48.071500"
    assert meta["system"] == "RC HIZ"
    assert meta["dc_potential_V"] == pytest.approx(0.9995)
    assert meta["ac_amplitude_V"] == pytest.approx(0.010)
    assert meta["dc_current_A"] == pytest.approx(10.006e-9)
    assert meta["temperature_C"] == pytest.approx(23.8)
    assert meta["comments"] == "First Line\n2\n3\nLast Line"
    assert rc.data["E_V"].to_numpy() == pytest.approx(0.99963, abs=1e-4)


def test_simulated_file_takes_its_start_from_the_texts(corpus_dir):
    m = io.read(corpus_dir / DIR / "li-ion-battery.ism")
    assert m.meta["system"] == "Simulation"
    assert m.meta["start_time"] == "2009-05-25T11:11:11"  # date "250509", time "11:11:11 - ..."
    assert "temperature_C" not in m.meta and m.meta["temperature_text"] == "RT"
    assert "E_V" not in m.data.columns  # no DC acquisition channels in this file


def test_dc_bias_series(corpus_dir):
    biases, moduli = [], []
    for name in ("000_mvdc.ism", "100_mvdc.ism", "200_mvdc.ism"):
        m = io.read(corpus_dir / DIR / name)
        biases.append(m.meta["dc_potential_V"])
        assert np.median(m.data["E_V"]) == pytest.approx(m.meta["dc_potential_V"], abs=1e-3)
        low = m.data.loc[m.data["freq_Hz"].idxmin()]
        moduli.append(abs(complex(low["Z_re_ohm"], low["Z_im_ohm"])))
    assert biases == pytest.approx([0.0255, 0.125, 0.225])
    assert moduli[0] > moduli[1] > moduli[2]  # more forward bias, more DC current, lower |Z|


def test_truncated_ism(corpus_dir):
    raw = (corpus_dir / DIR / "rc-data.ism").read_bytes()
    for cut in (2700, 2566, 3000):  # in the tables, in the strings, in the DC channel table
        with pytest.raises(ReaderError, match="truncated"):
            io.read_bytes(raw[:cut], "rc-data.ism")


def test_garbage_and_lookalikes_are_not_ism(corpus_dir):
    garbage = np.random.default_rng(3).integers(0, 256, 4096, dtype=np.uint8).tobytes()
    with pytest.raises(UnknownFormatError):
        io.read_bytes(garbage, "spectrum.ism")
    # same first four bytes as a NASA CDF file, but not Thales' version field
    assert not zahner_ism.sniff(b"\x00\x00\xff\xff\x00\x01\x00\x00" + bytes(4000), "x.cdf")
    raw = bytearray((corpus_dir / DIR / "rc-data.ism").read_bytes())
    raw[12:20] = np.array([-5.0], dtype=">f8").tobytes()  # a negative frequency
    assert not zahner_ism.sniff(bytes(raw), "rc-data.ism")
