"""Every file of the real-instrument corpus is read, with the technique its MANIFEST names.

Per-format details (row counts, ranges, metadata, sign conventions) are tested in
tests/io/; this test guarantees that nothing in the corpus is left unread.
"""

import numpy as np
import pytest

from conftest import corpus_manifest
from echem import io

ROWS = corpus_manifest()

#: MANIFEST technique text -> canonical technique
#: Real spectra that are inductive over most of their range (200 kHz..100 Hz of a cell
#: dominated by lead inductance): the file says -Im(Z) < 0, so Z_im > 0 is physical.
INDUCTIVE = {"ixdat_ixdat-large-test-files/dataset_with_loop_01_05_PEIS_DUSB0_C01.mpt"}

EXPECTED = {"EIS": "EIS", "PEIS": "EIS", "GEIS": "EIS", "ZIR": "EIS", "LSV": "LSV", "CV": "CV",
            "CA": "CA", "CP": "CP", "OCV": "OCV"}


def expected_technique(manifest_text: str) -> str:
    head = manifest_text.replace("/", " ").replace("(", " ").split()
    for word in head:
        if word in EXPECTED:
            return EXPECTED[word]
    raise AssertionError(f"unmapped MANIFEST technique {manifest_text!r}")


#: Files that hold no measurement: reading them must fail with a message that says why.
NO_DATA = {
    # EC-Lab ZIR: a header and the column line only; ZIR measures Ru to compensate later runs
    "ixdat_ixdat-large-test-files/multiple_techniques_dataset_01_07_ZIR_C01.mpt": "ZIR",
    # a PEIS .mpr whose data module holds the column table but 0 points (galvani agrees)
    "ComPlat_chemotion-converter-app/CHD048_CHD050_60C_C01.mpr": "0 data points",
}


@pytest.mark.corpus
@pytest.mark.parametrize("row", ROWS, ids=[r["file"] for r in ROWS])
def test_corpus_file_reads(row, corpus_dir):
    if row["file"] in NO_DATA:
        with pytest.raises(io.EmptyDataError, match=NO_DATA[row["file"]]):
            io.read(corpus_dir / row["file"])
        return
    m = io.read(corpus_dir / row["file"])
    assert m.meta["format"] == row["format"] or m.meta["format"].split("-")[0] == row["format"].split("-")[0]
    assert m.meta["technique"] == expected_technique(row["technique"])
    assert len(m.data) >= 5
    assert m.meta["sha256"] and len(m.meta["sha256"]) == 64
    if m.meta["technique"] == "EIS":
        freq = m.data["freq_Hz"].to_numpy()
        assert np.all(freq > 0)
        # physical sign: a capacitive arc has Z_im < 0 over most of the spectrum
        capacitive = np.mean(m.data["Z_im_ohm"].to_numpy() < 0)
        assert capacitive < 0.5 if row["file"] in INDUCTIVE else capacitive > 0.5
    else:
        assert "E_V" in m.data.columns
        assert np.isfinite(m.data["E_V"]).mean() > 0.95


def test_corpus_is_complete(corpus_dir):
    files = {p.relative_to(corpus_dir).as_posix() for p in corpus_dir.rglob("*")
             if p.is_file() and p.name not in ("MANIFEST.tsv", "README.md")}
    assert files == {r["file"] for r in ROWS}


def test_technique_from_data_shapes():
    import pandas as pd

    from echem.io import technique_from_data

    t = np.linspace(0, 10, 400)
    sweep = pd.DataFrame({"E_V": -0.01 * t, "I_A": np.exp(t) * 1e-6})
    assert technique_from_data(sweep) == "LSV"
    # one cycle starting mid-window: two reversals, still a CV
    tri = np.concatenate([np.linspace(0.3, 0.8, 100), np.linspace(0.8, 0.0, 160), np.linspace(0.0, 0.3, 60)])
    assert technique_from_data(pd.DataFrame({"E_V": tri, "I_A": np.gradient(tri)})) == "CV"
    hold = pd.DataFrame({"E_V": np.full(50, 0.4), "I_A": np.linspace(1e-3, 5e-4, 50)})
    assert technique_from_data(hold) == "CA"
    ocv = pd.DataFrame({"E_V": np.linspace(0.9, 0.8, 50), "I_A": np.zeros(50)})
    assert technique_from_data(ocv) == "OCV"
