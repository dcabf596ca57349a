"""The synthetic demo data generator (echem.demo) and the data it wrote into raw/.

(a) determinism and confinement, (b) every file is read with the right technique,
(c) known answers of the models: the published numbers each sample is built to give.
The full-workflow comparison with the published values is a separate test.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from echem import demo

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "raw"

#: file extension -> (reader module, technique by file-name prefix)
READERS = {".mpt": "biologic_mpt", ".DTA": "gamry_dta", ".csv": "generic_csv"}


def _expected_technique(name: str) -> str:
    stem = name.lower()
    if stem.startswith("lsv"):
        return "LSV"
    if stem.startswith("cv"):
        return "CV"
    if stem.startswith(("eis", "peis")):
        return "EIS"
    if stem.startswith("cp"):
        return "CP"
    raise AssertionError(f"demo file {name} has no technique prefix")


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "raw"
    demo.generate(out)
    return out


def _data_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.name not in ("sample.yaml", "README.md"))


# --------------------------------------------------------------------------- (a) determinism


def test_same_bytes_twice(tmp_path):
    names = ["PtMG_UV50J", "PdMG_as-cast", "LLZO_650C", "LLZO_500C", "PtMG_UV50J_84h", "PtMG_as-cast_84h"]
    first = demo.generate(tmp_path / "a", names, readme=False)
    second = demo.generate(tmp_path / "b", names, readme=False)
    assert [p.relative_to(tmp_path / "a") for p in first] == [p.relative_to(tmp_path / "b") for p in second]
    for p, q in zip(first, second):
        assert p.read_bytes() == q.read_bytes(), p.name


def test_one_sample_alone_equals_the_full_run(tmp_path, generated):
    """Each file has its own noise stream: regenerating one sample gives the same bytes."""
    alone = demo.generate(tmp_path, ["PdMG_Tg-3h"], readme=False)
    for p in alone:
        assert p.read_bytes() == (generated / p.relative_to(tmp_path)).read_bytes(), p.name


def test_writes_only_into_the_given_folder(tmp_path):
    raw = tmp_path / "raw"
    foreign = raw / "my_sample" / "lsv.mpt"
    foreign.parent.mkdir(parents=True)
    foreign.write_bytes(b"not demo data")
    outside = tmp_path / "outside.txt"
    outside.write_text("x")
    written = demo.generate(raw, ["LLZO_750C"])
    assert all(raw in p.parents for p in written)
    assert {p.relative_to(tmp_path).parts[:2] for p in tmp_path.rglob("*") if p.is_file()} == {
        ("outside.txt",), ("raw", "my_sample"), ("raw", "LLZO_750C"), ("raw", "README.md")}
    assert foreign.read_bytes() == b"not demo data"


def test_unknown_sample_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown demo sample"):
        demo.generate(tmp_path, ["PtMG_nope"])
    assert not any(tmp_path.iterdir())


def _same_content(a: bytes, b: bytes) -> str | None:
    """None if equal, or equal but for the last digits of numbers (rel. 1e-9); else the first difference.

    Byte equality holds on one platform; numpy's vectorised exp/log may differ by one ulp
    between CPUs, which can change the 16th digit of a written number.
    """
    if a == b:
        return None
    la, lb = a.splitlines(), b.splitlines()
    if len(la) != len(lb):
        return f"{len(la)} vs {len(lb)} lines"
    for n, (x, y) in enumerate(zip(la, lb), 1):
        if x == y:
            continue
        tx, ty = x.replace(b",", b"\t").split(b"\t"), y.replace(b",", b"\t").split(b"\t")
        if len(tx) != len(ty):
            return f"line {n}: {x[:80]!r} vs {y[:80]!r}"
        for u, v in zip(tx, ty):
            if u == v:
                continue
            try:
                fu, fv = float(u), float(v)
            except ValueError:
                return f"line {n}: {u!r} vs {v!r}"
            if not math.isclose(fu, fv, rel_tol=1e-9, abs_tol=1e-300):
                return f"line {n}: {u!r} vs {v!r}"
    return None


def test_committed_raw_is_what_the_generator_writes(generated):
    """raw/ in the repository is up to date with echem.demo (if this fails, regenerate:
    python -m echem.demo raw/, and commit)."""
    for p in _data_files(generated) + sorted(generated.rglob("sample.yaml")) + [generated / "README.md"]:
        committed = RAW / p.relative_to(generated)
        assert committed.is_file(), f"{committed} missing: run python -m echem.demo raw/"
        diff = _same_content(committed.read_bytes(), p.read_bytes())
        assert diff is None, f"{committed} is stale ({diff}): run python -m echem.demo raw/"


def test_content_comparison_catches_changes():
    assert _same_content(b"a\t1.0000000000000001E+000", b"a\t1.0000000000000002E+000") is None
    assert _same_content(b"a\t1.0E+000", b"a\t1.1E+000") is not None
    assert _same_content(b"x,1", b"y,1") is not None


def test_size_is_modest(generated):
    total = sum(p.stat().st_size for p in generated.rglob("*") if p.is_file())
    assert total < 4e6


def test_every_file_says_it_is_synthetic(generated):
    for p in _data_files(generated) + sorted(generated.rglob("sample.yaml")):
        assert b"SYNTHETIC" in p.read_bytes()[:8000], p


# --------------------------------------------------------------------------- (b) readers


@pytest.mark.parametrize("ext", sorted(READERS))
def test_every_file_is_read_with_its_technique(generated, ext):
    from echem.io import read

    files = [p for p in _data_files(generated) if p.suffix == ext]
    assert files
    for p in files:
        m = read(p)
        assert m.meta["technique"] == _expected_technique(p.name), p
        assert m.meta["technique_source"].startswith("file content"), p
        assert len(m.data) >= 50, p
        if m.meta["technique"] == "EIS":
            assert (m.data["Z_im_ohm"] < 0).mean() > 0.75, p  # capacitive arc: physical sign
        if p.parent.name.startswith("LLZO"):
            assert m.meta["temperature_C"] == pytest.approx(float(p.stem.split("_")[-1][:-1]), abs=0.1), p


def test_her_metadata_from_the_files(generated):
    from echem.io import read

    m = read(generated / "PtMG_as-cast" / "lsv_5mVs.mpt")
    assert m.meta["area_cm2"] == pytest.approx(demo.AREA_CM2)
    assert m.meta["scan_rate_V_s"] == pytest.approx(demo.LSV_SCAN_RATE_V_S)
    assert m.meta["instrument_ir_compensation"] == pytest.approx(0.96)
    assert m.meta["reference_electrode"].startswith("Hg/HgO")
    for sample in ("PtMG_as-cast", "LLZO_500C"):
        import yaml

        from echem.metadata import validate_sample_metadata

        validate_sample_metadata(yaml.safe_load((generated / sample / "sample.yaml").read_text()))


# --------------------------------------------------------------------------- (c) known answers


def test_hgo_offset_matches_echem_reference():
    from echem.reference import HGO_VS_RHE_V, offset_to_rhe_V

    assert demo.HGO_VS_RHE_V == HGO_VS_RHE_V
    assert offset_to_rhe_V("Hg/HgO (1 M KOH)", 14) == pytest.approx(demo.HGO_VS_RHE_V)


@pytest.mark.parametrize("sample", demo.HER_SAMPLES, ids=lambda s: s.name)
def test_true_curve_crosses_the_published_overpotentials(sample):
    kin = sample.kinetics
    # forward: the iR-free, noise-free curve reaches 10 mA/cm2 at eta10 (to 0.1 mV: |dj/j| < 0.1/b·ln10)
    j10 = demo.her_current_density_mA_cm2(sample.published["eta10_mV"], kin)[0]
    assert abs(math.log10(j10 / 10.0)) * kin.tafel_mV_dec < 0.1
    for key, target in (("eta10_mV", 10.0), ("eta100_mV", 100.0), ("eta200_mV", 200.0)):
        if key in sample.published:
            assert demo.her_overpotential_mV(target, kin)[0] == pytest.approx(sample.published[key], abs=0.1)


def _window_slope(kin: demo.HerKinetics, eta_lo_mV: float | None = None) -> float:
    """Least-squares slope of the true curve over one decade of j from ``eta_lo_mV`` (default b)."""
    lo = kin.tafel_mV_dec if eta_lo_mV is None else eta_lo_mV
    eta = np.linspace(lo, lo + 150.0, 7501)
    j = demo.her_current_density_mA_cm2(eta, kin)
    sel = j <= 10.0 * j[0]
    return float(np.polyfit(np.log10(j[sel]), eta[sel], 1)[0])


@pytest.mark.parametrize("sample", demo.HER_SAMPLES, ids=lambda s: s.name)
def test_tafel_slope_of_the_straight_part(sample):
    """Slope of the true curve over a decade where the reverse reaction no longer matters.

    Without bubbles the curve is straight from eta ~ 60 mV up (reverse term exp(-2f eta) < 1 %);
    UV50J's only straight-ish decade starts at eta = b (the bubbles bend it above).
    """
    kin = sample.kinetics
    published = sample.published.get("tafel_mV_dec", kin.tafel_mV_dec)
    if kin.bubble_max:
        assert _window_slope(kin) == pytest.approx(published, abs=0.05)
    else:
        assert _window_slope(kin, max(kin.tafel_mV_dec, 60.0)) == pytest.approx(published, abs=0.5)
        assert _window_slope(kin, 150.0) == pytest.approx(published, abs=0.05)


def test_uv50j_needs_its_curvature():
    """A pure Tafel line through eta10 with the published slope misses eta100 by > 10 mV."""
    uv = next(s for s in demo.HER_SAMPLES if s.name == "PtMG_UV50J")
    pure = demo.HerKinetics(47.8, 37.23)
    assert demo.her_overpotential_mV(100.0, pure)[0] < 100.8 - 10
    assert _window_slope(uv.kinetics) == pytest.approx(37.23, abs=0.05)
    assert demo.her_overpotential_mV(100.0, uv.kinetics)[0] == pytest.approx(100.8, abs=0.01)
    assert demo.her_overpotential_mV(200.0, uv.kinetics)[0] == pytest.approx(127.8, abs=0.01)


@pytest.mark.parametrize("sample", demo.HER_SAMPLES, ids=lambda s: s.name)
def test_cdl_gives_the_specific_activity(sample):
    cdl_mF = demo.cdl_F(sample) * 1e3
    ecsa = cdl_mF / demo.CS_MF_CM2
    j70 = demo.her_current_density_mA_cm2(70.0, sample.kinetics)[0]
    I70_mA = j70 * demo.AREA_CM2 + cdl_mF * demo.LSV_SCAN_RATE_V_S  # + charging current in the LSV
    assert I70_mA / ecsa == pytest.approx(sample.sa_mA_cm2, rel=1e-9)
    if "sa_mA_cm2" in sample.published:
        assert sample.sa_mA_cm2 == sample.published["sa_mA_cm2"]


@pytest.mark.parametrize("film", demo.FILM_SAMPLES, ids=lambda f: f.name)
def test_film_resistance_reproduces_the_published_conductivity(film):
    R30 = float(demo.film_resistance_ohm(30.0, film))
    from echem.arrhenius import conductivity_S_cm

    sigma, _ = conductivity_S_cm(R30, 0.0, demo.FILM_GEOMETRY)
    assert sigma == pytest.approx(film.sigma_30C_S_cm, rel=1e-9)
    # the sigma*T law: ln(sigma T) linear in 1/T with slope -Ea/k_B
    T = np.array(sorted({T for _, T in demo.film_runs()}))
    sigma_T = demo.film_conductivity_S_cm(T, film) * (T + demo.T0_K)
    slope = np.polyfit(1.0 / (demo.K_B_EV_K * (T + demo.T0_K)), np.log(sigma_T), 1)[0]
    assert -slope == pytest.approx(film.Ea_eV, abs=1e-9)


@pytest.mark.parametrize("film", demo.FILM_SAMPLES, ids=lambda f: f.name)
def test_film_arcs_are_measurable(film):
    """R stays below 1e10 Ohm and every bulk-arc apex lies inside the measured band."""
    f_hi, f_lo = demo.FILM_FREQ_HZ
    for _, T in demo.film_runs():
        R = float(demo.film_resistance_ohm(T, film))
        assert 1e3 < R <= 1e10
        assert f_lo < demo.arc_apex_Hz(R, demo.FILM_Q1, demo.FILM_N1) < f_hi


# --------------------------------------------------------------------------- (c) the files carry the model


def test_lsv_file_gives_eta10_after_ir_correction(generated):
    """Read back, remove the uncompensated 4 % of Ru*I: eta at 10 mA/cm2 is the published one."""
    from echem.io import read

    for sample in demo.HER_SAMPLES:
        if sample.formats != "pt":
            continue
        m = read(generated / sample.name / "lsv_5mVs.mpt")
        E = m.data["E_V"].to_numpy() + demo.HGO_VS_RHE_V
        I = m.data["I_A"].to_numpy()
        eta = -(E - 0.04 * I * sample.ru_ohm) * 1e3
        j = -I * 1e3 / demo.AREA_CM2
        assert np.all(np.diff(eta) > -0.5)  # monotonic within noise
        k = np.searchsorted(j, 10.0)
        sel = slice(max(k - 4, 0), k + 4)
        fit = np.polyfit(np.log10(j[sel]), eta[sel], 1)
        assert np.polyval(fit, 1.0) == pytest.approx(sample.published["eta10_mV"], abs=0.3), sample.name
        assert j.max() > demo.LSV_J_END_MA_CM2


def test_cv_files_give_cdl(generated):
    """Half the anodic-cathodic difference at mid-window over v is Cdl (last cycle)."""
    from echem.io import read

    sample = next(s for s in demo.HER_SAMPLES if s.name == "PtMG_Tg-3h")
    E_mid = 0.5 * sum(demo.CV_WINDOW_V)
    half = []
    for v in demo.CV_SCAN_RATES_V_S:
        d = read(generated / sample.name / demo.cv_file_name(v, "DTA")).data
        last = d[d["cycle"] == d["cycle"].max()]
        E, I = last["E_V"].to_numpy(), last["I_A"].to_numpy()
        top = int(np.argmax(E))
        i_a = np.interp(E_mid, E[:top + 1], I[:top + 1])
        i_c = np.interp(E_mid, E[top:][::-1], I[top:][::-1])
        half.append(0.5 * (i_a - i_c))
    slope = np.polyfit(np.array(demo.CV_SCAN_RATES_V_S), np.array(half), 1)[0]
    assert slope == pytest.approx(demo.cdl_F(sample), rel=0.02)


def test_eis_files_carry_the_model_impedance(generated):
    from echem.io import read

    sample = next(s for s in demo.HER_SAMPLES if s.name == "PtMG_as-cast")
    st = demo.her_eis_state(sample)
    d = read(generated / sample.name / "peis.mpt").data
    Z = d["Z_re_ohm"].to_numpy() + 1j * d["Z_im_ohm"].to_numpy()
    model = demo.z_catalyst(d["freq_Hz"].to_numpy(), st["R0_ohm"], st["R1_ohm"], st["Q1"], st["n1"])
    rel = np.abs(Z - model) / np.abs(model)
    assert np.median(rel) < 0.01 and rel.max() < 0.03
    assert Z.real[0] == pytest.approx(sample.ru_ohm, rel=0.05)  # 100 kHz: close to Ru

    film = demo.FILM_SAMPLES[0]
    d = read(generated / film.name / "eis_heat_300C.mpt").data
    Z = d["Z_re_ohm"].to_numpy() + 1j * d["Z_im_ohm"].to_numpy()
    R = float(demo.film_resistance_ohm(300.0, film))
    model = demo.z_film(d["freq_Hz"].to_numpy(), R, demo.FILM_Q1, demo.FILM_N1, demo.FILM_Q2, demo.FILM_N2)
    rel = np.abs(Z - model) / np.abs(model)
    assert np.median(rel) < 0.01 and rel.max() < 0.03


# --------------------------------------------------------------------------- durability (stability stage)


DURABILITY = {d.name: d for d in demo.DURABILITY_SAMPLES}


def test_durability_model_known_answers():
    """The published statements: UV50J's curve shifts by 4 mV at 10 mA/cm² after 80 h under
    current, its CP potential rises marginally over 84 h; the as-cast glass shifts clearly more."""
    uv, cast = DURABILITY["PtMG_UV50J_84h"], DURABILITY["PtMG_as-cast_84h"]
    for d in (uv, cast):
        base = demo.durability_base(d).kinetics
        aged = demo.aged_kinetics(d, demo.CP_LSV_AT_H)
        shift = demo.her_overpotential_mV(10.0, aged)[0] - demo.her_overpotential_mV(10.0, base)[0]
        assert shift == pytest.approx(d.shift10_mV, abs=0.01)
        # the CP at -10 mA/cm2 runs on the same model: eta10 of the aged curve at every time
        for hours in (0.0, 40.0, 84.0):
            assert demo.cp_eta_true_mV(d, hours) == pytest.approx(
                demo.her_overpotential_mV(10.0, demo.aged_kinetics(d, hours))[0], abs=0.01)
    assert uv.shift10_mV == 4.0 and uv.shift_published
    assert demo.cp_eta_true_mV(uv, 84.0) - demo.cp_eta_true_mV(uv, 0.0) < 5.0  # "marginal"
    assert cast.shift10_mV > 5 * uv.shift10_mV  # "clearly larger"
    assert demo.CP_SET_MA_CM2 == -10.0 and demo.CP_TOTAL_H == 84.0 and demo.CP_LSV_AT_H == 80.0


def test_durability_files_are_cp_runs_with_start_times(generated):
    from datetime import datetime, timedelta

    from echem.io import read

    for name, d in DURABILITY.items():
        ext = "mpt" if d.cp_format == "mpt" else "DTA"
        first, second = (read(generated / name / f"cp_{part}.{ext}") for part in ("0-80h", "80-84h"))
        assert first.meta["technique"] == second.meta["technique"] == "CP"
        assert len(first.data) == 4800 and len(second.data) == 240
        assert first.meta["start_time"] and second.meta["start_time"]  # Gamry dates unambiguous
        assert np.allclose(np.diff(first.data["time_s"]), demo.CP_STEP_S)
        # where the second segment's first point sits: 80 h + the pause after the CP start
        t2 = datetime.fromisoformat(second.meta["start_time"]) + timedelta(seconds=float(second.data["time_s"].iloc[0]))
        t1 = datetime.fromisoformat(first.meta["start_time"]) + timedelta(seconds=float(first.data["time_s"].iloc[0]))
        assert (t2 - t1).total_seconds() == pytest.approx(demo.CP_LSV_AT_H * 3600 + demo.CP_PAUSE_S)
        assert np.allclose(first.data["I_A"], demo.CP_SET_MA_CM2 * demo.AREA_CM2 * 1e-3, rtol=5e-3)


def _cp_eta(m, ru_ohm):
    E = m.data["E_V"].to_numpy() + demo.HGO_VS_RHE_V
    I = m.data["I_A"].to_numpy()
    return -(E - (1 - demo.INSTRUMENT_IR_COMPENSATION) * I * ru_ohm) * 1e3


@pytest.mark.parametrize("name", sorted(DURABILITY))
def test_cp_file_carries_the_drift(generated, name):
    """Hourly medians of the iR-corrected overpotential (bubble spikes are rare) follow the model."""
    from echem.io import read

    d = DURABILITY[name]
    ext = "mpt" if d.cp_format == "mpt" else "DTA"
    m = read(generated / name / f"cp_0-80h.{ext}")
    eta = _cp_eta(m, demo.durability_base(d).ru_ohm)
    t_h = (m.data["time_s"].to_numpy() - m.data["time_s"].iloc[0]) / 3600
    hours = np.arange(1, 80)
    medians = np.array([np.median(eta[(t_h >= h) & (t_h < h + 1)]) for h in hours])
    assert np.abs(medians - demo.cp_eta_true_mV(d, hours + 0.5)).max() < 0.3
    assert np.polyfit(hours + 0.5, medians, 1)[0] == pytest.approx(d.rate_mV_h, rel=0.05)


@pytest.mark.parametrize("name", sorted(DURABILITY))
def test_lsv_after_80h_is_shifted(generated, name):
    from echem.io import read

    d = DURABILITY[name]
    ru = demo.durability_base(d).ru_ohm
    eta10 = []
    for file in ("lsv_initial.mpt", "lsv_after_80h.mpt"):
        m = read(generated / name / file)
        E = m.data["E_V"].to_numpy() + demo.HGO_VS_RHE_V
        I = m.data["I_A"].to_numpy()
        eta = -(E - 0.04 * I * ru) * 1e3
        j = -I * 1e3 / demo.AREA_CM2
        k = np.searchsorted(j, 10.0)
        sel = slice(max(k - 4, 0), k + 4)
        eta10.append(np.polyval(np.polyfit(np.log10(j[sel]), eta[sel], 1), 1.0))
    assert eta10[0] == pytest.approx(demo.durability_base(d).kinetics.eta10_mV, abs=0.3)
    assert eta10[1] - eta10[0] == pytest.approx(d.shift10_mV, abs=0.5)


def test_durability_sample_yaml(generated):
    import yaml

    from echem.metadata import validate_sample_metadata

    uv = validate_sample_metadata(yaml.safe_load((generated / "PtMG_UV50J_84h" / "sample.yaml").read_text()))
    assert uv["stability"] == {"run": ["cp_0-80h.mpt", "cp_80-84h.mpt"], "before": ["lsv_initial.mpt"],
                               "after": ["lsv_after_80h.mpt"], "set_mA_cm2": -10.0, "duration_h": 84.0}
    assert uv["series"] == demo.DURABILITY_SERIES and uv["ru_ohm"] == 2.6
    cast = validate_sample_metadata(yaml.safe_load((generated / "PtMG_as-cast_84h" / "sample.yaml").read_text()))
    assert "stability" not in cast  # roles from the start times


def test_readme_says_what_is_published_and_what_assumed(generated):
    text = (generated / "README.md").read_text(encoding="utf-8")
    part = text.split("**Durability**", 1)[1].split("## Study 2", 1)[0]
    assert "**4**" in part and "**marginal rise**" in part
    assert "Published:" in part and "Assumed:" in part
    assert "28 *(assumed" in part
