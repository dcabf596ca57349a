"""PalmSens PSTrace sessions (.pssession): synthetic sessions in PSTrace's layout.

The peers' corpus holds one real session (tests/test_peers.py compares it with pyimpspec);
these build sessions the way PSTrace writes them (UTF-16 with BOM, one JSON document) to
pin each rule: signs from each array's quantity label, units from the unit type, arrays of
another length left out and listed, several spectra, a DC measurement, refusals.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from echem.errors import EchemError, ReaderError
from echem.io import palmsens_pssession, read_bytes

F = np.logspace(4, 0, 9)
ZRE = 100 + 400 / (1 + (F / 50) ** 2)
ZIM = -400 * (F / 50) / (1 + (F / 50) ** 2)


def array(description, kind, unit_type, symbol, quantity, values):
    return {"Type": "PalmSens.Data.DataArray", "ArrayType": kind, "Description": description,
            "Unit": {"Type": f"PalmSens.Units.{unit_type}", "S": symbol, "Q": quantity, "A": "x"},
            "DataValues": [{"V": float(v)} for v in values]}


def eis_arrays(z_im_quantity="-Z''", z_im=None, n_dc=None):
    z_im = -ZIM if z_im is None else z_im
    n = len(F) if n_dc is None else n_dc
    return [
        array("Idc", 2, "MicroAmpere", "A", "Current", np.full(n, 2.0)),
        array("potential", 1, "Volt", "V", "Potential", np.full(n, 0.1)),
        array("time", 0, "Time", "s", "Time", np.arange(n, dtype=float)),
        array("Frequency", 5, "Hertz", "Hz", "Frequency", F),
        array("ZRe", 7, "ZRe", "Ω", "Z'", ZRE),
        array("ZIm", 8, "ZIm", "Ω", z_im_quantity, z_im),
    ]


def measurement(arrays, method_id="eis", title="Test", data_type="PalmSens.Data.DataSetEIS"):
    return {"Title": title, "TimeStamp": 638283044195322907, "DeviceSerial": "PS4TEST",
            "Method": f"#PSTrace\r\nMETHOD_ID={method_id}\r\nAREA=0.5\r\n",
            "DataSet": {"Type": data_type, "Values": arrays}, "Curves": [], "EISDataList": []}


def session(*measurements, encoding="utf-16") -> bytes:
    doc = {"Type": "PalmSens.DataFiles.SessionFile", "CoreVersion": "5.9", "Measurements": list(measurements)}
    text = json.dumps(doc)
    return text.encode(encoding) if encoding != "utf-16" else b"\xff\xfe" + text.encode("utf-16-le")


def test_spectrum_with_its_signs_and_units():
    m = read_bytes(session(measurement(eis_arrays())), "s.pssession")
    assert m.meta["format"] == "palmsens-pssession" and m.meta["technique"] == "EIS"
    np.testing.assert_allclose(m.data["freq_Hz"], F)
    np.testing.assert_allclose(m.data["Z_re_ohm"], ZRE)
    np.testing.assert_allclose(m.data["Z_im_ohm"], ZIM)  # "-Z''" said the quantity: negated
    np.testing.assert_allclose(m.data["I_A"], 2e-6)  # MicroAmpere
    assert m.meta["area_cm2"] == 0.5 and m.meta["start_time"].startswith("2023-08-22")
    assert "negated" in m.meta["z_im_sign"]


def test_quantity_without_minus_is_taken_as_written():
    m = read_bytes(session(measurement(eis_arrays(z_im_quantity="Z''", z_im=ZIM))), "s.pssession")
    np.testing.assert_allclose(m.data["Z_im_ohm"], ZIM)
    assert "warnings" not in m.meta


def test_name_and_data_disagreeing_is_reported():
    # the label says -Z'' but the values are already negative: honoured, and warned about
    m = read_bytes(session(measurement(eis_arrays(z_im=ZIM))), "s.pssession")
    np.testing.assert_allclose(m.data["Z_im_ohm"], -ZIM)
    assert any("Z'' is positive" in w for w in m.meta["warnings"])


def test_dc_arrays_of_another_length_are_left_out_and_listed():
    m = read_bytes(session(measurement(eis_arrays(n_dc=20))), "s.pssession")
    assert set(m.data.columns) == {"cycle", "freq_Hz", "Z_re_ohm", "Z_im_ohm"}
    assert len(m.meta["arrays_ignored"]) == 3


def test_several_impedance_measurements_are_several_spectra():
    m = read_bytes(session(measurement(eis_arrays(), title="a"), measurement(eis_arrays(), title="b")),
                   "s.pssession")
    assert m.meta["n_spectra"] == 2 and m.data.groupby("cycle").size().tolist() == [len(F), len(F)]
    assert m.meta["measurements"] == ["a", "b"]


def test_a_cv_measurement():
    E = np.r_[np.linspace(0, 1, 50), np.linspace(1, 0, 50)]
    arrays = [array("time", 0, "Time", "s", "Time", np.arange(100) * 0.1),
              array("potential", 1, "Volt", "V", "Potential", E),
              array("current", 2, "MilliAmpere", "A", "Current", E * 2)]
    m = read_bytes(session(measurement(arrays, method_id="cv", data_type="PalmSens.Data.DataSet")), "cv.pssession")
    assert m.meta["technique"] == "CV"
    np.testing.assert_allclose(m.data["I_A"], E * 2e-3)


def test_two_dc_measurements_are_refused_by_name():
    arrays = [array("potential", 1, "Volt", "V", "Potential", [0, 1, 2]),
              array("current", 2, "Ampere", "A", "Current", [0, 1, 2])]
    raw = session(measurement(arrays, "cv", "first", "PalmSens.Data.DataSet"),
                  measurement(arrays, "cv", "second", "PalmSens.Data.DataSet"))
    with pytest.raises(ReaderError, match=r"2 measurements.*'first'.*one by one"):
        read_bytes(raw, "two.pssession")


def test_utf8_session_and_trailing_bytes():
    raw = session(measurement(eis_arrays()), encoding="utf-8") + b"\r\n\x00"
    assert palmsens_pssession.sniff(raw, "x.pssession")
    assert len(read_bytes(raw, "x.pssession").data) == len(F)


def test_cut_session_is_refused():
    raw = session(measurement(eis_arrays()))
    with pytest.raises(EchemError, match="damaged|cut"):
        read_bytes(raw[: len(raw) // 2], "cut.pssession")
