"""Reference electrodes: table values, aliases, RHE offsets (incl. the Hg/HgO trap), errors."""

from __future__ import annotations

import math

import pytest

from echem.errors import MetadataError
from echem.reference import (
    HGO_VS_RHE_DT_V_K,
    HGO_VS_RHE_V,
    REFERENCES,
    Reference,
    nernst_slope_V,
    offset_to_rhe_V,
    resolve_reference,
    rhe_conversion,
)

F = 96485.33212
R = 8.314462618


def test_nernst_slope_known_values():
    # ln10*R*T/F: 59.16 mV at 25 °C, 66.10 mV at 60 °C
    assert nernst_slope_V(25.0) == pytest.approx(0.059159, abs=2e-6)
    assert nernst_slope_V(60.0) == pytest.approx(0.066103, abs=2e-6)


@pytest.mark.parametrize(
    "spec, name, E_she",
    [
        ("SCE", "SCE", 0.241),
        ("SCE Saturated Calomel Electrode (0.241 V)", "SCE", 0.241),  # EC-Lab header text
        ("saturated calomel electrode", "SCE", 0.241),
        ("Ag/AgCl (3M KCl)", "Ag/AgCl (3 M KCl)", 0.210),
        ("ag/agcl 3 m kcl", "Ag/AgCl (3 M KCl)", 0.210),
        ("Ag/AgCl, 3 mol/L KCl", "Ag/AgCl (3 M KCl)", 0.210),
        ("  AG/AGCL  (3.5M KCL) ", "Ag/AgCl (3.5 M KCl)", 0.205),
        ("Ag/AgCl sat. KCl", "Ag/AgCl (sat. KCl)", 0.197),
        ("Ag/AgCl (saturated KCl)", "Ag/AgCl (sat. KCl)", 0.197),
        ("Hg/Hg2SO4 sat. K2SO4", "Hg/Hg2SO4 (sat. K2SO4)", 0.640),
        ("Hg/Hg2SO4 (0.5 M H2SO4)", "Hg/Hg2SO4 (0.5 M H2SO4)", 0.680),
        ("Hg/HgO (1M KOH)", "Hg/HgO (1 M KOH)", 0.140),
        ("Hg/HgO 1.0 M NaOH", "Hg/HgO (1 M NaOH)", 0.140),
        ("Hg/HgO (0.1 M KOH)", "Hg/HgO (0.1 M KOH)", 0.165),
        ("NHE", "SHE", 0.0),
        ("standard hydrogen electrode", "SHE", 0.0),
    ],
)
def test_names_and_aliases_resolve_to_tabulated_values(spec, name, E_she):
    ref = resolve_reference(spec)
    assert ref.name == name
    assert ref.E_vs_SHE_V == pytest.approx(E_she, abs=1e-9)
    assert ref.note  # every value carries its source


def test_every_table_entry_has_a_source():
    for ref in REFERENCES.values():
        assert "[" in ref.note or ref.note.startswith("definition"), ref.name


@pytest.mark.parametrize("name, pH, expected", [
    ("SCE", 0.0, 0.241),
    ("SCE", 7.0, 0.241 + 7 * 0.0591592),
    ("Ag/AgCl (sat. KCl)", 1.0, 0.197 + 0.0591592),
    ("Ag/AgCl (3 M KCl)", 14.0, 0.210 + 14 * 0.0591592),
    ("Hg/Hg2SO4 (0.5 M H2SO4)", 0.3, 0.680 + 0.3 * 0.0591592),
    ("SHE", 2.0, 2 * 0.0591592),
])
def test_offset_standard_references(name, pH, expected):
    assert offset_to_rhe_V(name, pH) == pytest.approx(expected, abs=2e-5)


def test_offset_uses_temperature_in_nernst_term():
    # 0.241 + ln10 R T/F * 7 at 60 °C
    expected = 0.241 + math.log(10) * R * 333.15 / F * 7.0
    assert offset_to_rhe_V("SCE", 7.0, temperature_C=60.0) == pytest.approx(expected, abs=1e-6)
    conv = rhe_conversion("SCE", 7.0, temperature_C=60.0)
    assert any("25 °C" in w for w in conv["warnings"])


def test_rhe_reference_offset_is_zero_and_needs_no_pH():
    assert offset_to_rhe_V("RHE", None) == 0.0
    assert offset_to_rhe_V("reversible hydrogen electrode", 3.0) == 0.0


def test_hgo_thermodynamic_constant():
    # Cell Pt,H2 | MOH | HgO | Hg: E = -ΔG/2F for HgO + H2 -> Hg + H2O (NBS tables, kJ/mol)
    dG = (-237.129 - (-58.539)) * 1e3
    assert HGO_VS_RHE_V == pytest.approx(-dG / (2 * F), abs=1e-3)
    # dE/dT = ΔS/2F with S° (J/mol/K): Hg(l) 76.02, H2O(l) 69.91, HgO 70.29, H2 130.684
    dS = 76.02 + 69.91 - 70.29 - 130.684
    assert HGO_VS_RHE_DT_V_K == pytest.approx(dS / (2 * F), abs=5e-6)


@pytest.mark.parametrize("name", ["Hg/HgO", "Hg/HgO (1 M KOH)", "Hg/HgO (0.1 M KOH)", "Hg/HgO (1 M NaOH)"])
@pytest.mark.parametrize("pH", [None, 13.0, 14.0])
def test_hgo_offset_is_constant_and_does_not_count_pH_twice(name, pH):
    off = offset_to_rhe_V(name, pH)
    assert off == pytest.approx(0.926, abs=1e-9)
    # the trap: tabulated 1 M value + Nernst term would be 0.140 + 0.828 = 0.968 V
    assert abs(off - (0.140 + 0.0591592 * 14)) > 0.03


def test_hgo_01M_table_value_is_consistent_with_the_constant():
    # 0.1 M NaOH, mean activity coefficient 0.764 -> pH = 14 + log10(0.0764) = 12.88
    pH = 14.0 + math.log10(0.1 * 0.764)
    via_she = resolve_reference("Hg/HgO (0.1 M KOH)").E_vs_SHE_V + nernst_slope_V(25.0) * pH
    assert via_she == pytest.approx(offset_to_rhe_V("Hg/HgO", pH), abs=0.005)


def test_hgo_temperature_coefficient():
    assert offset_to_rhe_V("Hg/HgO", 14, temperature_C=60.0) == pytest.approx(0.926 - 0.285e-3 * 35, abs=1e-6)


def test_hgo_in_acid_warns():
    conv = rhe_conversion("Hg/HgO", 1.0)
    assert conv["warnings"] and "alkaline" in conv["warnings"][0]


@pytest.mark.parametrize("pH", [None, float("nan")])
def test_missing_pH_for_pH_dependent_reference(pH):
    with pytest.raises(MetadataError, match=r"`pH` in sample.yaml"):
        offset_to_rhe_V("Ag/AgCl (3 M KCl)", pH)


def test_pH_out_of_range():
    with pytest.raises(MetadataError, match="pH"):
        offset_to_rhe_V("SCE", 20.0)


def test_unknown_name_suggests_close_match_and_lists_known():
    with pytest.raises(MetadataError) as exc:
        resolve_reference("Ag/AgCI (3M KCl)")  # capital i instead of l
    msg = str(exc.value)
    assert "Did you mean" in msg and "Ag/AgCl (3M KCl)" in msg
    assert "Known:" in msg and "Hg/HgO (1 M KOH)" in msg


def test_unknown_name_without_close_match():
    with pytest.raises(MetadataError, match="Known:"):
        resolve_reference("quinhydrone")


@pytest.mark.parametrize("name", ["Ag/AgCl", "Hg/Hg2SO4", "calomel", "MSE"])
def test_ambiguous_names_ask_for_the_filling_solution(name):
    with pytest.raises(MetadataError, match="filling solution"):
        resolve_reference(name)


def test_custom_vs_SHE():
    ref = resolve_reference({"name": "my Ag/AgCl", "E_vs_SHE_V": 0.2})
    assert isinstance(ref, Reference) and ref.pH_dependent
    assert offset_to_rhe_V(ref, 1.0) == pytest.approx(0.2 + 0.0591592, abs=1e-6)


def test_custom_vs_RHE_is_a_fixed_offset():
    ref = resolve_reference({"name": "calibrated", "E_vs_RHE_V": 0.912})
    assert offset_to_rhe_V(ref, None) == pytest.approx(0.912)
    assert offset_to_rhe_V(ref, 7.0) == pytest.approx(0.912)


def test_custom_hgo_vs_SHE_warns_about_double_counting():
    ref = resolve_reference({"name": "Hg/HgO", "E_vs_SHE_V": 0.140})
    assert "twice" in ref.note


def test_custom_mapping_name_only_resolves_name():
    assert resolve_reference({"name": "SCE"}).E_vs_SHE_V == pytest.approx(0.241)


@pytest.mark.parametrize("spec", [
    {"name": "x", "E_vs_SHE_V": 0.2, "E_vs_RHE_V": 0.9},
    {"name": "x", "potential": 0.2},
    {"name": "x", "E_vs_SHE_V": "abc"},
    {"name": "x", "E_vs_SHE_V": 42.0},
    "",
    3.0,
])
def test_invalid_specs(spec):
    with pytest.raises(MetadataError):
        resolve_reference(spec)


def test_stated_potential_differing_from_table_is_noted():
    ref = resolve_reference("SCE (0.250 V)")
    assert ref.E_vs_SHE_V == pytest.approx(0.241)
    assert "0.25" in ref.note


def test_conversion_record_is_json_serialisable():
    import json

    for name, pH in [("Hg/HgO", 14.0), ("SCE", 7.0), ("RHE", None)]:
        json.dumps(rhe_conversion(name, pH), allow_nan=False)
