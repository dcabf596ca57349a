"""Autolab FRA .dfr and Elchemea .i2b: synthetic files in the layouts the readers document.

The real examples are in ../shared/corpus-peers (pyimpspec's test files, GPL, read in place
by tests/test_peers.py); these pin the layout rules: the sign of each value, the point
count, cut files, and recognising the files without their extension.
"""

from __future__ import annotations

import numpy as np
import pytest

from echem.errors import EchemError
from echem.io import ecochemie_dfr, elchemea_i2b, find_reader, read_bytes

F = np.logspace(4, 0, 9)
ZRE = 100 + 400 / (1 + (F / 50) ** 2)
ZIM = -400 * (F / 50) / (1 + (F / 50) ** 2)


def dfr(n_points=None, trailer=True) -> bytes:
    lines = ["VERSION8.0", f" {len(F) if n_points is None else n_points}", " 1"]
    for f, re_, im in zip(F.tolist(), ZRE.tolist(), ZIM.tolist()):
        lines += [f" {f!r}", f" {re_!r}", f" {-im!r}"] + [" 0.0"] * 6
    if trailer:
        lines += [" 1.0", "13.07.2022 22:32:00", " 2.0"]
    return ("\r\n".join(lines) + "\r\n").encode("latin-1")


def i2b(count=None, header=("Some metadata", "written by the software", "", "")) -> bytes:
    lines = list(header) + [str(len(F) if count is None else count)]
    lines += [f"{f!r} {re_!r} {im!r}" for f, re_, im in zip(F.tolist(), ZRE.tolist(), ZIM.tolist())]
    return "\n".join(lines).encode("latin-1")


def test_dfr_third_value_is_minus_z_imag():
    m = read_bytes(dfr(), "spectrum.dfr")
    assert m.meta["format"] == "ecochemie-dfr" and m.meta["technique"] == "EIS"
    np.testing.assert_allclose(m.data["freq_Hz"], F)
    np.testing.assert_allclose(m.data["Z_re_ohm"], ZRE)
    np.testing.assert_allclose(m.data["Z_im_ohm"], ZIM)
    assert m.meta["dfr_trailer"][1] == "13.07.2022 22:32:00"


def test_dfr_recognised_without_extension():
    assert find_reader(dfr(), "data-dfr") is ecochemie_dfr


def test_dfr_cut_is_refused():
    with pytest.raises(EchemError, match="announces 12 points"):
        read_bytes(dfr(n_points=12, trailer=False), "cut.dfr")


def test_i2b_as_written():
    m = read_bytes(i2b(), "spectrum.i2b")
    assert m.meta["format"] == "elchemea-i2b"
    np.testing.assert_allclose(m.data["Z_im_ohm"], ZIM)
    assert m.meta["header_text"] == ["Some metadata", "written by the software"]


def test_i2b_recognised_without_extension_but_not_a_plain_table():
    assert find_reader(i2b(), "data-i2b") is elchemea_i2b
    plain = ("f Z' Z''\n" + "\n".join(f"{f} {r} {i}" for f, r, i in zip(F, ZRE, ZIM))).encode()
    assert find_reader(plain, "data.txt") is not elchemea_i2b


def test_i2b_count_must_match_the_rows():
    with pytest.raises(EchemError, match="announces 12 points"):
        read_bytes(i2b(count=12), "short.i2b")
