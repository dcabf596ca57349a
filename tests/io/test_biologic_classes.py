"""EC-Lab exports that genuine runs produce and that were once refused or misread.

Each test builds a small .mpt the way EC-Lab writes it, with the feature of one class of
real files in ../shared/corpus-peers (yadg's test files; tests/test_peers.py reads those):
a technique-parameter block in the header (GCPL, Modulo Bat), a column row with names
for which no values follow (PEIS recording Ewe-Ece), an OCV export with few columns,
<Ewe> written as 0, headerless battery exports. Plus the .mpr column rules that do not
need a file.
"""

from __future__ import annotations

import numpy as np
import pytest

from echem.errors import ReaderError
from echem.io import biologic_mpr, biologic_mpt, read_bytes

PARAMETERS = """Ns                  0                   1                   2                   
Set I/C             I                   I                   I                   
Is                  0.000               120.000             -120.000            
unit Is             mA                  \xb5A                  \xb5A                  
vs.                 <None>              <None>              <None>              
N                   1.00                1.00                1.00                
I sign              > 0                 > 0                 < 0                 
t1 (h:m:s)          0:00:0.0000         0:01:0.0000         0:01:0.0000         
I Range             100 \xb5A              100 \xb5A              100 \xb5A              
ctrl_trigger        Falling Edge        Falling Edge        Falling Edge        
dE1 (mV)            0.00                0.00                0.00                
EM (V)              0.000               1.700               0.700               """


def mpt(label: str, columns: list[str], rows: list[list[str]], parameters: str = PARAMETERS) -> bytes:
    header = ["EC-Lab ASCII FILE", "Nb header lines : {n}", "", label, "",
              "Acquisition started on : 03/02/2021 16:17:59.000",
              "Electrode surface area : 1.000 cm\xb2", *parameters.splitlines(), ""]
    n = len(header) + 1
    header[1] = header[1].format(n=n)
    lines = header + ["\t".join(columns)] + ["\t".join(r) for r in rows]
    return ("\r\n".join(lines) + "\r\n").encode("cp1252")


def gcpl_rows(n=8):
    t = np.arange(n) * 10.0
    return [[f"{x:.6E}", f"{3.0 + 0.01 * k:.7E}", f"{0.12:.7E}", "1"] for k, x in enumerate(t)]


def test_gcpl_with_its_parameter_block_reads_and_is_named():
    raw = mpt("Galvanostatic Cycling with Potential Limitation", ["time/s", "Ewe/V", "<I>/mA", "cycle number"],
              gcpl_rows())
    m = read_bytes(raw, "gcpl.mpt")
    assert len(m.data) == 8
    assert m.meta["technique"] is None and m.meta["technique_code"] == "GCPL"
    assert m.meta["technique_label"] == "Galvanostatic Cycling with Potential Limitation"
    assert "not analysed" in m.meta["technique_source"]


def test_a_damaged_row_inside_the_table_is_still_refused():
    rows = gcpl_rows()
    rows[4][1] = "abc"
    with pytest.raises(ReaderError, match="inside the data table"):
        read_bytes(mpt("Chronopotentiometry", ["time/s", "Ewe/V", "<I>/mA", "cycle number"], rows), "cp.mpt")


def test_names_without_values_at_the_end_of_the_column_row():
    columns = ["freq/Hz", "Re(Z)/Ohm", "-Im(Z)/Ohm", "time/s", "<Ewe>/V", "<I>/mA", "<Ece>/V", "", "Ewe-Ece/V"]
    freq = np.logspace(5, 0, 11)
    rows = [[f"{f:.7E}", "1.0E+001", f"{5 + k:.7E}", f"{k:.6E}", "1.0E-001", "1.0E-003", "5.0E-001"]
            for k, f in enumerate(freq)]
    m = read_bytes(mpt("Potentio Electrochemical Impedance Spectroscopy", columns, rows, ""), "peis.mpt")
    assert len(m.data) == 11 and m.meta["technique"] == "EIS"
    assert any("'Ewe-Ece/V' have no values" in w for w in m.meta["warnings"])


def test_one_short_row_is_still_a_cut_file():
    columns = ["time/s", "Ewe/V", "<I>/mA"]
    rows = [[f"{k}.0", "1.0", "2.0"] for k in range(6)]
    rows[3] = ["3.0", "1.0"]
    with pytest.raises(ReaderError, match="has 2 of 3 values"):
        read_bytes(mpt("Chronoamperometry / Chronocoulometry", columns, rows, ""), "ca.mpt")


def test_ocv_export_with_unusual_columns():
    rows = [["0", "0", f"{k:.6E}", f"{0.9 - 0.001 * k:.7E}"] for k in range(10)]
    m = read_bytes(mpt("Open Circuit Voltage", ["mode", "error", "time/s", "<Ewe/V>"], rows, ""), "ocv.mpt")
    assert m.meta["technique"] == "OCV" and len(m.data) == 10


def test_ewe_written_as_zero_is_rebuilt_from_ewe_ece_and_ece():
    columns = ["time/s", "<Ewe>/V", "I/mA", "<Ece>/V", "P/W", "Ewe-Ece/V"]
    rows = []
    for k in range(10):
        ewe, ece = -3.4 - 0.01 * k, 5.2
        written = ewe if k < 2 else 0.0
        rows.append([f"{k:.6E}", f"{written:.7E}", "-1.0E+002", f"{ece:.7E}", f"{ewe * -0.1:.7E}",
                     f"{ewe - ece:.7E}"])
    m = read_bytes(mpt("Chronopotentiometry", columns, rows, ""), "cp.mpt")
    np.testing.assert_allclose(m.data["E_V"], [-3.4 - 0.01 * k for k in range(10)], atol=1e-6)
    assert any("exactly 0 on 8 of 10 rows" in w for w in m.meta["warnings"])


def test_headerless_battery_export_is_not_a_cv():
    t = np.arange(40.0)
    E = 3 + 0.5 * np.abs(np.sin(t / 6))
    lines = ["mode\tox/red\ttime/s\tEwe/V\t<I>/mA\thalf cycle\tQ charge/discharge/mA.h"]
    lines += [f"1\t0\t{x:.6E}\t{e:.7E}\t{0.1 if k % 20 < 10 else -0.1:.7E}\t{k // 10}\t0.0"
              for k, (x, e) in enumerate(zip(t, E))]
    m = read_bytes(("\r\n".join(lines) + "\r\n").encode(), "run.mpt")
    assert m.meta["technique"] is None and "battery-cycling" in m.meta["technique_source"]


@pytest.mark.parametrize("technique_id, label", sorted(biologic_mpr.TECHNIQUE_IDS.items()))
def test_every_mpr_technique_id_has_the_mpt_label_meaning(technique_id, label):
    """.mpr (by ID) and .mpt (by label) of one run get one technique: the same table."""
    assert label in biologic_mpt.ECLAB_TECHNIQUES
    code, technique = biologic_mpt.ECLAB_TECHNIQUES[label]
    meta = biologic_mpt.technique_meta(label)
    assert meta.get("technique") == technique and meta["technique_code"] == code


def test_mpr_context_columns():
    # 174 is Phase(Zwe-ce) beside Ewe/<Ewe>, <Ewe> otherwise
    assert biologic_mpr._context_columns([77, 174], 0x1D)[174][0] == "Phase(Zwe-ce)/deg"
    assert 174 not in biologic_mpr._context_columns([174], 0x1D)
    # 498..503 are |Ece h2..h7| (float32) with the Ewe and I harmonics recorded
    ids = list(range(486, 504))
    specs = biologic_mpr._context_columns(ids, 0x1D)
    assert specs[503] == ("|Ece h7|/V", "<f4")
    assert 498 not in biologic_mpr._context_columns([498, 499], 0x04)
    # BCD records the cell voltage under ID 6
    assert biologic_mpr._context_columns([6, 8], 0x88)[6][0] == "Ecell/V"


def test_mpr_record_size_must_match_the_columns():
    B = biologic_mpr._galvani()
    with pytest.raises(ReaderError, match="bytes per point"):
        biologic_mpr._column_specs(B, [4, 6], n_points=10, n_bytes=10 * 16, technique_id=0x06)
    specs, opaque = biologic_mpr._column_specs(B, [4, 6], n_points=10, n_bytes=10 * 12, technique_id=0x06)
    assert specs == {} and opaque == []


def test_current_of_a_gcpl_mpr_from_dq():
    columns = {"time/s": np.array([0.0, 1.0, 3.0]), "Ewe/V": np.array([3.0, 3.1, 3.2]),
               "dq/mA.h": np.array([0.0, 1 / 3600, 4 / 3600])}
    m = biologic_mpt.build_measurement(columns, {})
    np.testing.assert_allclose(m.data["I_A"], [0.0, 1e-3, 2e-3])
    assert m.meta["columns_used"]["I_A"].startswith("dq/mA.h")


def test_modulo_bat_polar_impedance():
    phase = np.array([-10.0, -45.0, -80.0])
    columns = {"freq/Hz": np.array([1e3, 1e2, 1e1]), "|Z|/Ohm": np.array([10.0, 20.0, 30.0]),
               "Phase(Z)/deg": phase, "time/s": np.arange(3.0), "Ewe/V": np.ones(3)}
    m = biologic_mpt.build_measurement(columns, {})
    np.testing.assert_allclose(m.data["Z_im_ohm"], [10 * np.sin(np.radians(-10)), 20 * np.sin(np.radians(-45)),
                                                    30 * np.sin(np.radians(-80))])
    assert np.all(m.data["Z_re_ohm"] > 0)


def test_mpr_of_an_unknown_technique_is_named_not_guessed(corpus_dir, monkeypatch):
    """An EC-Lab technique ID echem does not know: not analysed, never guessed from the data."""
    ids = dict(biologic_mpr.TECHNIQUE_IDS)
    del ids[0x6C]
    monkeypatch.setattr(biologic_mpr, "TECHNIQUE_IDS", ids)
    m = read_bytes((corpus_dir / "dgbowl_yadg/lsv.mpr").read_bytes(), "lsv.mpr")
    assert m.meta["technique"] is None and "0x6C" in m.meta["technique_source"]
    assert any("export the run as .mpt" in w for w in m.meta["warnings"])
