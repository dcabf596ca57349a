"""Long tables read in C (echem/io/_long.py) give what the careful path gives, to the bit.

For every file the registry reads twice: with the fast path forced (``_long.MIN_BYTES = 0``)
and with it off (``math.inf``); the two results must be equal: the same data (exact floats,
dtypes), the same meta (warnings, truncation), or the same error (type and message). Files:
the real EC-Lab and Gamry exports of the corpus, the peers' corpus and the demo, the damage
tests/damage.py makes of them, and long synthetic chronopotentiometries (EC-Lab 16 columns,
Gamry CHRONOP) with damage at the head, in the middle and at the end, cut at every byte of
their last row, in other encodings and locales, and randomly damaged (hypothesis). The head,
end and part sizes are made small so that files of a few hundred kB take every branch a
440 MB file takes.

Where the comparison would be vacuous (the fast path declined, the careful path ran twice),
the tests say so: clean files must be *taken* by the fast path.
"""

from __future__ import annotations

import hashlib
import math
import re
from pathlib import Path

import damage
import numpy as np
import pandas as pd
import pytest
from conftest import CORPUS, corpus_manifest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_fuzz_readers import damaged
from test_text_fast import variants

from echem import io
from echem.io import _long, _text, biologic_mpt, gamry_dta

ROOT = Path(__file__).resolve().parents[2]
PEERS = ROOT.parent / "shared" / "corpus-peers"
LONG_READERS = (biologic_mpt, gamry_dta)

# --------------------------------------------------------------------------- reading both ways


class Taken:
    """Records whether a reader's parse_long vouched for its result."""

    def __init__(self, monkeypatch):
        self.calls: list[bool] = []
        for module in LONG_READERS:
            original = module.parse_long

            def wrapped(source, name, original=original):
                result = original(source, name)
                self.calls.append(result is not None)
                return result

            monkeypatch.setattr(module, "parse_long", wrapped)

    @property
    def taken(self) -> bool:
        return any(self.calls)


@pytest.fixture
def taken(monkeypatch) -> Taken:
    return Taken(monkeypatch)


@pytest.fixture
def small(monkeypatch):
    """Head, end, parts and chunks small enough for files of a few hundred kB to be long."""
    monkeypatch.setattr(_long, "HEAD_BYTES", 1 << 16)
    monkeypatch.setattr(_long, "TAIL_BYTES", 1 << 13)
    monkeypatch.setattr(_long, "PART_MIN_BYTES", 1 << 15)
    monkeypatch.setattr(_long, "CHUNK_ROWS", 700)


def read_way(raw: bytes, name: str, fast: bool, monkeypatch):
    monkeypatch.setattr(_long, "MIN_BYTES", 0 if fast else math.inf)
    try:
        return io.read_bytes(raw, name)
    except Exception as exc:  # noqa: BLE001 - errors are compared too
        return exc


def assert_same(fast, careful, what: str = "") -> None:
    if isinstance(careful, Exception) or isinstance(fast, Exception):
        assert type(fast) is type(careful), f"{what}: {fast!r} vs {careful!r}"
        assert str(fast) == str(careful), what
        return
    pd.testing.assert_frame_equal(fast.data, careful.data, check_exact=True, obj=what)
    for col in fast.data.columns:  # exact to the bit, -0.0 and NaN included
        a, b = fast.data[col].to_numpy(), careful.data[col].to_numpy()
        assert a.dtype == b.dtype and a.tobytes() == b.tobytes(), f"{what}: {col}"
    assert same_meta(fast.meta, careful.meta), f"{what}: meta differ:\n{fast.meta}\n{careful.meta}"


def same_meta(a, b) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_meta(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(same_meta(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return type(a) is type(b) and a == b


def both(raw: bytes, name: str, monkeypatch, taken: Taken, what: str = ""):
    """(fast result, careful result, whether the fast path vouched), checked equal."""
    taken.calls.clear()
    fast = read_way(raw, name, True, monkeypatch)
    was_taken = taken.taken
    careful = read_way(raw, name, False, monkeypatch)
    assert_same(fast, careful, what or name)
    return fast, careful, was_taken


# --------------------------------------------------------------------------- real files

TEXT_SUFFIXES = (".mpt", ".dta")


def real_files() -> list[Path]:
    files = [p for p in sorted((ROOT / "raw").rglob("*")) if p.suffix.lower() in TEXT_SUFFIXES]
    for folder in (CORPUS, PEERS):
        if folder.is_dir():
            files += [p for p in sorted(folder.rglob("*")) if p.suffix.lower() in TEXT_SUFFIXES]
    return files


REAL = real_files()
#: Clean files the fast path leaves to the careful path, and why.
DECLINED = {
    # Gamry CVs: one CURVE table per cycle (the fast path reads one table that runs to the end)
    **{p.name: "several CURVE tables" for p in REAL if p.suffix == ".DTA" and p.name.startswith("cv_")},
    "DHM-15-CV-Demo.DTA": "several CURVE tables",
    # no rows: the careful path's error
    "multiple_techniques_dataset_01_07_ZIR_C01.mpt": "no rows",
    "wait.mpt": "no rows",
    "wait.old.mpt": "no rows",
    "zir.mpt": "fewer than 3 rows",
    # a Modulo Bat export whose columns change between numbers and nothing (impedance points)
    "mb.issue_149.mpt": "columns mixing numbers and empty cells",
}


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT.parent)) if ROOT.parent in path.parents else path.name


@pytest.mark.corpus
@pytest.mark.parametrize("path", REAL, ids=[_rel(p) for p in REAL])
def test_real_files_read_alike(path, monkeypatch, taken):
    fast, careful, was_taken = both(path.read_bytes(), path.name, monkeypatch, taken)
    if path.name in DECLINED:
        return
    if isinstance(careful, Exception):
        return  # the careful path refuses the file; so does the fast one, with the same words
    assert was_taken, f"{path.name}: a clean file the fast path should read"


CORPUS_TEXT = [CORPUS / r["file"] for r in corpus_manifest() if r["file"].lower().endswith(TEXT_SUFFIXES)]
DEMO = [p for d in ("PtMG_as-cast", "PtMG_UV50J_84h", "PtMG_as-cast_84h", "LLZO_650C") for p in sorted((ROOT / "raw" / d).glob("*"))
        if p.suffix.lower() in TEXT_SUFFIXES]


@pytest.mark.corpus
@pytest.mark.parametrize("path", CORPUS_TEXT + DEMO, ids=[_rel(p) for p in CORPUS_TEXT + DEMO])
def test_damaged_real_files_read_alike(path, monkeypatch, taken):
    """The damage tests/damage.py makes of real files (text and NaN cells, NaN rows, cuts in
    the last rows and in the header, decimal commas in Windows-1252, UTF-16)."""
    for what, raw in variants(path.read_bytes()).items():
        both(raw, path.name, monkeypatch, taken, f"{path.name}, {what}")


# --------------------------------------------------------------------------- long synthetic files


def _e(values: np.ndarray, digits: int) -> list[str]:
    """EC-Lab's %.nE with three exponent digits."""
    return [re.sub(r"e([+-])(\d\d)$", r"E\g<1>0\2", f"{v:.{digits}e}") for v in values]


def eclab_cp(n: int = 3000, *, decimal: str = ".", encoding: str = "cp1252", newline: str = "\r\n",
             final_newline: bool = True, seed: int = 7) -> bytes:
    """An EC-Lab chronopotentiometry export: the 16 columns of a real one, ``°C`` and ``cm²`` in
    the header."""
    rng = np.random.default_rng(seed)
    t = np.arange(1, n + 1) * 0.1
    E = -0.98 - 1e-3 * rng.standard_normal(n)
    I_mA = -1.96 * (1 + 2e-4 * rng.standard_normal(n))
    dq = I_mA * 1e-4
    header = ["EC-Lab ASCII FILE", "Nb header lines : 0", "", "Chronopotentiometry", "",
              "Acquisition started on : 05/15/2023 09:30:00.000", "Comments : 25 °C, synthetic",
              "Reference electrode : Hg/HgO (1 M KOH) (0.140 V)", "Electrode surface area : 0.196 cm²",
              "Is                  -1.960", "unit Is             mA", "", ""]
    header.append("mode\tox/red\terror\tcontrol changes\tNs changes\tcounter inc.\tNs\ttime/s\tcontrol/mA\tEwe/V"
                  "\tI/mA\tdQ/C\t(Q-Qo)/C\thalf cycle\tI Range\tcycle number\t")
    header[1] = f"Nb header lines : {len(header)}"
    columns = [_e(t, 15), _e(np.full(n, -1.96), 7), _e(E, 7), _e(I_mA, 7), _e(dq, 7), _e(np.cumsum(dq), 7)]
    rows = ["1\t0\t0\t0\t0\t0\t0\t" + "\t".join(cells) + "\t0\t37\t0.000000000000000E+000" for cells in zip(*columns)]
    if decimal == ",":
        rows = [r.replace(".", ",") for r in rows]
        header = [re.sub(r"(?<=\d)\.(?=\d)", ",", h) for h in header]
    text = newline.join(header + rows) + (newline if final_newline else "")
    return text.encode(encoding)


def gamry_cp(n: int = 3000, *, decimal: str = ".", encoding: str = "cp1252", newline: str = "\r\n",
             final_newline: bool = True, seed: int = 7) -> bytes:
    """A Gamry CHRONOP .DTA: a header with notes, one CURVE table of 10 columns (Over as text)."""
    rng = np.random.default_rng(seed)
    t = np.arange(1, n + 1) * 0.1
    E = -0.98 - 1e-3 * rng.standard_normal(n)
    I_A = -1.96e-3 * (1 + 2e-4 * rng.standard_normal(n))
    header = ["EXPLAIN", "TAG\tCHRONOP", "TITLE\tLABEL\tChronopotentiometry Scan\tTest &Identifier",
              "DATE\tLABEL\t5/15/2023\tDate", "TIME\tLABEL\t09:30:00\tTime", "NOTES\tNOTES\t1\t&Notes...",
              "\tsynthetic, 25 °C", "PSTAT\tPSTAT\tREF3000-31415\tPotentiostat",
              "IINIT\tQUANT\t-1.96000E-003\tPre-step current (A)", "SAMPLETIME\tQUANT\t1.00000E-001\tSample &Period (s)",
              "AREA\tQUANT\t1.96000E-001\tSample &Area (cm^2)", "CURVE\tTABLE",
              "\tPt\tT\tVf\tIm\tVu\tSig\tAch\tIERange\tOver\tTemp",
              "\t#\ts\tV vs. Ref.\tA\tV\tV\tV\t#\tbits\tdeg C"]
    rows = [f"\t{k}\t{tk:.8g}\t{e:.5E}\t{i:.5E}\t0.00000E+00\t0.00000E+00\t0.00000E+00\t5\t...........\t-327.67"
            for k, (tk, e, i) in enumerate(zip(t, E, I_A))]
    if decimal == ",":
        rows = [r.replace(".....", "#").replace(".", ",").replace("#", ".....") for r in rows]
        header = [re.sub(r"(?<=\d)\.(?=\d)", ",", h) for h in header]
    text = newline.join(header + rows) + (newline if final_newline else "")
    return text.encode(encoding)


MAKERS = {"cp.mpt": eclab_cp, "cp.DTA": gamry_cp}


def edit_row(raw: bytes, k: int, edit) -> bytes:
    """``raw`` with data row ``k`` (negative: from the end) replaced by ``edit(row)`` (text)."""
    lines, encoding = damage.lines_of(raw)
    rows = [i for i, line in enumerate(lines) if re.match(r"\t?\d", line) and line.count("\t") >= 9]
    i = rows[k]
    body = lines[i].rstrip("\r\n")
    lines[i] = edit(body) + lines[i][len(body):]
    return "".join(lines).encode(encoding)


def cell(j: int, value: str):
    """An edit putting ``value`` in cell ``j`` of a row."""
    def edit(row: str) -> str:
        cells = row.split("\t")
        cells[j] = value
        return "\t".join(cells)
    return edit


#: (name, edit) applied to one row; cell indices count the leading empty cell of Gamry rows.
EDITS = {
    "read column n/a": lambda name: cell(8 if name.endswith("mpt") else 3, "n/a"),
    "unused column text": lambda name: cell(12 if name.endswith("mpt") else 5, "overload"),
    "unused column 1.2.3": lambda name: cell(1 if name.endswith("mpt") else 8, "1.2.3"),
    "unused column empty": lambda name: cell(2 if name.endswith("mpt") else 6, ""),
    "unused column NaN": lambda name: cell(11 if name.endswith("mpt") else 6, "NaN"),
    "unused column inf": lambda name: cell(11 if name.endswith("mpt") else 6, "inf"),
    "number with a plus sign": lambda name: cell(11 if name.endswith("mpt") else 6, "+1.5E-003"),
    "number with blanks": lambda name: cell(11 if name.endswith("mpt") else 6, " 1.5E-003 "),
    "integer in a float column": lambda name: cell(9 if name.endswith("mpt") else 3, "-1"),
    "quoted number": lambda name: cell(11 if name.endswith("mpt") else 6, '"1.5"'),
    "text column a number": lambda name: cell(1 if name.endswith("mpt") else 9, "7"),
    "text column other text": lambda name: cell(1 if name.endswith("mpt") else 9, "..I........"),
    "NUL in a cell": lambda name: cell(11 if name.endswith("mpt") else 6, "1.5\x00"),
    "non-ASCII in a cell": lambda name: cell(1 if name.endswith("mpt") else 9, "µ"),
    "decimal comma in a point file": lambda name: cell(9 if name.endswith("mpt") else 3, "-0,98"),
    "cell missing": lambda name: (lambda row: row.rsplit("\t", 1)[0]),
    "cell too many": lambda name: (lambda row: row + "\t0"),
    "NaN row before": lambda name: (lambda row: "\t".join(["NaN"] * row.count("\t")) + "\t\r\n" + row),
    "blank line before": lambda name: (lambda row: "\r\n" + row),
    "blanks line before": lambda name: (lambda row: "   \r\n" + row),
    "tab line before": lambda name: (lambda row: "\t\r\n" + row),
    "CR line end": lambda name: (lambda row: row + "\r" + row),
    "LF line end": lambda name: (lambda row: row + "\n" + row),
    "column names again": lambda name: (lambda row: ("mode\tox/red\terror" if name.endswith("mpt") else
                                                     "\tPt\tT\tVf\tIm\tVu\tSig\tAch\tIERange\tOver\tTemp") + "\r\n" + row),
    "footer after": lambda name: (lambda row: row + "\r\nEXPERIMENTABORTED\tTOGGLE\tT"),
}
ROWS = [2, 40, 1500, -3, -2, -1]


@pytest.mark.parametrize("name", list(MAKERS))
def test_long_clean_files_are_taken(name, monkeypatch, taken, small):
    for options in ({}, {"decimal": ","}, {"encoding": "utf-8"}, {"encoding": "utf-8-sig"}, {"newline": "\n"},
                    {"final_newline": False}, {"n": 40}, {"n": 250}):
        raw = MAKERS[name](**options)
        fast, careful, was_taken = both(raw, name, monkeypatch, taken, f"{name} {options}")
        assert was_taken, f"{name} {options}"
        assert len(fast.data) == options.get("n", 3000)
    raw = MAKERS[name](newline="\r")  # line breaks are CR only: no LF to cut the head at
    both(raw, name, monkeypatch, taken)


@pytest.mark.parametrize("name", list(MAKERS))
@pytest.mark.parametrize("edit", list(EDITS))
def test_long_files_with_a_damaged_row_read_alike(name, edit, monkeypatch, taken, small):
    raw = MAKERS[name]()
    for k in ROWS:
        both(edit_row(raw, k, EDITS[edit](name)), name, monkeypatch, taken, f"{name}, {edit} at row {k}")


@pytest.mark.parametrize("name", list(MAKERS))
@pytest.mark.parametrize("decimal", [".", ","])
def test_long_files_cut_at_every_byte_of_their_end(name, decimal, monkeypatch, taken, small):
    """A copy cut anywhere in its last two rows (the common case: read while still written)."""
    raw = MAKERS[name](n=800, decimal=decimal)  # (longer than the head)
    body = raw.rstrip(b"\r\n")
    last = body.rfind(b"\n") + 1
    before = body.rfind(b"\n", 0, last - 1) + 1
    ends = list(range(before, last, 9)) + list(range(last, len(raw) + 1))
    vouched = 0
    for end in ends:
        fast, careful, was_taken = both(raw[:end], name, monkeypatch, taken, f"{name} cut at {end - len(raw)}")
        vouched += was_taken
    assert vouched > len(ends) // 2  # most cuts are decided by the fast path


@pytest.mark.parametrize("name", list(MAKERS))
def test_long_files_with_blank_lines_at_the_end(name, monkeypatch, taken, small):
    raw = MAKERS[name]()
    for tail in (b"\r\n", b"\r\n\r\n\r\n", b"   \r\n", b"\x00\x00", b"\x1a", b"  "):
        both(raw + tail, name, monkeypatch, taken, f"{name} + {tail!r}")
    body = raw.rstrip(b"\r\n")
    last = body.rfind(b"\n") + 1
    both(body[:last] + b"\r\n" + body[last:], name, monkeypatch, taken, "blank line before the last line")


def test_long_files_with_an_edited_header(monkeypatch, taken, small):
    raw = eclab_cp()
    for n in (5, 12, 14, 15, 16, 5000):
        both(damage.claim_header_lines(raw, n), "cp.mpt", monkeypatch, taken, f"Nb header lines : {n}")
    text = gamry_cp().decode("cp1252")
    both(text.replace("CURVE\tTABLE", "CURVE\tTABLE\t3100").encode("cp1252"), "cp.DTA", monkeypatch, taken)
    both(text.replace("CURVE\tTABLE", "CURVE\tTABLE\t2000").encode("cp1252"), "cp.DTA", monkeypatch, taken)
    both(text.replace("TAG\tCHRONOP", "TAG\tCORPOT").encode("cp1252"), "cp.DTA", monkeypatch, taken)
    both(text.replace("\tVf\t", "\tVx\t").encode("cp1252"), "cp.DTA", monkeypatch, taken)
    both(text.replace("\tV vs. Ref.\t", "\tkV\t").encode("cp1252"), "cp.DTA", monkeypatch, taken)
    both(text.replace("CURVE\tTABLE", "EXPERIMENTABORTED\tTOGGLE\tT\r\nCURVE\tTABLE").encode("cp1252"),
         "cp.DTA", monkeypatch, taken)


LONG_SETTINGS = settings(max_examples=25, deadline=None, derandomize=True, database=None,
                         suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                HealthCheck.function_scoped_fixture])


@pytest.mark.parametrize("name", list(MAKERS))
@LONG_SETTINGS
@given(data=st.data())
def test_long_files_randomly_damaged_read_alike(name, data, monkeypatch, taken, small):
    raw = MAKERS[name](n=1200)
    both(data.draw(damaged(raw), label="damaged bytes"), name, monkeypatch, taken)


# --------------------------------------------------------------------------- read(path)


@pytest.mark.parametrize("name", list(MAKERS))
def test_read_of_a_long_file_is_read_bytes(name, tmp_path, monkeypatch, taken, small):
    """``read(path)`` of a long file reads it by range (never whole) and gives what
    ``read_bytes`` gives, the sha256 of the file included."""
    raw = MAKERS[name]()
    for variant, data in {"clean": raw, "cut": raw[:-7], "damaged": edit_row(raw, 1500, cell(1, "n/a"))}.items():
        path = tmp_path / name
        path.write_bytes(data)
        monkeypatch.setattr(_long, "MIN_BYTES", 0)
        taken.calls.clear()
        by_range = read_way_path(path)
        assert (variant != "damaged") == taken.taken, variant
        careful = read_way(data, name, False, monkeypatch)
        if not isinstance(careful, Exception):
            careful.meta["source"] = str(path)
        assert_same(by_range, careful, variant)
        if not isinstance(careful, Exception):
            assert by_range.meta["sha256"] == hashlib.sha256(data).hexdigest()


def read_way_path(path: Path):
    try:
        return io.read(path)
    except Exception as exc:  # noqa: BLE001 - errors are compared too
        return exc


def test_head_sniffers_look_at_the_first_4_kB_only():
    """read(path) finds the reader of a long file from its head: the sniffers asked before the
    readers with parse_long must decide on the first 4 kB."""
    samples = [eclab_cp(), gamry_cp(), b"\x00" * 5000, b"EXPLAIN\r\nTAG\tCV\r\n" + b"x" * 5000]
    samples += [p.read_bytes() for p in REAL[:20]]
    names = [m.__name__.rsplit(".", 1)[-1] for m in io.readers()]
    for module in io.readers():
        short = module.__name__.rsplit(".", 1)[-1]
        if short not in io._HEAD_SNIFFERS:
            continue
        for raw in samples:
            for tail in (b"", b"garbage\r\n" * 100, bytes(range(256)) * 10):
                assert module.sniff(raw[:4096] + tail, "f.mpt") == module.sniff(raw[:4096], "f.mpt")
    assert names[:len(io._HEAD_SNIFFERS)] == list(io._HEAD_SNIFFERS)


# --------------------------------------------------------------------------- the damage check's parts


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(text=st.text(alphabet=st.sampled_from(list("0123456789.,;\t -+eE\nabcNn/\r")), max_size=800))
def test_damage_scan_is_damaged_rows(text):
    found, _ = _text.damage_scan(text)
    assert found == _text.damaged_rows(text)
    assert _text.damage_scan(text, delimiter=_text.end_delimiter(text))[0] == found
