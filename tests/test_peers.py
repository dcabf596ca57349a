"""echem's readers against the peers' own readers, on every file of ../shared/corpus-peers.

The folder (``../shared/corpus-peers``, beside the repository; ``ECHEM_CORPUS_PEERS``
overrides) holds 149 test files of yadg, pyimpspec, impedance.py and ixdat, each with
``<file>.ref.json``: what the peer's own reader gives (row and spectrum counts, per
canonical column its count, first, last, min, max and three sampled values). Each file is
read with :func:`echem.io.read`, put in the peer's row order and compared (its README:
counts exact, values within rtol 1e-6, a reference 0 within 1e-12; yadg stores .mpr
values as float32, and echem reads the same float32 numbers, so 1e-6 holds there too).

Where the peer is wrong the test pins echem's right value instead and says why
(:data:`KNOWN`); where the peer refuses a file, echem reads it right (against another
reference of the same data) or refuses it with a message that says what is missing.
Rows that are not impedance points (frequency 0: the battery cycling of a Modulo Bat run,
the hold before a GEIS) are counted by yadg and left out by :func:`echem.io.read` (they
are not part of a spectrum, ``meta["rows_dropped"]`` counts them): for those files the
reader's own table (``parse``, before the registry drops them) is compared with the
reference, and :func:`read` is checked to keep exactly the impedance points. yadg gives
EC-Lab's ``cycle number``; echem's ``cycle`` of a spectrum file is the spectrum number,
so that comparison is done on the reader's table too, and the number of spectra is
checked on its own.

:func:`agreement` classifies every file (agrees / documented disagreement / refused with
a message) for the figures in reports.
"""

from __future__ import annotations

import csv
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from echem import io
from echem.errors import EchemError

ROOT = Path(__file__).resolve().parents[1]
PEERS = Path(os.environ.get("ECHEM_CORPUS_PEERS", ROOT.parent / "shared" / "corpus-peers"))

pytestmark = pytest.mark.corpus

RTOL = 1e-6
ZERO = 1e-12


def _peers_or_skip() -> Path:
    """Path of ../shared/corpus-peers; skips locally when absent, fails under CI=true."""
    if (PEERS / "MANIFEST.tsv").is_file():
        return PEERS
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"the peer reader corpus is missing at {PEERS}; CI must run the peer comparison")
    pytest.skip(f"peer corpus not found at {PEERS} (set ECHEM_CORPUS_PEERS)")


def manifest() -> list[dict[str, str]]:
    path = PEERS / "MANIFEST.tsv"
    if not path.is_file():
        return []
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


ROWS = manifest()
FILES = [r["file"] for r in ROWS]


def ref_of(rel: str) -> dict:
    return json.loads((PEERS / f"{rel}.ref.json").read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- what the peer gets wrong

YADG = "dgbowl_yadg/"
PYIMPSPEC = "vyrjana_pyimpspec/"

#: GCPL .mpr for which yadg gives no current (10 files; the README's first known case).
GCPL_MPR = {f for f in FILES if f.startswith(YADG + "gcpl") and f.endswith(".mpr")}


@dataclass(frozen=True)
class Known:
    """A file on which echem and the peer differ, and why echem's reading is the right one."""

    why: str
    outcome: str = "documented"  # or "refused": echem refuses the file with a message


KNOWN: dict[str, Known] = {
    **{f: Known("yadg gives no current for GCPL .mpr; the file stores dq per point, and echem's "
                "I_A = dq/Δt is what EC-Lab's .mpt export of the run prints as <I>/mA "
                "(checked against the .mpt twin where there is one)") for f in GCPL_MPR},
    YADG + "test_extract.cp.mpt": Known(
        "<Ewe>/V is 0.0 in 117 of 121 rows although Ewe-Ece/V + <Ece>/V (and P/W over I) give "
        "-3.4 V there; echem rebuilds those rows from Ewe-Ece + Ece with a warning, and gets the "
        "values of cp.mpt, the export of the same run; yadg reads the zeros"),
    PYIMPSPEC + "drift-corrected-data.dta": Known(
        "one Gamry ZCURVE with drift-corrected and uncorrected columns: pyimpspec returns both "
        "as two spectra of the same 55 points; echem returns the one measured spectrum, "
        "drift-corrected (what Gamry's DRIFTCOR asks for), which equals pyimpspec's first"),
    PYIMPSPEC + "data.fods": Known(
        "pyimpspec refuses flat OpenDocument spreadsheets; echem reads it, and it holds the "
        "same four sheets as data.ods, whose reference it matches"),
    PYIMPSPEC + "data.json": Known(
        "a pandas table dump, not an instrument export (pyimpspec refuses it too); echem "
        "refuses it with a message that says so and asks for CSV", outcome="refused"),
    YADG + "wait.mpr": Known("an EC-Lab Wait step with 0 data points: yadg returns one empty "
                             "row, echem refuses with a message", outcome="refused"),
    YADG + "wait.mpt": Known("an EC-Lab Wait step exported with no data rows: echem refuses with "
                             "a message", outcome="refused"),
    YADG + "wait.old.mpt": Known("an EC-Lab Wait step exported with no data rows: echem refuses "
                                 "with a message", outcome="refused"),
    "ixdat_ixdat-large-test-files/multiple_techniques_dataset_01_07_ZIR_C01.mpt": Known(
        "an EC-Lab ZIR export with no data rows: ixdat returns empty columns, echem refuses "
        "and says how to state the iR compensation instead", outcome="refused"),
}

#: Messages echem must give when it refuses a file.
REFUSALS = {
    PYIMPSPEC + "data.json": r"JSON.*not an instrument export.*CSV",
    YADG + "wait.mpr": r"Wait.*no data",
    YADG + "wait.mpt": r"Wait.*no data",
    YADG + "wait.old.mpt": r"Wait.*no data",
    "ixdat_ixdat-large-test-files/multiple_techniques_dataset_01_07_ZIR_C01.mpt": r"ZIR.*no data rows",
}

#: Files whose twin (another file of the folder) holds the same run; used to pin echem's value.
SAME_RUN = {
    YADG + "test_extract.cp.mpt": YADG + "cp.mpt",
    PYIMPSPEC + "data.fods": PYIMPSPEC + "data.ods",
}

#: Spectra in files where yadg gives no count (it does not split) or the hint in its ref
#: (distinct cycle numbers) is not the number of sweeps: Modulo Bat runs hold several
#: sweeps per cycle number, separated by battery-cycling rows (frequency 0).
SPECTRA = {
    YADG + "mb.mpr": 8, YADG + "mb.mpt": 8, YADG + "mb.old.mpt": 8,       # 70 points each, Ns 1 and 6
    YADG + "mb.issue_149.mpr": 16, YADG + "mb.issue_149.mpt": 16,         # 13 points each
    YADG + "mb.issue_223.mpr": 4, YADG + "mb.issue_223.mpt": 4,           # 19 points each
    YADG + "zir.mpr": 1, YADG + "zir.mpt": 1,
}

#: MANIFEST technique -> echem's meta["technique"]
TECHNIQUE = {"LSV": "LSV", "CV": "CV", "CVA": "CV", "CA": "CA", "CP": "CP", "OCV": "OCV", "PEIS": "EIS",
             "GEIS": "EIS", "ZIR": "EIS", "EIS": "EIS", "GCPL": None, "BCD": None, "coC": None,
             "coV": None, "MP": None, "WAIT": None, "MB": None}


def expected_technique(row: dict[str, str], has_impedance: bool) -> str | None:
    word = row["technique"].split()[0]
    if word == "MB" and has_impedance:
        return "EIS"  # its spectra are analysed
    return TECHNIQUE[word]


# --------------------------------------------------------------------------- echem in the peer's terms


def table(path: Path) -> pd.DataFrame:
    """The reader's own table (``parse``), before the registry leaves out non-impedance rows."""
    raw = path.read_bytes()
    module = io.find_reader(raw, path.name)
    assert module is not None, f"{path.name}: no reader"
    return module.parse(raw, path.name).data


def peer_order(data: pd.DataFrame, ref: dict) -> pd.DataFrame:
    """Rows in the peer's order: pyimpspec returns each spectrum by descending frequency."""
    if ref["peer"] != "pyimpspec":
        return data
    groups = [data] if "cycle" not in data.columns else [
        data[data["cycle"] == c] for c in pd.unique(data["cycle"])]
    parts = [g.iloc[::-1] if g["freq_Hz"].iloc[0] < g["freq_Hz"].iloc[-1] else g for g in groups]
    return pd.concat(parts, ignore_index=True)


def column(data: pd.DataFrame, name: str, meta: dict | None = None) -> np.ndarray:
    """echem's values for the peer's canonical column ``name``."""
    if name == "E_cell_V":
        if meta is not None:
            assert str(meta["columns_used"]["E_V"]).startswith("Ecell"), meta["columns_used"]
        return data["E_V"].to_numpy(float)
    if name == "|Z|_ohm":
        return np.hypot(data["Z_re_ohm"].to_numpy(float), data["Z_im_ohm"].to_numpy(float))
    if name == "phase_deg":
        return np.degrees(np.arctan2(data["Z_im_ohm"].to_numpy(float), data["Z_re_ohm"].to_numpy(float)))
    return data[name].to_numpy(float)


def close(value: float, ref) -> bool:
    if ref is None:
        return not np.isfinite(value)
    if ref == 0:
        return abs(value) <= ZERO
    return bool(np.isfinite(value)) and abs(value - ref) <= RTOL * abs(ref)


def column_problems(name: str, values: np.ndarray, ref: dict) -> list[str]:
    """What differs between echem's column and the peer's statistics of it."""
    out = []
    if values.size != ref["n"]:
        return [f"{name}: n {values.size} != {ref['n']}"]
    nan = int(np.sum(~np.isfinite(values)))
    if nan != ref.get("n_nan", 0):
        out.append(f"{name}: n_nan {nan} != {ref['n_nan']}")
    if values.size == 0:
        return out
    finite = values[np.isfinite(values)]
    got = {"first": values[0], "last": values[-1],
           "min": finite.min() if finite.size else np.nan, "max": finite.max() if finite.size else np.nan}
    for key, value in got.items():
        if key in ref and not close(float(value), ref[key]):
            out.append(f"{name}.{key}: {value!r} != {ref[key]!r}")
    for index, expected in (ref.get("at_index") or {}).items():
        if not close(float(values[int(index)]), expected):
            out.append(f"{name}[{index}]: {values[int(index)]!r} != {expected!r}")
    return out


def problems(data: pd.DataFrame, ref: dict, meta: dict | None = None, skip: tuple[str, ...] = ()) -> list[str]:
    out = []
    if len(data) != ref["n_rows"]:
        out.append(f"n_rows {len(data)} != {ref['n_rows']}")
    for name, stats in ref["columns"].items():
        if name in skip:
            continue
        if name not in data.columns and name not in ("E_cell_V", "|Z|_ohm", "phase_deg"):
            out.append(f"{name}: echem has no such column ({list(data.columns)})")
            continue
        out.extend(column_problems(name, column(data, name, meta), stats))
    return out


def n_spectra(data: pd.DataFrame) -> int:
    return int(data["cycle"].nunique()) if "cycle" in data.columns else 1


def is_impedance_ref(ref: dict) -> bool:
    return "freq_Hz" in ref.get("columns", {})


# --------------------------------------------------------------------------- the comparison


def check(rel: str) -> str:
    """Compare one file; returns "agree", "documented" or "refused" (asserts on any other outcome)."""
    path = PEERS / rel
    ref = ref_of(rel)
    row = next(r for r in ROWS if r["file"] == rel)
    known = KNOWN.get(rel)

    if rel in REFUSALS:
        with pytest.raises(EchemError, match=re.compile(REFUSALS[rel], re.S)):
            io.read(path)
        assert known is not None and known.outcome == "refused"
        return "refused"
    assert "peer_error" not in ref or rel in SAME_RUN, f"{rel}: the peer refuses it; say what echem does"

    m = io.read(path)
    data = m.data
    impedance = {"freq_Hz", "Z_re_ohm", "Z_im_ohm"} <= set(data.columns)
    fmt = row["format"].replace(" (no extension)", "")
    assert m.meta["format"] == fmt, (m.meta["format"], fmt)
    assert m.meta["technique"] == expected_technique(row, impedance), (m.meta["technique"], row["technique"])
    if impedance:
        # every point of every spectrum is an impedance point, with the physical sign
        assert np.all(data["freq_Hz"].to_numpy() > 0)
        assert m.meta["n_spectra"] == n_spectra(data)

    if rel in SAME_RUN:
        twin = ref_of(SAME_RUN[rel])
        if "peer_error" in ref:  # the peer refuses this file: the same data's reference instead
            assert problems(peer_order(data, twin), twin) == []
            assert m.meta["n_spectra"] == twin["n_spectra"]
        else:  # the peer misreads a column: that column from the same run's other export
            found = problems(data, ref)
            assert found and all(p.startswith("E_V") for p in found), found
            assert column_problems("E_V", data["E_V"].to_numpy(float), twin["columns"]["E_V"]) == []
            assert any("rebuilt" in w or "0 on" in w for w in m.meta["warnings"]), m.meta.get("warnings")
        return "documented"

    if rel == PYIMPSPEC + "drift-corrected-data.dta":
        first = ref["spectra"][0]
        assert m.meta["n_spectra"] == 1 and len(data) == first["n_points"] == ref["n_rows"] // 2
        ordered = peer_order(data, ref)
        for key, name in (("freq_Hz_first_last", "freq_Hz"), ("Z_re_ohm_first_last", "Z_re_ohm"),
                          ("Z_im_ohm_first_last", "Z_im_ohm")):
            values = ordered[name].to_numpy(float)
            assert close(values[0], first[key][0]) and close(values[-1], first[key][1]), (name, values[[0, -1]])
        assert "drift" in str(m.meta["columns_used"]).lower()
        return "documented"

    if ref["peer"] == "yadg" and impedance:
        # yadg: EC-Lab's cycle numbers and the non-impedance rows; compare the reader's table
        raw_table = table(path)
        assert problems(raw_table, ref) == []
        assert len(data) == ref.get("n_rows_freq_gt_0", ref["n_rows"])
        dropped = ref["n_rows"] - len(data)
        assert (m.meta.get("rows_dropped") or {}).get("frequency <= 0 (not an impedance point)", 0) == dropped
        expected = SPECTRA.get(rel, ref.get("distinct_cycle_values_on_rows_freq_gt_0"))
        assert m.meta["n_spectra"] == expected
        outcome = "documented" if dropped or n_spectra(data) != ref.get(
            "distinct_cycle_values_on_rows_freq_gt_0", n_spectra(data)) else "agree"
        return outcome if known is None else known.outcome

    found = problems(peer_order(data, ref), ref, m.meta)
    assert found == [], found
    if ref.get("n_spectra") is not None:
        assert m.meta.get("n_spectra", 1) == ref["n_spectra"], (m.meta.get("n_spectra"), ref["n_spectra"])
    if rel in GCPL_MPR:
        # the peer has no current: echem's is dq/Δt, equal to the .mpt twin's <I>/mA
        assert "I_A" in data.columns and np.all(np.isfinite(data["I_A"]))
        assert m.meta["columns_used"]["I_A"].startswith("dq/mA.h")
        twin = rel[:-4] + ".mpt"
        if twin in FILES:
            assert column_problems("I_A", data["I_A"].to_numpy(float), ref_of(twin)["columns"]["I_A"]) == []
    return "agree" if known is None else known.outcome


@pytest.mark.parametrize("rel", FILES or ["(corpus-peers missing)"])
def test_reader_agrees_with_peer(rel):
    _peers_or_skip()
    outcome = check(rel)
    if rel in KNOWN:
        assert outcome == KNOWN[rel].outcome


def test_every_file_has_a_reference():
    peers = _peers_or_skip()
    files = {p.relative_to(peers).as_posix() for p in peers.rglob("*")
             if p.is_file() and not p.name.endswith(".ref.json") and p.name not in ("MANIFEST.tsv", "README.md")}
    assert files == set(FILES)
    assert all((peers / f"{f}.ref.json").is_file() for f in FILES)


# --------------------------------------------------------------------------- one run, one reading

TWINS = sorted(f[:-4] for f in FILES if f.endswith(".mpr") and f[:-4] + ".mpt" in FILES)


def _close_columns(a: np.ndarray, b: np.ndarray, rtol: float = 1e-5) -> bool:
    scale = max(float(np.nanmax(np.abs(b))) if b.size else 0.0, 1e-30)
    return a.shape == b.shape and bool(np.all(np.abs(a - b) <= rtol * np.maximum(np.abs(b), 1e-3 * scale)))


@pytest.mark.parametrize("stem", TWINS or ["(corpus-peers missing)"])
def test_mpr_and_mpt_of_one_run_read_alike(stem):
    """The .mpr and the .mpt of one run: one technique, one label, the same rows and spectra.

    Values agree within rtol 1e-5 (the .mpr holds float32, the .mpt prints 8 digits; Z from
    a Modulo Bat .mpr's |Z| and phase within 1e-5 of |Z|).
    """
    peers = _peers_or_skip()
    if f"{stem}.mpr" in REFUSALS:  # no data in either (an EC-Lab Wait step): both refused alike
        for ext in (".mpr", ".mpt"):
            with pytest.raises(EchemError, match=re.compile(REFUSALS[f"{stem}.mpr"], re.S)):
                io.read(peers / f"{stem}{ext}")
        return
    mpr, mpt = io.read(peers / f"{stem}.mpr"), io.read(peers / f"{stem}.mpt")
    assert mpr.meta["technique"] == mpt.meta["technique"]
    if mpt.meta.get("technique_label"):
        assert mpr.meta.get("technique_label") == mpt.meta["technique_label"]
    assert len(mpr.data) == len(mpt.data)
    assert mpr.meta.get("n_spectra") == mpt.meta.get("n_spectra")
    for name in sorted(set(mpr.data.columns) & set(mpt.data.columns)):
        a, b = mpr.data[name].to_numpy(float), mpt.data[name].to_numpy(float)
        if name in ("Z_re_ohm", "Z_im_ohm"):
            modulus = np.hypot(mpt.data["Z_re_ohm"], mpt.data["Z_im_ohm"]).to_numpy()
            assert np.all(np.abs(a - b) <= 1e-5 * modulus + 1e-9), name
        else:
            assert _close_columns(a, b), name


# --------------------------------------------------------------------------- figures


def agreement() -> dict[str, dict[str, int]]:
    """Per folder: files that agree, documented disagreements, refused with a message.

    ``python -c "import sys; sys.path.insert(0, 'tests'); import test_peers; print(test_peers.agreement())"``
    """
    out: dict[str, dict[str, int]] = {}
    for rel in FILES:
        folder = rel.split("/")[0]
        counts = out.setdefault(folder, {"agree": 0, "documented": 0, "refused": 0, "failing": 0})
        try:
            counts[check(rel)] += 1
        except Exception:  # noqa: BLE001 - a figure, not a test (assertion errors included)
            counts["failing"] += 1
    return out


def test_ci_refuses_to_run_without_the_peer_corpus(tmp_path):
    """.ci/run under CI=true stops before installing anything when ../shared/corpus-peers is missing."""
    import shutil
    import subprocess

    repo = tmp_path / "repo"
    (repo / ".ci").mkdir(parents=True)
    shutil.copy(ROOT / ".ci" / "run", repo / ".ci" / "run")
    (tmp_path / "shared" / "corpus").mkdir(parents=True)
    (tmp_path / "shared" / "corpus" / "MANIFEST.tsv").write_text("file\n", encoding="utf-8")
    env = {**os.environ, "CI": "true"}
    done = subprocess.run(["bash", str(repo / ".ci" / "run")], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "corpus-peers" in done.stderr
    assert not (repo / ".venv").exists()
