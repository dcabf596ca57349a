"""Fuzzing the readers with damaged real files (hypothesis).

Each example takes a real instrument export (the corpus; MIT files also in tests/data),
damages its bytes the ways files get damaged (bit flips, a cut, a lost or doubled
block, stray bytes, a number turned into text or NaN, lines swapped) and reads it with
:func:`echem.io.read_bytes`. The contract: the result is a valid canonical
:class:`~echem.measurement.Measurement`, or the read raises an
:class:`~echem.errors.EchemError` subclass. Never another exception type, never a hang
(a hypothesis deadline bounds every example).

The examples are the same on every run (derandomized), so a failure reproduces.
``ECHEM_FUZZ_EXAMPLES=500 ECHEM_FUZZ_RANDOM=1`` hunts longer with fresh examples.
"""

from __future__ import annotations

import os
from datetime import timedelta

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from echem.errors import EchemError
from echem.io import read_bytes
from echem.measurement import COLUMNS, REQUIRED_META, Measurement

pytestmark = pytest.mark.corpus

#: One or two files per reader, small enough to parse many times (path in the corpus).
FILES = {
    "biologic-mpt": "dgbowl_yadg/peis.mpt",
    "biologic-mpt-lsv": "ixdat_ixdat-large-test-files/dataset_with_loop_01_02_CVA_DUSB0_C01.mpt",
    "biologic-mpr": "dgbowl_yadg/peis.mpr",
    "gamry-dta": "ECSHackWeek_impedance.py/exampleDataGamry.DTA",
    "chi-txt": "ECSHackWeek_impedance.py/exampleDataCHInstruments.txt",
    "autolab-txt": "ECSHackWeek_impedance.py/exampleDataAutolab.txt",
    "palmsens-csv": "matkrin_proespm-py3/PS241105-14_1.csv",
    "ec4-txt": "matkrin_proespm-py3/CV_185158__1.txt",
    "zahner-ism": "Zahner-elektrik_Zahner-Analysis-Python/rc-data.ism",
    "ivium-idf": "vyrjana_pyimpspec/data.idf",
    "zplot-z": "ECSHackWeek_impedance.py/exampleDataZPlot.z",
    "parstat-txt": "ECSHackWeek_impedance.py/exampleDataParstat.txt",
    "versastudio-par": "ECSHackWeek_impedance.py/exampleDataVersaStudio.par",
    "powersuite-txt": "ECSHackWeek_impedance.py/exampleDataPowersuite.txt",
    "novocontrol-txt": "Sheyigold_EISFitpython/s04147-140deg.txt",
    "generic-csv": "ECSHackWeek_impedance.py/exampleData.csv",
}

#: Formats whose examples are in the peers' corpus (../shared/corpus-peers, tests/test_peers.py).
PEER_FILES = {
    "palmsens-pssession": "vyrjana_pyimpspec/data.pssession",
    "ecochemie-dfr": "vyrjana_pyimpspec/data.dfr",
    "elchemea-i2b": "vyrjana_pyimpspec/data.i2b",
    "spreadsheet-xlsx": "vyrjana_pyimpspec/data.xlsx",
    "spreadsheet-ods": "vyrjana_pyimpspec/data.ods",
    "spreadsheet-fods": "vyrjana_pyimpspec/data.fods",
    "zview-z": "vyrjana_pyimpspec/data.z",
    "biologic-mpt-gcpl": "dgbowl_yadg/gcpl.issue_226.I.mpt",
    "biologic-mpt-mb": "dgbowl_yadg/mb.issue_223.mpt",
    "biologic-mpr-mb": "dgbowl_yadg/mb.issue_223.mpr",
    "biologic-mpr-gcpl": "dgbowl_yadg/gcpl.issue_226.I.mpr",
}

#: Readers another helper is still writing: a failure there is recorded, not fixed here.
#: (format key -> reason); filled from what the fuzzing found, see the report.
KNOWN_BUGS: dict[str, str] = {}

EXAMPLES = int(os.environ.get("ECHEM_FUZZ_EXAMPLES", "12"))
RANDOM = os.environ.get("ECHEM_FUZZ_RANDOM", "") not in ("", "0")

_cache: dict[str, bytes] = {}


def file_name(key: str) -> str:
    return (FILES.get(key) or PEER_FILES[key]).rsplit("/", 1)[-1]


def corpus_bytes(corpus_dir, key: str) -> bytes:
    if key not in _cache:
        if key in FILES:
            _cache[key] = (corpus_dir / FILES[key]).read_bytes()
        else:
            from test_peers import _peers_or_skip

            _cache[key] = (_peers_or_skip() / PEER_FILES[key]).read_bytes()
    return _cache[key]


def assert_valid(m: Measurement) -> None:
    """The canonical contract of a Measurement that a read returned."""
    assert isinstance(m, Measurement)
    d = m.data
    assert len(d) >= 1, "a measurement has at least one row"
    assert set(d.columns) <= set(COLUMNS), f"non-canonical columns {sorted(set(d.columns) - set(COLUMNS))}"
    assert list(d.columns) == [c for c in COLUMNS if c in d.columns], "columns in canonical order"
    assert d.columns.is_unique
    for col in d.columns:
        expected = "int64" if col == "cycle" else "float64"
        assert str(d[col].dtype) == expected, f"{col} is {d[col].dtype}"
    for key in REQUIRED_META:
        assert key in m.meta, f"meta lacks {key}"
    assert len(m.meta["sha256"]) == 64
    if "freq_Hz" in d.columns:
        f = d["freq_Hz"].to_numpy(float)
        assert np.all(np.isfinite(f)) and np.all(f > 0), "EIS frequencies finite and > 0"
        for col in ("Z_re_ohm", "Z_im_ohm"):
            if col in d.columns:
                assert np.all(np.isfinite(d[col].to_numpy(float))), f"{col} finite"
    else:
        for col in ("E_V", "I_A"):
            if col in d.columns:
                assert np.all(np.isfinite(d[col].to_numpy(float))), f"{col} finite"


# ----------------------------------------------------------------------------- damage


@st.composite
def damaged(draw, raw: bytes) -> bytes:
    """1 to 3 kinds of damage that files suffer, at drawn places."""
    data = bytearray(raw)
    for _ in range(draw(st.integers(1, 3))):
        n = len(data)
        if n < 2:
            break
        kind = draw(st.sampled_from(
            ["flip", "cut", "lose", "double", "insert", "text", "nan", "swap", "zeros"]))
        i = draw(st.integers(0, n - 1))
        if kind == "flip":
            data[i] ^= 1 << draw(st.integers(0, 7))
        elif kind == "cut":
            del data[i:]
        elif kind == "lose":
            del data[i:i + draw(st.integers(1, 200))]
        elif kind == "double":
            block = data[i:i + draw(st.integers(1, 400))]
            data[i:i] = block
        elif kind == "insert":
            data[i:i] = draw(st.binary(min_size=1, max_size=32))
        elif kind in ("text", "nan"):
            # a number in the file becomes text / NaN (an edit in a spreadsheet)
            digits = [k for k in range(i, min(n, i + 2000)) if 48 <= data[k] <= 57]
            if digits:
                k = digits[0]
                end = k
                while end < n and (48 <= data[end] <= 57 or data[end] in b".,eE+-"):
                    end += 1
                data[k:end] = b"abc" if kind == "text" else b"NaN"
        elif kind == "swap":
            lines = bytes(data).split(b"\n")
            if len(lines) > 3:
                a = draw(st.integers(0, len(lines) - 1))
                b = draw(st.integers(0, len(lines) - 1))
                lines[a], lines[b] = lines[b], lines[a]
                data = bytearray(b"\n".join(lines))
        elif kind == "zeros":
            data[i:i + draw(st.integers(1, 64))] = bytes(min(64, n - i))
    return bytes(data)


def read_or_refuse(raw: bytes, name: str) -> None:
    try:
        m = read_bytes(raw, name)
    except EchemError as exc:
        assert str(exc).strip(), "an error says what is wrong"
        return
    assert_valid(m)


FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=timedelta(seconds=10),  # a loaded 2-core machine; a hang exceeds it by far
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=not RANDOM,  # the same examples every run, unless hunting with ECHEM_FUZZ_RANDOM=1
    database=None,
)


def _params():
    out = []
    for key in [*FILES, *PEER_FILES]:
        marks = [pytest.mark.xfail(reason=KNOWN_BUGS[key], strict=False)] if key in KNOWN_BUGS else []
        out.append(pytest.param(key, marks=marks, id=key))
    return out


@pytest.mark.parametrize("key", _params())
def test_undamaged_file_is_valid(corpus_dir, key):
    """The starting point: every file read undamaged satisfies the contract."""
    m = read_bytes(corpus_bytes(corpus_dir, key), file_name(key))
    assert_valid(m)


@pytest.mark.parametrize("key", _params())
@FUZZ_SETTINGS
@given(data=st.data())
def test_damaged_file_reads_or_is_refused(corpus_dir, key, data):
    raw = corpus_bytes(corpus_dir, key)
    read_or_refuse(data.draw(damaged(raw), label="damaged bytes"), file_name(key))


@FUZZ_SETTINGS
@given(raw=st.binary(min_size=0, max_size=3000),
       ext=st.sampled_from([".mpt", ".mpr", ".DTA", ".z", ".csv", ".txt", ".ism", ".idf", ".par",
                            ".pssession", ".dfr", ".i2b", ".xlsx", ".ods", ".fods", ""]))
def test_random_bytes_under_any_extension(raw, ext):
    read_or_refuse(raw, f"file{ext}")


@FUZZ_SETTINGS
@given(text=st.text(alphabet=st.sampled_from(list("0123456789.,;\t -+eE\nabcNn/()'\"")), max_size=600),
       ext=st.sampled_from([".mpt", ".DTA", ".z", ".csv", ".txt", ".dfr", ".i2b", ""]))
def test_random_tables_of_numbers(text, ext):
    """Text that looks like a table of numbers: the generic and text readers' hardest case."""
    read_or_refuse(text.encode(), f"table{ext}")


#: Text exports for the truncation property (binary formats have their own checks).
TEXT_FILES = [k for k in [*FILES, *PEER_FILES]
              if k not in ("biologic-mpr", "zahner-ism", "spreadsheet-xlsx", "spreadsheet-ods",
                           "biologic-mpr-mb", "biologic-mpr-gcpl")]

PHYSICAL = ("time_s", "E_V", "I_A", "freq_Hz", "Z_re_ohm", "Z_im_ohm")


@pytest.mark.parametrize("key", [p for p in _params() if p.values[0] in TEXT_FILES])
@FUZZ_SETTINGS
@given(data=st.data())
def test_cut_anywhere_gives_complete_rows_or_an_error(corpus_dir, key, data):
    """A copy cut at any byte: an error, or the first rows of the full file, unchanged.

    Never a cut number read as another one (``-3.183e-05`` as ``-3.1``), never a row
    that the full file does not have. The one thing a cut can leave unseen is a
    free-format number that lost its last digit: the last row is right to 0.1 %.
    """
    raw = corpus_bytes(corpus_dir, key)
    name = file_name(key)
    full = read_bytes(raw, name)
    step = 2 if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else 1  # UTF-16: cut between characters
    cut = data.draw(st.integers(len(raw) // 4, len(raw) - 1), label="cut at byte") // step * step
    try:
        m = read_bytes(raw[:cut], name)
    except EchemError:
        return
    assert_valid(m)
    if m.technique != full.technique:
        return  # the cut removed the section the full file is read for (Parstat: EIS after a DC hold)
    cols = [c for c in PHYSICAL if c in m.data.columns]
    assert cols and set(cols) <= set(full.data.columns)
    n = len(m.data)
    assert n <= len(full.data)
    got, want = m.data[cols].to_numpy(float), full.data[cols].to_numpy(float)[:n]
    np.testing.assert_array_equal(got[:-1], want[:-1])
    # a free-format number that lost only its last digit(s) cannot be told from a whole one
    # (echem.io._text.incomplete_last_line): the last row is right to 0.1 %
    np.testing.assert_allclose(got[-1], want[-1], rtol=1e-3, atol=0)
