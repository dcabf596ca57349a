"""Bad input, file by file: each kind of damage labs see gets a specific error that says
what is wrong and what to do, or (where the damage is harmless) the right numbers.

The damaged files are made from real instrument exports (the corpus, read in place;
MIT files from tests/data) by the helpers in ``damage.py``. The same cases run through
the whole workflow in ``test_robustness_workflow.py``.
"""

from __future__ import annotations

import os
import re
import warnings

import numpy as np
import pytest

import damage
from echem.errors import AnalysisError, EchemError, EmptyDataError, MetadataError, ReaderError, UnknownFormatError
from echem.io import read, read_bytes

pytestmark = pytest.mark.corpus

LSV_MPT = "dgbowl_yadg/lsv.mpt"
PEIS_MPT = "dgbowl_yadg/peis.mpt"
CV_MPT = "dgbowl_yadg/cv.mpt"
CHI_CV = "D3TaLES_d3tales_api/01_GC_WE_Pt_RE_Pt_CE_10_mM_ferricyanide_in_100_mM_KCl_20_mV_scan_rate.csv"
GAMRY_CV = "ComPlat_chemotion-converter-app/DHM-15-CV-Demo.DTA"
PALMSENS_EIS = "matkrin_proespm-py3/PS241105-14_1.csv"
EC4_CV = "matkrin_proespm-py3/CV_185158__1.txt"
GAMRY_EIS = "exampleDataGamry.DTA"  # tests/data (MIT)
CHI_EIS = "exampleDataCHInstruments.txt"  # tests/data (MIT)
AUTOLAB_EIS = "exampleDataAutolab.txt"  # tests/data (MIT)


@pytest.fixture(scope="module")
def corpus(corpus_dir):
    cache: dict[str, bytes] = {}

    def get(rel: str) -> bytes:
        if rel not in cache:
            cache[rel] = (corpus_dir / rel).read_bytes()
        return cache[rel]

    return get


def physical(m) -> np.ndarray:
    """The measured columns of a measurement (cycle numbering aside) as one array."""
    cols = [c for c in ("time_s", "E_V", "I_A", "freq_Hz", "Z_re_ohm", "Z_im_ohm") if c in m.data.columns]
    return m.data[cols].to_numpy(float)


# ----------------------------------------------------------------------------- empty


@pytest.mark.parametrize("name", ["lsv.mpt", "lsv.mpr", "run.DTA", "spectrum.z", "data.csv", "cv.txt",
                                  "eis.ism", "eis.idf", "eis.par"])
@pytest.mark.parametrize("content", [b"", b"\r\n\r\n  \t\n", b"\xef\xbb\xbf", b"\xff\xfe", b"\x00" * 64])
def test_empty_file(name, content):
    with pytest.raises(EmptyDataError) as info:
        read_bytes(content, name)
    msg = str(info.value)
    assert msg.startswith(f"{name}: the file is empty")
    assert "re-export it from the instrument software" in msg


# ----------------------------------------------------------------------------- truncated


def test_mpt_cut_mid_row_with_cells_missing(corpus):
    with pytest.raises(ReaderError) as info:
        read_bytes(damage.cut_mid_row(corpus(CV_MPT), 0.6, cell=4), "cv.mpt")
    msg = str(info.value)
    assert re.search(r"^cv\.mpt: data line \d+ has 6 of 12 values; the file is truncated", msg)
    assert "re-export it from EC-Lab" in msg


@pytest.mark.parametrize("rel, name", [(CV_MPT, "cv.mpt"), (CHI_CV, "cv.csv"), (EC4_CV, "cv.txt"),
                                       (PALMSENS_EIS, "eis.csv"), (GAMRY_CV, "cv.DTA")])
@pytest.mark.parametrize("fraction", [0.3, 0.77])
def test_cut_mid_row_never_reads_the_cut_number(corpus, rel, name, fraction):
    """A copy cut inside a number: the complete rows are read, the cut row is left out
    (a cut ``-3.183e-05`` would read as ``-3.1``), and the file says it is truncated."""
    full = read_bytes(corpus(rel), name)
    cut = read_bytes(damage.cut_mid_row(corpus(rel), fraction), name)
    n = len(cut.data)
    assert 0 < n < len(full.data)
    np.testing.assert_array_equal(physical(cut), physical(full)[:n])
    assert cut.meta["truncated"] is True
    assert cut.meta["warnings"], "a truncated file carries a warning"


def test_chi_cut_inside_a_number_is_detected(data_dir):
    raw = (data_dir / CHI_EIS).read_bytes()
    body = raw.rstrip(b"\r\n")
    cut = body[: body.rfind(b", ") + 4]  # the last row ends '..., -5' instead of '..., -50.2'
    m = read_bytes(cut, "eis.txt")
    full = read_bytes(raw, "eis.txt")
    assert len(m.data) == len(full.data) - 1
    assert m.meta["truncated"] is True


@pytest.mark.parametrize("n_lines", [1, 2, 8, 40])
def test_mpt_cut_in_header(corpus, n_lines):
    with pytest.raises(ReaderError) as info:
        read_bytes(damage.cut_in_header(corpus(LSV_MPT), n_lines), "lsv.mpt")
    msg = str(info.value)
    assert "truncated" in msg and "re-export it from EC-Lab" in msg


@pytest.mark.parametrize("rel, name, expected, todo", [
    (CHI_CV, "cv.csv", "the file is cut inside its header", "Re-export it"),
    (GAMRY_CV, "cv.DTA", "the file is cut inside its header", "Re-export or re-run the measurement"),
    (EC4_CV, "cv.txt", "the file is cut inside its header", "Export it again from EC4 DAQ"),
    (PALMSENS_EIS, "eis.csv", "the export is cut", "Export it again from PSTrace"),
])
def test_cut_in_header_other_vendors(corpus, rel, name, expected, todo):
    with pytest.raises(EmptyDataError) as info:
        read_bytes(damage.cut_in_header(corpus(rel), 3), name)
    msg = str(info.value)
    assert expected in msg and todo in msg


# ----------------------------------------------------------------------------- garbage


@pytest.mark.parametrize("name, what", [
    ("lsv.mpt", "an EC-Lab text export (.mpt)"),
    ("run.DTA", "a Gamry .DTA export"),
    ("lsv.mpr", "an EC-Lab binary file (.mpr)"),
    ("spectrum.z", "a ZPlot/ZView .z export"),
    ("data.csv", "a CSV table"),
    ("eis.ism", "a Zahner Thales .ism file"),
])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_binary_garbage_with_a_known_extension(name, what, seed):
    with pytest.raises(UnknownFormatError) as info:
        read_bytes(damage.garbage(4096, seed), name)
    msg = str(info.value)
    assert msg.startswith(f"{name}: the name says {what} but the content is binary data")
    assert "damaged" in msg and "Copy or export it again" in msg


def test_text_no_reader_knows_lists_the_formats():
    with pytest.raises(UnknownFormatError) as info:
        read_bytes(b"weighed the electrode twice\nsee lab book p. 12\n", "notes.txt")
    msg = str(info.value)
    assert "no reader recognises this file (text, 2 lines, no table of measurement columns)" in msg
    assert "weighed" not in msg, "the content of a file no reader knows is never quoted"
    assert "biologic-mpt" in msg and "move it out of raw/" in msg


@pytest.mark.parametrize("name", ["passwd", "notes.csv", "x.mpr", "data.txt"])
def test_the_content_of_an_unrecognised_file_is_never_quoted(name):
    """A file that is not data (a password file linked into raw/, a key) must not reach
    errors.csv through the message that says no reader knows it."""
    secret = b"root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
    for content in (secret, b"token;secret-value-42\nsecond;line\n", b"alpha beta gamma\n"):
        with pytest.raises(UnknownFormatError) as info:
            read_bytes(content, name)
        msg = str(info.value)
        for word in ("root", "daemon", "secret", "token", "alpha"):
            assert word not in msg, msg


def test_every_other_frequency_negative_is_a_warning_not_twenty_spectra():
    f = np.logspace(5, -1, 40)
    z = 10 + 100 / (1 + 1j * 2 * np.pi * f * 1e-3)
    f[1::2] *= -1
    text = "freq/Hz,Re(Z)/Ohm,-Im(Z)/Ohm\n" + "".join(f"{a},{b.real},{-b.imag}\n" for a, b in zip(f, z))
    m = read_bytes(text.encode(), "eis.csv")
    assert m.meta["n_spectra"] == 1 and m.meta["rows"] == 20 and len(m.data) == 20
    (warning,) = m.meta["warnings"]
    assert warning.startswith("20 of 40 points have a negative frequency and were left out (50 %")
    with pytest.raises(ReaderError, match="every frequency is negative"):
        read_bytes(text.replace("\n1", "\n-1").encode(), "eis.csv") if False else \
            read_bytes(("freq/Hz,Re(Z)/Ohm,-Im(Z)/Ohm\n" + "".join(
                f"{-abs(a)},{b.real},{-b.imag}\n" for a, b in zip(f, z))).encode(), "eis.csv")


def test_a_file_that_cannot_be_read_says_so(tmp_path, monkeypatch):
    from pathlib import Path

    path = tmp_path / "lsv.mpt"
    path.write_text("x")
    real = Path.read_bytes

    def denied(self):
        if self.name == "lsv.mpt":
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", denied)
    with pytest.raises(ReaderError) as info:
        read(path)
    assert str(info.value) == ("cannot read lsv.mpt: permission denied; make it readable (chmod a+r) "
                               "for the account that runs the workflow")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a file whatever its mode (chmod 000 denies nothing)")
def test_a_chmod_000_file_says_permission_denied(tmp_path):
    path = tmp_path / "lsv.mpt"
    path.write_text("x")
    path.chmod(0)
    with pytest.raises(ReaderError, match="cannot read lsv.mpt: permission denied"):
        read(path)


# ----------------------------------------------------------------------------- encodings


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-8-sig"])
@pytest.mark.parametrize("rel, name", [(LSV_MPT, "lsv.mpt"), (PEIS_MPT, "peis.mpt"), (CHI_CV, "cv.csv"),
                                       (EC4_CV, "cv.txt"), (GAMRY_CV, "cv.DTA")])
def test_other_unicode_encodings_read_the_same(corpus, rel, name, encoding):
    full = read_bytes(corpus(rel), name)
    again = read_bytes(damage.reencode(corpus(rel), encoding), name)
    np.testing.assert_array_equal(physical(again), physical(full))
    assert again.meta.get("technique") == full.meta.get("technique")


@pytest.mark.parametrize("rel", [LSV_MPT, PEIS_MPT, CV_MPT])
def test_latin1_with_decimal_commas_reads_the_same(corpus, rel):
    """EC-Lab on a German Windows: decimal commas everywhere, Windows-1252 text."""
    raw = damage.decimal_comma_latin1(corpus(rel))
    assert b"," in raw and raw.decode("cp1252")
    full = read_bytes(corpus(rel), "x.mpt")
    again = read_bytes(raw, "x.mpt")
    np.testing.assert_allclose(physical(again), physical(full), rtol=1e-15)
    for key in ("technique", "scan_rate_V_s", "area_cm2", "reference_electrode"):
        assert again.meta.get(key) == full.meta.get(key), key


def test_utf16_palmsens_stays_readable_in_utf8(corpus):
    """PalmSens writes UTF-16; the same file saved as UTF-8 reads the same."""
    full = read_bytes(corpus(PALMSENS_EIS), "eis.csv")
    again = read_bytes(damage.reencode(corpus(PALMSENS_EIS), "utf-8"), "eis.csv")
    np.testing.assert_array_equal(physical(again), physical(full))


def test_generic_csv_semicolon_decimal_comma_latin1():
    """A spreadsheet export on a German PC: ';' between cells, ',' decimal mark, 'µA' in cp1252."""
    E = np.linspace(-0.2, 0.6, 41)
    I_uA = 3.0 * np.sinh((E - 0.2) / 0.05)
    text = "E/V;I/µA\n" + "".join(f"{e:.4f};{i:.6f}\n".replace(".", ",") for e, i in zip(E, I_uA))
    m = read_bytes(text.encode("cp1252"), "sweep.csv")
    np.testing.assert_allclose(m.data["E_V"], E, atol=5e-5)
    np.testing.assert_allclose(m.data["I_A"], I_uA * 1e-6, rtol=1e-5, atol=1e-12)


# ----------------------------------------------------------------------------- edited header


def test_mpt_header_claims_more_lines_than_the_file_has(corpus):
    with pytest.raises(ReaderError) as info:
        read_bytes(damage.claim_header_lines(corpus(LSV_MPT), 5000), "lsv.mpt")
    msg = str(info.value)
    assert "the header claims 5000 lines but the file has only" in msg
    assert "The column names are on line 66" in msg and "set 'Nb header lines : 66'" in msg


def test_mpt_header_count_off_by_some(corpus):
    with pytest.raises(ReaderError) as info:
        read_bytes(damage.claim_header_lines(corpus(LSV_MPT), 70), "lsv.mpt")
    msg = str(info.value)
    assert "'Nb header lines : 70' puts the column names on line 70" in msg
    assert "they are on line 66" in msg and "correct the count or re-export" in msg


# ----------------------------------------------------------------------------- cells


CELL_CASES = [(LSV_MPT, "lsv.mpt"), (PEIS_MPT, "peis.mpt"), (CHI_CV, "cv.csv"), (GAMRY_CV, "cv.DTA"),
              (EC4_CV, "cv.txt"), (PALMSENS_EIS, "eis.csv")]


@pytest.mark.parametrize("rel, name", CELL_CASES)
@pytest.mark.parametrize("typed", ["n/a", "NaN", "overload", "1.2.3"])
def test_text_in_a_number_cell(corpus, rel, name, typed):
    with pytest.raises(ReaderError) as info:
        read_bytes(damage.text_cell(corpus(rel), 0.5, typed), name)
    msg = str(info.value)
    assert msg.startswith(f"{name}: line ")
    assert "is not a row of numbers like the lines around it" in msg
    assert "correct or delete that line, or export the file again" in msg


@pytest.mark.parametrize("rel, name", CELL_CASES)
def test_nan_row(corpus, rel, name):
    with pytest.raises(ReaderError) as info:
        read_bytes(damage.nan_row(corpus(rel), 0.4), name)
    msg = str(info.value)
    if name == "peis.mpt":  # the EC-Lab reader meets it first, in the spectrum counter
        assert "the 'cycle number' column has an unreadable value at data row 13" in msg
        assert "re-export it from EC-Lab" in msg
    else:
        assert "is not a row of numbers like the lines around it: 'NaN" in msg
        assert "correct or delete that line" in msg


@pytest.mark.parametrize("name", [CHI_EIS, AUTOLAB_EIS, GAMRY_EIS])
def test_text_cell_in_mit_fixtures(data_dir, name):
    raw = (data_dir / name).read_bytes()
    with pytest.raises(ReaderError, match="not a row of numbers"):
        read_bytes(damage.text_cell(raw, 0.5), name)


def test_repeated_column_line_is_not_damage():
    """Some exports repeat the column names inside the table: that is not an edit."""
    head = "freq/Hz,Re(Z)/Ohm,-Im(Z)/Ohm\n"
    f = np.logspace(5, -1, 30)
    Z = 10 + 100 / (1 + 1j * 2 * np.pi * f * 1e-4)
    rows = [f"{a:.6e},{b:.6e},{-c:.6e}\n" for a, b, c in zip(f, Z.real, Z.imag)]
    m = read_bytes((head + "".join(rows[:15]) + head + "".join(rows[15:])).encode(), "eis.csv")
    assert len(m.data) == 30
    np.testing.assert_allclose(np.sort(m.data["freq_Hz"].to_numpy()), np.sort(f), rtol=1e-6)
    assert m.meta["lines_skipped"]["count"] == 1  # the repeated column row, recorded


# ----------------------------------------------------------------------------- EIS


@pytest.fixture(scope="module")
def spectrum(data_dir):
    m = read(data_dir / GAMRY_EIS)
    return m.data["freq_Hz"].to_numpy(), m.data["Z_re_ohm"].to_numpy() + 1j * m.data["Z_im_ohm"].to_numpy()


def fit(freq, Z):
    from echem.eis import fit_spectrum

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fit_spectrum(freq, Z, "R0-p(R1,CPE1)")


def params(result) -> dict[str, float]:
    return {p["param"]: p["value"] for p in result.params}


def test_eis_unsorted_frequencies_fit_as_sorted(spectrum):
    f, Z = spectrum
    order = np.random.default_rng(4).permutation(f.size)
    m = read_bytes(damage.eis_csv(f, Z, order=order), "eis.csv")
    assert not np.all(np.diff(m.data["freq_Hz"]) < 0), "the file really is unsorted"
    got = params(fit(m.data["freq_Hz"].to_numpy(), m.data["Z_re_ohm"].to_numpy() + 1j * m.data["Z_im_ohm"].to_numpy()))
    ref = params(fit(f, Z))
    for k in ref:
        assert got[k] == pytest.approx(ref[k], rel=1e-6), k


def test_eis_duplicate_frequencies_are_dropped_and_recorded(spectrum):
    f, Z = spectrum
    m = read_bytes(damage.eis_csv(f, Z, duplicate=6), "eis.csv")
    assert len(m.data) == f.size + 6
    res = fit(m.data["freq_Hz"].to_numpy(), m.data["Z_re_ohm"].to_numpy() + 1j * m.data["Z_im_ohm"].to_numpy())
    dropped = [t for t in res.trimmed if "duplicate" in t["reason"]]
    assert dropped and dropped[0]["n"] == 6
    ref = params(fit(f, Z))
    for k, v in params(res).items():
        assert v == pytest.approx(ref[k], rel=1e-6), k  # the first measurement is kept


def test_eis_positive_imaginary_parts_are_refused_naming_the_sign(spectrum):
    f, Z = spectrum
    with pytest.raises(AnalysisError, match=r"(?i)sign"):
        fit(f, np.conj(Z))


@pytest.mark.parametrize("n", [1, 3, 4, 5])
def test_eis_too_few_points(spectrum, n):
    f, Z = spectrum
    idx = np.linspace(0, f.size - 1, n).astype(int)
    m = read_bytes(damage.eis_csv(f[idx], Z[idx]), "eis.csv")
    assert len(m.data) == n
    with pytest.raises(AnalysisError) as info:
        fit(m.data["freq_Hz"].to_numpy(), m.data["Z_re_ohm"].to_numpy() + 1j * m.data["Z_im_ohm"].to_numpy())
    msg = str(info.value)
    assert f"only {n} usable points for the 4 parameters of R0-p(R1,CPE1)" in msg
    assert "measure more frequencies or use a simpler circuit" in msg


# ----------------------------------------------------------------------------- analyses


def test_lsv_that_never_reaches_the_target(corpus):
    """Not an error (DESIGN: reached false, eta empty): the row says so."""
    from echem.lsv import analyse_lsv

    m = read_bytes(corpus(LSV_MPT), "lsv.mpt")
    res = analyse_lsv(m.data["E_V"].to_numpy(), m.data["I_A"].to_numpy(), area_cm2=1000.0, reaction="HER",
                      offset_to_rhe_V=0.241 + 0.0591 * 14, targets_mA_cm2=(10, 100))
    assert [r["reached"] for r in res.rows] == [False, False]
    assert all(np.isnan(r["eta_mV"]) for r in res.rows)


def test_cdl_with_one_scan_rate():
    from echem.ecsa import fit_cdl

    with pytest.raises(AnalysisError) as info:
        fit_cdl(np.array([0.02, 0.02]), np.array([1e-6, 1.1e-6]), np.array([-1e-6, -1.1e-6]))
    msg = str(info.value)
    assert "needs CVs at >= 3 scan rates; found 1 (20 mV/s)" in msg
    assert "add CVs at 2 more scan rate(s)" in msg


def test_arrhenius_with_one_temperature():
    from echem.arrhenius import fit_arrhenius

    with pytest.raises(AnalysisError) as info:
        fit_arrhenius(np.array([150.0]), np.array([1e-4]), np.array([1e-6]))
    msg = str(info.value)
    assert "needs EIS at >= 3 temperatures; found 1 (150 °C)" in msg
    assert "Measure more temperatures" in msg


# ----------------------------------------------------------------------------- sample.yaml


@pytest.mark.parametrize("text, expected", [
    ("area_cm: 0.196\n", "unknown key 'area_cm'; did you mean 'area_cm2'?"),
    ("ph: 14\n", "unknown key 'ph'; did you mean 'pH'?"),
    ("referance_electrode: SCE\n", "unknown key 'referance_electrode'; did you mean 'reference_electrode'?"),
    ("Reaction: HER\n", "unknown key 'Reaction'; did you mean 'reaction'?"),
    ("area_cm2: 0.196 cm2\n", "area_cm2 must be a number, got '0.196 cm2'; write the number alone "
                              "(the unit is in the key name), e.g. area_cm2: 0.196"),
    ("pH: '14'\n", "pH must be a number, got '14'"),
    ("area_cm2: [0.196]\n", "area_cm2 must be a number, got [0.196]"),
    ("area_cm2: -0.196\n", "area_cm2 must be > 0, got -0.196"),
    ("area_cm2: 0\n", "area_cm2 must be > 0, got 0"),
    ("area_cm2: .nan\n", "area_cm2 must be a finite number"),
    ("ir_compensation: 85\n", "ir_compensation must be <= 1, got 85"),
    ("reference_electrode: AgAgCl\n", "unknown reference electrode 'AgAgCl'. Did you mean"),
    ("reference_electrode: Ag/AgCl\n", "does not say its filling solution"),
    ("reference_electrode: {name: mine, E_vs_SHE_V: high}\n", "must be a number"),
    ("reaction: HOR\n", "reaction must be one of HER, OER, none, auto, got 'HOR'"),
    ("geometry: {kind: through-plane, thickness: 0.1, area_cm2: 1}\n", "did you mean 'thickness_cm'?"),
    ("area_cm2: 0.1\narea_cm2: 0.2\n", "key 'area_cm2' is given twice (lines 1 and 2); keep one"),
    ("area_cm2: [0.1\n", "not valid YAML"),
    ("- area_cm2\n- 0.1\n", "must be a mapping of key: value lines"),
])
def test_sample_yaml_errors(tmp_path, text, expected):
    from echem.metadata import load_sample_yaml

    path = tmp_path / "sample.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(MetadataError) as info:
        load_sample_yaml(path)
    msg = str(info.value)
    assert msg.startswith("sample.yaml: ")
    assert expected in msg


def test_sample_yaml_not_utf8(tmp_path):
    from echem.metadata import load_sample_yaml

    path = tmp_path / "sample.yaml"
    path.write_bytes("notes: 5 µm film\n".encode("cp1252"))
    with pytest.raises(MetadataError, match="not UTF-8 text .* save it as UTF-8"):
        load_sample_yaml(path)


def test_unknown_key_lists_the_known_ones():
    from echem.metadata import SAMPLE_KEYS, validate_sample_metadata

    with pytest.raises(MetadataError) as info:
        validate_sample_metadata({"colour": "blue"})
    msg = str(info.value)
    assert "did you mean" not in msg
    assert all(k in msg for k in SAMPLE_KEYS)


def test_sample_yaml_that_is_fine(tmp_path):
    from echem.metadata import load_sample_yaml

    path = tmp_path / "sample.yaml"
    path.write_text('{"area_cm2": 0.196, "reference_electrode": "Hg/HgO (1 M KOH)", "pH": 14}')
    assert load_sample_yaml(path) == {"area_cm2": 0.196, "reference_electrode": "Hg/HgO (1 M KOH)", "pH": 14.0}


# ----------------------------------------------------------------------------- names


def test_sample_folders_differing_in_case(tmp_path, corpus):
    from echem.workflow.discover import discover

    for name in ("PtC", "ptc", "good"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "peis.mpt").write_bytes(corpus(PEIS_MPT))
    found = discover(tmp_path)
    assert sorted(found.samples) == ["good"]
    rows = [p for p in found.problems if p["stage"] == "discover"]
    assert sorted(r["sample"] for r in rows) == ["PtC", "ptc"]
    for r in rows:
        assert "sample folders PtC, ptc differ only in case" in r["error"]
        assert "merge or rename them" in r["error"]


def test_sample_folder_with_spaces_and_accents(tmp_path, corpus):
    from echem.workflow.discover import discover

    (tmp_path / "Pt Ø 5nm").mkdir()
    (tmp_path / "Pt Ø 5nm" / "peis.mpt").write_bytes(corpus(PEIS_MPT))
    found = discover(tmp_path)
    assert not found.samples
    (row,) = found.problems
    assert "sample folder 'Pt Ø 5nm' is not a valid sample id" in row["error"]
    assert "rename it, e.g. to 'Pt_5nm'" in row["error"]


def test_file_name_with_spaces_and_non_ascii(tmp_path, corpus):
    from echem.workflow.discover import discover
    from echem.workflow.ingest import canonical_name

    folder = tmp_path / "cat_ü"
    folder.mkdir()
    name = "PEIS 1 µA – Ø 5 mm (Kopie).mpt"
    (folder / name).write_bytes(corpus(PEIS_MPT))
    m = read(folder / name)
    assert m.meta["file"] == name and m.technique == "EIS"
    found = discover(tmp_path)
    assert not found.samples  # the folder name is not a sample id ...
    (tmp_path / "cat_u").mkdir()
    (tmp_path / "cat_u" / name).write_bytes(corpus(PEIS_MPT))
    found = discover(tmp_path)
    assert found.samples["cat_u"].files == [name]  # ... but any file name is fine
    safe = canonical_name(0, name)
    assert safe.isascii() and " " not in safe and safe.endswith(".parquet")


# ----------------------------------------------------------------------------- every error


@pytest.mark.parametrize("make", [
    lambda c: read_bytes(b"", "x.mpt"),
    lambda c: read_bytes(damage.garbage(), "x.mpr"),
    lambda c: read_bytes(damage.cut_in_header(c(LSV_MPT)), "x.mpt"),
    lambda c: read_bytes(damage.text_cell(c(CHI_CV)), "x.csv"),
])
def test_every_reader_error_is_an_echem_error_naming_the_file(corpus, make):
    with pytest.raises(EchemError) as info:
        make(corpus)
    assert str(info.value).startswith("x.")
