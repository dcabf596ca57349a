"""Several spectra in one file: numbered by echem.io._spectra, the same way for every reader.

The EIS stage analyses each value of ``cycle`` as one spectrum
(echem.measurement.Measurement.spectra); these tests pin what the readers put there.
"""

from __future__ import annotations

import numpy as np
import pytest

from echem.io import read_bytes
from echem.io._spectra import number_spectra, spectrum_starts

F = np.logspace(4, 0, 29)


def csv(freqs, header="f,Z',Z''") -> bytes:
    z_re = 100 + 0 * freqs + 400 / (1 + (freqs / 50) ** 2)
    z_im = -400 * (freqs / 50) / (1 + (freqs / 50) ** 2)
    rows = [header] + [f"{f!r},{r!r},{i!r}" for f, r, i in zip(freqs.tolist(), z_re.tolist(), z_im.tolist())]
    return ("\n".join(rows) + "\n").encode()


@pytest.mark.parametrize("sweeps, expected", [
    ([F, F, F, F], 4),                       # repeated falling sweeps (pyimpspec case-multiple-spectra)
    ([F[::-1], F[::-1]], 2),                 # repeated rising sweeps
    ([F, F[::-1]], 2),                       # down, then back up over the same frequencies
    ([F, F[::-1][1:]], 2),                   # down, then up without repeating the turning point
    ([F], 1),
])
def test_generic_csv_with_repeated_sweeps(sweeps, expected):
    m = read_bytes(csv(np.concatenate(sweeps)), "sweeps.csv")
    assert m.meta["n_spectra"] == expected
    parts = list(m.spectra())
    assert len(parts) == expected
    assert sum(p.freq_Hz.size for p in parts) == sum(len(s) for s in sweeps)
    if expected > 1:
        assert "spectrum number" in m.meta["columns_used"]["cycle"]
    else:
        assert "cycle" not in m.data.columns


def test_a_point_measured_again_does_not_start_a_sweep():
    f = F.copy()
    f[10] = f[9] * 1.05  # a re-measured point, slightly above the one before
    assert not spectrum_starts(f).any()
    assert read_bytes(csv(f), "again.csv").meta["n_spectra"] == 1


def test_gaps_of_non_impedance_rows_separate_sweeps_and_are_dropped():
    # a Modulo Bat run: cycling rows (frequency 0) between sweeps, one cycle number throughout
    freq = np.concatenate([np.zeros(5), F[:10], np.zeros(3), F[:10], np.zeros(2)])
    labels, imp, how, _ = number_spectra(freq, np.ones(freq.size, dtype=int))
    assert labels[imp].tolist() == [1] * 10 + [2] * 10
    assert "do not tell the sweeps apart" in how
    m = read_bytes(csv(freq), "mb.csv")
    assert len(m.data) == 20 and m.meta["n_spectra"] == 2
    assert m.meta["rows_dropped"] == {"frequency <= 0 (not an impedance point)": 10}


def test_file_cycle_numbers_kept_when_they_name_the_sweeps():
    freq = np.concatenate([F, F])
    cycle = np.r_[np.full(29, 7), np.full(29, 9)]
    labels, imp, how, _ = number_spectra(freq, cycle)
    assert labels.tolist() == cycle.tolist() and how == "the file's cycle numbers"


def test_file_cycle_numbers_renumbered_when_one_holds_two_sweeps():
    freq = np.concatenate([F, F, F, F])
    cycle = np.repeat([1, 2], 58)  # two sweeps per cycle number (Modulo Bat, mb.mpt)
    labels, imp, _, _ = number_spectra(freq, cycle)
    assert np.unique(labels).tolist() == [1, 2, 3, 4]


def test_a_cycle_column_of_zeros_with_one_sweep():
    labels, imp, how, _ = number_spectra(F, np.zeros(29, dtype=int))
    assert labels.tolist() == [0] * 29 and imp.all() and how == "the file's cycle numbers"


def test_shuffled_rows_are_one_spectrum_with_a_warning():
    order = np.random.default_rng(4).permutation(F.size)
    m = read_bytes(csv(F[order]), "shuffled.csv")
    assert m.meta["n_spectra"] == 1 and "cycle" not in m.data.columns
    assert any("jumps back" in w for w in m.meta["warnings"])


def test_a_few_points_measured_again_after_the_sweep_are_not_a_sweep():
    again = F[np.linspace(0, F.size - 1, 6).astype(int)]  # six frequencies measured again at the end
    m = read_bytes(csv(np.concatenate([F, again])), "again.csv")
    assert m.meta["n_spectra"] == 1 and len(m.data) == F.size + 6
    assert any("measured again" in w for w in m.meta["warnings"])


def test_a_loop_stopped_during_its_last_sweep():
    m = read_bytes(csv(np.concatenate([F, F, F[:10]])), "stopped.csv")
    assert m.meta["n_spectra"] == 3 and m.data.groupby("cycle").size().tolist() == [29, 29, 10]
